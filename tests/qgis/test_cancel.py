"""Cancel through Processing feedback stops every long algorithm within a second and leaves no
output behind. A timer thread presses cancel while the algorithm runs in the test's thread, as the
toolbox's Cancel button does while a task runs."""

import threading
import time

import numpy as np
import pytest

#: Seconds from the cancel to the algorithm's return (the issue's bound is one second; the margin
#: absorbs a loaded CI machine).
MAX_LATENCY_S = 1.0
#: When the cancel is pressed, seconds after the start: early (reading, model fits) and later
#: (blocks, segmentation, polygons).
CANCEL_AT_S = (0.5, 2.5)


def _big(write_raster, name, rows, cols, seed=0, looks=1.0):
    image = np.random.default_rng(seed).gamma(looks, 0.1 / looks, (rows, cols)).astype(np.float32)
    return write_raster(name, image)


def run_and_cancel(run_alg, alg_id, parameters, at):
    """Run, press cancel after ``at`` seconds; returns (seconds from cancel to return, exception)."""
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    feedback = QgsProcessingFeedback()
    pressed = {}

    def press():
        pressed["at"] = time.monotonic()
        feedback.cancel()

    timer = threading.Timer(at, press)
    timer.start()
    error = None
    try:
        run_alg(alg_id, parameters, feedback)
    except QgsProcessingException as exc:
        error = exc
    finally:
        timer.cancel()
    end = time.monotonic()
    assert "at" in pressed, f"{alg_id} finished in under {at} s: make the test input larger"
    return end - pressed["at"], error


def _outputs(parameters):
    return [v for k, v in parameters.items() if k.startswith("OUTPUT") and isinstance(v, str)]


@pytest.fixture(scope="module")
def rasters(tmp_path_factory):
    from helpers import GEOTRANSFORM, utm54_wkt

    from sar_change.algorithms.io.outputs import write_array

    folder = tmp_path_factory.mktemp("cancel")

    def write(name, array):
        path = str(folder / name)
        write_array(path, array, geotransform=GEOTRANSFORM, crs_wkt=utm54_wkt())
        return path

    rng = np.random.default_rng(0)
    before = rng.gamma(1.0, 0.1, (2500, 2500)).astype(np.float32)
    after = before * rng.gamma(1.0, 1.0, before.shape).astype(np.float32)
    slc = (rng.normal(size=(2000, 2000)) + 1j * rng.normal(size=(2000, 2000))).astype(np.complex64)
    return {
        "before": write("before.tif", before),
        "after": write("after.tif", after),
        "third": write("third.tif", before[::-1].copy()),
        "slc": write("slc.tif", slc),
        "slc2": write("slc2.tif", (slc * np.exp(0.5j) + 0.3 * np.roll(slc, 1, 0)).astype(np.complex64)),
    }


CASES = {
    "despeckle": lambda r, o: (
        "sarchange:despeckle",
        {"INPUT": r["before"], "METHOD": "nlmeans", "OUTPUT": str(o / "d.tif")},
    ),
    "changedetection": lambda r, o: (
        "sarchange:changedetection",
        {"BEFORE": r["before"], "AFTER": r["after"], "OUTPUT": str(o / "c.gpkg"), "OUTPUT_RASTER": str(o / "c.tif")},
    ),
    "changedetection superpixel_kmeans": lambda r, o: (
        "sarchange:changedetection",
        {"BEFORE": r["before"], "AFTER": r["after"], "METHOD": "superpixel_kmeans", "OUTPUT": str(o / "k.gpkg")},
    ),
    "superpixels": lambda r, o: (
        "sarchange:superpixels",
        {"INPUTS": [r["before"]], "OUTPUT_LABELS": str(o / "s.tif"), "OUTPUT_POLYGONS": str(o / "s.gpkg")},
    ),
    "kmeans": lambda r, o: (
        "sarchange:kmeans",
        {"BACKSCATTER": [r["before"], r["after"]], "UNIT": "superpixel", "OUTPUT": str(o / "km.tif")},
    ),
    "omnibus": lambda r, o: (
        "sarchange:omnibus",
        {
            "INPUTS": [r["before"], r["after"], r["third"]],
            "LOOKS": 1.0,
            # the pure test on speckle: salt-and-pepper changes, a long polygon phase to cancel in
            "MIN_CHANGE_DB": 0.0,
            "MIN_AREA": 0.0,
            "NOISE_FLOOR_DB": -1000.0,
            "OUTPUT_CHANGES": str(o / "n.tif"),
            "OUTPUT_FIRST": str(o / "f.tif"),
            "OUTPUT_LAST": str(o / "l.tif"),
            "OUTPUT": str(o / "o.gpkg"),
        },
    ),
    "interferogram": lambda r, o: (
        "sarchange:interferogram",
        {
            "REFERENCE": r["slc"],
            "SECONDARY": r["slc2"],
            "FILTER": "goldstein",
            "WAVELENGTH_M": 0.2424,
            "OUTPUT_PHASE": str(o / "p.tif"),
            "OUTPUT_COHERENCE": str(o / "g.tif"),
            "OUTPUT_DISPLACEMENT": str(o / "x.tif"),
        },
    ),
}


@pytest.mark.parametrize("at", CANCEL_AT_S)
@pytest.mark.parametrize("case", sorted(CASES))
def test_cancel_stops_within_a_second_and_leaves_no_output(run_alg, rasters, tmp_path, case, at):
    alg_id, parameters = CASES[case](rasters, tmp_path)
    latency, error = run_and_cancel(run_alg, alg_id, parameters, at)
    assert error is not None and "Cancelled" in str(error), f"{case} was not cancelled: {error}"
    assert latency < MAX_LATENCY_S, f"{case} took {latency:.2f} s to stop after cancel"
    assert sorted(p.name for p in tmp_path.iterdir()) == []
