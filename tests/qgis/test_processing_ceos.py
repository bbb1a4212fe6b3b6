"""sarchange:readceos on Level 1.1 products written by the tests, through qgis_process, into interferogram."""

import numpy as np
import pytest
from ceos_writer import write_l11_product

from sar_change.algorithms.io.raster import raster_info, read_band


@pytest.fixture
def product(tmp_path):
    rng = np.random.default_rng(0)
    slc = ((rng.normal(size=(80, 60)) + 1j * rng.normal(size=(80, 60))) * 300).astype(np.complex64)
    return write_l11_product(str(tmp_path / "p"), slc), slc


def test_qgis_process_reads_calibrated_intensity_phase_and_complex(qgis_process, product, tmp_path):
    from osgeo import gdal

    path, slc = product
    out = {k: str(tmp_path / f"{k}.tif") for k in ("i", "p", "c")}
    qgis_process(
        "run",
        "sarchange:readceos",
        "--",
        f"INPUT={path}",
        "LOOKS_RANGE=2",
        "LOOKS_AZIMUTH=4",
        f"OUTPUT_INTENSITY={out['i']}",
        f"OUTPUT_PHASE={out['p']}",
        f"OUTPUT_COMPLEX={out['c']}",
    )
    intensity = read_band(out["i"])
    assert intensity.shape == (20, 30)
    expected = 10 * np.log10((np.abs(slc[:4, :2]) ** 2).mean()) - 83.0 - 32.0
    assert intensity[0, 0] == pytest.approx(expected, abs=1e-4)
    np.testing.assert_allclose(read_band(out["p"]), np.angle(slc), atol=1e-6)
    np.testing.assert_array_equal(read_band(out["c"], dtype=np.complex64), slc)
    dataset = gdal.Open(out["i"])
    assert dataset.GetGCPCount() > 0 and "4326" in dataset.GetGCPProjection()
    assert dataset.GetMetadataItem("SCENE_ID") == "ALOS2123456789-230401"
    assert dataset.GetMetadataItem("ORBIT_DIRECTION") == "descending"
    assert float(dataset.GetMetadataItem("WAVELENGTH_M")) == pytest.approx(0.2424525)
    gcp = dataset.GetGCPs()[0]
    assert gcp.GCPY == pytest.approx(35.0, abs=1e-3) and gcp.GCPX == pytest.approx(139.0, abs=1e-3)


def test_complex_output_feeds_the_interferogram(run_alg, product, tmp_path):
    path, _ = product
    first = run_alg("sarchange:readceos", {"INPUT": path, "OUTPUT_COMPLEX": str(tmp_path / "c.tif")})
    info = raster_info(first["OUTPUT_COMPLEX"])
    assert info.dtypes[0] == np.complex64
    result = run_alg(
        "sarchange:interferogram",
        {
            "REFERENCE": first["OUTPUT_COMPLEX"],
            "SECONDARY": first["OUTPUT_COMPLEX"],
            "COREGISTER": "none",
            "REMOVE_RAMP": False,
            "OUTPUT_PHASE": str(tmp_path / "p.tif"),
            "OUTPUT_COHERENCE": str(tmp_path / "g.tif"),
            "OUTPUT_DISPLACEMENT": str(tmp_path / "d.tif"),
        },
    )
    assert np.nanmin(read_band(result["OUTPUT_COHERENCE"])) > 0.999  # an image with itself
    assert result["OUTPUT_DISPLACEMENT"]


def test_level_15_product_and_wrong_polarisation_are_clear_errors(run_alg, shared_data, product, tmp_path):
    import os

    from qgis.core import QgsProcessingException

    l15 = os.path.join(shared_data, "alos2_ceos_l15_headers", "IMG-HH-ALOS2015976960-140909-FBDR1.5GUA")
    with pytest.raises(QgsProcessingException, match="not Level 1.1"):
        run_alg("sarchange:readceos", {"INPUT": l15, "OUTPUT_INTENSITY": str(tmp_path / "i.tif")})
    with pytest.raises(QgsProcessingException, match="POLARISATION"):
        run_alg(
            "sarchange:readceos",
            {"INPUT": product[0], "POLARISATION": "VV", "OUTPUT_INTENSITY": str(tmp_path / "i.tif")},
        )
    assert not (tmp_path / "i.tif").exists()


def test_extent_crops_to_the_window_it_covers(run_alg, product, tmp_path):
    from qgis.core import QgsProcessingException

    path, slc = product
    # the writer's geolocation: lat = 35 - 0.001 * line, lon = 139 + 0.001 * pixel
    result = run_alg(
        "sarchange:readceos",
        {
            "INPUT": path,
            "EXTENT": "139.010,139.020,34.970,34.980 [EPSG:4326]",
            "OUTPUT_COMPLEX": str(tmp_path / "c.tif"),
        },
    )
    crop = read_band(result["OUTPUT_COMPLEX"], dtype=np.complex64)
    assert 10 <= crop.shape[0] <= 16 and 10 <= crop.shape[1] <= 16  # 10 x 10 pixels plus margins
    h, w = crop.shape
    origin = [
        (r, c) for r in range(80 - h + 1) for c in range(60 - w + 1) if np.array_equal(crop, slc[r : r + h, c : c + w])
    ]
    assert len(origin) == 1
    row, col = origin[0]
    assert 17 <= row <= 21 and 7 <= col <= 11  # lat 34.980 is line 20, lon 139.010 is pixel 10, margin 2
    from osgeo import gdal

    dataset = gdal.Open(result["OUTPUT_COMPLEX"])
    gcps = dataset.GetGCPs()  # an 11 x 11 grid over the crop, from the LED polynomial, crop-relative
    assert len(gcps) == 121 and (gcps[0].GCPPixel, gcps[0].GCPLine) == (0.5, 0.5)
    assert (gcps[0].GCPY, gcps[0].GCPX) == pytest.approx((35.0 - 0.001 * row, 139.0 + 0.001 * col))
    assert (gcps[-1].GCPPixel, gcps[-1].GCPLine) == (w - 0.5, h - 0.5)
    with pytest.raises(QgsProcessingException, match="outside the scene"):
        run_alg(
            "sarchange:readceos",
            {"INPUT": path, "EXTENT": "10,11,10,11 [EPSG:4326]", "OUTPUT_COMPLEX": str(tmp_path / "x.tif")},
        )


def test_extent_crops_a_10_gb_product_through_processing(run_alg, tmp_path):
    import os

    patch = (np.arange(40 * 30).reshape(40, 30) * (1 - 1j)).astype(np.complex64)
    path = write_l11_product(
        str(tmp_path / "big"), patch, sparse_shape=(130_000, 10_000), patch_at=(100_000, 7_000), step_deg=1e-5
    )
    if os.stat(path).st_blocks * 512 > 100e6:
        pytest.skip("this filesystem does not keep sparse files")
    # lines 100010-100019, pixels 7005-7014; readceos adds a 2-pixel margin
    result = run_alg(
        "sarchange:readceos",
        {
            "INPUT": path,
            "EXTENT": "139.07005,139.07014,33.99981,33.99990 [EPSG:4326]",
            "OUTPUT_COMPLEX": str(tmp_path / "c.tif"),
            "OUTPUT_INTENSITY": str(tmp_path / "i.tif"),
        },
    )
    crop = read_band(result["OUTPUT_COMPLEX"], dtype=np.complex64)
    assert crop.shape == (14, 14)
    np.testing.assert_array_equal(crop, patch[8:22, 3:17])
    assert raster_info(result["OUTPUT_INTENSITY"]).rows == 14
