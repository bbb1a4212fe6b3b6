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

from .omnibus_model import (  # noqa: F401 (here too)
    FLOOR_DEPTH_DB,
    MAX_WINDOW,
    TARGET_LOOKS,
    StackModel,
    fit_stack,
    fit_stack_model,
    joint_model,
    sample_window_means,
    window_for_looks,
    window_means,
)
from .omnibus_stats import critical_values, floor_margins, omnibus_pvalue, sequential_pvalue  # noqa: F401
from .regions import regions_of_first_change
from .shift import shifted_effect_db


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


def omnibus_changes(
    stack: np.ndarray,
    looks=1.0,
    alpha: float = 0.01,
    *,
    min_change_db: float = 0.0,
    floor: float = None,
    shift: int = 0,
    floor_levels: np.ndarray = None,
    floor_looks: float = None,
    floor_is_noise: bool = True,
    with_pvalue: bool = True,
) -> OmnibusResult:
    """Find when each pixel of a ``(k, rows, cols)`` intensity stack changed.

    Parameters
    ----------
    stack : (k, rows, cols) or (channels, k, rows, cols) ndarray
        Linear intensities at ``k >= 3`` dates in time order; NaN or
        non-positive is no data (such pixels are not tested). Several channels (HH and HV) are
        tested jointly: their ``ln Q`` and ``ln R_j`` add, as do their degrees of freedom.
    looks : float or sequence of float
        Equivalent number of looks of every date, or of each date (``k`` values): the likelihood
        ratios then weigh each date by its looks (under no change the common level is the
        looks-weighted mean, and ``ln Q = sum n_i ln x_i - N ln(sum n_i x_i / N)``, ``N = sum n_i``),
        and the critical values and floor margins take the harmonic mean of the looks.
    alpha : float
        Significance level of every test (the omnibus ones and each ``R_j``).
    min_change_db : float
        Effect size: a change at date ``j`` also needs the mean of the dates since the last change
        to differ by at least this (dB) from the mean of the dates from ``j`` on (a change that
        lasts) or, when the dates after ``j`` are back within this of it and date ``j`` differs
        from them by this too, from date ``j`` itself (a change that does not last: a flood gone
        by the next date).
        0: the test alone.
    floor : float or sequence of floats (one per channel), optional
        Noise floor (linear intensity): a candidate change with neither of those means
        significantly above it (at ``alpha``, for a mean of that many dates of ``looks`` looks:
        :func:`.omnibus_stats.floor_margins`) is not a change (open water and shadow fluctuate
        at the floor). With several channels, a change needs one channel that passes both the
        effect size and the floor.
    floor_levels : ndarray like ``stack``, optional
        The pixels' own intensities when ``stack`` holds window means: a pixel whose own means
        are not significantly above ``floor`` on either side (with ``floor_looks`` looks per
        date, default ``looks``) is not a change either, even where its window (across a shore)
        changed.
    floor_is_noise : bool
        False: ``floor`` is a plain threshold (a side under it is at the floor), not a noise level
        to exceed significantly (:attr:`StackModel.floor_is_noise`).
    with_pvalue : bool
        Compute ``p_omnibus`` (NaN otherwise: the decisions compare the statistics with their
        critical values and need no p-value).
    shift : int
        Misregistration tolerated (pixels): the effect size is the smallest against the earlier
        level of any pixel within ``shift`` (:mod:`.shift`); 0: the pixel's own.
    """
    stack = np.asarray(stack, dtype=np.float64)
    if stack.ndim == 3:
        stack = stack[None]
    if floor_levels is not None:
        floor_levels = np.asarray(floor_levels, dtype=np.float64)
        floor_levels = floor_levels[None] if floor_levels.ndim == 3 else floor_levels
        if floor_levels.shape != stack.shape:
            raise ValueError(f"floor_levels must have the shape of the stack {stack.shape}, got {floor_levels.shape}")
    if stack.ndim != 4 or stack.shape[1] < 3:
        raise ValueError(
            "the omnibus test needs a stack of at least 3 dates, (dates, rows, cols) or (channels, dates, rows, "
            f"cols), got shape {stack.shape}"
        )
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got alpha={alpha!r}")
    per_date = np.atleast_1d(np.asarray(looks, dtype=np.float64))
    if per_date.ndim != 1 or per_date.size not in (1, stack.shape[1]) or not np.all(per_date > 0):
        raise ValueError(f"looks must be > 0, one value or one per date ({stack.shape[1]}), got looks={looks!r}")
    weighted = per_date.size > 1 and not np.all(per_date == per_date[0])
    looks = float(per_date.size / np.sum(1.0 / per_date))  # the harmonic mean: = looks when one value
    if not 0 <= min_change_db < 100:
        raise ValueError(f"min_change_db must be in [0, 100) dB, got min_change_db={min_change_db!r}")
    channels, k, rows, cols = stack.shape
    if floor is not None:
        floors = np.broadcast_to(np.asarray(floor, dtype=np.float64), (channels,))
        if not (np.all(np.isfinite(floors)) and np.all(floors > 0)):
            raise ValueError(f"floor must be a positive intensity (one per channel), got floor={floor!r}")
        floors = floors[:, None]
        own_looks = looks if floor_looks is None else floor_looks
        if not own_looks > 0:
            raise ValueError(f"floor_looks must be > 0, got floor_looks={floor_looks!r}")
        margins = own_margins = np.ones(k + 1)  # a plain threshold
        if floor_is_noise:
            margins, own_margins = floor_margins(k, looks, alpha), floor_margins(k, own_looks, alpha)
    valid = np.all(np.isfinite(stack) & (stack > 0), axis=(0, 1))
    x = np.where(valid, stack, 1.0)
    logs = np.log(x)
    # prefix[:, i] = x_0 + .. + x_{i-1}; the logs weighed by the looks of their date when those differ
    prefix, prefix_log = _prefix_sums(x), _prefix_sums(logs * per_date[None, :, None, None] if weighted else logs)

    def take(a, index):
        """``a[:, index[p], p]`` for every pixel ``p``: each pixel's sum up to its own date."""
        if index.ndim == 1:  # the tested pixels, flattened: plain indexing is the faster gather
            return a[:, index, np.arange(index.size)]
        return np.take_along_axis(a, index[None, None], axis=1)[:, 0]

    def sides(sums, start, j):
        """Mean of dates ``start..j-1`` and of dates ``j..k-1`` from prefix ``sums``."""
        return (sums[:, j] - take(sums, start)) / (j - start), (sums[:, k] - sums[:, j]) / (k - j)

    def above_floor(before, after, start, j, margins):
        """Where either side's mean is significantly above the floor."""
        return (before >= floors * margins[j - start]) | (after >= floors * margins[k - j])

    omnibus_critical = critical_values("omnibus", k, looks, channels, alpha)
    sequential_critical = critical_values("sequential", k, looks, channels, alpha)

    if weighted:  # the dates weighed by their looks: n ln x above, the sums of n and of n x
        n_prefix = np.concatenate([[0.0], np.cumsum(per_date)])

    def omnibus_from(start, prefix, prefix_log, w_prefix=None):
        """``-2 ln Q`` of the dates from ``start`` on, and its number of dates (weighted: the sums
        of ``n x`` from ``w_prefix``, or over all dates when None)."""
        m = k - start
        with np.errstate(divide="ignore", invalid="ignore"):
            if weighted:
                n_total = n_prefix[k] - n_prefix[start]
                if w_prefix is None:
                    total = np.einsum("k,ckij->cij", per_date, x)
                else:
                    total = w_prefix[:, k] - take(w_prefix, start)
                ln_q = prefix_log[:, k] - take(prefix_log, start) - n_total * np.log(total / n_total)
            else:
                total = prefix[:, k] - take(prefix, start)
                log_sum = prefix_log[:, k] - take(prefix_log, start)
                ln_q = looks * (m * np.log(m) + log_sum - m * np.log(total))
        return -2 * ln_q.sum(axis=0), m

    statistic, dates_from = omnibus_from(np.zeros((rows, cols), np.int64), prefix, prefix_log)
    p_omnibus = omnibus_pvalue(-statistic / 2, dates_from, looks, channels) if with_pvalue else None
    # the sequential tests only on the pixels the omnibus test finds changed (few on real stacks):
    # the same arithmetic on a (channels, dates, pixels) subset
    where = (slice(None), slice(None)) + np.nonzero(valid & (statistic > omnibus_critical[dates_from]))
    del statistic, dates_from
    block_prefix, own_prefix = prefix, None
    if floor is not None and floor_levels is not None:  # the pixels' own levels, beside the window means
        own_ok = np.all(np.isfinite(floor_levels) & (floor_levels > 0), axis=(0, 1))
        own_prefix = _prefix_sums(np.where(own_ok, floor_levels, x)[where])
    x, logs, prefix, prefix_log = x[where], logs[where], prefix[where], prefix_log[where]
    w_prefix = _prefix_sums(x * per_date[None, :, None]) if weighted else None
    start = np.zeros(x.shape[2], np.int64)
    alive = np.ones(x.shape[2], bool)
    changed_sub = np.zeros((k, x.shape[2]), bool)
    for j in range(1, k):
        testing = alive & (start < j)
        if not testing.any():
            continue
        m = (j - start + 1).astype(np.float64)  # dates start..j
        previous = prefix[:, j] - take(prefix, start)
        current = previous + x[:, j]
        with np.errstate(divide="ignore", invalid="ignore"):
            if weighted:  # ln Q of dates start..j minus that of start..j-1
                n_before = n_prefix[j] - n_prefix[start]
                w_before = w_prefix[:, j] - take(w_prefix, start)
                n_current = n_before + per_date[j]
                ln_r = (
                    per_date[j] * logs[:, j]
                    - n_current * np.log((w_before + per_date[j] * x[:, j]) / n_current)
                    + n_before * np.log(w_before / n_before)
                )
            else:
                ln_r = looks * (
                    m * np.log(m)
                    - (m - 1) * np.log(m - 1)
                    + (m - 1) * np.log(previous)
                    + logs[:, j]
                    - m * np.log(current)
                )
        changed = testing & (-2 * ln_r.sum(axis=0) > sequential_critical[np.maximum(j - start + 1, 2)])
        if min_change_db > 0 or floor is not None:
            # a channel must carry the change: large enough, and not at the noise floor on both sides
            before_mean, after_mean = sides(prefix, start, j)
            carried = np.ones(before_mean.shape, bool)
            if min_change_db > 0:
                # a change that lasts (the mean from j on), or one of date j alone that the later
                # dates' mean dilutes (a flood gone by the next date): the dates after j back
                # within the effect size of the level since start, date j that far from both
                with np.errstate(divide="ignore", invalid="ignore"):
                    lasting = np.abs(10 * np.log10(after_mean / before_mean))
                    alone = np.zeros(lasting.shape)
                    # only where the test found a change (the same decisions, on fewer pixels)
                    short = np.flatnonzero(changed) if j < k - 1 else []
                    if len(short):
                        level, before_s = x[:, j, short], before_mean[:, short]
                        later = (prefix[:, k, short] - prefix[:, j + 1, short]) / (k - j - 1)
                        back = np.abs(10 * np.log10(later / before_s)) < min_change_db
                        back &= np.abs(10 * np.log10(level / later)) >= min_change_db
                        alone[:, short] = np.where(back, np.abs(10 * np.log10(level / before_s)), 0.0)
                after_level = np.where(alone > lasting, x[:, j], after_mean)
                effect = np.fmax(lasting, alone)
                tested = np.flatnonzero(changed & (effect >= min_change_db).any(axis=0)) if shift else []
                if len(tested):  # only where a shift could undo a change
                    effect[:, tested] = shifted_effect_db(
                        block_prefix,
                        valid,
                        start[tested],
                        j,
                        where[2][tested],
                        where[3][tested],
                        after_level[:, tested],
                        shift,
                    )
                carried &= effect >= min_change_db
            if floor is not None:
                carried &= above_floor(before_mean, after_mean, start, j, margins)
                if own_prefix is not None:
                    carried &= above_floor(*sides(own_prefix, start, j), start, j, own_margins)
            changed &= carried.any(axis=0)
        changed_sub[j] = changed
        start = np.where(changed, j, start)
        if changed.any():
            statistic, dates_from = omnibus_from(start, prefix, prefix_log, w_prefix)
            alive = np.where(changed, statistic > omnibus_critical[dates_from], alive)
    changed_at = np.zeros((k, rows, cols), bool)
    changed_at[where[1:]] = changed_sub
    changes = changed_at.sum(axis=0).astype(np.uint8)
    index = np.arange(k)[:, None, None]
    first = np.where(changes > 0, np.where(changed_at, index, k).min(axis=0), -1).astype(np.int16)
    last = np.where(changes > 0, np.where(changed_at, index, -1).max(axis=0), -1).astype(np.int16)
    p_out = np.where(valid, np.nan if p_omnibus is None else p_omnibus, np.nan).astype(np.float32)
    return OmnibusResult(changes, first, last, changed_at, p_out, valid)


def _prefix_sums(values: np.ndarray) -> np.ndarray:
    """Sums over the dates (axis 1) of ``values`` up to each date: entry ``i`` sums dates ``0..i-1``."""
    shape = list(values.shape)
    shape[1] = 1
    return np.concatenate([np.zeros(shape), np.cumsum(values, axis=1)], axis=1)


def stack_changes(
    stack: np.ndarray, model: StackModel, *, alpha: float = 0.01, min_change_db: float = 0.0, shift: int = 0
):
    """:func:`omnibus_changes` of a ``(channels, k, rows, cols)`` linear-intensity stack as ``model``
    says: each date's gain removed, ``model.window`` means tested with ``model.looks``, and the
    noise floor checked on the window means and on the pixels' own levels (``model.pixel_looks``).

    A block read with a halo of ``model.window // 2`` (plus :func:`.shift.halo` of ``shift``) gives
    the whole image's values inside it.
    """
    stack = np.asarray(stack)
    stack = (stack[None] if stack.ndim == 3 else stack) / model.gain_factors
    side = model.window
    return omnibus_changes(
        np.stack([window_means(channel, side) for channel in stack]),
        looks=model.looks if model.date_looks is None else model.date_looks,
        alpha=alpha,
        min_change_db=min_change_db,
        floor=model.test_floor,
        shift=shift,
        floor_levels=stack if side > 1 else None,
        floor_looks=model.pixel_looks,
        floor_is_noise=model.floor_is_noise,
        with_pvalue=False,
    )


def first_change_regions(result: OmnibusResult, min_pixels: int = 1):
    """8-connected regions of equal first-change date with at least ``min_pixels`` pixels.

    Returns ``(labels, attributes)``: int32 region ids (0 outside), and per id the tuple (first
    date index, most frequent last date index, most frequent number of changes, pixels).
    Vectorised with bincount: no per-region pass over the image.
    """
    return regions_of_first_change(result.first, result.last, result.changes, result.changed_at.shape[0], min_pixels)
