"""Change detection: statistics, the likelihood-ratio test's calibration, methods on simulated truth, regions."""

import os

import numpy as np
import pytest

from sar_change.algorithms.sar import change
from sar_change.algorithms.simulation import pair as simulate


def f1(classes, truth):
    pred = (classes == change.LOSS) | (classes == change.GAIN)
    real = truth > 0
    tp = (pred & real).sum()
    precision, recall = tp / max(pred.sum(), 1), tp / max(real.sum(), 1)
    return 2 * precision * recall / max(precision + recall, 1e-12)


@pytest.fixture(scope="module")
def pair():
    return simulate.simulate_pair(384, 384, looks=1, seed=2)


@pytest.fixture(scope="module")
def no_change_pair():
    return simulate.simulate_pair(384, 384, looks=1, seed=3, patches=[])


def test_log_ratio_is_ten_log10_of_after_over_before():
    out = change.log_ratio_db(np.array([[1.0, 2.0, 0.0]]), np.array([[10.0, 1.0, 1.0]]))
    np.testing.assert_allclose(out[0, :2], [10.0, -3.0103], atol=1e-4)
    assert np.isnan(out[0, 2])


def test_ratio_test_pvalue_matches_scipy_f_distribution():
    from scipy import stats

    rng = np.random.default_rng(0)
    s1, s2 = rng.gamma(3, 1, 50), rng.gamma(3, 1, 50)
    ratio = s2 / s1
    expected = 2 * np.minimum(stats.f.cdf(ratio, 6, 6), stats.f.sf(ratio, 6, 6))
    np.testing.assert_allclose(change.ratio_test_pvalue(s1, s2, 3), expected, rtol=1e-9)


@pytest.mark.parametrize("looks", [1, 4])
def test_pixel_test_false_alarm_rate_matches_alpha(looks):
    rng = np.random.default_rng(looks)
    before = rng.gamma(looks, 1 / looks, (400, 400))
    after = rng.gamma(looks, 1 / looks, (400, 400))
    result = change.detect_change(before, after, "likelihood_ratio", unit="pixel", looks=looks, alpha=0.01)
    assert 0.008 < (result.classes > 0).mean() < 0.012


def test_superpixel_test_false_alarm_rate_within_factor_two_of_alpha(no_change_pair):
    result = change.detect_change(
        no_change_pair["before"], no_change_pair["after"], "likelihood_ratio", despeckle="lee", alpha=0.01
    )
    assert (result.classes > 0).mean() < 0.02
    assert result.looks_efficiency == pytest.approx(1.0, abs=0.15)  # simulated speckle is uncorrelated


def test_correlation_efficiency_drops_for_correlated_speckle():
    from scipy import ndimage

    rng = np.random.default_rng(0)
    speckle = ndimage.uniform_filter(rng.gamma(1, 1, (400, 400)), 2)  # neighbouring pixels share looks
    assert change.speckle_correlation_efficiency(speckle) < 0.6


@pytest.mark.parametrize(
    "method, kwargs, minimum",
    [
        ("likelihood_ratio", {"despeckle": "lee"}, 0.7),
        ("threshold", {"despeckle": "boxcar"}, 0.6),
    ],
)
def test_methods_find_simulated_change(pair, method, kwargs, minimum):
    result = change.detect_change(pair["before"], pair["after"], method, **kwargs)
    assert f1(result.classes, pair["truth"]) > minimum


def test_superpixel_kmeans_does_not_force_change_clusters_on_weak_change(pair):
    # The patches of this 1-look pair are not clearly separated segment by segment: k-means used
    # to call its lowest and highest clusters loss and gain anyway (a third of the scene).
    result = change.detect_change(pair["before"], pair["after"], "superpixel_kmeans", despeckle="lee")
    assert np.isin(result.classes, (change.LOSS, change.GAIN)).mean() < 0.05


def test_loss_and_gain_follow_the_sign_of_change(pair):
    result = change.detect_change(pair["before"], pair["after"], "likelihood_ratio", despeckle="lee")
    truth = pair["truth"]
    hit = truth > 0
    assert (truth[hit & (result.classes == change.LOSS)] == simulate.LOSS).mean() > 0.95
    assert (truth[hit & (result.classes == change.GAIN)] == simulate.GAIN).mean() > 0.95


def test_likelihood_ratio_beats_superpixel_kmeans(pair):
    lr = change.detect_change(pair["before"], pair["after"], "likelihood_ratio", despeckle="lee")
    km = change.detect_change(pair["before"], pair["after"], "superpixel_kmeans", despeckle="lee")
    assert f1(lr.classes, pair["truth"]) > f1(km.classes, pair["truth"])


def test_nodata_is_nodata_class_and_not_tested(pair):
    before = pair["before"].copy()
    before[:20, :] = np.nan
    result = change.detect_change(before, pair["after"], "likelihood_ratio", despeckle="lee")
    assert (result.classes[:20] == change.NODATA).all()
    assert np.isnan(result.p_value[:20]).all()
    assert (result.classes[20:] != change.NODATA).all()


def test_kmeans_is_reproducible_with_a_seed(pair):
    a = change.detect_change(pair["before"], pair["after"], "superpixel_kmeans", seed=4)
    b = change.detect_change(pair["before"], pair["after"], "superpixel_kmeans", seed=4)
    np.testing.assert_array_equal(a.classes, b.classes)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.0}, "alpha"),
        ({"method": "magic"}, "method"),
        ({"looks": 0}, "looks"),
        ({"unit": "parcel"}, "unit"),
        ({"despeckle": "wiener"}, "despeckle"),
    ],
)
def test_bad_parameters_raise_naming_them(kwargs, name):
    before = np.ones((40, 40))
    with pytest.raises(ValueError, match=name):
        change.detect_change(before, before, **kwargs)


def test_threshold_order_is_checked():
    with pytest.raises(ValueError, match="loss_threshold"):
        change.classify_threshold(np.zeros((2, 2)), 3, -3)


def test_regions_drop_small_ones_and_describe_the_rest():
    classes = np.zeros((30, 30), np.uint8)
    classes[2:12, 2:12] = change.LOSS  # 100 px
    classes[20:22, 20:22] = change.GAIN  # 4 px, dropped
    classes[25:29, 2:7] = change.GAIN  # 20 px
    before = np.full((30, 30), 1.0)
    after = np.where(classes == change.LOSS, 0.25, np.where(classes == change.GAIN, 4.0, 1.0))
    regions = change.change_regions(classes, before, after, min_pixels=10, looks=4)
    assert regions.change == ["loss", "gain"]
    np.testing.assert_array_equal(regions.pixels, [100, 20])
    np.testing.assert_allclose(regions.change_db, [-6.0206, 6.0206], atol=1e-3)
    np.testing.assert_allclose(regions.mean_before_db, [0, 0], atol=1e-9)
    assert (regions.classes[20:22, 20:22] == change.NO_CHANGE).all()
    assert (regions.p_value < 1e-6).all()


def test_negative_min_pixels_raises():
    with pytest.raises(ValueError, match="min_pixels"):
        change.change_regions(np.zeros((4, 4), np.uint8), np.ones((4, 4)), np.ones((4, 4)), min_pixels=-1)


def test_polygons_are_valid_and_cover_region_areas():
    from osgeo import ogr

    from sar_change.algorithms.io.vectorize import polygonize

    labels = np.zeros((20, 20), np.int32)
    labels[2:6, 2:6] = 1
    labels[10, 10] = 2
    labels[11, 11] = 2  # diagonal neighbours: one 8-connected region
    labels[14:18, 3:9] = 3
    labels[15:17, 5:7] = 0  # a hole
    polygons = dict(polygonize(labels, (100.0, 10.0, 0, 500.0, 0, -10.0)))
    assert sorted(polygons) == [1, 2, 3]
    for label, wkb in polygons.items():
        geometry = ogr.CreateGeometryFromWkb(wkb)
        assert geometry.IsValid()
        assert geometry.GetArea() == pytest.approx((labels == label).sum() * 100.0)


@pytest.mark.parametrize("seed", range(6))
def test_polygons_of_random_regions_are_valid_one_per_region_with_their_pixel_area(seed):
    from osgeo import ogr
    from scipy import ndimage

    from sar_change.algorithms.io.vectorize import polygonize

    rng = np.random.default_rng(seed)
    mask = rng.random((80, 90)) < rng.uniform(0.3, 0.7)  # diagonal steps, pinches and holes everywhere
    labels, count = ndimage.label(mask, np.ones((3, 3)))
    polygons = list(polygonize(labels, (0.0, 2.0, 0, 0.0, 0, -2.0)))
    assert [label for label, _ in polygons] == list(range(1, count + 1))
    for label, wkb in polygons:
        geometry = ogr.CreateGeometryFromWkb(wkb)
        assert geometry.IsValid()
        assert geometry.GetArea() == pytest.approx((labels == label).sum() * 4.0)


def test_polygon_of_a_large_region_with_many_holes_is_valid_and_exact():
    from osgeo import ogr

    from sar_change.algorithms.io.vectorize import polygonize

    rng = np.random.default_rng(3)
    labels = np.ones((600, 600), np.int32)
    labels[rng.random(labels.shape) < 0.02] = 0  # ~7000 holes, many touching diagonally
    ((label, wkb),) = polygonize(labels, (0.0, 1.0, 0, 0.0, 0, -1.0))
    geometry = ogr.CreateGeometryFromWkb(wkb)
    assert label == 1 and geometry.IsValid()
    assert geometry.GetArea() == pytest.approx(float(labels.sum()))


def test_polygons_of_a_label_file_equal_those_of_the_array_and_leave_no_temporary_file(tmp_path):
    from osgeo import ogr
    from scipy import ndimage

    from sar_change.algorithms.io.outputs import write_array
    from sar_change.algorithms.io.vectorize import polygonize, polygonize_file

    rng = np.random.default_rng(11)
    labels, count = ndimage.label(rng.random((70, 60)) < 0.5, np.ones((3, 3)))
    geotransform = (500.0, 2.0, 0, 100.0, 0, -2.0)
    path = write_array(str(tmp_path / "labels.tif"), labels.astype(np.int32), geotransform=geotransform, crs_wkt="")
    from_file = list(polygonize_file(path))
    from_array = list(polygonize(labels, geotransform))
    assert [label for label, _ in from_file] == list(range(1, count + 1))
    for (label, wkb), (_, expected) in zip(from_file, from_array):
        assert ogr.CreateGeometryFromWkb(wkb).Equals(ogr.CreateGeometryFromWkb(expected)), label
    assert sorted(os.listdir(tmp_path)) == ["labels.tif"]  # the pieces' GeoPackage is gone
    stopped = polygonize_file(path)
    next(stopped)
    stopped.close()  # a consumer that stops early (a cancel) leaves nothing behind either
    assert sorted(os.listdir(tmp_path)) == ["labels.tif"]
