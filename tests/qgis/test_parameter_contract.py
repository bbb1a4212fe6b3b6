"""Every parameter the resolved issues name is accepted under that name and changes the result."""

import numpy as np
import pytest

from sar_change.algorithms.io.raster import raster_info, read_band
from sar_change.algorithms.simulation import pair as simulate


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("contract")
    return simulate.write_pair(simulate.folder_paths(str(folder)), 256, 256, looks=4, seed=1)


def test_changedetection_threshold_parameters(run_alg, pair, tmp_path):
    base = {
        "BEFORE": pair["before"],
        "AFTER": pair["after"],
        "BAND_BEFORE": 1,
        "BAND_AFTER": 1,
        "METHOD": "threshold",
        "DESPECKLE": "boxcar",
        "WINDOW": 5,
        "STATISTIC": "log_ratio",
    }
    wide = run_alg(
        "sarchange:changedetection",
        {
            **base,
            "THRESHOLD_LOSS": -2,
            "THRESHOLD_GAIN": 2,
            "OUTPUT": str(tmp_path / "a.gpkg"),
            "OUTPUT_RASTER": str(tmp_path / "a.tif"),
        },
    )
    narrow = run_alg(
        "sarchange:changedetection",
        {
            **base,
            "THRESHOLD_LOSS": -5,
            "THRESHOLD_GAIN": 5,
            "OUTPUT": str(tmp_path / "b.gpkg"),
            "OUTPUT_RASTER": str(tmp_path / "b.tif"),
        },
    )
    assert (read_band(wide["OUTPUT_RASTER"]) > 0).sum() > (read_band(narrow["OUTPUT_RASTER"]) > 0).sum()
    difference = run_alg(
        "sarchange:changedetection",
        {
            **base,
            "STATISTIC": "difference",
            "THRESHOLD_LOSS": -0.05,
            "THRESHOLD_GAIN": 0.05,
            "OUTPUT": str(tmp_path / "c.gpkg"),
            "OUTPUT_RASTER": str(tmp_path / "c.tif"),
        },
    )
    assert (read_band(difference["OUTPUT_RASTER"]) > 0).any()


def test_changedetection_kmeans_classes_and_pixel_unit(run_alg, pair, tmp_path):
    result = run_alg(
        "sarchange:changedetection",
        {
            "BEFORE": pair["before"],
            "AFTER": pair["after"],
            "METHOD": "superpixel_kmeans",
            "CLASSES": 4,
            "SEED": 2,
            "SCALE": 2.0,
            "SIGMA": 0.5,
            "MIN_SIZE": 30,
            "LOOKS": 4,
            "OUTPUT": str(tmp_path / "k.gpkg"),
        },
    )
    assert result["OUTPUT"]
    pixel = run_alg(
        "sarchange:changedetection",
        {
            "BEFORE": pair["before"],
            "AFTER": pair["after"],
            "METHOD": "likelihood_ratio",
            "UNIT": "pixel",
            "LOOKS": 4,
            "ALPHA": 0.001,
            "DESPECKLE": "none",
            "OUTPUT": str(tmp_path / "p.gpkg"),
            "OUTPUT_RASTER": str(tmp_path / "p.tif"),
        },
    )
    assert 0 < (read_band(pixel["OUTPUT_RASTER"]) > 0).mean() < 0.2


def test_kmeans_options(run_alg, pair, tmp_path):
    common = {"BACKSCATTER": [pair["before"], pair["after"]], "CLASSES": 3, "SEED": 0}
    runs = {}
    for name, extra in {
        "pixel": {"FEATURES_DB": False, "NORMALISE": "minmax", "SAMPLE_SIZE": 5000},
        "superpixel": {"UNIT": "superpixel", "NORMALISE": "none", "SCALE": 1.0, "SIGMA": 0.8, "MIN_SIZE": 25},
    }.items():
        result = run_alg("sarchange:kmeans", {**common, **extra, "OUTPUT": str(tmp_path / f"{name}.tif")})
        runs[name] = read_band(result["OUTPUT"])
        assert set(np.unique(runs[name])) <= {0, 1, 2}
    assert not np.array_equal(runs["pixel"], runs["superpixel"])


def test_rgbcomposite_byte_percentile(run_alg, pair, tmp_path):
    result = run_alg(
        "sarchange:rgbcomposite",
        {
            "HH": pair["before"],
            "HV": pair["after"],
            "BAND_HH": 1,
            "BAND_HV": 1,
            "SCALING": "percentile",
            "OUTPUT_TYPE": "byte",
            "OUTPUT": str(tmp_path / "rgb.tif"),
        },
    )
    info = raster_info(result["OUTPUT"])
    assert info.bands == 3 and info.dtypes[0] == np.uint8


def test_overlay_tolerance_changes_how_much_is_coloured(run_alg, pair, tmp_path):
    coloured = []
    for tolerance in (5, 80):
        result = run_alg(
            "sarchange:overlay",
            {
                "BEFORE": pair["before"],
                "AFTER": pair["after"],
                "BAND_BEFORE": 1,
                "BAND_AFTER": 1,
                "TOLERANCE": tolerance,
                "SCALING": "minmax",
                "OUTPUT": str(tmp_path / f"o{tolerance}.tif"),
            },
        )
        rgb = np.stack([read_band(result["OUTPUT"], b) for b in (1, 2, 3)])
        coloured.append((rgb[0] != rgb[1]).mean())
    assert coloured[0] > coloured[1]
