"""The omnibus test: calibration without change, and when a change happened."""

import numpy as np
import pytest
from scipy import ndimage

from sar_change.algorithms.io.outputs import write_array
from sar_change.algorithms.io.raster import open_raster, read_band
from sar_change.algorithms.sar.change import omnibus
from sar_change.algorithms.workflows.omnibus import omnibus_rasters


def gamma_stack(means, looks, shape=(200, 200), seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([m * rng.gamma(looks, 1 / looks, shape) for m in means])


@pytest.mark.parametrize("looks", [1, 4, 16])
def test_omnibus_false_alarm_rate_matches_alpha_without_change(looks):
    stack = gamma_stack([1.0] * 6, looks)
    result = omnibus.omnibus_changes(stack, looks=looks, alpha=0.05)
    rate = (result.p_omnibus < 0.05).mean()
    assert 0.04 < rate < 0.06
    assert (result.changes > 0).mean() < 0.06


def test_p_values_are_uniform_without_change():
    stack = gamma_stack([1.0] * 5, 4, shape=(300, 300), seed=1)
    p = omnibus.omnibus_changes(stack, looks=4, alpha=0.01).p_omnibus.ravel()
    deciles = np.histogram(p, bins=10, range=(0, 1))[0] / p.size
    assert np.all(np.abs(deciles - 0.1) < 0.01)


def test_a_step_change_is_found_at_its_date():
    means = [1.0, 1.0, 1.0, 0.25, 0.25, 0.25]  # -6 dB into date index 3
    result = omnibus.omnibus_changes(gamma_stack(means, 16), looks=16, alpha=0.01)
    assert (result.changes >= 1).mean() > 0.95
    assert (result.first == 3).mean() > 0.9
    assert (result.changes == 1).mean() > 0.85


def test_two_changes_are_counted_with_first_and_last_dates():
    means = [1.0, 1.0, 4.0, 4.0, 4.0, 1.0, 1.0]  # up at 2, down at 5
    result = omnibus.omnibus_changes(gamma_stack(means, 16), looks=16, alpha=0.01)
    assert (result.changes == 2).mean() > 0.8
    assert (result.first[result.changes == 2] == 2).mean() > 0.95
    assert (result.last[result.changes == 2] == 5).mean() > 0.95


def test_nodata_pixels_are_not_tested():
    stack = gamma_stack([1.0, 1.0, 0.1], 16, shape=(20, 20))
    stack[1, :5] = np.nan
    result = omnibus.omnibus_changes(stack, looks=16)
    assert (result.changes[:5] == 0).all() and (result.first[:5] == -1).all()
    assert np.isnan(result.p_omnibus[:5]).all()
    assert (result.changes[5:] == 1).mean() > 0.9


@pytest.mark.parametrize("kwargs, match", [({"alpha": 1.5}, "alpha"), ({"looks": 0}, "looks")])
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        omnibus.omnibus_changes(gamma_stack([1, 1, 1], 1, (4, 4)), **kwargs)


def test_a_single_date_or_pair_is_refused():
    with pytest.raises(ValueError, match="at least 3 dates"):
        omnibus.omnibus_changes(gamma_stack([1, 1], 1, (4, 4)))


def test_first_change_regions_group_by_date_and_drop_small_ones():
    means = np.ones((4, 40, 40))
    means[2:, 5:15, 5:15] = 0.1  # change into date 2
    means[1:, 25:35, 25:35] = 10.0  # change into date 1
    means[3:, 38:, 38:] = 0.1  # 4 pixels changing at date 3: below min_pixels
    stack = np.stack([m * np.random.default_rng(i).gamma(64, 1 / 64, (40, 40)) for i, m in enumerate(means)])
    result = omnibus.omnibus_changes(stack, looks=64, alpha=0.001)
    labels, attributes = omnibus.first_change_regions(result, min_pixels=20)
    firsts = sorted(a[0] for a in attributes.values() if a[3] >= 50)
    assert firsts == [1, 2]
    assert all(a[3] >= 20 for a in attributes.values())
    assert (labels[38:, 38:] == 0).all()
    assert set(np.unique(labels)) == {0, *attributes}


def test_blockwise_rasters_and_their_regions_equal_the_in_memory_test(write_raster, tmp_path):
    from sar_change.algorithms.workflows.omnibus import omnibus_rasters, regions_from_rasters

    means = np.ones((4, 90, 70))
    means[2:, 10:40, 5:30] = 0.25
    means[1:, 50:80, 40:65] = 4.0
    stack = gamma_stack(means, 9, shape=(90, 70), seed=3).astype(np.float32)
    stack[:, 0, 0] = np.nan  # no data at one date is no data in the outputs
    paths = [write_raster(f"d{i}.tif", date) for i, date in enumerate(stack)]
    codes = [2019, 2020, 2021, 2022]
    out = {k: str(tmp_path / f"{k}.tif") for k in ("changes", "first", "last")}
    model = omnibus_rasters(  # the pure test: no gains, effect size or floor
        paths,
        looks=9,
        alpha=0.01,
        normalise=False,
        min_change_db=0.0,
        noise_floor_db=-np.inf,
        codes=codes,
        changes_path=out["changes"],
        first_path=out["first"],
        last_path=out["last"],
        block_size=32,
        window=1,
    )
    assert model.looks == 9 and model.floor is None
    expected = omnibus.omnibus_changes(stack, looks=9, alpha=0.01)
    code_of = np.array([0] + codes)

    def band(name):
        dataset = open_raster(out[name])
        return dataset.GetRasterBand(1).ReadAsArray()

    np.testing.assert_array_equal(band("changes"), np.where(expected.valid, expected.changes, 255))
    assert band("first").dtype == band("last").dtype == np.int16  # years fit
    np.testing.assert_array_equal(band("first"), np.where(expected.valid, code_of[expected.first + 1], -1))
    np.testing.assert_array_equal(band("last"), np.where(expected.valid, code_of[expected.last + 1], -1))
    attributes = regions_from_rasters(
        out["changes"], out["first"], out["last"], codes, 20, str(tmp_path / "regions.tif"), strip_rows=7
    )
    expected_labels, expected_attributes = omnibus.first_change_regions(expected, 20)
    out["regions"] = str(tmp_path / "regions.tif")
    np.testing.assert_array_equal(band("regions"), expected_labels)
    assert attributes == expected_attributes and {a[0] for a in attributes.values()} == {1, 2}


def test_date_codes_are_int16_when_every_code_fits_else_int32(write_raster, tmp_path):
    from sar_change.algorithms.workflows.omnibus import date_code_dtype, omnibus_rasters

    assert date_code_dtype([1, 2, 3]) == date_code_dtype([2007, 2018]) == np.int16
    assert date_code_dtype([20070601, 20180601]) == date_code_dtype([201506, 201507]) == np.int32
    assert date_code_dtype([-40000, 1]) == np.int32
    means = np.ones((3, 40, 40))
    means[2:, 5:25, 5:25] = 8.0
    stack = gamma_stack(means, 9, shape=(40, 40), seed=1)
    paths = [write_raster(f"d{i}.tif", d.astype(np.float32)) for i, d in enumerate(stack)]
    firsts = []
    for codes in ([20200101, 20200201, 20200301], [1, 2, 3]):
        out = {k: str(tmp_path / f"{k}{codes[0]}.tif") for k in ("changes", "first", "last")}
        omnibus_rasters(paths, codes=codes, changes_path=out["changes"], first_path=out["first"], last_path=out["last"])
        dataset = open_raster(out["first"])
        firsts.append(dataset.GetRasterBand(1).ReadAsArray())
    assert firsts[0].dtype == np.int32 and firsts[1].dtype == np.int16
    assert (firsts[0] == 20200301).sum() > 300
    index = {20200101: 1, 20200201: 2, 20200301: 3}
    np.testing.assert_array_equal(np.vectorize(lambda v: index.get(v, v))(firsts[0]), firsts[1])


def test_regions_carry_the_change_in_db_at_their_first_change_without_the_gains(write_raster, tmp_path):
    from sar_change.algorithms.workflows.omnibus import omnibus_rasters, region_steps_db, regions_from_rasters

    means = np.full((5, 120, 100), 0.05)
    means[2:, 10:50, 10:50] *= 4.0  # +6.0 dB at the third date
    means[3:, 70:110, 40:90] *= 0.25  # -6.0 dB at the fourth date
    means[:, 60:, :30] = 10**-2.8  # water: a noise floor
    gains_db = np.array([0.0, 0.0, 0.0, 2.0, 2.0])  # a sensor switch before the fourth date
    stack = gamma_stack(means * 10 ** (gains_db[:, None, None] / 10), 6, shape=(120, 100), seed=5)
    paths = [write_raster(f"d{i}.tif", date.astype(np.float32)) for i, date in enumerate(stack)]
    codes = [2014, 2016, 2018, 2020, 2022]
    out = {k: str(tmp_path / f"{k}.tif") for k in ("changes", "first", "last", "regions")}
    model = omnibus_rasters(
        paths, codes=codes, changes_path=out["changes"], first_path=out["first"], last_path=out["last"]
    )
    attributes = regions_from_rasters(out["changes"], out["first"], out["last"], codes, 50, out["regions"])
    steps = region_steps_db(paths, out["regions"], out["first"], codes, model.gains_db, strip_rows=13)
    inner = region_steps_db(paths, out["regions"], out["first"], codes, model.gains_db, edge_px=2, strip_rows=13)
    labels = np.nan_to_num(read_band(out["regions"])).astype(int)  # 0 (no region) reads as NaN
    factors = 10 ** (np.asarray(model.gains_db)[:, None] / 10)
    interior = (ndimage.minimum_filter(labels, 5, mode="nearest") == labels) & (
        ndimage.maximum_filter(labels, 5, mode="nearest") == labels
    )
    for label, (first, *_) in attributes.items():  # by hand, from the stack
        for pixels, got in ((labels == label, steps), ((labels == label) & interior, inner)):
            if got is inner and pixels.sum() < 25:
                pixels = labels == label  # too thin for an interior: all its pixels
            levels = stack[:, pixels] / factors
            expected = 10 * np.log10(levels[first].mean() / levels[:first].mean(axis=0).mean())
            assert got[label] == pytest.approx(expected, abs=1e-4)
    # the field's own step, noise-free, under the gains the model fitted (a median gain is biased by
    # fields this large in so small a scene, the same for every way of measuring)
    noise_free = means * 10 ** ((gains_db - np.asarray(model.gains_db))[:, None, None] / 10)
    fields = {2: (slice(10, 50), slice(10, 50)), 3: (slice(70, 110), slice(40, 90))}
    for label in [label for label in attributes if attributes[label][3] > 500]:
        first = attributes[label][0]
        field = noise_free[(slice(None),) + fields[first]]
        truth = 10 * np.log10(field[first].mean() / field[:first].mean())
        # its interior reads the field's own step
        assert abs(inner[label] - truth) < 0.15
        if first == 2:  # all its pixels read less: the window means carried the region past the field
            assert steps[label] < truth - 0.2
    assert np.isnan(steps[0]) and steps.size == max(attributes) + 1


def test_fit_stack_recovers_a_sensor_gain_step_the_looks_and_the_water_floor():
    rng = np.random.default_rng(7)
    k, n = 8, 200_000
    level = np.where(np.arange(n) < n // 5, 10 ** (-2.8), 10 ** (-1.2))  # a fifth open water at -28 dB
    gains_db = np.array([0, 0, 0, 0, 3, 3, 3, 3], float)  # ALOS -> ALOS-2: +3 dB on whole dates
    samples = level * rng.gamma(6.0, 1 / 6.0, (k, n)) * 10 ** (gains_db[:, None] / 10)
    model = omnibus.fit_stack(samples)
    np.testing.assert_allclose(model.gains_db - model.gains_db[0], gains_db, atol=0.1)
    assert 5.0 < model.looks < 7.2
    assert -28 < model.floor_db < -20  # the top of the water population, under the land
    assert omnibus.fit_stack(samples, normalise=False).gains_db.tolist() == [0.0] * k


def test_the_medians_of_a_subsample_give_the_gains_and_looks_of_the_whole_sample(monkeypatch):
    from sar_change.algorithms.sar.change import omnibus_model

    rng = np.random.default_rng(17)
    k, n = 6, 600_000
    level = np.exp(rng.normal(-3.0, 1.0, n))  # a textured scene
    gains_db = np.array([0.0, 0.4, -0.3, 2.0, 2.2, 1.9])
    samples = level * rng.gamma(5.0, 0.2, (k, n)) * 10 ** (gains_db[:, None] / 10)
    fast = omnibus.fit_stack(samples)
    monkeypatch.setattr(omnibus_model, "MEDIAN_PIXELS", n)
    whole = omnibus.fit_stack(samples)
    np.testing.assert_allclose(fast.gains_db, whole.gains_db, atol=0.03)
    assert abs(fast.looks / whole.looks - 1) < 0.02 and fast.floor == pytest.approx(whole.floor, rel=0.01)


def test_a_change_of_one_date_alone_is_found_and_so_is_its_return():
    # a flood at the fourth date, gone by the fifth: the later dates' mean dilutes it to -1 dB
    rng = np.random.default_rng(5)
    means = np.ones((8, 60, 60))
    means[3, 10:50, 10:30] = 10**-0.8
    stack = means * rng.gamma(16, 1 / 16, means.shape)
    result = omnibus.omnibus_changes(stack, looks=16, alpha=0.01, min_change_db=2.0)
    flood = np.s_[10:50, 10:30]
    assert (result.first[flood] == 3).mean() > 0.95 and (result.last[flood] == 4).mean() > 0.95
    assert (result.changes[flood] == 2).mean() > 0.95
    assert (result.changes[:, 35:] > 0).mean() < 0.01


def test_a_flood_over_two_fifths_of_one_date_is_a_change_not_that_dates_gain():
    rng = np.random.default_rng(9)
    k, n = 8, 200_000
    level = np.exp(rng.normal(-3.0, 0.7, n))  # textured land
    gains_db = np.array([0, 0, 0, 0, 2, 2, 2, 2], float)
    samples = level * rng.gamma(5.0, 0.2, (k, n)) * 10 ** (gains_db[:, None] / 10)
    samples[3, : 2 * n // 5] *= 10**-0.8  # flooded on the fourth date only
    model = omnibus.fit_stack(samples)
    np.testing.assert_allclose(model.gains_db - model.gains_db[0], gains_db, atol=0.3)


def test_a_gain_step_and_water_at_the_floor_are_not_changes_with_the_real_stack_model():
    rng = np.random.default_rng(8)
    k, shape = 8, (120, 120)
    means = np.full((k,) + shape, 0.05)
    means[:, :40] = 10 ** (-2.8)  # open water
    means[4:] *= 2.0  # a calibration step of +3 dB from the fifth date on, everywhere
    means[6:, 80:110, 80:110] *= 8.0  # a real change at the seventh date
    stack = rng.gamma(6.0, 1 / 6.0, (k,) + shape) * means
    stack[:, :40] *= rng.gamma(2.0, 0.5, (k, 40, shape[1]))  # wind: the water fluctuates more than speckle
    model = omnibus.fit_stack(stack.reshape(k, -1))
    scaled = stack / (10 ** (model.gains_db / 10))[:, None, None]
    result = omnibus.omnibus_changes(scaled, model.looks, 0.01, min_change_db=2.0, floor=model.floor)
    assert (result.first[80:110, 80:110] == 6).mean() > 0.9  # the real change, at its date
    assert (result.first[40:, :70] == 4).mean() < 0.02  # nothing at the gain step on land
    # water whose level swings ~3 dB with the wind: the floor removes most of what the test flags
    # there (42 % -> 8 % here; 88 % -> 0.6 % on the real Malaysia stack, benchmarks/omnibus_real.py)
    unfloored = omnibus.omnibus_changes(scaled, model.looks, 0.01, min_change_db=2.0)
    assert (result.changes[:40] > 0).mean() < min(0.1, 0.25 * (unfloored.changes[:40] > 0).mean())
    pure = omnibus.omnibus_changes(stack, 6.0, 0.01)
    assert (pure.first[40:, :70] == 4).mean() > 0.03  # the pure test takes the step for a change


def test_the_stack_model_of_a_real_stack_does_not_depend_on_the_sample(shared_data):
    """Four 256-pixel windows once gave other gains and looks than the whole scene (26 % vs 5 % changed)."""
    import os

    from sar_change.algorithms.io.raster import read_band, sample_band
    from sar_change.algorithms.sar.convert import palsar_dn_to_power
    from sar_change.algorithms.workflows.omnibus import FIT_PIXELS, FIT_WINDOW

    folder = os.path.join(shared_data, "malaysia_jaxa_mosaics", "hv")
    paths = [os.path.join(folder, f"N05E100_{y}_sl_HV.tif") for y in ("07", "08", "09", "10", "15", "16", "17", "18")]
    whole = omnibus.fit_stack(np.stack([palsar_dn_to_power(read_band(p)).ravel() for p in paths]))
    sampled = omnibus.fit_stack(
        np.stack([palsar_dn_to_power(sample_band(p, max_pixels=FIT_PIXELS, window=FIT_WINDOW)).ravel() for p in paths])
    )
    np.testing.assert_allclose(sampled.gains_db, whole.gains_db, atol=0.15)
    assert abs(sampled.looks / whole.looks - 1) < 0.1
    assert abs(sampled.floor_db - whole.floor_db) < 0.5


def test_a_date_given_twice_leaves_its_pair_out_of_the_looks_and_only_identical_dates_fail():
    rng = np.random.default_rng(9)
    samples = rng.gamma(4.0, 0.025, (4, 50_000))
    samples[1] = samples[0]  # the same image twice: no date-to-date spread for that pair
    assert 3.3 < omnibus.fit_stack(samples, normalise=False).looks < 4.8
    with pytest.raises(ValueError, match="no spread"):
        omnibus.fit_stack(np.repeat(samples[:1], 3, axis=0), normalise=False)


def test_the_window_reaches_the_target_looks_with_the_smallest_odd_side():
    assert [omnibus.window_for_looks(looks) for looks in (50.0, 45.0, 5.0, 4.87, 4.0, 1.0, 0.1)] == [
        1,
        1,
        3,
        5,
        5,
        7,
        9,
    ]
    with pytest.raises(ValueError, match="pixel_looks"):
        omnibus.window_for_looks(float("nan"))


def test_window_means_keep_the_level_skip_nodata_and_equal_the_whole_image_inside_a_halo():
    rng = np.random.default_rng(3)
    stack = rng.gamma(4, 0.25, (3, 60, 70))
    stack[1, 10:14, 20:24] = np.nan  # no data: left out of its neighbours' means
    stack[2, :2, :2] = 0.0
    means = omnibus.window_means(stack, 5)
    assert np.isfinite(means).all() and abs(means.mean() - np.nanmean(np.where(stack > 0, stack, np.nan))) < 0.01
    assert means.std() < stack[0].std() / 3  # 25 pixels of 4 looks
    inner = omnibus.window_means(stack[:, 18:45, 25:60], 5)[:, 2:-2, 2:-2]
    np.testing.assert_allclose(inner, means[:, 20:43, 27:58], rtol=1e-12)
    assert omnibus.window_means(np.full((3, 4, 4), np.nan), 3).shape == (3, 4, 4)


def _patch_stack(tmp_path, seed=0):
    """6 dates of 4-look speckle, a 3 dB rise of a 40 x 40 field from the 4th date on."""
    rng = np.random.default_rng(seed)
    level = np.ones((6, 160, 160))
    level[3:, 60:100, 60:100] *= 10**0.3
    stack = level * rng.gamma(4.0, 0.25, level.shape)
    paths = []
    for t, image in enumerate(stack.astype(np.float32)):
        paths.append(str(tmp_path / f"d{t}.tif"))
        write_array(paths[-1], image, geotransform=(0, 10, 0, 0, 0, -10), crs_wkt="")
    return paths


@pytest.mark.parametrize("window, found_at_least", [(0, 0.9), (1, 0.0)])
def test_window_means_find_and_date_a_field_change_single_pixels_of_few_looks_miss(tmp_path, window, found_at_least):
    paths = _patch_stack(tmp_path)
    out = {name: str(tmp_path / f"{name}.tif") for name in "nfl"}
    model = omnibus_rasters(
        paths, input_scale="linear", window=window, changes_path=out["n"], first_path=out["f"], last_path=out["l"]
    )
    first = read_band(out["f"])
    inside = first[64:96, 64:96]  # the field, away from its edges
    right = (inside == 4).mean()  # codes are 1-based: the 4th date
    if window == 0:
        assert model.window == 5 and model.looks > 25  # the looks of 5 x 5 means, measured
        assert right >= found_at_least
        assert (first[:40] > 0).mean() < 0.01  # stable ground stays stable
    else:
        assert model.window == 1 and right < 0.6


@pytest.mark.parametrize("window", [2, -1, 4.0])
def test_an_even_or_negative_window_is_refused(tmp_path, window):
    paths = _patch_stack(tmp_path)
    with pytest.raises(ValueError, match="window"):
        omnibus_rasters(
            paths,
            window=window,
            changes_path=str(tmp_path / "n.tif"),
            first_path=str(tmp_path / "f.tif"),
            last_path=str(tmp_path / "l.tif"),
        )


def test_one_channel_given_as_a_channel_axis_gives_the_same_result():
    stack = gamma_stack([1, 1, 3, 3, 3], 4, (60, 60), seed=2)
    alone = omnibus.omnibus_changes(stack, looks=4, alpha=0.01, min_change_db=2.0, floor=0.2)
    axis = omnibus.omnibus_changes(stack[None], looks=4, alpha=0.01, min_change_db=2.0, floor=[0.2])
    for name in ("changes", "first", "last", "changed_at", "valid"):
        np.testing.assert_array_equal(getattr(alone, name), getattr(axis, name))
    np.testing.assert_array_equal(alone.p_omnibus, axis.p_omnibus)


@pytest.mark.parametrize("alpha", [0.01, 0.05])
def test_the_joint_test_of_two_polarisations_keeps_its_false_alarm_rate(alpha):
    hh, hv = gamma_stack([1] * 6, 4, seed=3), gamma_stack([0.1] * 6, 4, seed=4)
    p = omnibus.omnibus_changes(np.stack([hh, hv]), looks=4, alpha=alpha).p_omnibus
    assert 0.8 * alpha < (p < alpha).mean() < 1.2 * alpha  # 40 000 pixels: +-10 % is 3 sigma at 0.05


def test_a_change_in_both_polarisations_is_found_more_often_jointly_than_in_either_alone():
    hh, hv = gamma_stack([1, 1, 1, 1.6, 1.6, 1.6], 4, seed=5), gamma_stack([0.1, 0.1, 0.1, 0.16, 0.16, 0.16], 4, seed=6)
    found = [(omnibus.omnibus_changes(s, looks=4, alpha=0.01).first == 3).mean() for s in (hh, hv, np.stack([hh, hv]))]
    assert found[2] > 1.3 * max(found[:2])


def test_a_second_polarisation_stack_is_tested_jointly_from_files_with_its_own_gains(tmp_path):
    rng = np.random.default_rng(7)
    level = np.ones((6, 120, 120))
    level[3:, 40:80, 40:80] *= 10**0.5  # +5 dB in HV from the 4th date
    paths = {"hh": [], "hv": []}
    for name, scale in (("hh", 1.0), ("hv", 0.1)):
        gains = np.array([0, 0, 0, 1.5, 1.5, 1.5]) if name == "hv" else np.zeros(6)  # HV's own sensor step
        data = (level if name == "hv" else np.ones_like(level)) * scale * rng.gamma(16, 1 / 16, level.shape)
        for t, image in enumerate(data * 10 ** (gains[:, None, None] / 10)):
            paths[name].append(str(tmp_path / f"{name}{t}.tif"))
            write_array(paths[name][-1], image.astype(np.float32), geotransform=(0, 10, 0, 0, 0, -10), crs_wkt="")
    out = {name: str(tmp_path / f"{name}.tif") for name in "nfl"}
    model = omnibus_rasters(
        paths["hh"],
        second_paths=paths["hv"],
        input_scale="linear",
        changes_path=out["n"],
        first_path=out["f"],
        last_path=out["l"],
    )
    assert len(model.channels) == 2
    hv_gains = model.channels[1].gains_db
    assert (
        abs((hv_gains[3] - hv_gains[2]) - 1.5) < 0.3
        and abs(model.channels[0].gains_db[3] - model.channels[0].gains_db[2]) < 0.3
    )
    first = read_band(out["f"])
    inside = first[45:75, 45:75]
    found, dated = (inside > 0).mean(), (inside == 4).mean()
    # HV alone: 97 % found, 87 % dated right; jointly with an unchanged HH the test has twice the
    # degrees of freedom for the same evidence: 90 % and 77 %
    assert found > 0.85 and dated > 0.7 and (first[:30] > 0).mean() < 0.01, (found, dated)
    with pytest.raises(ValueError, match="second_paths"):
        omnibus_rasters(
            paths["hh"], second_paths=paths["hv"][:-1], changes_path=out["n"], first_path=out["f"], last_path=out["l"]
        )


def _moved_edge_stack(seed=0):
    """Water left of column 30, land right; the edge moves right by a pixel from date 3 (a
    misregistration), and a field of land loses 10 dB into date 4."""
    means = np.ones((6, 60, 60))
    means[:, :, :30] = 0.01
    means[3:, :, 30] = 0.01
    means[4:, 20:40, 45:55] = 0.1
    return means * np.random.default_rng(seed).gamma(16, 1 / 16, means.shape)


def test_an_edge_moved_by_a_pixel_is_not_change_with_shift_tolerance_but_a_changed_field_is():
    stack = _moved_edge_stack()
    own = omnibus.omnibus_changes(stack, looks=16, alpha=0.01, min_change_db=2.0)
    tolerant = omnibus.omnibus_changes(stack, looks=16, alpha=0.01, min_change_db=2.0, shift=1)
    assert (own.first[:, 30] == 3).mean() > 0.9  # compared with itself, the moved edge is a line of change
    assert (tolerant.changes[:, 30] > 0).mean() < 0.1  # left: speckle dating a mixed side earlier
    field = np.s_[20:40, 45:55]  # its edge pixels too: their neighbours were land before
    assert (own.first[field] == 4).mean() > 0.95 and (tolerant.first[field] == 4).mean() > 0.95
    assert (tolerant.changes[:, 31:45] > 0).mean() < 0.01


def test_blockwise_shift_tolerance_equals_the_in_memory_test(write_raster, tmp_path):
    stack = _moved_edge_stack(seed=1).astype(np.float32)
    paths = [write_raster(f"d{i}.tif", date) for i, date in enumerate(stack)]
    out = {k: str(tmp_path / f"{k}.tif") for k in ("changes", "first", "last")}
    omnibus_rasters(
        paths,
        looks=16,
        normalise=False,
        noise_floor_db=-np.inf,
        shift=1,
        changes_path=out["changes"],
        first_path=out["first"],
        last_path=out["last"],
        block_size=16,
        window=1,
    )
    expected = omnibus.omnibus_changes(stack, looks=16, alpha=0.01, min_change_db=2.0, shift=1)
    np.testing.assert_array_equal(read_band(out["changes"]), expected.changes)
    np.testing.assert_array_equal(read_band(out["first"]), np.where(expected.first >= 0, expected.first + 1, 0))


@pytest.mark.parametrize("shift", [-1, 1.5, 9])
def test_a_negative_fractional_or_huge_shift_tolerance_is_refused(tmp_path, shift):
    with pytest.raises(ValueError, match="shift"):
        omnibus_rasters(
            _patch_stack(tmp_path),
            shift=shift,
            changes_path=str(tmp_path / "n.tif"),
            first_path=str(tmp_path / "f.tif"),
            last_path=str(tmp_path / "l.tif"),
        )


def test_median_of_nine_equals_numpy_median_with_ties_and_channels():
    from sar_change.algorithms.sar.change.shift import median_of_nine

    rng = np.random.default_rng(5)
    for values in ([rng.random((2, 500)) for _ in range(9)], [rng.integers(0, 3, 800).astype(float) for _ in range(9)]):
        np.testing.assert_array_equal(median_of_nine(values), np.median(np.stack(values), axis=0))


def _whole_array_regions(first_index, last_index, changes, k: int, min_pixels: int = 1):
    """The reference: every date's regions labelled on the whole array, votes by ``np.add.at``."""
    from sar_change.algorithms.sar.segmentation import label_regions

    first_index = np.asarray(first_index)
    labels = np.zeros(first_index.shape, np.int32)
    next_id = 0
    for date in np.unique(first_index[first_index >= 0]):
        ids, kept = label_regions(first_index == date, min_pixels, next_id + 1)
        np.copyto(labels, ids, where=ids > 0)
        del ids
        next_id += kept
    inside = labels > 0
    flat = labels[inside]
    n = next_id + 1
    pixels = np.bincount(flat, minlength=n)
    first = np.bincount(flat, weights=first_index[inside], minlength=n) / np.maximum(pixels, 1)
    last_votes = np.zeros((n, k), np.int64)
    np.add.at(last_votes, (flat, np.asarray(last_index)[inside].astype(np.int64)), 1)
    change_votes = np.zeros((n, k), np.int64)
    np.add.at(change_votes, (flat, np.asarray(changes)[inside].astype(np.int64)), 1)
    attributes = {
        i: (int(round(first[i])), int(last_votes[i].argmax()), int(change_votes[i].argmax()), int(pixels[i]))
        for i in range(1, n)
    }
    return labels, attributes


@pytest.mark.parametrize("seed", range(6))
def test_regions_labelled_a_strip_at_a_time_equal_the_whole_array_labels(seed):
    from sar_change.algorithms.sar.change.strip_regions import regions_in_strips

    rng = np.random.default_rng(seed)
    rows, cols, k = int(rng.integers(8, 70)), int(rng.integers(8, 70)), 4
    first = np.where(rng.random((rows, cols)) < rng.uniform(0.2, 0.8), rng.integers(0, k, (rows, cols)), -1)
    first = ndimage.median_filter(first.astype(np.int8), 3)  # blobs that cross strips, some U-shaped
    last = np.where(first >= 0, np.maximum(first, rng.integers(0, k, (rows, cols))), -1).astype(np.int8)
    changes = np.where(first >= 0, rng.integers(1, 3, (rows, cols)), 0).astype(np.uint8)
    min_pixels = int(rng.integers(1, 6))
    expected_labels, expected = _whole_array_regions(first, last, changes, k, min_pixels)
    for strip_rows in (1, 3, int(rng.integers(4, 20)), rows):
        labels = np.zeros((rows, cols), np.int32)

        def write(row0, part, labels=labels):
            labels[row0 : row0 + part.shape[0]] = part

        found = regions_in_strips(
            rows,
            cols,
            lambda r0, r1: (first[r0:r1], [np.maximum(last[r0:r1], 0), changes[r0:r1]]),
            write,
            bins=(k, k + 1),
            min_pixels=min_pixels,
            strip_rows=strip_rows,
        )
        np.testing.assert_array_equal(labels, expected_labels)
        assert {i: (f, lc[0], lc[1], p) for i, (f, lc, p) in found.items()} == expected
    assert omnibus.regions_of_first_change(first, last, changes, k, min_pixels)[1] == expected


@pytest.mark.parametrize("looks", [1.0, 4.4, 52.0])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("alpha", [0.001, 0.01, 0.2])
def test_critical_values_are_where_the_p_value_crosses_alpha(looks, channels, alpha):
    dates = 8
    for kind, pvalue in (("omnibus", omnibus.omnibus_pvalue), ("sequential", omnibus.sequential_pvalue)):
        critical = omnibus.critical_values(kind, dates, looks, channels, alpha)
        assert np.isinf(critical[:2]).all()  # no test under two dates
        m = np.arange(2, dates + 1)
        below, above = critical[2:] * (1 - 1e-9), critical[2:] * (1 + 1e-9)
        assert (pvalue(-below / 2, m, looks, channels) >= alpha).all(), kind
        assert (pvalue(-above / 2, m, looks, channels) < alpha).all(), kind


def test_critical_values_are_computed_once_and_a_caller_cannot_change_them():
    first = omnibus.critical_values("omnibus", 6, 7.3, 1, 0.01)
    expected = first.copy()
    first[:] = 0.0  # a caller writing into its copy
    again = omnibus.critical_values("omnibus", 6, 7.3, 1, 0.01)
    np.testing.assert_array_equal(again, expected)
    assert omnibus.critical_values("sequential", 6, 7.3, 1, 0.01)[3] != expected[3]


def test_p_values_are_left_out_on_request_and_the_decisions_stay():
    means = np.ones((5, 40, 40))
    means[3:, 10:30, 10:30] = 0.2
    stack = gamma_stack(means, 4, shape=(40, 40), seed=5)
    full = omnibus.omnibus_changes(stack, looks=4, alpha=0.01)
    lean = omnibus.omnibus_changes(stack, looks=4, alpha=0.01, with_pvalue=False)
    assert np.isnan(lean.p_omnibus).all() and np.isfinite(full.p_omnibus).all()
    np.testing.assert_array_equal(lean.changed_at, full.changed_at)
    # a pixel with a change passed the omnibus test at the same alpha as its p-value says
    assert (full.p_omnibus[full.changes > 0] < 0.01).all() and (full.changes > 0).sum() > 150


def test_a_pixel_at_the_floor_is_not_change_where_only_its_window_changed():
    rng = np.random.default_rng(4)
    k, shape = 6, (60, 60)
    means = np.full((k,) + shape, 0.1)
    means[:, :, :30] = 1e-4  # water under the floor, left half
    means[3:, :, 30:] = 1.0  # the land beside the shore rises by 10 dB at the fourth date
    stack = rng.gamma(4.0, 0.25, (k,) + shape) * means
    windowed = omnibus.window_means(stack, 5)
    floor = 1e-3
    plain = omnibus.omnibus_changes(windowed, 40.0, 0.01, min_change_db=2.0, floor=floor)
    own = omnibus.omnibus_changes(windowed, 40.0, 0.01, min_change_db=2.0, floor=floor, floor_levels=stack)
    assert (plain.changes[:, 28:30] > 0).mean() > 0.9  # the water's windows reach across the shore
    assert not (own.changes[:, :30] > 0).any()  # its pixels are at the floor before and after
    np.testing.assert_array_equal(own.first[:, 30:], plain.first[:, 30:])  # the land's change stays


@pytest.mark.parametrize("dates, looks", [(1, 4.0), (3, 4.0), (1, 50.0), (5, 50.0)])
def test_a_mean_at_the_floor_exceeds_its_floor_margin_at_rate_alpha(dates, looks):
    from scipy import stats

    margins = omnibus.floor_margins(6, looks, 0.01)
    assert margins[0] == 1.0 and np.all(np.diff(margins[1:]) < 0)  # more dates: a smaller margin
    assert margins[dates] == pytest.approx(stats.gamma.ppf(0.99, dates * looks, scale=1 / (dates * looks)))
    rng = np.random.default_rng(dates)
    means = rng.gamma(looks, 1 / looks, (dates, 400_000)).mean(axis=0)  # levels of a floor of 1
    assert np.mean(means >= margins[dates]) == pytest.approx(0.01, abs=0.002)


def test_water_at_the_noise_floor_is_not_change_at_the_shore_but_water_turned_land_is():
    rng = np.random.default_rng(5)
    k, shape, floor = 6, (60, 80), 1e-3
    means = np.full((k,) + shape, 0.1)
    means[:, :, :30] = floor  # water at the floor: half its pixels are above it on any date
    means[3:, :, 30:60] = 1.0  # the land beside the shore rises by 10 dB at the fourth date
    means[:, :, 60:] = floor
    means[3:, 20:40, 60:] = 0.1  # a lake dried out at the fourth date: floor -> land
    stack = rng.gamma(4.0, 0.25, (k,) + shape) * means
    windowed = omnibus.window_means(stack, 5)
    args = dict(min_change_db=2.0, floor=floor, floor_levels=stack, floor_looks=4.0)
    noise = omnibus.omnibus_changes(windowed, 40.0, 0.01, **args)
    threshold = omnibus.omnibus_changes(windowed, 40.0, 0.01, floor_is_noise=False, **args)
    # the water's windows reach across the shore (columns 28, 29): a plain threshold lets ~80 % of
    # them through, the noise floor a few % (either side above its margin at alpha, at one or two dates)
    assert (threshold.changes[:, 28:30] > 0).mean() > 0.5
    assert (noise.changes[:, 28:30] > 0).mean() < 0.1 and not (noise.changes[:, :28] > 0).any()
    assert (noise.first[22:38, 62:78] == 3).mean() > 0.95  # the dried lake is a change, at its date
    np.testing.assert_array_equal(noise.first[:, 32:58], threshold.first[:, 32:58])  # the land's change stays
    with pytest.raises(ValueError, match="floor_looks"):
        omnibus.omnibus_changes(windowed, 40.0, 0.01, floor=floor, floor_looks=0.0)


def test_the_floor_is_a_noise_floor_only_under_a_deep_dark_population():
    rng = np.random.default_rng(6)
    n = 100_000
    water = np.where(np.arange(n) < n // 5, 10 ** (-2.8), 10 ** (-1.2))  # open water 16 dB under land
    dark_land = np.where(np.arange(n) < n // 5, 10 ** (-1.4), 10 ** (-1.2))  # a class 2 dB darker
    for level, is_noise in ((water, True), (dark_land, False)):
        model = omnibus.fit_stack(level * rng.gamma(6.0, 1 / 6.0, (6, n)))
        assert model.floor is not None and model.floor_is_noise is is_noise
    assert omnibus.fit_stack(dark_land * rng.gamma(6.0, 1 / 6.0, (6, n)), floor_db=-30.0).floor_is_noise  # given


def test_blockwise_window_means_with_the_pixel_floor_equal_the_in_memory_test(write_raster, tmp_path):
    rng = np.random.default_rng(6)
    k, shape = 5, (70, 60)
    means = np.full((k,) + shape, 0.1)
    means[:, :, :25] = 1e-4  # water under the floor
    means[3:, 10:50, 25:45] = 1.0  # land beside it rises at the fourth date
    stack = (rng.gamma(4.0, 0.25, (k,) + shape) * means).astype(np.float32)
    paths = [write_raster(f"d{i}.tif", date) for i, date in enumerate(stack)]
    out = {name: str(tmp_path / f"{name}.tif") for name in ("changes", "first", "last")}
    model = omnibus_rasters(
        paths,
        input_scale="linear",
        normalise=False,
        noise_floor_db=-30.0,
        changes_path=out["changes"],
        first_path=out["first"],
        last_path=out["last"],
        block_size=16,
    )
    assert model.window == 5  # the default: window means of ~45 looks
    expected = omnibus.omnibus_changes(
        omnibus.window_means(stack, 5),
        model.date_looks,  # the looks of each date, measured on the stack
        0.01,
        min_change_db=2.0,
        floor=1e-3,
        shift=1,
        floor_levels=stack,
    )
    np.testing.assert_array_equal(read_band(out["changes"]), expected.changes)
    np.testing.assert_array_equal(read_band(out["first"]), np.where(expected.first >= 0, expected.first + 1, 0))
    assert (expected.first[10:50, 27:43] == 3).mean() > 0.9 and not (expected.changes[:, :25] > 0).any()


def test_the_report_gives_the_area_per_year_between_unevenly_spaced_dates():
    from sar_change.algorithms.reports.omnibus import html_report, years_between

    years = years_between([20070101, 20080101, 20100101, 20150101])
    assert years[0] is None and years[1:] == pytest.approx([1.0, 2.0, 5.0], abs=0.01)
    assert years_between([1, 2, 3]) is None  # date numbers, not calendar dates
    model = omnibus.StackModel(5.0, np.zeros(4), 1e-3, 5)
    labels, area_m2 = ["2007", "2008", "2010", "2015"], [0.0, 3e4, 4e4, 5e4]
    html = html_report(model, labels, area_m2, alpha=0.01, min_change_db=2.0, regions=3, years=years)
    assert "per year (ha/yr)" in html
    assert "<td>4</td><td>2.00</td><td>2</td>" in html and "<td>5</td><td>5.00</td><td>1</td>" in html
    plain = html_report(model, labels, area_m2, alpha=0.01, min_change_db=2.0, regions=3)
    assert "per year" not in plain and "losses" not in plain


def test_the_report_splits_each_dates_area_into_losses_and_gains():
    from sar_change.algorithms.reports.omnibus import html_report

    model = omnibus.StackModel(5.0, np.zeros(3), 1e-3, 5)
    html = html_report(
        model, ["a", "b", "c"], [0.0, 3e4, 5e4], alpha=0.01, min_change_db=2.0, regions=4, loss_area_m2=[0, 1e4, 5e4]
    )
    assert "<th>of which losses: level fell (ha)</th><th>gains: level rose (ha)</th>" in html
    assert "<td>3</td><td>1</td><td>2</td>" in html and "<td>5</td><td>5</td><td>0</td>" in html
