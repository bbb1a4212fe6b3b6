"""Dates of unequal looks (two sensors in one stack): the test weighs each date by its own looks."""

import numpy as np
import pytest

from sar_change.algorithms.sar.change import omnibus

#: A stack of two sensors: three dates of 8 looks, then three of 4 (JAXA's ALOS then ALOS-2 mosaics).
TWO_SENSORS = np.array([8.0, 8.0, 8.0, 4.0, 4.0, 4.0])


def _no_change(looks, shape=(300, 300), seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([rng.gamma(n, 1.0 / n, shape) for n in looks])


def test_weighed_dates_keep_false_alarms_at_alpha_and_spread_them_over_the_dates():
    stack = _no_change(TWO_SENSORS)
    weighed = omnibus.omnibus_changes(stack, looks=TWO_SENSORS, alpha=0.01)
    pooled = omnibus.omnibus_changes(stack, looks=float(len(TWO_SENSORS) / np.sum(1 / TWO_SENSORS)), alpha=0.01)
    assert weighed.changes.astype(bool).mean() < 0.015
    first = np.bincount(weighed.first[weighed.first >= 0], minlength=6)[1:]
    assert first.min() > 0.5 * first.max()  # as many false alarms at the 8-look dates as at the 4-look ones
    # one number of looks for both sensors: the 4-look dates seem to change, the 8-look ones never
    pooled_first = np.bincount(pooled.first[pooled.first >= 0], minlength=6)[1:]
    assert pooled_first[2:].sum() > 10 * pooled_first[:2].sum()


def test_equal_looks_given_per_date_are_the_test_with_one_number_bit_for_bit():
    stack = _no_change([5.0] * 4, (80, 80), seed=1)
    stack[2:, 20:50, 20:50] *= 3.0
    one, each = omnibus.omnibus_changes(stack, looks=5.0), omnibus.omnibus_changes(stack, looks=[5.0] * 4)
    for name in ("changes", "first", "last", "changed_at"):
        np.testing.assert_array_equal(getattr(one, name), getattr(each, name))


def test_a_change_between_weighed_dates_is_found_and_dated():
    stack = _no_change(TWO_SENSORS, (120, 120), seed=2)
    stack[2:, 30:90, 30:90] *= 4.0  # +6 dB from the third date, an 8-look one
    scores = []
    for looks in (TWO_SENSORS, float(len(TWO_SENSORS) / np.sum(1 / TWO_SENSORS))):
        found = omnibus.omnibus_changes(stack, looks=looks, alpha=0.01).first[30:90, 30:90]
        scores.append(((found >= 0).mean(), (found[found >= 0] == 2).mean()))
    (recall, dated), (pooled_recall, pooled_dated) = scores
    assert recall > 0.6 and dated > 0.85  # single pixels of 4-8 looks
    assert recall > pooled_recall + 0.1 and dated > pooled_dated + 0.05  # one number of looks for both sensors


@pytest.mark.parametrize("looks", [[4.0, 4.0], [4.0, 0.0, 4.0, 4.0, 4.0, 4.0], [[4.0] * 6]])
def test_looks_neither_one_nor_one_per_date_are_refused(looks):
    with pytest.raises(ValueError, match="looks"):
        omnibus.omnibus_changes(_no_change([4.0] * 6, (10, 10)), looks=looks)


def _textured(looks, seed=0, shape=(256, 256)):
    """Fields of different levels, the same at every date, under speckle of each date's looks."""
    rng = np.random.default_rng(seed)
    levels = np.kron(rng.uniform(0.05, 0.5, (8, 8)), np.ones((32, 32)))[: shape[0], : shape[1]]
    return (levels * _no_change(looks, shape, seed + 1))[None]


def test_the_model_measures_the_looks_of_each_date():
    model = omnibus.fit_stack_model(_textured(TWO_SENSORS), window=1)
    ratio = np.asarray(model.date_looks[:3]) / np.asarray(model.date_looks[3:])
    assert ratio == pytest.approx(2.0, rel=0.2)
    assert model.date_looks[0] == pytest.approx(8.0, rel=0.2) and model.date_looks[-1] == pytest.approx(4.0, rel=0.2)


def test_dates_of_equal_looks_get_nearly_equal_weights_and_given_looks_none():
    model = omnibus.fit_stack_model(_textured([4.0] * 6, seed=3))
    assert max(model.date_looks) / min(model.date_looks) < 1.25
    assert omnibus.fit_stack_model(_textured([4.0] * 6, seed=3), looks=4.0).date_looks is None


def test_the_joint_model_takes_the_fewer_looks_of_the_polarisations_at_each_date():
    stack = np.concatenate([_textured(TWO_SENSORS, seed=4), _textured(TWO_SENSORS[::-1], seed=5)])
    model = omnibus.fit_stack_model(stack, window=1)
    assert max(model.date_looks) < 5.0  # each date's fewer: about 4 everywhere


def test_the_report_lists_the_looks_of_each_date_only_when_the_test_weighs_them():
    from sar_change.algorithms.reports.omnibus import html_report

    labels, area_m2 = ["2010", "2015", "2016"], [0.0, 3e4, 5e4]
    dated = omnibus.StackModel(50.0, np.zeros(3), 1e-3, 5, date_looks=(75.0, 37.5, 36.0))
    html = html_report(dated, labels, area_m2, alpha=0.01, min_change_db=2.0, regions=2)
    assert "<th>looks (the test's weight)</th>" in html and "<td>75.0</td>" in html and "<td>37.5</td>" in html
    plain = html_report(
        omnibus.StackModel(50.0, np.zeros(3), 1e-3, 5), labels, area_m2, alpha=0.01, min_change_db=2.0, regions=2
    )
    assert "the test's weight" not in plain


def test_a_flood_over_two_fifths_of_one_date_does_not_make_that_date_noisier():
    rng = np.random.default_rng(1)
    fields = rng.uniform(0.02, 0.3, (16, 16))
    # flooded cells of 20 px across fields of 32: many blocks homogeneous on the mean are half flooded
    flooded = np.kron(rng.random((26, 26)) < 0.4, np.ones((20, 20)))[:512, :512].astype(bool)
    stack = np.kron(fields, np.ones((32, 32)))[None] * _no_change([4.0] * 6, (512, 512), seed=7)
    stack[3][flooded] *= 10 ** (-0.8)  # -8 dB at the fourth date only
    looks = omnibus.fit_stack_model(stack[None], window=1).date_looks
    assert looks[3] > 0.9 * np.median(looks)  # the mean ENL of the blocks most homogeneous on the mean: 0.6x
