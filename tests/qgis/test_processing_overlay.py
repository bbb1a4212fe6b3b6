"""sarchange:simulatepair, overlay and rgbcomposite through Processing and qgis_process.bin."""

import os

import numpy as np

from sar_change.algorithms.io.raster import raster_info, read_band


def test_simulatepair_then_overlay_in_process(run_alg, tmp_path):
    pair = run_alg(
        "sarchange:simulatepair",
        {
            "ROWS": 128,
            "COLS": 96,
            "LOOKS": 4,
            "SEED": 3,
            "OUTPUT_BEFORE": str(tmp_path / "b.tif"),
            "OUTPUT_AFTER": str(tmp_path / "a.tif"),
            "OUTPUT_TRUTH": str(tmp_path / "t.tif"),
        },
    )
    assert raster_info(pair["OUTPUT_BEFORE"]).rows == 128
    assert set(np.unique(read_band(pair["OUTPUT_TRUTH"]))) <= {0, 1, 2}
    result = run_alg(
        "sarchange:overlay",
        {
            "BEFORE": pair["OUTPUT_BEFORE"],
            "AFTER": pair["OUTPUT_AFTER"],
            "SCALING": "db_range",
            "DB_MIN": -25,
            "DB_MAX": 5,
            "OUTPUT": str(tmp_path / "ov.tif"),
        },
    )
    info = raster_info(result["OUTPUT"])
    assert info.bands == 3 and info.dtypes[0] == np.uint8


def test_qgis_process_overlay_aligns_wgs84_coherence_onto_utm_backscatter(qgis_process, shared_data, tmp_path):
    grids = os.path.join(shared_data, "gabon_mondah", "original_grids")
    before = os.path.join(grids, "alos_backscatter_hh.tif")
    out = str(tmp_path / "ov.tif")
    qgis_process(
        "run",
        "sarchange:overlay",
        "--",
        f"BEFORE={before}",
        f"AFTER={os.path.join(grids, 'alos_coh_hh.tif')}",
        "INPUT_SCALE=display",
        "SCALING=minmax",
        "TOLERANCE=40",
        f"OUTPUT={out}",
    )
    info, ref = raster_info(out), raster_info(before)
    assert (info.rows, info.cols, info.bands) == (ref.rows, ref.cols, 3)
    assert info.geotransform == ref.geotransform


def test_qgis_process_rgbcomposite_equals_gabon_reference(qgis_process, shared_data, tmp_path):
    from osgeo import gdal

    folder = os.path.join(shared_data, "gabon_mondah", "aligned")
    out = str(tmp_path / "rgb.tif")
    qgis_process(
        "run",
        "sarchange:rgbcomposite",
        "--",
        f"HH={os.path.join(folder, 'alos_hh_tv.tif')}",
        f"HV={os.path.join(folder, 'alos_hv_tv.tif')}",
        "SCALING=minmax",
        f"OUTPUT={out}",
    )
    np.testing.assert_array_equal(
        gdal.Open(out).ReadAsArray(), gdal.Open(os.path.join(folder, "rgb.tif")).ReadAsArray()
    )
