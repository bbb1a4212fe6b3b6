"""Progress that moves: every long algorithm reports across its real phases, never sitting at one
value for the whole run (changedetection sat at 10 %, omnibus at 80 % for 92 of 103 s)."""

import numpy as np
import pytest


class Recorder:
    def __init__(self):
        from qgis.core import QgsProcessingFeedback

        class Feedback(QgsProcessingFeedback):
            values = []

            def setProgress(self, progress):  # noqa: N802
                self.values.append(float(progress))
                super().setProgress(progress)

        self.feedback = Feedback()
        self.feedback.values = []

    @property
    def values(self):
        return self.feedback.values


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    from helpers import GEOTRANSFORM, utm54_wkt

    from sar_change.algorithms.io.outputs import write_array

    folder = tmp_path_factory.mktemp("progress")
    rng = np.random.default_rng(2)
    stack = rng.gamma(1.0, 0.1, (3, 1400, 1400)).astype(np.float32)
    stack[1:, 200:600, 300:700] *= 8.0
    paths = []
    for i, image in enumerate(stack):
        paths.append(str(folder / f"d{i}.tif"))
        write_array(paths[-1], image, geotransform=GEOTRANSFORM, crs_wkt=utm54_wkt())
    return paths


CASES = {
    "changedetection likelihood_ratio": (
        "sarchange:changedetection",
        lambda p, o: {"BEFORE": p[0], "AFTER": p[1], "METHOD": "likelihood_ratio", "OUTPUT": str(o / "c.gpkg")},
        (10, 60),
    ),
    "changedetection superpixel_kmeans": (
        "sarchange:changedetection",
        lambda p, o: {"BEFORE": p[0], "AFTER": p[1], "METHOD": "superpixel_kmeans", "OUTPUT": str(o / "k.gpkg")},
        (10, 60),
    ),
    "superpixels": (
        "sarchange:superpixels",
        lambda p, o: {"INPUTS": [p[0]], "OUTPUT_LABELS": str(o / "s.tif"), "OUTPUT_POLYGONS": str(o / "s.gpkg")},
        (2, 50),
    ),
    "kmeans superpixel": (
        "sarchange:kmeans",
        lambda p, o: {"BACKSCATTER": [p[0], p[1]], "UNIT": "superpixel", "OUTPUT": str(o / "k.tif")},
        (5, 85),
    ),
    "omnibus": (
        "sarchange:omnibus",
        lambda p, o: {
            "INPUTS": p,
            "LOOKS": 1.0,
            "MIN_CHANGE_DB": 0.0,  # many small regions: a polygon phase long enough to report in
            "MIN_AREA": 0.0,
            "OUTPUT_CHANGES": str(o / "n.tif"),
            "OUTPUT_FIRST": str(o / "f.tif"),
            "OUTPUT_LAST": str(o / "l.tif"),
            "OUTPUT": str(o / "o.gpkg"),
        },
        (80, 100),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_long_algorithms_report_progress_through_each_phase(run_alg, scene, tmp_path, case):
    alg_id, parameters, (low, high) = CASES[case]
    recorder = Recorder()
    run_alg(alg_id, parameters(scene, tmp_path), recorder.feedback)
    values = recorder.values
    inside = sorted({round(v, 1) for v in values if low < v < high})
    assert len(inside) >= 3, f"{case}: progress between {low} and {high} %: {inside} (all: {values[:50]})"
    assert max(values) >= 90
