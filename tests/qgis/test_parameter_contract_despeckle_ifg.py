"""Every parameter of issues #3 (despeckle, speckleqa) and #6 (readceos, interferogram,
differentialinterferogram) is accepted under its name through Processing and changes the result."""

import shutil

import numpy as np
import pytest
from ceos_writer import write_l11_product

from sar_change.algorithms.io.raster import raster_info, read_band
from sar_change.algorithms.sar import despeckle
from sar_change.algorithms.sar import interferometry as ifm


@pytest.fixture(scope="module")
def speckled(tmp_path_factory):
    from sar_change.algorithms.io.outputs import write_array

    folder = tmp_path_factory.mktemp("despeckle_contract")
    rng = np.random.default_rng(11)
    band_1 = (rng.gamma(1, 1, (96, 80)) * np.linspace(0.2, 1, 80)).astype(np.float32)
    band_2 = (rng.gamma(1, 1, (96, 80)) * 5).astype(np.float32)
    path = str(folder / "two_bands.tif")
    write_array(path, np.stack([band_1, band_2]), geotransform=(0, 10, 0, 0, 0, -10), crs_wkt="")
    return path, band_1, band_2


def run_despeckle(run_alg, tmp_path, path, name, **parameters):
    result = run_alg("sarchange:despeckle", {"INPUT": path, "OUTPUT": str(tmp_path / f"{name}.tif"), **parameters})
    return read_band(result["OUTPUT"])


@pytest.mark.parametrize(
    "method, name, low, high",
    [
        ("frost", "DAMPING", 0.05, 2.0),
        ("lee_sigma", "SIGMA", 0.5, 0.9),
        ("tv", "WEIGHT", 0.05, 5.0),
        ("nlmeans", "H", 0.5, 4.0),
        ("nlmeans", "PATCH_SIZE", 3, 7),
        ("nlmeans", "PATCH_DISTANCE", 2, 8),
        ("lee", "WINDOW", 3, 9),
        ("lee", "LOOKS", 1, 8),
    ],
)
def test_despeckle_method_parameters_change_the_result(run_alg, speckled, tmp_path, method, name, low, high):
    path = speckled[0]
    a = run_despeckle(run_alg, tmp_path, path, "a", METHOD=method, **{name: low})
    b = run_despeckle(run_alg, tmp_path, path, "b", METHOD=method, **{name: high})
    assert np.nanmax(np.abs(a - b)) > 1e-3


def test_despeckle_band_and_input_scale(run_alg, speckled, tmp_path):
    path, band_1, band_2 = speckled
    second = run_despeckle(run_alg, tmp_path, path, "b2", METHOD="lee", BAND=2)
    np.testing.assert_array_equal(second, despeckle.lee(band_2, 7, 1))
    from sar_change.algorithms.io.outputs import write_array

    db_path = str(tmp_path / "db.tif")
    write_array(db_path, 10 * np.log10(band_1), geotransform=(0, 10, 0, 0, 0, -10), crs_wkt="")
    in_db = run_despeckle(run_alg, tmp_path, db_path, "db_out", METHOD="lee", INPUT_SCALE="db")
    np.testing.assert_allclose(10 ** (in_db / 10), despeckle.lee(band_1, 7, 1), rtol=1e-4)


def test_speckleqa_band_and_reference(run_alg, speckled, tmp_path):
    path, band_1, band_2 = speckled
    from qgis.core import QgsVectorLayer

    filtered = run_alg(
        "sarchange:despeckle", {"INPUT": path, "BAND": 2, "METHOD": "boxcar", "OUTPUT": str(tmp_path / "f.tif")}
    )["OUTPUT"]

    def qa(**parameters):
        result = run_alg(
            "sarchange:speckleqa",
            {
                "INPUT": path,
                "FILTERED": [filtered],
                "BLOCK": 16,
                "BLOCKS": 4,
                "OUTPUT_HTML": str(tmp_path / "qa.html"),
                "OUTPUT_TABLE": str(tmp_path / f"qa{len(parameters)}.gpkg"),
                **parameters,
            },
        )
        return next(QgsVectorLayer(result["OUTPUT_TABLE"], "qa", "ogr").getFeatures())

    band_two = qa(BAND=2, REFERENCE=filtered)
    band_one = qa(BAND=1)
    # against its own band the boxcar output's ratio image has mean 1; against band 1 it does not
    assert abs(band_two["ratio_mean"] - 1) < 0.1 and abs(band_one["ratio_mean"] - 1) > 0.5
    assert band_two["epi"] == pytest.approx(1.0) and band_one["epi"] < 0.5  # REFERENCE: edges judged on it


@pytest.fixture
def product(tmp_path):
    rng = np.random.default_rng(12)
    slc = ((rng.normal(size=(40, 30)) + 1j * rng.normal(size=(40, 30))) * 200).astype(np.complex64)
    hh = write_l11_product(str(tmp_path / "p"), slc, pol="HH")
    write_l11_product(str(tmp_path / "p"), slc * 2, pol="HV")  # same scene, another polarisation
    return hh, slc


def test_readceos_polarisation_and_looks(run_alg, product, tmp_path):
    path, slc = product

    def intensity(**parameters):
        out = str(tmp_path / f"i{len(parameters)}{parameters.get('POLARISATION', '')}.tif")
        leader = path.replace("IMG-HH-", "LED-")  # the LED file names the product, both polarisations
        run_alg("sarchange:readceos", {"INPUT": leader, "OUTPUT_INTENSITY": out, **parameters})
        return read_band(out)

    hh, hv = intensity(POLARISATION="HH"), intensity(POLARISATION="HV")
    np.testing.assert_allclose(hv - hh, 10 * np.log10(4), atol=1e-4)  # HV was written at twice the amplitude
    looked = intensity(POLARISATION="HH", LOOKS_RANGE=3, LOOKS_AZIMUTH=2)
    assert looked.shape == (20, 10)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from sar_change.algorithms.io.outputs import write_array

    folder = tmp_path_factory.mktemp("ifg_contract")
    rng = np.random.default_rng(13)
    n = 96
    f = np.abs(np.fft.fftfreq(n))
    scene = np.fft.ifft2(
        np.fft.fft2(rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))) * (f[:, None] < 0.4) * (f[None, :] < 0.4)
    )
    rows, cols = np.mgrid[:n, :n]
    secondary = scene * np.exp(-1j * (0.1 * cols + 0.5 * np.sin(rows / 7.0)))
    secondary = ifm.shift_complex(secondary + 0.3 * (rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))), (1.2, 0))
    paths = {}
    for name, z in (("ref", scene), ("sec", secondary)):
        paths[name] = str(folder / f"{name}.tif")
        write_array(paths[name], z.astype(np.complex64), geotransform=(0, 1, 0, 0, 0, -1), crs_wkt="")
    return paths


def run_ifg(run_alg, tmp_path, pair, name, **parameters):
    keys = ("OUTPUT_PHASE", "OUTPUT_COHERENCE") + (("OUTPUT_DISPLACEMENT",) if "WAVELENGTH_M" in parameters else ())
    outputs = {k: str(tmp_path / f"{name}_{k}.tif") for k in keys}
    return run_alg(
        "sarchange:interferogram", {"REFERENCE": pair["ref"], "SECONDARY": pair["sec"], **outputs, **parameters}
    )


def test_interferogram_parameters_change_the_result(run_alg, pair, tmp_path):
    integer = run_ifg(run_alg, tmp_path, pair, "int", COREGISTER="integer")
    subpixel = run_ifg(run_alg, tmp_path, pair, "sub", COREGISTER="subpixel")
    assert integer["SHIFT_ROWS"] == -1.0 and abs(subpixel["SHIFT_ROWS"] + 1.2) <= 0.1
    small = run_ifg(run_alg, tmp_path, pair, "w3", COHERENCE_WINDOW="3,3")
    large = run_ifg(run_alg, tmp_path, pair, "w9", COHERENCE_WINDOW="9,9")
    assert np.nanmean(read_band(small["OUTPUT_COHERENCE"])) > np.nanmean(read_band(large["OUTPUT_COHERENCE"]))
    kept = run_ifg(run_alg, tmp_path, pair, "noramp", REMOVE_RAMP=False)
    assert kept["RAMP_B"] == 0 and abs(subpixel["RAMP_B"] - 0.1) < 0.01
    plain = read_band(subpixel["OUTPUT_PHASE"])
    mild = read_band(run_ifg(run_alg, tmp_path, pair, "g2", FILTER="goldstein", ALPHA=0.2)["OUTPUT_PHASE"])
    strong = read_band(run_ifg(run_alg, tmp_path, pair, "g9", FILTER="goldstein", ALPHA=0.9)["OUTPUT_PHASE"])

    def roughness(phase):
        return np.nanmean(np.abs(np.angle(np.exp(1j * np.diff(phase, axis=1)))))

    assert roughness(strong) < roughness(mild) < roughness(plain)
    c_band = run_ifg(run_alg, tmp_path, pair, "c", WAVELENGTH_M=0.05547)
    np.testing.assert_allclose(
        read_band(c_band["OUTPUT_DISPLACEMENT"]) * (0.2384 / 0.05547),
        read_band(run_ifg(run_alg, tmp_path, pair, "l", WAVELENGTH_M=0.2384)["OUTPUT_DISPLACEMENT"]),
        rtol=1e-5,
        atol=1e-7,
    )
    assert raster_info(c_band["OUTPUT_PHASE"]).rows == 96


def test_the_displacement_needs_a_stated_wavelength_and_the_log_says_which(run_alg, pair, tmp_path):
    """No silent L-band default: Sentinel-1 data without metadata once got displacements ~4x too large."""
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    from sar_change.algorithms.io.outputs import set_metadata

    with pytest.raises(QgsProcessingException, match="WAVELENGTH_M: ref.tif states no radar wavelength"):
        run_alg(
            "sarchange:interferogram",
            {
                "REFERENCE": pair["ref"],
                "SECONDARY": pair["sec"],
                "OUTPUT_PHASE": str(tmp_path / "p.tif"),
                "OUTPUT_COHERENCE": str(tmp_path / "c.tif"),
                "OUTPUT_DISPLACEMENT": str(tmp_path / "d.tif"),
            },
        )
    assert not list(tmp_path.iterdir())
    phase_only = run_ifg(run_alg, tmp_path, pair, "phase")  # phase and coherence need no wavelength
    assert "OUTPUT_DISPLACEMENT" not in phase_only and np.isfinite(read_band(phase_only["OUTPUT_PHASE"])).any()

    class Log(QgsProcessingFeedback):
        lines = []

        def pushInfo(self, info):  # noqa: N802
            self.lines.append(info)

    stated = tmp_path / "stated.tif"
    shutil.copyfile(pair["ref"], stated)
    set_metadata(str(stated), {"WAVELENGTH_M": "0.05547"})
    log = Log()
    result = run_alg(
        "sarchange:interferogram",
        {
            "REFERENCE": str(stated),
            "SECONDARY": pair["sec"],
            "OUTPUT_PHASE": str(tmp_path / "p2.tif"),
            "OUTPUT_COHERENCE": str(tmp_path / "c2.tif"),
            "OUTPUT_DISPLACEMENT": str(tmp_path / "d2.tif"),
        },
        log,
    )
    assert "Wavelength 0.05547 m (from the REFERENCE metadata)" in log.lines
    given = run_ifg(run_alg, tmp_path, pair, "given", WAVELENGTH_M=0.05547)
    np.testing.assert_array_equal(read_band(result["OUTPUT_DISPLACEMENT"]), read_band(given["OUTPUT_DISPLACEMENT"]))


def test_differential_remove_ramp(run_alg, write_raster, tmp_path):
    rows, cols = np.mgrid[:64, :64]
    bowl = 1.2 * np.exp(-((rows - 32) ** 2 + (cols - 32) ** 2) / (2 * 10.0**2))
    a = write_raster("a.tif", ifm.wrap(bowl + 0.09 * cols).astype(np.float32))
    b = write_raster("b.tif", np.zeros((64, 64), np.float32))

    def differential(remove):
        out = str(tmp_path / f"d{remove}.tif")
        run_alg(
            "sarchange:differentialinterferogram",
            {"INTERFEROGRAM_A": a, "INTERFEROGRAM_B": b, "REMOVE_RAMP": remove, "OUTPUT": out},
        )
        return read_band(out, dtype=np.float64)

    kept, removed = differential(False), differential(True)
    np.testing.assert_allclose(kept, ifm.wrap(bowl + 0.09 * cols), atol=1e-5)  # nothing removed
    gradient = np.angle(np.mean(np.exp(1j * np.diff(removed, axis=1))))
    assert abs(gradient) < 0.03  # the 0.09 rad/column ramp is gone, the bowl's slopes cancel
