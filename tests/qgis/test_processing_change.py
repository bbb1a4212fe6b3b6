"""sarchange:changedetection through Processing and qgis_process.bin."""

import re

import numpy as np
import pytest

from sar_change.algorithms.io.raster import raster_info, read_band
from sar_change.algorithms.simulation import pair as simulate

FIELDS = {"change", "mean_before_db", "mean_after_db", "change_db", "area_m2", "pixels", "p_value", "method"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pair")
    return simulate.write_pair(simulate.folder_paths(str(folder)), 512, 512, looks=1, seed=0)


def test_areas_are_square_metres_on_geographic_rasters_too(run_alg, write_raster, tmp_path):
    """On EPSG:4326 a region's area_m2 and MIN_AREA are m² on the ground, not square degrees."""
    from osgeo import osr

    rng = np.random.default_rng(4)
    before = rng.gamma(16.0, 0.1 / 16.0, (200, 200)).astype(np.float32)
    after = rng.gamma(16.0, 0.1 / 16.0, (200, 200)).astype(np.float32)
    after[50:150, 60:140] *= 20.0  # a 100 x 80 pixel gain
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    degrees = (135.0, 0.0001, 0.0, 35.0, 0.0, -0.0001)  # ~9.1 m x 11.1 m pixels at 35 N
    paths = [
        write_raster(name, array, geotransform=degrees, crs_wkt=wgs84.ExportToWkt())
        for name, array in (("b.tif", before), ("a.tif", after))
    ]
    pixel_m2 = (0.0001 * np.pi / 180 * 6378137 * np.cos(np.radians(34.99))) * (0.0001 * np.pi / 180 * 6356752)
    common = {"BEFORE": paths[0], "AFTER": paths[1], "METHOD": "threshold", "DESPECKLE": "lee"}
    result = run_alg("sarchange:changedetection", dict(common, OUTPUT=str(tmp_path / "c.gpkg")))
    biggest = max(load(result["OUTPUT"]).getFeatures(), key=lambda f: f["pixels"])
    assert biggest["area_m2"] == pytest.approx(biggest["pixels"] * pixel_m2, rel=0.01)
    assert biggest["area_m2"] > 50_000  # 8000 pixels of ~101 m², not 8e-5 square degrees
    kept = run_alg(
        "sarchange:changedetection", dict(common, MIN_AREA=0.5 * biggest["area_m2"], OUTPUT=str(tmp_path / "k.gpkg"))
    )
    areas = [f["area_m2"] for f in load(kept["OUTPUT"]).getFeatures()]
    assert areas and min(areas) >= 0.5 * biggest["area_m2"] * 0.99


def load(path):
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(path, "change", "ogr")
    assert layer.isValid(), path
    return layer


@pytest.mark.parametrize("method", ["likelihood_ratio", "threshold", "superpixel_kmeans"])
def test_polygons_are_valid_with_attributes_in_before_crs(run_alg, pair, tmp_path, method):
    result = run_alg(
        "sarchange:changedetection",
        {
            "BEFORE": pair["before"],
            "AFTER": pair["after"],
            "METHOD": method,
            "DESPECKLE": "lee",
            "MIN_AREA": 1000,
            "OUTPUT": str(tmp_path / "c.gpkg"),
            "OUTPUT_RASTER": str(tmp_path / "c.tif"),
        },
    )
    layer = load(result["OUTPUT"])
    assert layer.featureCount() > 0
    assert FIELDS <= {f.name() for f in layer.fields()}
    assert layer.crs().authid() == "EPSG:32654"
    for feature in layer.getFeatures():
        geometry = feature.geometry()
        assert geometry.isGeosValid()
        assert feature["change"] in ("loss", "gain")
        assert feature["area_m2"] >= 1000
        assert geometry.area() == pytest.approx(feature["area_m2"], rel=1e-3)  # UTM grid vs ellipsoid
        if method != "superpixel_kmeans":  # k-means' lowest cluster may reach slightly above 0 dB
            assert (feature["change_db"] < 0) == (feature["change"] == "loss")
        if method == "likelihood_ratio":
            assert 0 <= feature["p_value"] <= 1
    classes = read_band(result["OUTPUT_RASTER"])
    assert set(np.unique(classes[np.isfinite(classes)])) <= {0, 1, 2}


def test_no_change_pair_gives_almost_no_polygons(run_alg, tmp_path):
    paths = simulate.folder_paths(str(tmp_path))
    scene = simulate.simulate_pair(256, 256, looks=1, seed=9, patches=[])
    from helpers import GEOTRANSFORM, utm54_wkt

    from sar_change.algorithms.io.outputs import write_array

    for name in ("before", "after"):
        write_array(paths[name], scene[name], geotransform=GEOTRANSFORM, crs_wkt=utm54_wkt())
    result = run_alg(
        "sarchange:changedetection",
        {"BEFORE": paths["before"], "AFTER": paths["after"], "MIN_AREA": 2000, "OUTPUT": str(tmp_path / "c.gpkg")},
    )
    layer = load(result["OUTPUT"])
    # ALPHA = 0.01 per segment: about 1 % of the area may be flagged, never more than twice that.
    flagged = sum(f["area_m2"] for f in layer.getFeatures())
    assert flagged / (256 * 256 * 100.0) < 0.02


def test_after_on_another_grid_is_aligned(run_alg, pair, tmp_path):
    from osgeo import gdal

    coarse = str(tmp_path / "after_20m.tif")
    gdal.Warp(coarse, pair["after"], xRes=20, yRes=20, resampleAlg="average")
    result = run_alg(
        "sarchange:changedetection",
        {
            "BEFORE": pair["before"],
            "AFTER": coarse,
            "METHOD": "threshold",
            "DESPECKLE": "boxcar",
            "OUTPUT": str(tmp_path / "c.gpkg"),
            "OUTPUT_RASTER": str(tmp_path / "c.tif"),
        },
    )
    assert raster_info(result["OUTPUT_RASTER"]).geotransform == raster_info(pair["before"]).geotransform
    assert load(result["OUTPUT"]).featureCount() > 0


@pytest.mark.parametrize(
    "bad, message", [({"ALPHA": 1.5}, "ALPHA"), ({"ALPHA": 0}, "ALPHA"), ({"MIN_AREA": -5}, "MIN_AREA")]
)
def test_bad_parameters_are_clear_errors(run_alg, pair, tmp_path, bad, message):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match=message):
        run_alg(
            "sarchange:changedetection",
            {"BEFORE": pair["before"], "AFTER": pair["after"], "OUTPUT": str(tmp_path / "c.gpkg"), **bad},
        )
    assert not (tmp_path / "c.gpkg").exists()


def test_qgis_process_writes_geopackage_and_report(qgis_process, pair, tmp_path):
    out, html = str(tmp_path / "change.gpkg"), str(tmp_path / "report.html")
    qgis_process(
        "run",
        "sarchange:changedetection",
        "--",
        f"BEFORE={pair['before']}",
        f"AFTER={pair['after']}",
        "METHOD=likelihood_ratio",
        "DESPECKLE=lee",
        "MIN_AREA=2000",
        f"OUTPUT={out}",
        f"OUTPUT_HTML={html}",
    )
    assert load(out).featureCount() > 5
    with open(html, encoding="utf-8") as handle:
        report = handle.read()
    assert "<svg" in report and "ALPHA" in report and "loss" in report


@pytest.mark.parametrize("method", ["threshold", "likelihood_ratio", "superpixel_kmeans"])
def test_the_report_lists_the_values_the_method_used_and_no_other(run_alg, pair, tmp_path, method):
    """With defaults the report once said ALPHA = None and listed thresholds of methods that did not run."""
    from sar_change.processing_provider.change_methods import _PARAMETERS_OF

    result = run_alg(
        "sarchange:changedetection",
        {
            "BEFORE": pair["before"],
            "AFTER": pair["after"],
            "METHOD": method,
            "OUTPUT": str(tmp_path / "c.gpkg"),
            "OUTPUT_HTML": str(tmp_path / "r.html"),
        },
    )
    with open(result["OUTPUT_HTML"], encoding="utf-8") as handle:
        report = handle.read()
    assert "None" not in report and not re.search(r"\bnan\b", report, re.IGNORECASE)
    used = {name for name, _ in _PARAMETERS_OF[method]}
    for name in {n for pairs in _PARAMETERS_OF.values() for n, _ in pairs}:
        assert (f"{name} = " in report) == (name in used), (method, name)
