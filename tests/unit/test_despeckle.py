"""Speckle filters: statistical properties, OTB parity, TV parity on real data, blockwise == whole."""

import os
import shutil
import subprocess

import numpy as np
import pytest

from sar_change.algorithms.io.raster import read_band
from sar_change.algorithms.sar import despeckle as d
from sar_change.algorithms.sar.despeckle import moments
from sar_change.algorithms.workflows.despeckle import despeckle_raster

LINEAR_METHODS = ["boxcar", "lee", "kuan", "frost", "gamma_map", "refined_lee", "lee_sigma"]


def homogeneous(looks=1, shape=(200, 200), seed=0, level=0.2):
    rng = np.random.default_rng(seed)
    return (level * rng.gamma(looks, 1.0 / looks, shape)).astype(np.float32)


def enl(values):
    return values.mean() ** 2 / values.var()


@pytest.mark.parametrize("method", LINEAR_METHODS)
def test_mean_is_preserved_on_homogeneous_area(method):
    image = homogeneous(looks=4)
    out = d.despeckle(image, method, window=7, looks=4)
    assert abs(out.mean() / image.mean() - 1) < 0.02


@pytest.mark.parametrize("method", ["boxcar", "lee", "kuan", "frost", "refined_lee"])
def test_mean_is_preserved_on_single_look_homogeneous_area(method):
    # Gamma MAP (a mode, not a mean) and Lee sigma are known to lose a few % at 1 look.
    image = homogeneous(looks=1)
    out = d.despeckle(image, method, window=7, looks=1)
    assert abs(out.mean() / image.mean() - 1) < 0.02


@pytest.mark.parametrize("method", d.METHODS)
def test_variance_reduced_and_enl_increased(method):
    image = homogeneous(looks=2)
    out = d.despeckle(image, method, window=7, looks=2)
    inner = (slice(10, -10), slice(10, -10))
    assert out[inner].var() < 0.5 * image[inner].var()
    assert enl(out[inner]) > 2 * enl(image[inner])


@pytest.mark.parametrize("method", d.METHODS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_dtype_matches_input(method, dtype):
    image = homogeneous(shape=(40, 40)).astype(dtype)
    assert d.despeckle(image, method).dtype == dtype


@pytest.mark.parametrize("method", d.METHODS)
def test_nan_passes_through_and_does_not_bleed(method):
    image = homogeneous(looks=4, shape=(80, 80))
    image[30:40, 30:40] = np.nan
    out = d.despeckle(image, method, window=7, looks=4)
    assert np.isnan(out[30:40, 30:40]).all()
    ring = np.zeros(out.shape, bool)
    ring[27:43, 27:43] = True
    ring[30:40, 30:40] = False
    assert np.isfinite(out[ring]).all()
    # Neighbours of the hole stay near the true reflectivity, not dragged by NaN or fill values.
    assert abs(np.mean(out[ring]) / 0.2 - 1) < (0.3 if method in ("tv", "nlmeans", "median") else 0.1)


def test_all_nan_returned_unchanged():
    image = np.full((20, 20), np.nan, np.float32)
    for method in d.METHODS:
        assert np.isnan(d.despeckle(image, method)).all()


@pytest.mark.parametrize("window", [2, 1, 4, 7.5, -3])
def test_bad_window_raises_naming_it(window):
    with pytest.raises(ValueError, match="window"):
        d.lee(homogeneous(shape=(20, 20)), window)


@pytest.mark.parametrize("looks", [0, -1, np.nan])
def test_bad_looks_raises_naming_it(looks):
    with pytest.raises(ValueError, match="looks"):
        d.kuan(homogeneous(shape=(20, 20)), 7, looks)


def test_unknown_method_raises_naming_it():
    with pytest.raises(ValueError, match="method='wiener'"):
        d.despeckle(homogeneous(shape=(20, 20)), "wiener")


def test_lee_sigma_keeps_point_targets():
    image = homogeneous(looks=4, shape=(60, 60))
    image[29:32, 29:32] = 50.0  # a 3 x 3 bright corner reflector
    out = d.lee_sigma(image, 7, 4, sigma=0.9)
    np.testing.assert_array_equal(out[29:32, 29:32], image[29:32, 29:32])


def test_sigma_range_is_unbiased_and_holds_sigma():
    from scipy import stats

    i1, i2, eta2 = d.sigma_range(1.0, 0.9)
    dist = stats.gamma(1.0, scale=1.0)
    assert dist.cdf(i2) - dist.cdf(i1) == pytest.approx(0.9, abs=1e-9)
    assert dist.expect(lambda v: v, lb=i1, ub=i2, conditional=True) == pytest.approx(1.0, abs=1e-6)
    assert 0 < eta2 < 1  # the truncated speckle varies less than the full speckle


def test_refined_lee_keeps_a_step_edge_sharper_than_boxcar():
    image = homogeneous(looks=16, shape=(64, 64))
    image[:, 32:] *= 10
    refined = d.refined_lee(image, 7, 16)
    box = d.boxcar(image, 7)
    truth = np.where(np.arange(64) < 32, 0.2, 2.0)[None, :].repeat(64, 0)
    cols = slice(29, 35)
    assert (
        np.abs(refined[8:-8, cols] - truth[8:-8, cols]).mean()
        < 0.5 * np.abs(box[8:-8, cols] - truth[8:-8, cols]).mean()
    )


# -- parity with Orfeo ToolBox --------------------------------------------------------------------
OTB = shutil.which("otbcli_Despeckle")


@pytest.mark.skipif(OTB is None, reason="Orfeo ToolBox not installed (apt-get install otb-bin)")
@pytest.mark.parametrize(
    "method, otb_args",
    [
        ("lee", ["-filter", "lee", "-filter.lee.rad", "3", "-filter.lee.nblooks", "2"]),
        ("kuan", ["-filter", "kuan", "-filter.kuan.rad", "3", "-filter.kuan.nblooks", "2"]),
        ("gamma_map", ["-filter", "gammamap", "-filter.gammamap.rad", "3", "-filter.gammamap.nblooks", "2"]),
        ("frost", ["-filter", "frost", "-filter.frost.rad", "3", "-filter.frost.deramp", "0.1"]),
    ],
)
def test_matches_orfeo_toolbox(method, otb_args, tmp_path, write_raster):
    from sar_change.algorithms.simulation import pair as simulate

    image = simulate.simulate_pair(150, 130, looks=2, seed=4)["before"]
    src = write_raster("in.tif", image)
    ref_path = str(tmp_path / "otb.tif")
    subprocess.run([OTB, "-in", src, "-out", ref_path, *otb_args], check=True, capture_output=True, timeout=300)
    reference = read_band(ref_path)
    ours = d.despeckle(image, method, window=7, looks=2, damping=0.1)
    tolerance = 1e-4 * (image.max() - image.min())
    assert np.abs(ours - reference).max() <= tolerance  # borders included: same edge rule as OTB


# -- TV parity on real data -----------------------------------------------------------------------
def test_tv_matches_reference_on_gabon_hh(shared_data):
    folder = os.path.join(shared_data, "gabon_mondah", "aligned")
    hh = read_band(os.path.join(folder, "alos_backscatter_hh.tif"))
    reference = read_band(os.path.join(folder, "alos_hh_tv.tif"))
    ours = d.tv_db(hh, 0.5)
    assert ours.dtype == np.float32
    assert np.nanmax(np.abs(ours - reference) / reference) < 4e-6


# -- blockwise == whole array ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "method", ["boxcar", "median", "lee", "frost", "gamma_map", "kuan", "refined_lee", "lee_sigma"]
)
def test_blockwise_file_equals_whole_array(method, write_raster, tmp_path):
    rng = np.random.default_rng(5)
    image = (rng.gamma(1, 1, (150, 170)) * np.linspace(0.1, 1, 170)).astype(np.float32)
    image[60:64, 80:90] = np.nan
    src = write_raster("in.tif", image)
    out = despeckle_raster(
        src, str(tmp_path / "out.tif"), method, window=7, looks=1, block_size=48, point_threshold=2.0
    )
    whole = d.despeckle(image, method, window=7, looks=1, point_threshold=2.0)
    np.testing.assert_array_equal(read_band(out), whole)


@pytest.mark.parametrize("scale", ["db", "amplitude"])
def test_input_scale_round_trips_to_the_same_filter(scale, write_raster, tmp_path):
    rng = np.random.default_rng(6)
    power = rng.gamma(1, 0.2, (64, 64)).astype(np.float32)
    given = 10 * np.log10(power) if scale == "db" else np.sqrt(power)
    src = write_raster("in.tif", given.astype(np.float32))
    out = read_band(despeckle_raster(src, str(tmp_path / "o.tif"), "lee", input_scale=scale))
    expected = d.lee(power, 7, 1)
    back = 10 ** (out / 10) if scale == "db" else out**2
    np.testing.assert_allclose(back, expected, rtol=2e-5)


def test_auto_input_scale_takes_db_for_negative_values_and_display_for_bytes(write_raster, tmp_path):
    rng = np.random.default_rng(6)
    power = rng.gamma(1, 0.2, (64, 64)).astype(np.float32)
    src = write_raster("db.tif", (10 * np.log10(power)).astype(np.float32))
    auto = read_band(despeckle_raster(src, str(tmp_path / "a.tif"), "lee"))
    named = read_band(despeckle_raster(src, str(tmp_path / "n.tif"), "lee", input_scale="db"))
    np.testing.assert_array_equal(auto, named)
    grey = write_raster("grey.tif", np.clip(np.sqrt(power) * 200, 0, 255).astype(np.uint8))
    auto = read_band(despeckle_raster(grey, str(tmp_path / "g.tif"), "lee"))
    named = read_band(despeckle_raster(grey, str(tmp_path / "gn.tif"), "lee", input_scale="display"))
    np.testing.assert_array_equal(auto, named)


def test_tv_blockwise_seams_stay_below_a_fiftieth_of_a_decibel(write_raster, tmp_path):
    rng = np.random.default_rng(8)
    image = (rng.gamma(1, 1, (160, 150)) * np.linspace(0.1, 1, 150)).astype(np.float32)
    out = despeckle_raster(write_raster("in.tif", image), str(tmp_path / "tv.tif"), "tv", block_size=48)
    whole = d.tv_db(image, 0.5)
    error_db = np.abs(10 * np.log10(read_band(out)) - 10 * np.log10(whole))
    assert error_db.max() < 0.02


@pytest.mark.parametrize("method", ["lee", "refined_lee", "lee_sigma", "frost"])
def test_in_memory_blocks_equal_the_whole_image(method):
    rng = np.random.default_rng(9)
    image = (rng.gamma(1, 1, (130, 110)) * np.linspace(0.1, 1, 110)).astype(np.float32)
    image[40:44, 50:60] = np.nan
    whole = d.despeckle(image, method, window=7, looks=1, point_threshold=None)
    if method == "lee_sigma":  # the whole-image call takes its own 98th percentile: the same threshold
        whole = d.lee_sigma(image, 7, 1, point_threshold=float(np.nanpercentile(image, 98)))
    np.testing.assert_array_equal(d.despeckle_in_blocks(image, method, window=7, looks=1, block=32), whole)


def test_work_arrays_are_kept_for_blocks_but_not_for_whole_images():
    small = np.random.default_rng(10).gamma(1, 1, (64, 64)).astype(np.float32)
    d.lee(small, 7)
    kept = dict(moments._scratch_local.__dict__)
    assert kept and all(array.size == 64 * 64 for array in kept.values())
    moments._scratch_local.__dict__.clear()
    large = np.ones((1500, 1500), np.float32)
    np.testing.assert_allclose(d.lee(large, 7), 1.0)
    assert not moments._scratch_local.__dict__  # an image-sized array is not held after the call
