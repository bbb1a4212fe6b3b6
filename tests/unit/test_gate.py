"""The default decision's likelihood-ratio gate when the two dates have different looks (two sensors
or processings): each side (loss, gain) keeps its half of ALPHA."""

import numpy as np
import pytest
from scipy import stats

from sar_change.algorithms.sar.change import auto as change_auto
from sar_change.algorithms.sar.change.gate import gate_pvalue, gate_rejects
from sar_change.algorithms.sar.change.pixel import ratio_test_pvalue

ALPHA = 0.01


def box_means(before_looks, after_looks, n=400_000, channels=1, seed=0):
    """Gamma box means of equal expectation (no change), ``(channels, 1, n)``."""
    rng = np.random.default_rng(seed)
    before = rng.gamma(before_looks, 1 / before_looks, (channels, 1, n))
    after = rng.gamma(after_looks, 1 / after_looks, (channels, 1, n))
    return before, after


@pytest.mark.parametrize("before_looks, after_looks", [(10.0, 40.0), (40.0, 10.0)])
def test_each_side_rejects_half_alpha_when_the_dates_differ_in_looks(before_looks, after_looks):
    before, after = box_means(before_looks, after_looks)
    rejects = gate_rejects(before.astype(np.float32), after.astype(np.float32), [(before_looks, after_looks)], ALPHA)
    gains, losses = (rejects & (after > before)).mean(), (rejects & (after < before)).mean()
    assert gains == pytest.approx(ALPHA / 2, rel=0.1)
    assert losses == pytest.approx(ALPHA / 2, rel=0.1)
    # one number for both dates (the pooled 1/L = (1/Lb + 1/La) / 2) puts them on one side: the
    # side away from the noisier date (a noisy before date is often low: the ratio often high)
    pooled = gate_rejects(before, after, [2 / (1 / before_looks + 1 / after_looks)], ALPHA)
    one_side = (pooled & ((after > before) if before_looks < after_looks else (after < before))).mean()
    assert one_side > 1.8 * ALPHA / 2


def test_pvalue_is_the_f_distribution_of_the_ratio_and_agrees_with_the_critical_values():
    before, after = box_means(12.0, 30.0, n=20_000, seed=1)
    p = gate_pvalue(before, after, [(12.0, 30.0)])
    cdf = stats.f.cdf(after[0] / before[0], 60.0, 24.0)
    np.testing.assert_allclose(p, 2 * np.minimum(cdf, 1 - cdf), rtol=1e-8, atol=1e-12)
    assert np.array_equal(p < ALPHA, gate_rejects(before, after, [(12.0, 30.0)], ALPHA))
    np.testing.assert_allclose(ratio_test_pvalue(before[0], after[0], 12.0, 30.0), p)


def test_joint_test_of_two_channels_holds_alpha_with_unequal_looks():
    before, after = box_means(10.0, 40.0, channels=2, seed=2)
    looks = [(10.0, 40.0), (10.0, 40.0)]
    p = gate_pvalue(before, after, looks)[0]
    assert (p < ALPHA).mean() == pytest.approx(ALPHA, rel=0.15)
    assert np.array_equal(p < ALPHA, gate_rejects(before, after, looks, ALPHA)[0])


def test_equal_looks_give_the_same_test_as_one_number():
    before, after = box_means(20.0, 20.0, n=5_000, channels=2, seed=3)
    np.testing.assert_allclose(gate_pvalue(before, after, [(20.0, 20.0)] * 2), gate_pvalue(before, after, [20.0] * 2))
    np.testing.assert_allclose(
        gate_pvalue(before[:1], after[:1], [(20.0, 20.0)]), gate_pvalue(before[:1], after[:1], [20.0])
    )


def test_fit_shares_the_window_looks_by_each_dates_speckle():
    rng = np.random.default_rng(4)
    before = rng.gamma(1.0, 1.0, (600, 600)).astype(np.float32)
    after = rng.gamma(4.0, 0.25, (600, 600)).astype(np.float32)
    model = change_auto.fit_pair_model(before, after)
    (lb, la), pooled = model.gate_looks[0], model.window_looks[0]
    assert 3.0 < la / lb < 5.3  # a box of one-look pixels against one of four-look pixels
    assert 1 / lb + 1 / la == pytest.approx(2 / pooled, rel=1e-6)
    flagged = change_auto.classify_pair(model, before, after)[2] < ALPHA
    gains, losses = (flagged & (after > before)).mean(), (flagged & (after < before)).mean()
    assert 0.5 < gains / losses < 2.0
    same = change_auto.fit_pair_model(before, rng.gamma(1.0, 1.0, before.shape).astype(np.float32))
    assert 0.8 < same.gate_looks[0][1] / same.gate_looks[0][0] < 1.25
    given = change_auto.fit_pair_model(before, after, looks=2.0)  # the user says one number for both
    assert given.gate_looks == given.window_looks
