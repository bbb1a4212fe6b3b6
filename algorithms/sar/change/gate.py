"""The likelihood-ratio gate of the default decision: equal means of two dates' box means.

A box mean of ``L`` looks is gamma distributed; the ratio of two of equal mean is F(2La, 2Lb)
(one channel, exact; ``La`` the after date's looks, ``Lb`` the before date's), and for several
channels (polarisations) the ``-2 ln Q`` of each channel's test add, against chi-square with one
degree of freedom per channel (Conradsen et al., IEEE TGRS 54(5), 2016).

Each channel's looks are one number (both dates alike) or a ``(before, after)`` pair: dates of two
sensors or processings differ (ALOS and ALOS-2 mosaics: 17 and 8 looks a pixel), and one number
for both puts the false alarms unevenly on the two sides (losses and gains) although their sum
holds.
"""

from typing import Sequence, Tuple, Union

import numpy as np

from ...common.deps import require

Looks = Union[float, Tuple[float, float]]


def date_pair(looks: Looks) -> Tuple[float, float]:
    """``(before, after)`` looks of one channel given as one number or a pair."""
    if np.ndim(looks) == 0:
        return float(looks), float(looks)
    before, after = looks
    return float(before), float(after)


def _joint_minus_2_ln_q(before_mean: np.ndarray, after_mean: np.ndarray, looks: Sequence[Looks], dtype):
    """Sum over channels of ``-2 ln Q`` of the equal-mean test of two gamma means.

    With ``Lb``, ``La`` looks, means ``b``, ``a`` and ``y = La a / (La a + Lb b)``,
    ``Q = N^N a^La b^Lb / (La a + Lb b)^N``, ``N = La + Lb``, so ``ln Q = La (ln y + ln(N / La)) +
    Lb (ln(1 - y) + ln(N / Lb))`` (for ``La = Lb = L``: ``L (ln 4 + ln y + ln(1 - y))``).
    """
    total = np.zeros(before_mean.shape[1:], dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        for c, pair in enumerate(looks):
            lb, la = date_pair(pair)
            n = lb + la
            y = dtype(la) * after_mean[c] / (dtype(la) * after_mean[c] + dtype(lb) * before_mean[c])
            # each side's bracket is near 0 without change: no large terms cancel in float32
            after_side = dtype(la) * (np.log(y) + dtype(np.log(n / la)))
            before_side = dtype(lb) * (np.log1p(-y) + dtype(np.log(n / lb)))
            total += dtype(-2) * (after_side + before_side)
    return total


def gate_pvalue(before_mean: np.ndarray, after_mean: np.ndarray, looks: Sequence[Looks]) -> np.ndarray:
    """p-value of equal means of (channels, rows, cols) box means of ``looks`` looks each.

    One channel: the exact F(2La, 2Lb) test. Several: the sum of the channels' ``-2 ln Q``
    against chi-square with one degree of freedom per channel.
    """
    if before_mean.shape[0] == 1:
        from .pixel import ratio_test_pvalue

        lb, la = date_pair(looks[0])
        return ratio_test_pvalue(before_mean[0], after_mean[0], lb, la)
    total = _joint_minus_2_ln_q(before_mean, after_mean, looks, np.float64)
    return require("scipy.stats").chi2.sf(np.maximum(total, 0), before_mean.shape[0])


def gate_rejects(before_mean: np.ndarray, after_mean: np.ndarray, looks: Sequence[Looks], alpha: float):
    """Where :func:`gate_pvalue` < ``alpha``, from the test's critical values (no per-pixel p-value)."""
    stats = require("scipy.stats")
    if before_mean.shape[0] == 1:
        lb, la = date_pair(looks[0])
        upper = np.float32(stats.f.isf(alpha / 2, 2 * la, 2 * lb))
        lower = np.float32(stats.f.ppf(alpha / 2, 2 * la, 2 * lb))
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = after_mean[0] / before_mean[0]
            return (ratio > upper) | (ratio < lower)
    total = _joint_minus_2_ln_q(before_mean, after_mean, looks, np.float32)
    with np.errstate(invalid="ignore"):
        return total > np.float32(stats.chi2.isf(alpha, before_mean.shape[0]))


def date_window_looks(before: np.ndarray, after: np.ndarray, looks: float) -> Looks:
    """``(before, after)`` looks of the box means, ``looks`` shared out by each date's speckle.

    ``looks`` is the pair's pooled looks (from the spread of the box log-ratio, which is
    ``1 / Lb + 1 / La`` to first order); each date's share comes from its ENL on blocks homogeneous at
    both dates (:func:`.omnibus_model.date_looks`, as the omnibus weighs its dates), so that
    ``1 / Lb + 1 / La = 2 / looks``. ``looks`` itself when the ENLs cannot be measured.
    """
    from .omnibus_model import date_looks

    shared = date_looks(np.stack([before, after])[None], looks)
    return float(looks) if shared is None else (shared[0], shared[1])


def describe_looks(looks: Looks) -> str:
    """``"58.4"``, or ``"59.1 before, 57.8 after"`` when the dates differ, for logs and reports."""
    before, after = date_pair(looks)
    return f"{before:.1f}" if before == after else f"{before:.1f} before, {after:.1f} after"
