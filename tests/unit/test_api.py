"""The Python API: numpy in gives numpy out, dask in gives dask out with the same values."""

import numpy as np
import pytest

from sar_change.algorithms import api
from sar_change.algorithms.io.raster import read_band
from sar_change.algorithms.sar import despeckle as despeckle_core

da = pytest.importorskip("dask.array", reason="dask not installed (python3-dask)")


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(11)
    base = np.exp(rng.normal(-2.5, 0.5, (300, 260))).astype(np.float32)
    before = base * rng.gamma(4.0, 0.25, base.shape).astype(np.float32)
    after = 1.5 * base * rng.gamma(4.0, 0.25, base.shape).astype(np.float32)  # a 1.8 dB gain between dates
    after[100:180, 60:140] *= 10.0  # a 10 dB rise
    before[5:9, 5:9] = np.nan
    return before, after


@pytest.mark.parametrize("method", ["lee", "refined_lee", "median", "frost"])
def test_despeckle_dask_chunks_equal_the_whole_array(pair, method):
    image = pair[0]
    whole = api.despeckle(image, method, window=7)
    assert isinstance(whole, np.ndarray)
    np.testing.assert_array_equal(whole, despeckle_core.despeckle(image, method, window=7))
    lazy = api.despeckle(da.from_array(image, chunks=(97, 83)), method, window=7)
    assert type(lazy).__module__.startswith("dask")
    assert lazy.chunks == ((97, 97, 97, 9), (83, 83, 83, 11))
    np.testing.assert_array_equal(lazy.compute(), whole)


def test_despeckle_reduces_speckle_and_keeps_the_mean(pair):
    image = pair[0][20:, 20:]
    out = api.despeckle(da.from_array(image, chunks=64), "lee").compute()
    assert np.nanstd(out) < 0.8 * np.nanstd(image)
    assert np.nanmean(out) == pytest.approx(np.nanmean(image), rel=0.02)


def test_unknown_despeckle_method_names_the_parameter(pair):
    with pytest.raises(ValueError, match="method=.wiener."):
        api.despeckle(pair[0], "wiener")


def test_change_classes_dask_equals_numpy_and_finds_the_rise_not_the_gain(pair):
    before, after = pair
    whole = api.change_classes(before, after)
    lazy = api.change_classes(da.from_array(before, chunks=128), da.from_array(after, chunks=128))
    assert lazy.dtype == np.uint8 and lazy.shape == before.shape
    np.testing.assert_array_equal(lazy.compute(), whole)
    assert np.mean(whole[110:170, 70:130] == 2) > 0.9  # the 10 dB rise is a gain
    outside = np.ones(whole.shape, bool)
    outside[90:190, 50:150] = False
    assert np.mean(whole[outside] == 0) > 0.97  # the 1.8 dB gain of the whole date is not a change
    assert whole[6, 6] == 255


def test_omnibus_dask_equals_numpy_and_dates_the_change(pair):
    before, after = pair
    stack = np.stack([before, before * 1.01, after, after * 0.99])
    changes, first, last = api.omnibus(stack)
    lazy = api.omnibus(da.from_array(stack, chunks=(1, 128, 128)))
    for got, expected in zip(lazy, (changes, first, last)):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got.compute(), expected)
    assert np.mean(first[110:170, 70:130] == 2) > 0.9  # changed into the third date (index 2)


@pytest.mark.parametrize("shape, window", [((300, 260), 0), ((760, 700), 0), ((300, 260), 1)])
def test_omnibus_gives_what_the_processing_algorithm_gives(write_raster, tmp_path, shape, window):
    """The same model (whole sample, or the algorithm's windows past FIT_PIXELS) and the same test."""
    from sar_change.algorithms.workflows.omnibus import omnibus_rasters

    rng = np.random.default_rng(12)
    means = np.full((5,) + shape, 0.05)
    means[:, :, -60:] = 10**-2.8  # water 12 dB under the land
    means[2:, 100:180, 60:140] *= 4.0  # +6 dB from the third date
    stack = (means * rng.gamma(4.0, 0.25, means.shape)).astype(np.float32)
    paths = [write_raster(f"d{t}.tif", image) for t, image in enumerate(stack)]
    out = {name: str(tmp_path / f"{name}.tif") for name in ("n", "f", "l")}
    omnibus_rasters(paths, window=window, changes_path=out["n"], first_path=out["f"], last_path=out["l"])
    changes, first, last = api.omnibus(stack, window=window)
    np.testing.assert_array_equal(changes, read_band(out["n"]))
    np.testing.assert_array_equal(first + 1, read_band(out["f"]))  # the algorithm codes date i as i + 1
    np.testing.assert_array_equal(last + 1, read_band(out["l"]))
    assert np.mean(first[110:170, 70:130] == 2) > (0.9 if window == 0 else 0.1)  # 4-look pixels: ~20 %


def test_omnibus_of_two_polarisations_is_joint_and_dask_equals_numpy(pair):
    before, after = pair
    hh = np.stack([before, before * 1.01, after, after * 0.99])
    hv = 0.1 * np.stack([after, after * 1.02, after, after * 0.98])  # no change in HV
    changes, first, last = api.omnibus(np.stack([hh, hv]))  # (channels, dates, rows, cols)
    lazy = api.omnibus(da.from_array(np.stack([hh, hv]), chunks=(1, 2, 100, 100)))
    for got, expected in zip(lazy, (changes, first, last)):
        np.testing.assert_array_equal(got.compute(), expected)
    assert np.mean(first[110:170, 70:130] == 2) > 0.8  # the HH change, tested with an unchanged HV
    with pytest.raises(ValueError, match="stack must be"):
        api.omnibus(hh[0])


def test_coherence_dask_equals_numpy_and_reads_one_for_identical_images(pair):
    rng = np.random.default_rng(3)
    slc = (rng.normal(size=pair[0].shape) + 1j * rng.normal(size=pair[0].shape)).astype(np.complex64)
    other = slc * np.exp(1j * 0.3) + 0.5 * rng.normal(size=slc.shape)
    whole = api.coherence(slc, other)
    lazy = api.coherence(da.from_array(slc, chunks=100), da.from_array(other, chunks=100))
    np.testing.assert_array_equal(lazy.compute(), whole)
    np.testing.assert_allclose(api.coherence(slc, slc * 2.0), 1.0, atol=1e-5)
    phase = api.interferogram(da.from_array(slc, chunks=100), da.from_array(slc * np.exp(-1j * 0.3), chunks=100))
    np.testing.assert_allclose(phase.compute(), 0.3, atol=1e-5)


def test_to_db_of_dask_is_lazy_and_exact(pair):
    lazy = api.to_db(da.from_array(pair[0], chunks=100))
    np.testing.assert_array_equal(lazy.compute(), api.to_db(pair[0]))
    np.testing.assert_allclose(api.to_power(api.to_db(pair[0]), "db"), pair[0], rtol=1e-5)


def test_despeckle_file_on_a_cluster_equals_the_local_run(dask_cluster, write_raster, pair, tmp_path):
    path = write_raster("in.tif", pair[0])
    local = api.despeckle_file(path, str(tmp_path / "local.tif"), "lee", input_scale="linear")
    remote = api.despeckle_file(
        path, str(tmp_path / "dask.tif"), "lee", input_scale="linear", scheduler=dask_cluster.scheduler_address
    )
    np.testing.assert_array_equal(read_band(remote), read_band(local))


def test_example_script_runs_from_a_checkout_on_a_local_cluster():
    import os
    import subprocess
    import sys

    from helpers import REPO_ROOT

    pytest.importorskip("distributed", reason="dask.distributed not installed (python3-distributed)")
    result = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "examples", "api_example.py"), "local"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=os.path.dirname(REPO_ROOT),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["numpy", "dask", "file"]
    found = int(lines[0].split(": ")[1].split("%")[0])
    assert found >= 50
    assert "on tcp://127.0.0.1:" in lines[2]
