"""k-means classification and superpixels: accuracy on known classes, stability, real Gabon stack."""

import os

import numpy as np
import pytest

from sar_change.algorithms.sar import classify, segmentation


def three_class_scene(seed=0, shape=(120, 120), looks=4):
    """Water (dark, low coherence), forest (bright HV, low coherence), field (mid, high coherence)."""
    rng = np.random.default_rng(seed)
    truth = np.zeros(shape, int)
    truth[:, 40:80] = 1
    truth[:, 80:] = 2
    hh_db = np.array([-22.0, -7.0, -10.0])[truth]
    hv_db = np.array([-28.0, -12.0, -18.0])[truth]
    coh = np.array([0.2, 0.3, 0.8])[truth]
    hh = 10 ** (hh_db / 10) * rng.gamma(looks, 1 / looks, shape)
    hv = 10 ** (hv_db / 10) * rng.gamma(looks, 1 / looks, shape)
    coherence = np.clip(coh + rng.normal(0, 0.05, shape), 0, 1)
    return classify.feature_stack([hh, hv], [coherence]), truth


def accuracy(classes, truth):
    """Best-match accuracy: class numbers are ordered by backscatter, truth by construction."""
    mapping = {c: np.bincount(truth[classes == c]).argmax() for c in np.unique(classes)}
    return np.mean(np.vectorize(mapping.get)(classes) == truth)


def test_pixel_kmeans_recovers_three_known_classes():
    features, truth = three_class_scene()
    model = classify.fit_kmeans(classify.sample_pixels(features, 5000), 3, backscatter=[True, True, False])
    assert accuracy(classify.predict(model, features), truth) > 0.95


def test_superpixel_kmeans_recovers_three_known_classes():
    features, truth = three_class_scene(looks=1)
    classes, _, _ = classify.classify_superpixels(features, 3, backscatter=[True, True, False], min_size=30)
    assert accuracy(classes, truth) > 0.95


def test_classes_are_numbered_by_mean_backscatter():
    features, truth = three_class_scene()
    model = classify.fit_kmeans(classify.sample_pixels(features, 5000), 3, backscatter=[True, True, False])
    means = model.centres[:, :2].mean(axis=1)
    assert np.all(np.diff(means) > 0)
    classes = classify.predict(model, features)
    assert np.bincount(classes[truth == 0]).argmax() == 0  # water is class 0


def test_same_seed_same_result_and_order_independent_of_seed():
    features, _ = three_class_scene()
    sample = classify.sample_pixels(features, 5000, seed=1)
    a = classify.predict(classify.fit_kmeans(sample, 3, backscatter=[True, True, False], seed=3), features)
    b = classify.predict(classify.fit_kmeans(sample, 3, backscatter=[True, True, False], seed=3), features)
    c = classify.predict(classify.fit_kmeans(sample, 3, backscatter=[True, True, False], seed=4), features)
    np.testing.assert_array_equal(a, b)
    assert (a == c).mean() > 0.99  # stable numbering: another seed gives the same numbers


def test_nodata_in_any_input_is_nodata_and_never_fitted():
    features, _ = three_class_scene()
    features[2, :10, :] = np.nan
    sample = classify.sample_pixels(features, 100000)
    assert np.isfinite(sample).all()
    model = classify.fit_kmeans(sample, 3, backscatter=[True, True, False])
    assert (classify.predict(model, features)[:10] == classify.NODATA).all()


@pytest.mark.parametrize("kwargs, match", [({"classes": 1}, "classes"), ({"normalise": "zscore"}, "normalise")])
def test_bad_parameters_raise(kwargs, match):
    features, _ = three_class_scene()
    with pytest.raises(ValueError, match=match):
        classify.fit_kmeans(
            classify.sample_pixels(features, 1000), backscatter=[True, True, False], **{"classes": 3, **kwargs}
        )


def test_gabon_rgb_gives_the_reference_segment_count(shared_data):
    from osgeo import gdal

    rgb = gdal.Open(os.path.join(shared_data, "gabon_mondah", "aligned", "rgb.tif")).ReadAsArray()
    labels = segmentation.felzenszwalb(segmentation.scale_features(list(rgb.astype(np.float64))), 0.5, 0, 15)
    assert labels.max() + 1 == 4772


def test_gabon_three_classes_separate_water_by_low_hv(shared_data, tmp_path):
    from sar_change.algorithms.io.raster import read_band
    from sar_change.algorithms.workflows.classify import kmeans_rasters

    folder = os.path.join(shared_data, "gabon_mondah", "aligned")
    paths = [os.path.join(folder, f"alos_{n}.tif") for n in ("backscatter_hh", "backscatter_hv", "coh_hh", "coh_hv")]
    out = str(tmp_path / "classes.tif")
    model = kmeans_rasters([(p, 1) for p in paths[:2]], [(p, 1) for p in paths[2:]], out, classes=3)
    print("Gabon class centres (HH dB, HV dB, coh HH, coh HV):", np.round(model.centres, 3).tolist())
    hv_db = model.centres[:, 1]
    assert hv_db[0] < -24 and hv_db[1] > -16 and hv_db[2] > -16  # class 0: water, far darker in HV
    classes = read_band(out)
    hv = read_band(paths[1])
    assert np.nanmedian(hv[classes == 0]) < 0.2 * np.nanmedian(hv[classes > 0])
