"""Parsers under fuzzing: mutated CEOS products, Tellus JSON answers and tiles end in the reader's own
error or a sound result, never another exception, a hang or a huge allocation (seeded, repeatable).

``benchmarks/fuzz.py`` runs more cases and prints the counts quoted in the README.
"""

import json
import os
import random

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="python3-hypothesis is not installed (make test installs it)")
from fake_tellus import FakeTellus  # noqa: E402
from fuzz_cases import (  # noqa: E402
    ceos_product,
    mutate_ceos,
    mutate_json,
    mutate_png,
    outcome,
    read_ceos_like_readceos,
)
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sar_change.algorithms.readers import ceos, tellus  # noqa: E402

FUZZ = settings(
    max_examples=int(os.environ.get("SARCHANGE_FUZZ_EXAMPLES", "300")),
    deadline=5000,  # ms per case: a hang fails the test
    derandomize=True,  # the same cases on every run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ceos") / "valid"
    image = ceos_product(str(folder))
    return str(folder), image


def test_the_unmutated_product_reads(product):
    assert outcome(read_ceos_like_readceos, product[1]) == ("read", "")


@FUZZ
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_ceos_products_end_in_a_ceos_error_or_a_sound_read(product, tmp_path_factory, seed):
    folder = str(tmp_path_factory.getbasetemp() / "mutated")
    what = mutate_ceos(product[0], folder, random.Random(seed))
    images = [os.path.join(folder, n) for n in os.listdir(folder) if n.startswith("IMG")]
    result, detail = outcome(read_ceos_like_readceos, images[0] if images else folder, clean=(ceos.CeosError,))
    assert result in ("read", "clean"), f"{what}: {result}: {detail}"


@pytest.mark.parametrize(
    ("field", "value"),
    [(slice(236, 244), b"99999999"), (slice(186, 192), b"999999"), (slice(276, 280), b"-544")],
)
def test_a_header_claiming_more_than_the_file_holds_fails_before_reading(product, tmp_path, field, value):
    import shutil

    shutil.copytree(product[0], tmp_path / "p")
    image = str(tmp_path / "p" / os.path.basename(product[1]))
    with open(image, "r+b") as handle:
        handle.seek(field.start)
        handle.write(value.rjust(field.stop - field.start))
    with pytest.raises(ceos.CeosError, match="truncated|impossible|do not fit"):
        ceos.read_image_descriptor(image)


def _leader_with(product, tmp_path, offset, text, width=16):
    import shutil

    shutil.copytree(product[0], tmp_path / "p")
    leader = next(p for p in (tmp_path / "p").iterdir() if p.name.startswith("LED-"))
    with open(leader, "r+b") as handle:
        handle.seek(offset)
        handle.write(text.encode().rjust(width))
    return str(leader)


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e308"])
def test_a_calibration_factor_that_is_not_finite_and_plausible_is_refused(product, tmp_path, text):
    leader = _leader_with(product, tmp_path, 720 + 4096 + 20, text)
    with pytest.raises(ceos.CeosError, match="calibration"):
        ceos.read_leader(leader)


@pytest.mark.parametrize(("offset", "text"), [(720 + 500, "0"), (720 + 500, "-1"), (720 + 1174, "1e308")])
def test_an_implausible_wavelength_or_looks_is_refused(product, tmp_path, offset, text):
    with pytest.raises(ceos.CeosError, match="plausible"):
        ceos.read_leader(_leader_with(product, tmp_path, offset, text))


def test_a_nan_polynomial_is_refused_not_turned_into_nan_gcps(product, tmp_path):
    leader = _leader_with(product, tmp_path, 720 + 4096 + 9860 + 4 * 1000 + 1024, "nan", 20)
    with pytest.raises(ceos.CeosError, match="NaN"):
        ceos.read_leader(leader)


def test_damaged_samples_give_finite_or_nodata_sigma0_without_overflow():
    import numpy as np

    slc = np.array([[3e38 + 3e38j, 1 + 1j, np.nan + 0j, 0j]], np.complex64)
    with np.errstate(all="raise"):
        values = ceos.calibrated_sigma0_db(slc, -83.0)
    assert np.isfinite(values[0, :2]).all() and np.isnan(values[0, 2:]).all()


# -- Tellus answers ------------------------------------------------------------------------------
ENDPOINTS = [
    ("POST", "/api/traveler/v1/data-search/", lambda c: list(c.search(datasets=["d"]))),
    ("GET", "/api/traveler/v1/datasets/d/data/s/files/", lambda c: c.files("d", "s")),
    ("POST", "/api/traveler/v1/datasets/d/data/s/files/1/download-url/", lambda c: c.download_url("d", "s", 1)),
    ("GET", "/api/v1/origin/search/palsar2-l11", lambda c: list(c.legacy_search({}))),
]


@pytest.fixture(scope="module")
def server():
    with FakeTellus() as fake:
        yield fake


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), endpoint=st.sampled_from(range(len(ENDPOINTS))))
def test_malformed_tellus_answers_end_in_a_tellus_error_or_sound_values(server, seed, endpoint):
    method, path, call = ENDPOINTS[endpoint]
    server.add(method, path, (200, {}, json.dumps(mutate_json(random.Random(seed))).encode()))
    settings_ = tellus.Settings.resolve(
        token="t0ken-fuzz", api_url=server.url + "/api/traveler/v1", file_api_url=server.url + "/api/v1/origin"
    )
    client = tellus.Client(settings_, sleep=lambda s: None)
    result, detail = outcome(lambda: call(client), clean=(tellus.TellusError,))
    assert result in ("read", "clean"), f"{path}: {result}: {detail}"
    assert "t0ken-fuzz" not in detail


@FUZZ
@given(seed=st.integers(0, 2**32 - 1))
def test_damaged_tiles_end_in_a_tellus_error_or_a_256_pixel_tile(seed):
    from osgeo import gdal

    gdal.UseExceptions()
    valid = _valid_png()
    data = mutate_png(valid, random.Random(seed))

    def decode():
        array = tellus.decode_png(data)
        assert array.ndim == 3 and array.dtype.name == "uint8"
        if array.shape[1:] == (256, 256):
            tellus.mosaic({(0, 0): array}, 1)

    result, detail = outcome(decode, clean=(tellus.TellusError,))
    assert result in ("read", "clean"), f"{result}: {detail}"
    assert "abcdef123456" not in detail or result != "clean" or "Bearer ***" in detail


_PNG = []


def _valid_png():
    if not _PNG:
        from osgeo import gdal

        mem = gdal.GetDriverByName("MEM").Create("", 256, 256, 3, gdal.GDT_Byte)
        gdal.GetDriverByName("PNG").CreateCopy("/vsimem/fuzz.png", mem)
        handle = gdal.VSIFOpenL("/vsimem/fuzz.png", "rb")
        gdal.VSIFSeekL(handle, 0, 2)
        size = gdal.VSIFTellL(handle)
        gdal.VSIFSeekL(handle, 0, 0)
        _PNG.append(bytes(gdal.VSIFReadL(1, size, handle)))
        gdal.VSIFCloseL(handle)
        gdal.Unlink("/vsimem/fuzz.png")
    return _PNG[0]
