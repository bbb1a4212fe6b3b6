"""Estimators on constant, saturated, all-nodata and tiny inputs: a clear ValueError naming what is
wrong, or a documented result; never a silent NaN/inf that turns into an empty answer."""

import numpy as np
import pytest

from sar_change.algorithms.sar import classify, convert, despeckle, interferometry, segmentation, speckle_qa


def _speckle(shape, seed=0, looks=1.0):
    return np.random.default_rng(seed).gamma(looks, 1.0 / looks, shape).astype(np.float32)


def test_a_constant_patch_is_never_chosen_as_a_homogeneous_block_and_the_looks_stay_finite():
    image = _speckle((96, 96), looks=4.0)
    image[0:48, 0:48] = 0.05  # a 48 x 48 saturated or masked patch: zero variance to rounding
    blocks = speckle_qa.homogeneous_blocks(image, 24, 12)
    assert all(not (r < 48 and c < 48) for r, c in blocks)
    looks = speckle_qa.estimate_looks(image)
    assert np.isfinite(looks) and 2.5 < looks < 5.0


@pytest.mark.parametrize(
    "image",
    [np.full((64, 64), 0.1, np.float32), np.full((64, 64), np.nan, np.float32), np.ones((1, 1), np.float32)],
    ids=["constant", "all-nodata", "one-pixel"],
)
def test_looks_cannot_be_estimated_on_images_without_speckle(image):
    with pytest.raises(ValueError, match="give LOOKS"):
        speckle_qa.estimate_looks(image)


def test_enl_of_blocks_without_variance_is_documented_inf_and_of_nodata_nan():
    assert speckle_qa.enl(np.full((32, 32), 0.1), [(0, 0)], 32) == np.inf
    assert np.isnan(speckle_qa.enl(np.full((32, 32), np.nan), [(0, 0)], 32))
    assert speckle_qa.format_enl(np.inf).startswith("no variance left")


def test_edge_preservation_is_zero_for_a_flattened_image_and_an_error_without_reference_edges():
    noisy = _speckle((64, 64))
    noisy[:, 32:] *= 10
    assert speckle_qa.edge_preservation_index(noisy, np.full_like(noisy, 0.5)) == 0.0
    with pytest.raises(ValueError, match="no edges"):
        speckle_qa.edge_preservation_index(np.full_like(noisy, 0.5), noisy)


def test_assess_refuses_a_filtered_image_without_valid_pixels():
    noisy = _speckle((64, 64), looks=4.0)
    with pytest.raises(ValueError, match="'empty' has no valid"):
        speckle_qa.assess(noisy, {"empty": np.full_like(noisy, np.nan)})


@pytest.mark.parametrize(
    "scale, sample, match",
    [
        ("linear", np.array([-12.0, -8.0, -20.0, 1.0]), "look like dB"),
        ("amplitude", np.array([-3.0, -4.0, 2.0]), "look like dB"),
        ("auto", np.array([np.nan, np.nan]), "no valid pixel"),
        ("linear", np.zeros(10), "no positive pixel"),
        ("auto", np.zeros(10), "no positive pixel"),
    ],
)
def test_input_scale_is_checked_against_the_values(scale, sample, match):
    with pytest.raises(ValueError, match=match):
        convert.resolve_scale(scale, np.float32, sample, "INPUT")


def test_a_few_negative_powers_from_noise_subtraction_are_accepted_as_linear():
    sample = np.r_[np.full(99, 0.1), -0.001]
    assert convert.resolve_scale("linear", np.float32, sample) == "linear"
    assert convert.resolve_scale("db", np.float32, np.full(5, -12.0)) == "db"


@pytest.mark.parametrize("method", ["tv", "nlmeans"])
@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (5, 1), (2, 3)])
def test_db_filters_keep_the_shape_and_the_level_of_thin_and_one_pixel_images(method, shape):
    out = despeckle.despeckle(np.full(shape, 0.1, np.float32), method)
    assert out.shape == shape
    np.testing.assert_allclose(out, 0.1, rtol=1e-4)


def test_a_constant_or_tiny_pair_has_no_measurable_shift():
    constant = np.full((64, 64), 1 + 1j, np.complex64)
    with pytest.raises(ValueError, match="no shift can be measured"):
        interferometry.estimate_shift(constant, constant)
    tiny = np.ones((4, 4), np.complex64)
    with pytest.raises(ValueError, match="at least 8 x 8"):
        interferometry.estimate_shift(tiny, tiny)


def test_kmeans_refuses_more_classes_than_distinct_values():
    samples = np.column_stack([np.full(500, -10.0), np.full(500, 0.3)])
    with pytest.raises(ValueError, match="only 1 distinct value"):
        classify.fit_kmeans(samples, 3, backscatter=[True, False])


def test_superpixel_smoothing_has_an_upper_bound():
    with pytest.raises(ValueError, match="sigma must be in"):
        segmentation.felzenszwalb(np.zeros((8, 8, 1)), 1.0, 1e6, 5)


def test_aligning_rasters_of_different_places_is_an_error_not_an_all_nodata_raster(write_raster):
    from helpers import GEOTRANSFORM

    from sar_change.algorithms.io.align import aligned
    from sar_change.algorithms.io.raster import raster_info

    here = write_raster("here.tif", np.ones((16, 16), np.float32))
    far = write_raster(
        "far.tif", np.ones((16, 16), np.float32), geotransform=(GEOTRANSFORM[0] + 1e5,) + GEOTRANSFORM[1:]
    )
    with pytest.raises(ValueError, match="far.tif does not overlap"):
        with aligned(far, raster_info(here)):
            pass
    half = write_raster(
        "half.tif", np.ones((16, 16), np.float32), geotransform=(GEOTRANSFORM[0] + 80,) + GEOTRANSFORM[1:]
    )
    with aligned(half, raster_info(here)) as path:
        assert path != half  # overlapping: warped, no error
