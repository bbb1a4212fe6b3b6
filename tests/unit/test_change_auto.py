"""The automatic two-date change decision: estimates, invariances, gates, blockwise, real data."""

import os

import numpy as np
import pytest
from helpers import mosaic_vrt

from sar_change.algorithms.io.raster import read_band
from sar_change.algorithms.sar.change import auto as change_auto
from sar_change.algorithms.sar.change import stats as change_stats
from sar_change.algorithms.sar.change.pixel import GAIN, LOSS, NODATA
from sar_change.algorithms.sar.convert import TO_POWER, resolve_scale
from sar_change.algorithms.simulation import pair as simulate
from sar_change.algorithms.workflows import change as change_io


def gamma_pair(shape, looks, seed=0):
    rng = np.random.default_rng(seed)
    before = rng.gamma(looks, 1 / looks, shape).astype(np.float32)
    after = rng.gamma(looks, 1 / looks, shape).astype(np.float32)
    return before, after


def changed_pair(looks=4, seed=0, size=256, step_db=-8.0):
    """A no-change background with one square losing ``step_db`` (and its truth mask)."""
    before, after = gamma_pair((size, size), looks, seed)
    truth = np.zeros((size, size), bool)
    truth[80:150, 60:140] = True
    after[truth] *= np.float32(10 ** (step_db / 10))
    return before, after, truth


# -- estimates -------------------------------------------------------------------------------------
@pytest.mark.parametrize("looks", [1.0, 4.0, 16.0])
def test_looks_from_log_ratio_spread_recovers_gamma_looks(looks):
    before, after = gamma_pair((300, 300), looks, seed=1)
    _, sd = change_stats.robust_centre_scale(np.log(after) - np.log(before))
    assert change_stats.looks_from_log_ratio_sd(sd) == pytest.approx(looks, rel=0.1)


@pytest.mark.parametrize(
    "values",
    [np.full(1000, 3.0), np.full(10, 0.5), np.full(1000, np.nan), np.r_[np.full(999, 1.0), 2.0]],
    ids=["constant", "too-few", "all-nan", "saturated"],
)
@pytest.mark.parametrize("estimator", ["robust_centre_scale", "mode_centre_scale"])
def test_degenerate_spread_is_a_clear_error_never_nan(values, estimator):
    with pytest.raises(ValueError, match="valid pixels|no spread"):
        getattr(change_stats, estimator)(values)


@pytest.mark.parametrize("changed", [0.0, 0.3, 0.45])
def test_mode_and_scale_stay_on_the_stable_population_when_much_of_it_changed(changed):
    rng = np.random.default_rng(4)
    n = 200_000
    stable = rng.normal(0.2, 0.5, int(n * (1 - changed)))
    values = np.r_[stable, rng.normal(4.0, 1.0, n - stable.size)]  # one-sided change, e.g. a flood
    centre, scale = change_stats.mode_centre_scale(values)
    assert centre == pytest.approx(0.2, abs=0.05)
    assert scale == pytest.approx(0.5, rel=0.05)


@pytest.mark.parametrize("step_db", [4.0, -4.0])
def test_a_change_over_two_fifths_of_the_scene_is_found_not_normalised_away(step_db):
    # a flood or a harvest over much of the scene: the gain must come from the stable rest
    rng = np.random.default_rng(1)
    before, after = (rng.gamma(1.0, 1.0, (480, 480)).astype(np.float32) for _ in range(2))
    truth = np.zeros(before.shape, bool)
    for r in range(0, 480, 96):
        for c in range(0, 480, 96):
            if (r // 96 + c // 96) % 5 < 2:  # 10 of 25 cells
                truth[r + 8 : r + 88, c + 8 : c + 88] = True
    after[truth] *= np.float32(10 ** (step_db / 10))
    model = change_auto.fit_pair_model(before, after)
    assert abs(model.gain_db[0]) < 0.3
    found = change_auto.classify_pair(model, before, after, with_pvalue=False)[0] == (LOSS if step_db < 0 else GAIN)
    assert truth.mean() > 0.25
    assert found[truth].mean() > 0.9 and truth[found].mean() > 0.9


def test_kittler_illingworth_finds_no_change_class_in_pure_speckle():
    before, after = gamma_pair((256, 256), 4)
    stat = 10 * np.log10(after / before)
    assert change_stats.kittler_illingworth(stat, "low").threshold is None
    assert change_stats.kittler_illingworth(stat, "high").threshold is None


def test_kittler_illingworth_splits_a_separate_population_between_the_modes():
    rng = np.random.default_rng(0)
    stat = np.r_[rng.normal(0, 1, 50_000), rng.normal(-10, 1.5, 2_000)]
    side = change_stats.kittler_illingworth(stat, "low")
    assert -8 < side.threshold < -2.5
    assert side.fraction == pytest.approx(2_000 / 52_000, rel=0.3)
    assert change_stats.kittler_illingworth(stat, "high").threshold is None


def test_generalised_gaussian_fit_recovers_gaussian_shape():
    x = np.random.default_rng(2).normal(1.0, 2.0, 100_000)
    fitted = change_stats.fit_generalised_gaussian(x, np.ones(x.size))
    assert fitted.shape == pytest.approx(2.0, rel=0.05)
    assert fitted.centre == pytest.approx(1.0, abs=0.03)


# -- decision --------------------------------------------------------------------------------------
def test_step_change_found_with_estimated_looks_and_no_false_alarm_outside():
    before, after, truth = changed_pair()
    model = change_auto.fit_pair_model(before, after)
    classes, stat, p = change_auto.classify_pair(model, before, after)
    assert model.pixel_looks[0] == pytest.approx(4, rel=0.15)
    assert model.loss.threshold is not None and model.gain.threshold is None
    assert (classes[truth] == LOSS).mean() > 0.95
    assert (classes[~truth] != 0).mean() < 0.005
    assert np.nanmedian(stat[truth]) == pytest.approx(-8, abs=1)


@pytest.mark.parametrize("seed", [0, 1])
def test_boundaries_of_moderate_changes_reach_their_edges_at_one_look(seed):
    """-3.5 and +4 dB fields at one look: the map covers them to their edges (recall >= 0.85).

    The former box-mean boundaries, which had to pass the likelihood-ratio test again at ~45
    looks, kept 73-78 % of these pixels.
    """
    rng = np.random.default_rng(seed)
    before, after = (rng.gamma(1.0, 1.0, (256, 256)).astype(np.float32) for _ in range(2))
    truth = np.zeros(before.shape, bool)
    truth[40:80, 40:80] = truth[150:200, 120:150] = True
    after[truth] *= np.float32(10**-0.35)
    after[100:130, 180:230] *= np.float32(10**0.4)
    truth[100:130, 180:230] = True
    model = change_auto.fit_pair_model(before, after)
    changed = np.isin(change_auto.classify_pair(model, before, after)[0], (LOSS, GAIN))
    assert changed[truth].mean() >= 0.85
    assert truth[changed].mean() >= 0.9


def test_no_change_pair_flags_at_most_alpha():
    before, after = gamma_pair((400, 400), 1, seed=3)
    model = change_auto.fit_pair_model(before, after, alpha=0.01)
    classes, _, _ = change_auto.classify_pair(model, before, after)
    assert (classes > 0).mean() <= 0.01


def test_a_constant_gain_on_one_date_changes_nothing_with_normalisation():
    before, after, _ = changed_pair()
    reference = change_auto.classify_pair(change_auto.fit_pair_model(before, after), before, after)[0]
    scaled = after * np.float32(7.3)
    model = change_auto.fit_pair_model(before, scaled)
    assert model.gain_db[0] == pytest.approx(10 * np.log10(7.3), abs=0.3)
    assert (change_auto.classify_pair(model, before, scaled)[0] == reference).mean() > 0.999


def test_without_normalisation_the_gain_stays_in_the_statistic():
    before, after = gamma_pair((200, 200), 8)
    after *= np.float32(10.0)  # +10 dB everywhere
    model = change_auto.fit_pair_model(before, after, normalise=False)
    assert model.gain_db == (0.0,)
    assert np.nanmedian(change_auto.classify_pair(model, before, after)[1]) == pytest.approx(10.0, abs=0.5)


def test_dark_on_both_dates_below_the_noise_floor_is_not_change():
    before, after, truth = changed_pair(step_db=-8.0)
    floor_db = 10 * np.log10(2.0)  # above every level: everything is "dark on both dates"
    model = change_auto.fit_pair_model(before, after, noise_floor_db=floor_db)
    assert (change_auto.classify_pair(model, before, after)[0][truth] == LOSS).mean() < 0.01


def test_open_water_whose_level_wobbles_between_dates_is_not_change_but_land_loss_is():
    # A sea 18 dB under the land that darkens by 3 dB (wind, another sensor's noise floor), and a
    # land field that loses 8 dB: as on the Malaysia mosaics 2010 -> 2015.
    rng = np.random.default_rng(7)
    shape = (300, 300)
    sea = np.zeros(shape, bool)
    sea[:, :100] = True
    field = np.zeros(shape, bool)
    field[120:180, 160:240] = True
    level_b = np.where(sea, 10**-2.8, 10**-1.0)
    level_a = np.where(sea, 10**-3.1, np.where(field, 10**-1.8, 10**-1.0))
    before = (level_b * rng.gamma(4, 1 / 4, shape)).astype(np.float32)
    after = (level_a * rng.gamma(4, 1 / 4, shape)).astype(np.float32)
    model = change_auto.fit_pair_model(before, after)
    classes = change_auto.classify_pair(model, before, after)[0]
    assert -25 < model.noise_floor_db[0] < -13  # the split between the sea and the land
    assert (classes[sea] != 0).mean() < 0.01
    assert (classes[field] == LOSS).mean() > 0.9


def test_min_change_db_removes_changes_smaller_than_it():
    before, after, truth = changed_pair(step_db=-8.0)
    model = change_auto.fit_pair_model(before, after, min_change_db=15.0)
    assert (change_auto.classify_pair(model, before, after)[0] > 0).sum() == 0


def test_nodata_stays_nodata_and_never_enters_the_map():
    before, after, truth = changed_pair()
    before[:20] = np.nan
    model = change_auto.fit_pair_model(before, after)
    classes, stat, _ = change_auto.classify_pair(model, before, after)
    assert (classes[:20] == NODATA).all() and np.isnan(stat[:20]).all()
    assert (classes[truth] == LOSS).mean() > 0.9


def test_constant_pair_is_a_clear_error():
    flat = np.ones((100, 100), np.float32)
    with pytest.raises(ValueError, match="no spread"):
        change_auto.fit_pair_model(flat, flat)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"alpha": 0}, "alpha"),
        ({"min_change_db": -1}, "min_change_db"),
        ({"looks": -2}, "looks"),
        ({"window": 4}, "window"),
    ],
)
def test_bad_parameters_are_value_errors_naming_them(kwargs, message):
    before, after, _ = changed_pair()
    with pytest.raises(ValueError, match=message):
        change_auto.fit_pair_model(before, after, **kwargs)


def test_dual_polarisation_joint_test_is_calibrated_and_finds_a_change_in_one_channel():
    rng = np.random.default_rng(5)
    shape = (2, 300, 300)
    before = rng.gamma(4, 1 / 4, shape).astype(np.float32)
    after = rng.gamma(4, 1 / 4, shape).astype(np.float32)
    model = change_auto.fit_pair_model(before, after)
    assert model.channels == 2
    assert (change_auto.classify_pair(model, before, after)[0] > 0).mean() <= 0.01
    # The joint test alone (no effect-size gate) rejects at about ALPHA on pure speckle.
    means = [np.stack([change_auto.box_mean(x[c], model.window) for c in range(2)]) for x in (before, after)]
    p = change_auto.gate_pvalue(means[0], means[1], model.window_looks)
    assert 0.003 < (p < 0.01).mean() < 0.02
    after[1, 100:180, 100:180] *= np.float32(0.1)  # HV loses 10 dB, HH unchanged
    model = change_auto.fit_pair_model(before, after)
    classes = change_auto.classify_pair(model, before, after)[0]
    assert (classes[105:175, 105:175] == LOSS).mean() > 0.9


def test_blockwise_file_run_equals_the_whole_array(write_raster, tmp_path):
    before, after, _ = changed_pair(size=700)
    b, a = write_raster("b.tif", before), write_raster("a.tif", after)
    run = change_io.detect_change_rasters(b, a, str(tmp_path / "c.tif"), block_size=256)
    blockwise = np.nan_to_num(read_band(str(tmp_path / "c.tif")), nan=NODATA).astype(np.uint8)
    whole = change_auto.classify_pair(run.model, before, after)[0]
    assert (blockwise == whole).all()
    assert run.scale_before == run.scale_after == "linear"


@pytest.mark.parametrize("scale", ["db", "amplitude", "display"])
def test_db_amplitude_and_8bit_inputs_give_the_same_map(write_raster, tmp_path, scale):
    before, after, truth = changed_pair()
    reference = change_auto.classify_pair(change_auto.fit_pair_model(before, after), before, after)[0]
    if scale == "db":
        arrays = [10 * np.log10(x) for x in (before, after)]
    elif scale == "amplitude":
        arrays = [np.sqrt(x) for x in (before, after)]
    else:  # 8-bit display amplitude, a stretch per date as distributed images have
        arrays = [np.clip(np.round(np.sqrt(x) * k), 0, 255).astype(np.uint8) for x, k in ((before, 60), (after, 75))]
    paths = [write_raster(f"{n}.tif", x) for n, x in zip("ba", arrays)]
    # amplitude cannot be told from power by its values: it is named, as a user would
    run = change_io.detect_change_rasters(
        *paths, str(tmp_path / "c.tif"), input_scale="amplitude" if scale == "amplitude" else "auto"
    )
    assert run.scale_before == scale
    classes = np.nan_to_num(read_band(str(tmp_path / "c.tif")), nan=NODATA)
    agreement = ((classes == LOSS) == (reference == LOSS)).mean()
    assert agreement > (0.995 if scale != "display" else 0.98)
    assert (classes[truth] == LOSS).mean() > 0.9


def test_auto_scale_rule():
    assert resolve_scale("auto", np.uint8, np.array([3, 200])) == "display"
    assert resolve_scale("auto", np.float32, np.array([-12.0, -3.0])) == "db"
    assert resolve_scale("auto", np.float32, np.array([0.1, 0.3])) == "linear"
    assert resolve_scale("amplitude", np.uint8, np.array([1])) == "amplitude"
    with pytest.raises(ValueError, match="input_scale"):
        resolve_scale("decibel", np.float32, np.array([1.0]))
    with pytest.raises(ValueError, match="no valid pixel"):
        resolve_scale("auto", np.float32, np.array([np.nan]))
    assert TO_POWER["display"](np.array([0, 2], np.uint8)).tolist() == [0.25, 4.0]


def test_simulated_pair_with_gain_step_still_finds_the_patches():
    scene = simulate.simulate_pair(384, 384, looks=4, seed=1)
    after = scene["after"] * np.float32(3.0)
    model = change_auto.fit_pair_model(scene["before"], after)
    classes = change_auto.classify_pair(model, scene["before"], after)[0]
    truth = scene["truth"] > 0
    found = (classes > 0) & (classes != NODATA)
    assert (found & truth).sum() / max(found.sum(), 1) > 0.9  # precision
    assert model.gain_db[0] == pytest.approx(10 * np.log10(3.0), abs=0.5)


# -- real data -------------------------------------------------------------------------------------
def kappa(changed, reference):
    n = changed.size
    pcc = (changed == reference).mean()
    expected = (changed.sum() * reference.sum() + (~changed).sum() * (~reference).sum()) / n**2
    return (pcc - expected) / (1 - expected)


def test_bern_flood_with_defaults_beats_pca_kmeans_baseline(shared_data, tmp_path):
    folder = os.path.join(shared_data, "bern_ers2")
    run = change_io.detect_change_rasters(
        os.path.join(folder, "bern_1999-04.bmp"), os.path.join(folder, "bern_1999-05.bmp"), str(tmp_path / "c.tif")
    )
    reference = read_band(os.path.join(folder, "bern_reference_change.bmp")) > 127
    classes = np.nan_to_num(read_band(str(tmp_path / "c.tif")), nan=NODATA)
    changed = (classes == LOSS) | (classes == GAIN)
    assert run.scale_before == "display"
    assert kappa(changed, reference) > 0.865  # PCA + k-means (Celik 2009): 0.856 on this pair
    assert (classes == GAIN).sum() == 0  # a flood: the water only darkens


# -- superpixel k-means ------------------------------------------------------------------------------
def test_superpixel_kmeans_calls_nothing_change_on_a_stable_scene():
    from sar_change.algorithms.sar import change

    scene = simulate.simulate_pair(256, 256, looks=4, seed=3, patches=[])
    result = change.detect_change(scene["before"], scene["after"], "superpixel_kmeans", despeckle="lee", looks=4)
    assert (result.classes == LOSS).mean() < 0.01 and (result.classes == GAIN).mean() < 0.01


@pytest.mark.parametrize("statistic", ["log_ratio", "difference"])
def test_superpixel_kmeans_finds_a_clearly_separated_loss(statistic):
    from sar_change.algorithms.sar import change

    before, after, truth = changed_pair(looks=4, step_db=-10.0)
    result = change.detect_change(before, after, "superpixel_kmeans", despeckle="lee", looks=4, statistic=statistic)
    loss = result.classes == LOSS
    assert (loss & truth).sum() / (loss | truth).sum() > 0.6


def test_malaysia_alos_to_alos2_pair_leaves_the_sea_alone(shared_data, tmp_path):
    # 2010 (ALOS) -> 2015 (ALOS-2): another sensor, the sea 3 dB darker; the sea is not change.
    folder = os.path.join(shared_data, "malaysia_jaxa_mosaics", "hv")
    paths = [os.path.join(folder, f"N05E100_{y}_sl_HV.tif") for y in ("10", "15")]
    change_io.detect_change_rasters(*paths, str(tmp_path / "c.tif"), input_scale="palsar_dn")
    classes = np.nan_to_num(read_band(str(tmp_path / "c.tif")), nan=NODATA)
    db = [10 * np.log10(TO_POWER["palsar_dn"](read_band(p))) for p in paths]
    water = (db[0] < -22) & (db[1] < -22)
    assert water.mean() > 0.1
    assert np.isin(classes[water], (LOSS, GAIN)).mean() < 0.02
    assert np.isin(classes, (LOSS, GAIN)).mean() < 0.05


CLASSIFY_IN_A_CHILD = """
import re, sys
sys.path.insert(0, {tests!r})
from helpers import register_package
register_package()
from sar_change.algorithms.workflows import change as change_io
run = change_io.detect_change_rasters({before!r}, {after!r}, {out!r}, block_size=512)
peak_kb = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
print(run.model.window, peak_kb // 1024)
"""


def test_a_6144_square_pair_classifies_in_bounded_memory(write_raster, tmp_path):
    import subprocess
    import sys

    if not os.path.exists("/proc/self/status"):
        pytest.skip("peak memory is read from /proc (Linux)")
    before, after, _ = changed_pair(looks=1, size=512)
    tiles = [write_raster(f"{n}.tif", x) for n, x in (("b", before), ("a", after))]
    vrts = [mosaic_vrt(str(tmp_path / f"{n}.vrt"), t, 12) for n, t in zip("ba", tiles)]
    script = CLASSIFY_IN_A_CHILD.format(
        tests=os.path.dirname(os.path.dirname(__file__)), before=vrts[0], after=vrts[1], out=str(tmp_path / "c.tif")
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300)
    window, peak_mb = (int(v) for v in done.stdout.split())
    # 6144^2 pixels: the float32 pair alone is 302 MB, the classifier's whole-array temporaries
    # several GB; in blocks the peak is the 4 Mpixel sample's fit plus two workers' blocks.
    assert peak_mb < 900
    classes = read_band(str(tmp_path / "c.tif"))
    assert classes.shape == (6144, 6144)
    np.testing.assert_array_equal(np.isnan(classes), False)


def test_superpixel_kmeans_on_bern_flags_the_flood_not_half_the_scene(shared_data):
    from sar_change.algorithms.sar import change

    folder = os.path.join(shared_data, "bern_ers2")
    before, after = (TO_POWER["display"](read_band(os.path.join(folder, f"bern_1999-0{m}.bmp"))) for m in (4, 5))
    after, looks, _ = change_stats.prepare_pair(before, after)
    result = change.detect_change(before, after, "superpixel_kmeans", looks=looks, despeckle="refined_lee")
    reference = read_band(os.path.join(folder, "bern_reference_change.bmp")) > 127
    changed = np.isin(result.classes, (LOSS, GAIN))
    assert changed.mean() < 0.03  # the flood is 1.3 % of the scene
    assert kappa(changed, reference) > 0.75
