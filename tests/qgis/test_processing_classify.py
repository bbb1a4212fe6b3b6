"""sarchange:superpixels and sarchange:kmeans through Processing and qgis_process.bin."""

import os

import numpy as np

from sar_change.algorithms.io.raster import raster_info, read_band


def test_qgis_process_superpixels_reproduces_gabon_reference_count(qgis_process, shared_data, tmp_path):
    rgb = os.path.join(shared_data, "gabon_mondah", "aligned", "rgb.tif")
    result = qgis_process(
        "run",
        "sarchange:superpixels",
        "--",
        f"INPUTS={rgb}",
        "SCALE=0.5",
        "SIGMA=0",
        "MIN_SIZE=15",
        f"OUTPUT_LABELS={tmp_path / 'l.tif'}",
    )
    assert "SEGMENTS:\t4772" in result.stdout


def test_superpixel_polygons_are_valid_and_cover_the_raster_once(run_alg, write_raster, tmp_path):
    from qgis.core import QgsGeometry, QgsVectorLayer

    rng = np.random.default_rng(0)
    image = rng.gamma(4, 0.25, (60, 50)).astype(np.float32)
    image[:, 25:] *= 8
    src = write_raster("in.tif", image)
    result = run_alg(
        "sarchange:superpixels",
        {
            "INPUTS": [src],
            "INPUT_SCALE": "db",
            "MIN_SIZE": 20,
            "OUTPUT_LABELS": str(tmp_path / "l.tif"),
            "OUTPUT_POLYGONS": str(tmp_path / "p.gpkg"),
        },
    )
    layer = QgsVectorLayer(result["OUTPUT_POLYGONS"], "p", "ogr")
    geometries = [f.geometry() for f in layer.getFeatures()]
    assert len(geometries) == result["SEGMENTS"]
    assert all(g.isGeosValid() for g in geometries)
    area = 60 * 50 * 100.0
    assert sum(g.area() for g in geometries) == np.float64(area)
    assert QgsGeometry.unaryUnion(geometries).area() == np.float64(area)  # no overlap, no gap
    assert {"b1_mean", "b1_std", "pixels"} <= {f.name() for f in layer.fields()}


def test_kmeans_writes_classes_with_colour_table_and_centres(run_alg, shared_data, tmp_path):
    from osgeo import gdal
    from qgis.core import QgsVectorLayer

    folder = os.path.join(shared_data, "gabon_mondah", "aligned")
    result = run_alg(
        "sarchange:kmeans",
        {
            "BACKSCATTER": [
                os.path.join(folder, "alos_backscatter_hh.tif"),
                os.path.join(folder, "alos_backscatter_hv.tif"),
            ],
            "COHERENCE": [os.path.join(folder, "alos_coh_hh.tif"), os.path.join(folder, "alos_coh_hv.tif")],
            "CLASSES": 3,
            "SEED": 1,
            "OUTPUT": str(tmp_path / "k.tif"),
            "OUTPUT_CENTRES": str(tmp_path / "c.gpkg"),
        },
    )
    info = raster_info(result["OUTPUT"])
    assert info.dtypes[0] == np.uint8 and info.nodata[0] == 255
    dataset = gdal.Open(result["OUTPUT"])
    assert dataset.GetRasterBand(1).GetColorTable().GetCount() >= 3
    classes = read_band(result["OUTPUT"])
    centres = QgsVectorLayer(result["OUTPUT_CENTRES"], "c", "ogr")
    rows = sorted(centres.getFeatures(), key=lambda f: f["class"])
    assert [f["class"] for f in rows] == [0, 1, 2]
    assert [f["pixels"] for f in rows] == [int((classes == c).sum()) for c in range(3)]
    assert rows[0]["alos_backscatter_hv_db"] < rows[1]["alos_backscatter_hv_db"]
