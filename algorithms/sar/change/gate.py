"""The likelihood-ratio gate of the default decision: equal means of two dates' box means.

A box mean of ``L`` looks is gamma distributed; the ratio of two of equal mean is F(2L, 2L)
(one channel, exact), and for several channels (polarisations) the ``-2 ln Q`` of each
channel's test add, against chi-square with one degree of freedom per channel (Conradsen et
al., IEEE TGRS 54(5), 2016).
"""

from typing import Tuple

import numpy as np

from ...common.deps import require


def _joint_minus_2_ln_q(before_mean: np.ndarray, after_mean: np.ndarray, looks: Tuple[float, ...], dtype):
    """Sum over channels of ``-2 ln Q`` of the equal-mean test of two gamma means of ``looks`` looks."""
    total = np.zeros(before_mean.shape[1:], dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        for c, m in enumerate(looks):
            x = after_mean[c] / (after_mean[c] + before_mean[c])
            total += dtype(-2 * m) * (dtype(np.log(4.0)) + np.log(x) + np.log1p(-x))
    return total


def gate_pvalue(before_mean: np.ndarray, after_mean: np.ndarray, looks: Tuple[float, ...]) -> np.ndarray:
    """p-value of equal means of (channels, rows, cols) box means of ``looks`` looks each.

    One channel: the exact F(2L, 2L) test. Several: the sum of the channels' ``-2 ln Q``
    against chi-square with one degree of freedom per channel.
    """
    if before_mean.shape[0] == 1:
        from .pixel import ratio_test_pvalue

        return ratio_test_pvalue(before_mean[0], after_mean[0], looks[0])
    total = _joint_minus_2_ln_q(before_mean, after_mean, looks, np.float64)
    return require("scipy.stats").chi2.sf(np.maximum(total, 0), before_mean.shape[0])


def gate_rejects(before_mean: np.ndarray, after_mean: np.ndarray, looks: Tuple[float, ...], alpha: float):
    """Where :func:`gate_pvalue` < ``alpha``, from the test's critical values (no per-pixel p-value)."""
    stats = require("scipy.stats")
    if before_mean.shape[0] == 1:
        upper = np.float32(stats.f.isf(alpha / 2, 2 * looks[0], 2 * looks[0]))
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = after_mean[0] / before_mean[0]
            return (ratio > upper) | (ratio < 1 / upper)
    total = _joint_minus_2_ln_q(before_mean, after_mean, looks, np.float32)
    with np.errstate(invalid="ignore"):
        return total > np.float32(stats.chi2.isf(alpha, before_mean.shape[0]))
