import os

import numpy as np
import pytest

from sar_change.algorithms.io.align import aligned, same_grid
from sar_change.algorithms.io.raster import open_raster, raster_info, read_band, read_window


def test_same_grid_yields_the_input_itself(write_raster):
    a = write_raster("a.tif", np.ones((10, 10), np.float32))
    b = write_raster("b.tif", np.ones((10, 10), np.float32))
    with aligned(b, raster_info(a)) as path:
        assert path == b


def test_coarser_raster_is_resampled_onto_reference_grid(write_raster):
    fine = write_raster("fine.tif", np.zeros((40, 40), np.float32))
    coarse_values = np.arange(400, dtype=np.float32).reshape(20, 20)
    coarse = write_raster("coarse.tif", coarse_values, geotransform=(380000.0, 20.0, 0, 3950000.0, 0, -20.0))
    with aligned(coarse, raster_info(fine), resampling="nearest") as path:
        info = raster_info(path)
        assert (info.rows, info.cols) == (40, 40)
        assert same_grid(info, raster_info(fine))
        ds = open_raster(path)
        np.testing.assert_array_equal(read_window(ds, 1), np.kron(coarse_values, np.ones((2, 2))))


def test_area_outside_source_becomes_nodata(write_raster):
    ref = write_raster("ref.tif", np.zeros((20, 20), np.float32))
    half = write_raster("half.tif", np.ones((20, 10), np.float32))
    with aligned(half, raster_info(ref), resampling="nearest") as path:
        values = read_window(open_raster(path), 1)
    assert np.isnan(values[:, 10:]).all() and (values[:, :10] == 1).all()


def test_unknown_resampling_raises_naming_it(write_raster):
    a = write_raster("a.tif", np.ones((4, 4), np.float32))
    with pytest.raises(ValueError, match="resampling='lanczos5'"):
        with aligned(a, raster_info(a), resampling="lanczos5"):
            pass


def test_gabon_coherence_in_wgs84_aligns_onto_utm_backscatter_grid(shared_data):
    grids = os.path.join(shared_data, "gabon_mondah", "original_grids")
    reference = raster_info(os.path.join(grids, "alos_backscatter_hh.tif"))
    with aligned(os.path.join(grids, "alos_coh_hh.tif"), reference) as path:
        info = raster_info(path)
        coherence = read_window(open_raster(path), 1)
    assert same_grid(info, reference)
    prepared = read_band(os.path.join(shared_data, "gabon_mondah", "aligned", "alos_coh_hh.tif"))
    # The data provider's own aligned product is on a slightly different grid (484 x 500):
    # compare the distributions, which alignment must not distort.
    valid = coherence[np.isfinite(coherence)]
    assert valid.size > 0.8 * coherence.size
    assert abs(np.median(valid) - np.nanmedian(prepared)) < 0.02
    assert 0.0 <= valid.min() and valid.max() <= 1.0
