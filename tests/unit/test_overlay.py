import os

import numpy as np
import pytest

from sar_change.algorithms.io.raster import raster_info, read_band
from sar_change.algorithms.sar import overlay
from sar_change.algorithms.workflows.overlay import overlay_rasters, rgb_composite_rasters


def test_unchanged_pixels_are_grey_at_the_after_level():
    rgb = overlay.overlay_levels(np.array([[100, 10]]), np.array([[110, 0]]), tolerance=30)
    np.testing.assert_array_equal(rgb[:, 0, 0], [110, 110, 110])
    np.testing.assert_array_equal(rgb[:, 0, 1], [0, 0, 0])


def test_changed_pixels_show_after_in_red_and_before_in_blue():
    rgb = overlay.overlay_levels(np.array([[200, 20]]), np.array([[20, 255]]), tolerance=30)
    np.testing.assert_array_equal(rgb[:, 0, 0], [20, 0, 200])
    np.testing.assert_array_equal(rgb[:, 0, 1], [255, 0, 20])


def test_dark_unchanged_pixels_do_not_wrap_around_into_colour():
    # With uint8 arithmetic 5 - 20 wraps to 241 > tolerance and the pixel would turn colour.
    before = np.array([[20, 0, 255]], dtype=np.uint8)
    after = np.array([[5, 29, 255]], dtype=np.uint8)
    rgb = overlay.overlay_levels(before, after, tolerance=30)
    assert (rgb[0] == rgb[1]).all() and (rgb[1] == rgb[2]).all()
    np.testing.assert_array_equal(rgb[0, 0], [5, 29, 255])


def test_tolerance_boundary_is_strict():
    rgb = overlay.overlay_levels(np.array([[100]]), np.array([[130]]), tolerance=30)
    np.testing.assert_array_equal(rgb[:, 0, 0], [130, 0, 100])


def test_nodata_level_gives_black():
    rgb = overlay.overlay_levels(np.array([[-1, 50]]), np.array([[50, -1]]))
    assert (rgb == 0).all()


def test_bad_tolerance_raises_naming_it():
    with pytest.raises(ValueError, match="tolerance=-1"):
        overlay.overlay_levels(np.zeros((1, 1)), np.zeros((1, 1)), tolerance=-1)


def test_scale_levels_clips_and_marks_nan():
    levels = overlay.scale_levels(np.array([-5.0, 0.0, 5.0, 10.0, 20.0, np.nan]), 0.0, 10.0)
    np.testing.assert_array_equal(levels, [0, 0, 128, 255, 255, -1])
    assert levels.dtype == np.int16


def test_overlay_raster_of_a_pair_colours_simulated_change(tmp_path):
    from sar_change.algorithms.simulation import pair as simulate

    paths = simulate.write_pair(simulate.folder_paths(str(tmp_path)), 256, 256, looks=100, seed=0)
    out = overlay_rasters((paths["before"], 1), (paths["after"], 1), str(tmp_path / "ov.tif"))
    rgb = np.stack([read_band(out, b) for b in (1, 2, 3)])
    truth = read_band(paths["truth"])
    coloured = rgb[1] != rgb[0]
    # 100-look speckle (0.4 dB): change patches (3-6 dB) mostly coloured, unchanged ground mostly grey.
    assert coloured[truth > 0].mean() > 0.6
    assert coloured[truth == 0].mean() < 0.15
    assert (rgb[0][truth == 2] > rgb[2][truth == 2]).mean() > 0.6  # gain: red dominates
    assert (rgb[2][truth == 1] > rgb[0][truth == 1]).mean() > 0.6  # loss: blue dominates


def test_gabon_rgb_composite_equals_reference_exactly(shared_data, tmp_path):
    folder = os.path.join(shared_data, "gabon_mondah", "aligned")
    out = rgb_composite_rasters(
        (os.path.join(folder, "alos_hh_tv.tif"), 1),
        (os.path.join(folder, "alos_hv_tv.tif"), 1),
        str(tmp_path / "rgb.tif"),
    )
    from osgeo import gdal

    ours = gdal.Open(out).ReadAsArray()
    reference = gdal.Open(os.path.join(folder, "rgb.tif")).ReadAsArray()
    assert ours.dtype == reference.dtype == np.float32
    np.testing.assert_array_equal(ours, reference)


def test_gabon_overlay_across_crs_lands_on_backscatter_grid(shared_data, tmp_path):
    grids = os.path.join(shared_data, "gabon_mondah", "original_grids")
    before = os.path.join(grids, "alos_backscatter_hh.tif")
    out = overlay_rasters(
        (before, 1),
        (os.path.join(grids, "alos_coh_hh.tif"), 1),
        str(tmp_path / "ov.tif"),
        input_scale="display",
        scaling="minmax",
    )
    info, ref = raster_info(out), raster_info(before)
    assert (info.rows, info.cols, info.bands) == (ref.rows, ref.cols, 3)
    assert info.geotransform == ref.geotransform
    assert read_band(out, 1).max() > 0


def test_rgb_composite_byte_output_spans_full_range(tmp_path, write_raster):
    rng = np.random.default_rng(0)
    hh = write_raster("hh.tif", rng.gamma(1, 0.2, (64, 64)).astype(np.float32))
    hv = write_raster("hv.tif", rng.gamma(1, 0.05, (64, 64)).astype(np.float32))
    out = rgb_composite_rasters((hh, 1), (hv, 1), str(tmp_path / "c.tif"), output_type="byte")
    for band in (1, 2, 3):
        values = read_band(out, band)
        assert values.min() == 0 and values.max() == 255


def test_png_tiles_without_georeference_are_valid_inputs(tmp_path):
    """Tiles as a tile server delivers them: 8-bit PNG, RGB or grey, no CRS; band 1 (red or grey) is used."""
    from osgeo import gdal

    rng = np.random.default_rng(0)
    before = rng.integers(0, 200, (64, 64)).astype(np.uint8)
    before[0, 0], before[0, 1] = 0, 255  # both dates span 0-255, so min-max scaling leaves levels as they are
    after = before.copy()
    after[1:, 32:] = np.minimum(before[1:, 32:].astype(int) + 120, 255)
    paths = []
    for name, image, bands in (("before.png", before, 3), ("after.png", after, 1)):
        mem = gdal.GetDriverByName("MEM").Create("", 64, 64, bands, gdal.GDT_Byte)
        for b in range(bands):
            mem.GetRasterBand(b + 1).WriteArray(image)
        path = str(tmp_path / name)
        gdal.GetDriverByName("PNG").CreateCopy(path, mem)
        paths.append(path)
    out = overlay_rasters(
        (paths[0], 1), (paths[1], 1), str(tmp_path / "ov.tif"), input_scale="display", scaling="minmax"
    )
    rgb = np.stack([read_band(out, b) for b in (1, 2, 3)])
    assert (rgb[0, :, :32] == rgb[1, :, :32]).mean() > 0.95  # unchanged half grey
    assert (rgb[1, :, 32:] == 0).mean() > 0.95  # brighter half coloured (red dominant)


def test_auto_input_scale_reads_bytes_as_display_levels(write_raster, tmp_path):
    rng = np.random.default_rng(3)
    tiles = [write_raster(f"{n}.tif", rng.integers(0, 256, (40, 50)).astype(np.uint8)) for n in "ba"]
    auto = overlay_rasters((tiles[0], 1), (tiles[1], 1), str(tmp_path / "auto.tif"))
    named = overlay_rasters((tiles[0], 1), (tiles[1], 1), str(tmp_path / "d.tif"), input_scale="display")
    for band in (1, 2, 3):
        np.testing.assert_array_equal(read_band(auto, band), read_band(named, band))
