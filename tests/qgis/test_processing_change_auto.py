"""sarchange:changedetection with its defaults (METHOD=automatic) through Processing."""

import os

import numpy as np
import pytest

from sar_change.algorithms.io.raster import read_band
from sar_change.algorithms.simulation import pair as simulate


class Log:
    """A Processing feedback that keeps what the algorithm says."""

    def __new__(cls):
        from qgis.core import QgsProcessingFeedback

        class Feedback(QgsProcessingFeedback):
            def __init__(self):
                super().__init__()
                self.lines = []

            def pushInfo(self, info):  # noqa: N802
                self.lines.append(info)

        return Feedback()


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pair4")
    return simulate.write_pair(simulate.folder_paths(str(folder)), 384, 384, looks=4, seed=2)


def test_defaults_log_scale_looks_gain_and_thresholds_and_report_them(run_alg, pair, tmp_path):
    feedback = Log()
    result = run_alg(
        "sarchange:changedetection",
        {
            "BEFORE": pair["before"],
            "AFTER": pair["after"],
            "OUTPUT": str(tmp_path / "c.gpkg"),
            "OUTPUT_RASTER": str(tmp_path / "c.tif"),
            "OUTPUT_HTML": str(tmp_path / "c.html"),
        },
        feedback,
    )
    text = "\n".join(feedback.lines)
    assert "Input scale: before linear, after linear" in text
    assert "estimated with LOOKS=0" in text and "Kittler-Illingworth" in text
    classes = read_band(result["OUTPUT_RASTER"])
    truth = read_band(pair["truth"]) > 0
    found = (classes == 1) | (classes == 2)
    assert (found & truth).sum() / found.sum() > 0.9
    with open(result["OUTPUT_HTML"], encoding="utf-8") as handle:
        report = handle.read()
    assert "<svg" in report and "looks per pixel" in report and "loss threshold" in report
    assert "None" not in report


def test_joint_bands_need_the_same_band_count(run_alg, pair, tmp_path, write_raster):
    from qgis.core import QgsProcessingException

    two = write_raster("two.tif", np.stack([read_band(pair["after"])] * 2))
    with pytest.raises(QgsProcessingException, match="JOINT_BANDS"):
        run_alg(
            "sarchange:changedetection",
            {"BEFORE": pair["before"], "AFTER": two, "JOINT_BANDS": True, "OUTPUT": str(tmp_path / "c.gpkg")},
        )
    assert not (tmp_path / "c.gpkg").exists()


def test_constant_image_is_a_clear_error_not_an_empty_map(run_alg, write_raster, tmp_path):
    from qgis.core import QgsProcessingException

    flat = write_raster("flat.tif", np.ones((120, 120), np.float32))
    with pytest.raises(QgsProcessingException, match="no spread"):
        run_alg("sarchange:changedetection", {"BEFORE": flat, "AFTER": flat, "OUTPUT": str(tmp_path / "c.gpkg")})
    assert not (tmp_path / "c.gpkg").exists()


def test_bern_defaults_through_processing(run_alg, shared_data, tmp_path):
    folder = os.path.join(shared_data, "bern_ers2")
    result = run_alg(
        "sarchange:changedetection",
        {
            "BEFORE": os.path.join(folder, "bern_1999-04.bmp"),
            "AFTER": os.path.join(folder, "bern_1999-05.bmp"),
            "OUTPUT": str(tmp_path / "c.gpkg"),
            "OUTPUT_RASTER": str(tmp_path / "c.tif"),
        },
    )
    changed = read_band(result["OUTPUT_RASTER"]) == 1
    reference = read_band(os.path.join(folder, "bern_reference_change.bmp")) > 127
    iou = (changed & reference).sum() / (changed | reference).sum()
    assert iou > 0.75


def test_report_shows_the_thresholds_the_threshold_method_used(run_alg, pair, tmp_path):
    result = run_alg(
        "sarchange:changedetection",
        {
            "BEFORE": pair["before"],
            "AFTER": pair["after"],
            "METHOD": "threshold",
            "THRESHOLD_LOSS": -4.5,
            "THRESHOLD_GAIN": 5.5,
            "MIN_AREA": 300,
            "OUTPUT": str(tmp_path / "c.gpkg"),
            "OUTPUT_HTML": str(tmp_path / "c.html"),
        },
    )
    with open(result["OUTPUT_HTML"], encoding="utf-8") as handle:
        report = handle.read()
    assert "THRESHOLD_LOSS = -4.5" in report and "THRESHOLD_GAIN = 5.5" in report and "MIN_AREA = 300" in report
    assert "ALPHA" not in report and "UNIT" not in report  # not used by this method
