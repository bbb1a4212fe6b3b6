"""Multi-date change: the omnibus test of Conradsen et al. (2016) and its sequential factorisation.

For single-polarisation intensities (``p = 1``) of ``n`` looks at ``k`` dates,
``x_1 .. x_k``, the likelihood-ratio test of "no change in the whole series" is

    ln Q = n (k ln k + sum ln x_i - k ln sum x_i),

with ``-2 rho ln Q`` approximately chi-square with ``k - 1`` degrees of
freedom (plus the second-order term ``omega_2``). It factors into
``R_2 .. R_k``, ``R_j`` testing "date j equals dates 1..j-1 given those are
equal":

    ln R_j = n (j ln j - (j-1) ln(j-1) + (j-1) ln S_{j-1} + ln x_j - j ln S_j),

``S_j = x_1 + .. + x_j``, with ``-2 rho_j ln R_j`` approximately chi-square
with 1 degree of freedom. The sequential procedure (Conradsen et al. 2016;
Canty, Nielsen, Conradsen & Skriver, Remote Sensing 12(1), 2020): a pixel
whose omnibus test from its current start is significant is tested with
``R_j`` for ``j`` = start + 1, ...; the first significant ``R_j`` is a change
at date ``j``, the series restarts at ``j`` and the omnibus test is repeated
on the rest.

Reference: K. Conradsen, A. A. Nielsen, H. Skriver, "Determining the points
of change in time series of polarimetric SAR data", IEEE TGRS 54(5), 2016,
3007-3024 (equations for p = 1).
"""

from dataclasses import dataclass

import numpy as np

from .cancel import checkpoint
from .deps import require


def _chi2_cdf_corrected(z, f, rho, omega2):
    stats = require("scipy.stats")
    base = stats.chi2.cdf(rho * z, f)
    return base + omega2 * (stats.chi2.cdf(rho * z, f + 4) - base)


def omnibus_pvalue(ln_q: np.ndarray, k, looks: float) -> np.ndarray:
    """p-value of the omnibus statistic ``ln Q`` for ``k`` dates (scalar or array) of ``looks`` looks."""
    k = np.asarray(k, dtype=np.float64)
    n = float(looks)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = k - 1
        rho = 1 - (k / n - 1 / (n * k)) / (6 * (k - 1))
        omega2 = -(k - 1) / 4 * (1 - 1 / rho) ** 2
        p = 1 - _chi2_cdf_corrected(-2 * ln_q, f, rho, omega2)
    return np.where(k >= 2, np.clip(p, 0, 1), 1.0)


def sequential_pvalue(ln_r: np.ndarray, j, looks: float) -> np.ndarray:
    """p-value of ``ln R_j`` (date ``j`` of a series of ``j`` dates, j >= 2) with ``looks`` looks."""
    j = np.asarray(j, dtype=np.float64)
    n = float(looks)
    rho = 1 - (1 / n + 1 / (n * j * (j - 1))) / 6
    omega2 = -0.25 * (1 - 1 / rho) ** 2
    return np.clip(1 - _chi2_cdf_corrected(-2 * ln_r, 1, rho, omega2), 0, 1)


@dataclass
class OmnibusResult:
    """Per-pixel outcome of :func:`omnibus_changes`.

    Attributes
    ----------
    changes : uint8 (rows, cols)
        Number of changes found.
    first, last : int16 (rows, cols)
        0-based index of the date of the first and last change (the later
        date of the changed pair), -1 where none.
    changed_at : bool (k, rows, cols)
        True at date ``j`` where a change into date ``j`` was found.
    p_omnibus : float32 (rows, cols)
        p-value of "no change over the whole series".
    valid : bool (rows, cols)
        Pixels valid at every date.
    """

    changes: np.ndarray
    first: np.ndarray
    last: np.ndarray
    changed_at: np.ndarray
    p_omnibus: np.ndarray
    valid: np.ndarray


def omnibus_changes(stack: np.ndarray, looks: float = 1.0, alpha: float = 0.01) -> OmnibusResult:
    """Find when each pixel of a ``(k, rows, cols)`` intensity stack changed.

    Parameters
    ----------
    stack : (k, rows, cols) ndarray
        Linear intensities at ``k >= 3`` dates in time order; NaN or
        non-positive is no data (such pixels are not tested).
    looks : float
        Equivalent number of looks of each date.
    alpha : float
        Significance level of every test (the omnibus ones and each ``R_j``).
    """
    stack = np.asarray(stack, dtype=np.float64)
    if stack.ndim != 3 or stack.shape[0] < 3:
        raise ValueError(f"the omnibus test needs a stack of at least 3 dates, got shape {stack.shape}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got alpha={alpha!r}")
    if not looks > 0:
        raise ValueError(f"looks must be > 0, got looks={looks!r}")
    k, rows, cols = stack.shape
    valid = np.all(np.isfinite(stack) & (stack > 0), axis=0)
    x = np.where(valid, stack, 1.0)
    logs = np.log(x)
    zeros = np.zeros((1, rows, cols))
    prefix = np.concatenate([zeros, np.cumsum(x, axis=0)])  # prefix[i] = x_0 + .. + x_{i-1}
    prefix_log = np.concatenate([zeros, np.cumsum(logs, axis=0)])

    def take(a, index):
        return np.take_along_axis(a, index[None], axis=0)[0]

    def omnibus_from(start):
        m = (k - start).astype(np.float64)
        total = prefix[k] - take(prefix, start)
        log_sum = prefix_log[k] - take(prefix_log, start)
        with np.errstate(divide="ignore", invalid="ignore"):
            ln_q = looks * (m * np.log(m) + log_sum - m * np.log(total))
        return omnibus_pvalue(ln_q, m, looks)

    start = np.zeros((rows, cols), np.int64)
    p_omnibus = omnibus_from(start)
    alive = valid & (p_omnibus < alpha)
    changed_at = np.zeros((k, rows, cols), bool)
    for j in range(1, k):
        testing = alive & (start < j)
        if not testing.any():
            continue
        m = (j - start + 1).astype(np.float64)  # dates start..j
        previous = prefix[j] - take(prefix, start)
        current = previous + x[j]
        with np.errstate(divide="ignore", invalid="ignore"):
            ln_r = looks * (
                m * np.log(m) - (m - 1) * np.log(m - 1) + (m - 1) * np.log(previous) + logs[j] - m * np.log(current)
            )
        p = sequential_pvalue(ln_r, np.maximum(m, 2), looks)
        changed = testing & (p < alpha)
        changed_at[j] = changed
        start = np.where(changed, j, start)
        if changed.any():
            alive = np.where(changed, omnibus_from(start) < alpha, alive)
    changes = changed_at.sum(axis=0).astype(np.uint8)
    index = np.arange(k)[:, None, None]
    first = np.where(changes > 0, np.where(changed_at, index, k).min(axis=0), -1).astype(np.int16)
    last = np.where(changes > 0, np.where(changed_at, index, -1).max(axis=0), -1).astype(np.int16)
    p_out = np.where(valid, p_omnibus, np.nan).astype(np.float32)
    return OmnibusResult(changes, first, last, changed_at, p_out, valid)


def first_change_regions(result: OmnibusResult, min_pixels: int = 1):
    """8-connected regions of equal first-change date with at least ``min_pixels`` pixels.

    Returns ``(labels, attributes)``: int32 region ids (0 outside), and per id the tuple (first
    date index, most frequent last date index, most frequent number of changes, pixels).
    Vectorised with bincount: no per-region pass over the image.
    """
    return regions_of_first_change(result.first, result.last, result.changes, result.changed_at.shape[0], min_pixels)


def regions_of_first_change(first_index, last_index, changes, k: int, min_pixels: int = 1):
    """:func:`first_change_regions` from the three rasters alone: 0-based first and last change
    date indices (-1 where none), number of changes, and the number of dates ``k``."""
    from .segmentation import label_regions

    first_index = np.asarray(first_index)
    labels = np.zeros(first_index.shape, np.int32)
    next_id = 0
    for date in np.unique(first_index[first_index >= 0]):
        checkpoint()
        ids, kept = label_regions(first_index == date, min_pixels, next_id + 1)
        labels = np.where(ids > 0, ids, labels)
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
