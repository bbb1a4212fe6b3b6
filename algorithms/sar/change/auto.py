"""The default two-date change decision: no tuning per image (``method="automatic"``).

Real pairs are 8-bit, dB or amplitude, of unknown looks, spatially correlated, with a gain
between the dates, noise floors and water. Every quantity the decision needs is therefore
estimated from the pair itself, on a sample (:func:`fit_pair_model`), then applied block by
block with a halo (:func:`classify_pair`), so a scene of any size gives the same map as the
whole array.

1. **Local level** of each date: a 3 x 3 median (robust to the bright points and saturated
   pixels of display-scaled data) then a ``window - 2`` boxcar. The window is the smallest
   odd size giving about :data:`TARGET_LOOKS` looks from the pixels' own estimated looks.
2. **Gain**: the mode of the log-ratio of the levels (:func:`.stats.mode_centre_scale`: a
   change over half the scene does not move it), removed per channel.
3. **Decision statistic**: the gain-free log-ratio of the levels in dB (for several channels,
   their inverse-variance weighted mean: the most likely common change).
4. **Thresholds**: Kittler-Illingworth minimum error with generalised-Gaussian classes
   (Bazi et al. 2005), one per side; a side is given a change class only when the split is
   supported against a single population (BIC), so a stable scene gets none.
5. **Gates**: a pixel may be change only when (a) the likelihood-ratio test of equal means
   on its ``window`` x ``window`` box means rejects at ``alpha`` (looks of the box estimated
   from the observed ratio spread, which absorbs speckle correlation and texture; the joint
   test of several channels adds their ``-2 ln Q`` and degrees of freedom), (b) its change is
   at least ``min_change_db``, and (c) it is not below the noise floor on both dates. Regions
   are seeded only where the test rejects, so the false-alarm rate stays below ``alpha``.
6. **Context**: iterated conditional modes on a Potts prior (8 neighbours, ``beta``) with the
   fitted class likelihoods (Bruzzone & Prieto, IEEE TGRS 38(3), 2000), under the same gates.
7. **Boundaries**: near each region, the class is redrawn on the log-ratio of the dates filtered
   at the finer window of about :data:`FINE_LOOKS` looks by an edge-aware filter (Lee; refined
   Lee for few-look data: :mod:`.boundaries`), which keeps edges where a box mean blurs them.
"""

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np

from ...common.deps import require
from .boundaries import edge_level_where, filter_side
from .gate import date_window_looks, gate_pvalue, gate_rejects
from .stats import (
    GeneralisedGaussian,
    SideThreshold,
    fit_generalised_gaussian,
    kittler_illingworth,
    looks_from_log_ratio_sd,
    mode_centre_scale,
    robust_centre_scale,
)

NO_CHANGE, LOSS, GAIN, NODATA = 0, 1, 2, 255
#: Looks the detection window aims for (the log-ratio of two such levels has ~0.5 dB spread)
#: and the looks of the finer window that draws the boundaries (~0.9 dB).
TARGET_LOOKS, FINE_LOOKS = 200.0, 45.0
#: Potts interaction and number of ICM sweeps.
BETA, ICM_ITERATIONS = 1.5, 10
#: Percentile of the local level (dB) taken as the noise floor when it is not given.
NOISE_FLOOR_PERCENTILE = 2.0
DB = 10.0 / np.log(10.0)


@dataclass
class PairModel:
    """Everything :func:`classify_pair` needs, estimated once by :func:`fit_pair_model`.

    Per-channel tuples have one entry per channel (polarisation).
    """

    window: int
    pixel_looks: Tuple[float, ...]
    window_looks: Tuple[float, ...]
    gain_db: Tuple[float, ...]
    noise_floor_db: Tuple[float, ...]
    fill: Tuple[float, ...]
    weights: Tuple[float, ...]
    loss: SideThreshold
    gain: SideThreshold
    classes: List[Optional[GeneralisedGaussian]]
    priors: Tuple[float, float, float]
    alpha: float
    min_change_db: float
    fine_window: int = 0
    beta: float = BETA
    iterations: int = ICM_ITERATIONS
    notes: List[str] = field(default_factory=list)
    #: Looks of the gate's box means per channel: ``window_looks``, or ``(before, after)`` shared
    #: out by each date's speckle when the looks are estimated (:func:`.gate.date_window_looks`).
    gate_looks: Optional[tuple] = None

    @property
    def halo(self) -> int:
        """Pixels of context a block needs to give the whole-image result."""
        return 2 * (self.window // 2) + filter_side(self.fine_window) // 2 + self.iterations + 4

    def boundary_threshold(self, k: int) -> Optional[float]:
        """Fine-scale threshold of class ``k`` (LOSS or GAIN): half-way between its centre and no change's."""
        if self.classes[k] is None or (self.loss, self.gain)[k - 1].threshold is None:
            return None
        return self.classes[NO_CHANGE].centre + 0.5 * (self.classes[k].centre - self.classes[NO_CHANGE].centre)

    @property
    def test_looks(self) -> tuple:
        """Looks of the gate's test per channel: :attr:`gate_looks`, else :attr:`window_looks`."""
        return self.gate_looks or self.window_looks

    @property
    def channels(self) -> int:
        return len(self.gain_db)


def as_stack(values) -> np.ndarray:
    values = np.asarray(values, dtype=np.float32)
    return values[None] if values.ndim == 2 else values


def window_for_looks(looks: float, target: float = TARGET_LOOKS) -> int:
    """Smallest odd window (>= 3, <= 15) whose pixels hold about ``target`` looks."""
    side = int(np.ceil(np.sqrt(target / max(looks, 1e-3)) - 0.25))
    side = max(3, min(15, side))
    return side if side % 2 else side + 1


def _box(values: np.ndarray, size: int) -> np.ndarray:
    cv2 = require("cv2")
    if size <= 1:
        return values
    return cv2.blur(values, (size, size), borderType=cv2.BORDER_REPLICATE)


def local_level(intensity: np.ndarray, window: int, fill: float) -> np.ndarray:
    """3 x 3 median then ``window - 2`` boxcar of a linear intensity; NaN filled with ``fill`` first."""
    cv2 = require("cv2")
    values = np.where(np.isfinite(intensity), intensity, fill).astype(np.float32)
    return _box(cv2.medianBlur(values, 3), window - 2)


def box_mean(intensity: np.ndarray, window: int) -> np.ndarray:
    """``window`` x ``window`` mean of the valid (finite, > 0) pixels; NaN where none is valid."""
    valid = (np.isfinite(intensity) & (intensity > 0)).astype(np.float32)
    total = _box(np.where(valid > 0, intensity, 0).astype(np.float32), window)
    count = _box(valid, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0.5 / (window * window), total / count, np.nan).astype(np.float32)


def noise_floor(levels_db: np.ndarray) -> float:
    """The level (dB) under which a pixel is noise floor or open water, from local levels of both dates.

    Open water and radar shadow make a dark population of their own (specular, at the noise
    floor), whose level fluctuates with wind and noise from date to date. When the levels show
    such a population (a Kittler-Illingworth split of the low side supported by BIC), the floor is
    the top of it: its centre plus three standard deviations, or the split if that is lower;
    otherwise, or if that is lower, the :data:`NOISE_FLOOR_PERCENTILE` percentile.
    """
    levels_db = np.asarray(levels_db, np.float64)
    levels_db = levels_db[np.isfinite(levels_db)]
    floor = float(np.percentile(levels_db, NOISE_FLOOR_PERCENTILE))
    centre, _ = robust_centre_scale(levels_db, "local level")
    dark = kittler_illingworth(levels_db, "low", centre=centre)
    if dark.threshold is None:
        return floor
    return max(floor, min(dark.threshold, dark.change.centre + 3 * dark.change.sd))


def _valid(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    ok = np.isfinite(before) & np.isfinite(after) & (before > 0) & (after > 0)
    return ok.all(axis=0)


def fit_pair_model(
    before,
    after,
    *,
    looks: float = 0.0,
    alpha: float = 0.01,
    min_change_db: float = 2.0,
    noise_floor_db: Optional[float] = None,
    normalise: bool = True,
    window: int = 0,
) -> PairModel:
    """Estimate looks, gain, noise floor, window, thresholds and class models of a pair.

    Parameters
    ----------
    before, after : (rows, cols) or (channels, rows, cols) ndarray
        Linear intensities (or a sample of them, e.g. :func:`...io.raster.sample_band`); NaN is no data.
    looks : float
        Looks of each date; 0 estimates them from the pixel log-ratio spread.
    alpha : float
        False-alarm rate of the likelihood-ratio gate.
    min_change_db : float
        Smallest change (dB) that can be called change.
    noise_floor_db : float, optional
        Level (dB) under which a pixel dark on both dates is not change; by default
        estimated by :func:`noise_floor`.
    normalise : bool
        Remove the global gain between the dates (per channel).
    window : int
        Local window; 0 chooses it from the looks (:func:`window_for_looks`).
    """
    before, after = as_stack(before), as_stack(after)
    if before.shape != after.shape:
        raise ValueError(f"before and after must have one shape, got {before.shape} and {after.shape}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got alpha={alpha!r}")
    if not (np.isfinite(min_change_db) and min_change_db >= 0):
        raise ValueError(f"min_change_db must be a finite number >= 0, got min_change_db={min_change_db!r}")
    if not (np.isfinite(looks) and looks >= 0):
        raise ValueError(f"looks must be >= 0 (0 = estimate), got looks={looks!r}")
    if window and (window < 3 or window % 2 == 0):
        raise ValueError(f"window must be 0 (automatic) or an odd integer >= 3, got window={window!r}")
    valid = _valid(before, after)
    if valid.sum() < 50:
        raise ValueError(f"the pair has {int(valid.sum())} pixels valid on both dates; at least 50 are needed")
    notes = []
    pixel_looks, fills = [], []
    for c in range(before.shape[0]):
        b, a = before[c][valid], after[c][valid]
        fills.append(float(np.median(np.concatenate([b, a]))))
        if looks > 0:
            pixel_looks.append(float(looks))
        else:
            _, sd = robust_centre_scale(np.log(a) - np.log(b), f"log-ratio of channel {c + 1}")
            pixel_looks.append(looks_from_log_ratio_sd(sd))
    fine_window = window_for_looks(min(pixel_looks), FINE_LOOKS) if not window else 0
    window = window or window_for_looks(min(pixel_looks))
    if fine_window >= window:
        fine_window = 0
    gains, window_looks, gate_looks, sds, floors = [], [], [], [], []
    stat = np.zeros(valid.sum(), np.float64)
    for c in range(before.shape[0]):
        lb = local_level(before[c], window, fills[c])[valid].astype(np.float64)
        la = local_level(after[c], window, fills[c])[valid].astype(np.float64)
        ratio = DB * (np.log(la) - np.log(lb))
        centre, sd = mode_centre_scale(ratio, f"local log-ratio of channel {c + 1}")
        gains.append(centre if normalise else 0.0)
        sds.append(sd)
        stat_c = ratio - gains[-1]
        mb, ma = box_mean(before[c], window)[valid], box_mean(after[c], window)[valid]
        _, sd_box = mode_centre_scale(np.log(ma) - np.log(mb), f"box log-ratio of channel {c + 1}")
        window_looks.append(looks_from_log_ratio_sd(sd_box))
        gate_looks.append(date_window_looks(before[c], after[c], window_looks[-1]) if looks <= 0 else window_looks[-1])
        if noise_floor_db is None:
            both = DB * np.log(np.concatenate([lb, la * 10 ** (-gains[-1] / 10)]))
            floors.append(noise_floor(both))
        else:
            floors.append(float(noise_floor_db))
        stat += stat_c / (sd * sd)
    weights = tuple(1.0 / (s * s) for s in sds)
    stat /= sum(weights)
    centre, spread = mode_centre_scale(stat, "change statistic")
    loss = kittler_illingworth(stat, "low", centre=centre, reach=4 * spread)
    gain = kittler_illingworth(stat, "high", centre=centre, reach=4 * spread)
    tl = -np.inf if loss.threshold is None else loss.threshold
    tg = np.inf if gain.threshold is None else gain.threshold
    members = [(stat > tl) & (stat < tg), stat <= tl, stat >= tg]
    classes = [fit_generalised_gaussian(stat[m], np.ones(int(m.sum()))) if m.sum() >= 5 else None for m in members]
    if classes[0] is None:
        raise ValueError("change statistic: no spread among the unchanged pixels (constant or saturated pair)")
    priors = tuple(max(float(m.mean()), 1e-6) for m in members)
    if loss.threshold is None:
        notes.append("no loss class: the log-ratio shows no separate population of decreases")
    if gain.threshold is None:
        notes.append("no gain class: the log-ratio shows no separate population of increases")
    return PairModel(
        window=window,
        pixel_looks=tuple(pixel_looks),
        window_looks=tuple(window_looks),
        gain_db=tuple(gains),
        noise_floor_db=tuple(floors),
        fill=tuple(fills),
        weights=weights,
        loss=loss,
        gain=gain,
        classes=classes,
        priors=priors,
        alpha=float(alpha),
        min_change_db=float(min_change_db),
        fine_window=fine_window,
        notes=notes,
        gate_looks=tuple(gate_looks),
    )


def _statistic(model, before, after, valid, level):
    """Gain-free log-ratio (dB) of ``level(channel, intensity)`` of the dates, weighted over the
    channels, and where change is allowed by the effect size and the noise floor."""
    stat = np.zeros(before.shape[1:], np.float64)
    dark = np.ones(before.shape[1:], bool)
    for c in range(model.channels):
        lb = level(c, before[c])
        la = level(c, after[c]) * np.float32(10 ** (-model.gain_db[c] / 10))
        with np.errstate(invalid="ignore", divide="ignore"):
            db_b, db_a = DB * np.log(lb), DB * np.log(la)
        stat += (db_a - db_b) * model.weights[c]
        dark &= (db_b < model.noise_floor_db[c]) & (db_a < model.noise_floor_db[c])
    stat /= sum(model.weights)
    with np.errstate(invalid="ignore"):
        return stat, valid & ~dark & (np.abs(stat) >= model.min_change_db)


def _statistic_and_gate(model, before, after, valid, with_pvalue=False):
    """Decision statistic (dB) at the detection window, where change is allowed (the gates, the
    likelihood-ratio test of the box means included), and the test's p-value."""
    window = model.window
    stat, allowed = _statistic(model, before, after, valid, lambda c, image: local_level(image, window, model.fill[c]))
    scale = [np.float32(10 ** (-g / 10)) for g in model.gain_db]
    mb = np.stack([box_mean(before[c], window) for c in range(model.channels)])
    ma = np.stack([box_mean(after[c], window) * scale[c] for c in range(model.channels)])
    p = gate_pvalue(mb, ma, model.test_looks) if with_pvalue else None
    with np.errstate(invalid="ignore"):
        allowed &= gate_rejects(mb, ma, model.test_looks, model.alpha)
    return stat, allowed, p


def _redraw_boundaries(model, before, after, valid, labels):
    """Redraw the detected regions on the fine window's edge-aware statistic (:mod:`.boundaries`).

    Within ``window // 2`` pixels of a region found at the detection window, a pixel takes the
    region's class when its fine-scale statistic is past :meth:`PairModel.boundary_threshold`,
    at least ``min_change_db`` and not noise floor on both dates; elsewhere there is no change.
    A 3 x 3 majority then removes single-pixel noise. Detection at the coarse scale finds weak
    changes (and keeps the false-alarm rate); the boundary follows the finer one. The
    likelihood-ratio gate is not applied again here: at ~45 looks it would reject the
    boundary pixels of changes of 3 to 4 dB that the coarse test has already found.
    """
    cv2 = require("cv2")
    near = np.ones((2 * (model.window // 2) + 1,) * 2, np.uint8)
    regions = {
        k: cv2.dilate((labels == k).view(np.uint8), near, borderType=cv2.BORDER_REPLICATE) > 0
        for k in (LOSS, GAIN)
        if model.boundary_threshold(k) is not None
    }
    out = np.full(labels.shape, NO_CHANGE, np.uint8)
    if not any(region.any() for region in regions.values()):
        return out
    where = np.logical_or.reduce(list(regions.values()))
    fine, allowed = _statistic(
        model,
        before,
        after,
        valid,
        lambda c, image: edge_level_where(image, model.fine_window, model.pixel_looks[c], model.fill[c], where),
    )
    for k, region in regions.items():
        threshold = model.boundary_threshold(k)
        with np.errstate(invalid="ignore"):
            past = fine <= threshold if k == LOSS else fine >= threshold
        member = (region & past & allowed).astype(np.float32)
        majority = cv2.blur(member, (3, 3), borderType=cv2.BORDER_REPLICATE) > 0.5
        out[majority & (out == NO_CHANGE)] = k
    return out


def _first_max(score: np.ndarray) -> np.ndarray:
    """``argmax(score, axis=0)`` as uint8 by comparisons, several times faster on a few classes
    (ties go to the first, as argmax does; NaN scores never occur)."""
    winner = np.zeros(score.shape[1:], np.uint8)
    best = score[0].copy()
    for k in range(1, score.shape[0]):
        higher = score[k] > best
        winner[higher] = k
        np.copyto(best, score[k], where=higher)
    return winner


def classify_pair(
    model: PairModel, before, after, *, with_pvalue: bool = True
) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """Change classes, statistic (dB) and gate p-value of a pair (or a block with its halo).

    Returns uint8 classes (:data:`NO_CHANGE`, :data:`LOSS`, :data:`GAIN`, :data:`NODATA`),
    float32 gain-free log-ratio of the local levels (dB) and float32 p-values (None unless
    ``with_pvalue``: the gate itself compares with the test's critical values).
    """
    before, after = as_stack(before), as_stack(after)
    if before.shape != after.shape or before.shape[0] != model.channels:
        raise ValueError(
            f"before and after must be ({model.channels}, rows, cols) like the model, "
            f"got {before.shape} and {after.shape}"
        )
    valid = _valid(before, after)
    stat, allowed, p = _statistic_and_gate(model, before, after, valid, with_pvalue)
    loglik = np.full((3,) + stat.shape, -np.inf)
    for k, (density, prior) in enumerate(zip(model.classes, model.priors)):
        if density is not None:
            loglik[k] = np.log(prior) + density.logpdf(stat)
    loglik[0][~np.isfinite(loglik[0])] = 0.0
    loglik[LOSS][~(allowed & (stat < 0))] = -np.inf
    loglik[GAIN][~(allowed & (stat > 0))] = -np.inf
    labels = np.full(stat.shape, NO_CHANGE, np.uint8)
    if model.loss.threshold is not None:
        labels[(stat <= model.loss.threshold) & np.isfinite(loglik[LOSS])] = LOSS
    if model.gain.threshold is not None:
        labels[(stat >= model.gain.threshold) & np.isfinite(loglik[GAIN])] = GAIN
    cv2 = require("cv2")
    neighbours = np.ones((3, 3), np.float32)
    neighbours[1, 1] = 0
    possible = [k for k in range(3) if np.isfinite(loglik[k]).any()]
    loglik = loglik[possible].astype(np.float32)
    codes = np.asarray(possible, np.uint8)
    beta = np.float32(model.beta)
    for _ in range(model.iterations if len(possible) > 1 else 0):
        support = np.stack(
            [
                cv2.filter2D((labels == k).astype(np.float32), -1, neighbours, borderType=cv2.BORDER_REPLICATE)
                for k in possible
            ]
        )
        score = loglik + beta * support
        winner = _first_max(score)
        labels = codes[winner]
    if model.fine_window:
        labels = _redraw_boundaries(model, before, after, valid, labels)
    labels[~valid] = NODATA
    stat = stat.astype(np.float32)
    stat[~valid] = np.nan
    if p is not None:
        p = p.astype(np.float32)
        p[~valid] = np.nan
    return labels, stat, p
