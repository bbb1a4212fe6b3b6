"""Robust statistics of a change pair: ratio looks, gain, Kittler-Illingworth thresholds.

Every estimator here is guarded: a NaN, constant or saturated input, or too few
samples, raises a ``ValueError`` naming the estimate and the input, never a NaN
that would silently turn into an empty change map.

References
----------
- Log-cumulants of the ratio: for two independent gamma intensities of ``L``
  looks and equal mean, ``var(ln(I2 / I1)) = 2 psi1(L)`` (trigamma); inverted
  here on a robust (MAD) variance, so that change, texture and speckle
  correlation are absorbed into an *effective* number of looks of the ratio
  actually observed (the empirical null of Efron, 2004).
- Kittler & Illingworth, "Minimum error thresholding", Pattern Recognition 19
  (1986); with generalised Gaussian class models: Bazi, Bruzzone & Melgani,
  "An unsupervised approach based on the generalized Gaussian model to
  automatic change detection in multitemporal SAR images", IEEE TGRS 43(4),
  2005. A split is kept only when it beats a single generalised Gaussian by
  more than the BIC penalty of its four extra parameters, so a side without
  change gets no threshold (no class is forced, unlike k-means).
"""

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from ...common.deps import require

#: Fewest finite samples an estimate accepts.
MIN_SAMPLES = 50
#: MAD to standard deviation for a Gaussian.
MAD_TO_SD = 1.4826


def _finite(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size < MIN_SAMPLES:
        raise ValueError(f"{name}: {values.size} valid pixels, at least {MIN_SAMPLES} are needed")
    return values


def robust_centre_scale(values: np.ndarray, name: str = "log-ratio") -> Tuple[float, float]:
    """Median and MAD-based standard deviation of the finite ``values``, iterated on the core.

    Two passes: the median and MAD of all values, then of those within 3 standard
    deviations of it (so a large changed area pulls the centre less).

    Raises
    ------
    ValueError
        Fewer than :data:`MIN_SAMPLES` finite values, or no spread (constant or saturated input).
    """
    values = _finite(values, name)
    centre = float(np.median(values))
    scale = MAD_TO_SD * float(np.median(np.abs(values - centre)))
    if scale > 0:
        core = values[np.abs(values - centre) <= 3 * scale]
        if core.size >= MIN_SAMPLES:
            centre = float(np.median(core))
            scale = MAD_TO_SD * float(np.median(np.abs(core - centre)))
    if not scale > 0 or not np.isfinite(scale):
        raise ValueError(
            f"{name}: no spread among {values.size} valid pixels (a constant or saturated image?); "
            "the number of looks cannot be estimated: give LOOKS"
        )
    return centre, scale


def half_sample_mode(values: np.ndarray, max_samples: int = 1 << 20) -> float:
    """The mode of ``values`` by the half-sample mode (Bickel & Fruehwirth, CSDA 50, 2006).

    The sorted sample is halved again and again, keeping each time the half of smallest range;
    the mean of the last two or three values is the mode. It stays on the larger population of a
    mixture where a median slides towards the smaller one (an area of change, a flood). At most
    ``max_samples`` values (an even stride through them) are used.
    """
    x = np.sort(np.asarray(values, np.float64).ravel()[:: max(1, values.size // max_samples)])
    while x.size > 3:
        half = (x.size + 1) // 2
        start = int(np.argmin(x[half - 1 :] - x[: x.size - half + 1]))
        x = x[start : start + half]
    if x.size == 3 and x[1] - x[0] != x[2] - x[1]:
        x = x[:2] if x[1] - x[0] < x[2] - x[1] else x[1:]
    return float(np.mean(x))


def mode_centre_scale(values: np.ndarray, name: str = "log-ratio") -> Tuple[float, float]:
    """Mode and standard deviation of the main population of ``values`` when a large part changed.

    The centre is the :func:`half_sample_mode`, sharpened twice by the median of the values
    within two standard deviations of it (within one it was as robust but twice as noisy on
    the pixel log-ratios of few-look stacks; within three a flood over two fifths of a date
    pulled it by up to 1.9 dB); the scale is the MAD-based standard deviation of the
    side of the centre with the smaller spread, which changes of one sign do not reach. A
    symmetric population gives the same scale on both sides. Used where a third or more of a
    scene may have changed one way (:func:`robust_centre_scale` moves with that part).

    Raises
    ------
    ValueError
        Fewer than :data:`MIN_SAMPLES` finite values, or no spread.
    """
    values = _finite(values, name)
    centre = half_sample_mode(values)
    for refine in range(3):  # the mode is found coarsely; the median of a window about it is sharper
        below, above = centre - values[values < centre], values[values > centre] - centre
        scales = [MAD_TO_SD * float(np.median(side)) for side in (below, above) if side.size >= MIN_SAMPLES // 2]
        scale = min(scales) if scales else 0.0
        if not scale > 0 or not np.isfinite(scale):
            raise ValueError(f"{name}: no spread among {values.size} valid pixels (a constant or saturated image?)")
        if refine < 2:
            centre = float(np.median(values[np.abs(values - centre) <= 2 * scale]))
    return centre, scale


def looks_from_log_ratio_sd(sd_nat: float) -> float:
    """The looks ``L`` of pairs whose ``ln(I2/I1)`` has the robust spread ``sd_nat``.

    ``sd_nat`` is the MAD-based standard deviation ``1.4826 MAD`` of the natural-log ratio
    (:func:`robust_centre_scale`). Under no change ``I2/I1`` follows F(2L, 2L), symmetric in
    the log about 0, so its MAD is the 75 % quantile of ``ln F(2L, 2L)``: that equation is
    solved for ``L`` exactly (at 1 look the log-ratio is logistic, far from Gaussian, and
    inverting ``2 psi1(L) = sd**2`` would be 20 % off). Returns a value in [0.05, 1e5].
    """
    # scipy.special's fdtri is what scipy.stats.f.ppf computes, without the 0.1-0.3 s import of
    # scipy.stats (the omnibus runs in a fresh qgis_process: its whole run is ~4 s)
    fdtri = require("scipy.special").fdtri
    optimize = require("scipy.optimize")
    if not sd_nat > 0 or not np.isfinite(sd_nat):
        raise ValueError(f"sd_nat must be a finite number > 0, got sd_nat={sd_nat!r}")
    mad = sd_nat / MAD_TO_SD

    def excess(looks):
        return np.log(fdtri(2 * looks, 2 * looks, 0.75)) - mad

    if excess(1e5) > 0:
        return 1e5
    if excess(0.05) < 0:
        return 0.05
    return float(optimize.brentq(excess, 0.05, 1e5, xtol=1e-6))


def prepare_pair(before: np.ndarray, after: np.ndarray, *, normalise: bool = True, looks: float = 0.0):
    """Gain and looks of an in-memory pair of linear intensities, for the methods of :mod:`.detect`.

    Returns ``(after, looks, gain_db)``: ``after`` divided by the gain between the dates (the
    robust centre of the pixel log-ratio) when ``normalise``, and ``looks`` estimated from the
    log-ratio spread (:func:`.stats.looks_from_log_ratio_sd`) when it is 0.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        log_ratio = np.log(after) - np.log(before)
    centre, spread = robust_centre_scale(log_ratio, "log-ratio of the pair")
    del log_ratio
    if normalise:
        after = (after * np.exp(-centre)).astype(np.float32)
    if looks <= 0:
        looks = looks_from_log_ratio_sd(spread)
    return after, float(looks), float(10 * centre / np.log(10)) if normalise else 0.0


# -- generalised Gaussian ---------------------------------------------------------------------------
@dataclass
class GeneralisedGaussian:
    """``p(x) = shape / (2 width Gamma(1/shape)) exp(-(|x - centre| / width)**shape)``."""

    centre: float
    width: float
    shape: float

    @property
    def sd(self) -> float:
        """Standard deviation."""
        special = require("scipy.special")
        return float(self.width * np.exp(0.5 * (special.gammaln(3 / self.shape) - special.gammaln(1 / self.shape))))

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        special = require("scipy.special")
        z = np.minimum(np.abs(np.asarray(x, dtype=np.float64) - self.centre) / self.width, 1e6)
        return np.log(self.shape / (2 * self.width)) - special.gammaln(1 / self.shape) - z**self.shape


def fit_generalised_gaussian(x: np.ndarray, weights: np.ndarray) -> Optional[GeneralisedGaussian]:
    """Moment fit (mean, E|x - mean|, variance) of a weighted sample; None when it has no spread."""
    special = require("scipy.special")
    optimize = require("scipy.optimize")
    n = float(weights.sum())
    if n <= 0:
        return None
    centre = float((weights * x).sum() / n)
    m1 = float((weights * np.abs(x - centre)).sum() / n)
    m2 = float((weights * (x - centre) ** 2).sum() / n)
    if not (m1 > 0 and m2 > 0):
        return None
    log_ratio = np.log(m2 / (m1 * m1))

    def excess(shape):
        return special.gammaln(1 / shape) + special.gammaln(3 / shape) - 2 * special.gammaln(2 / shape) - log_ratio

    low, high = 0.1, 20.0
    if excess(high) > 0:
        shape = high
    elif excess(low) < 0:
        shape = low
    else:
        shape = float(optimize.brentq(excess, low, high, xtol=1e-4))
    width = float(np.sqrt(m2 * np.exp(special.gammaln(1 / shape) - special.gammaln(3 / shape))))
    return GeneralisedGaussian(centre, width, shape)


@dataclass
class SideThreshold:
    """Outcome of :func:`kittler_illingworth` on one side of the distribution.

    Attributes
    ----------
    threshold : float or None
        Where the change class begins (values at or beyond it), None when no split
        beats a single population by the BIC penalty.
    evidence : float
        Log-likelihood gain of the best split over one population, minus the penalty.
    change, no_change : GeneralisedGaussian or None
        Class models of the best split.
    fraction : float
        Share of the samples in the change class.
    """

    threshold: Optional[float]
    evidence: float
    change: Optional[GeneralisedGaussian] = None
    no_change: Optional[GeneralisedGaussian] = None
    fraction: float = 0.0


def kittler_illingworth(
    values: np.ndarray, side: str, *, bins: int = 256, centre: float = 0.0, reach: float = np.inf
) -> SideThreshold:
    """Minimum-error threshold between no change and change on one ``side`` (``low`` or ``high``).

    The histogram of ``values`` (dB) is split at every bin edge between its extreme and
    ``centre``; each part is modelled by a :class:`GeneralisedGaussian` and the split that
    maximises the likelihood wins, if it beats one generalised Gaussian for all values by
    more than ``2 ln N`` (BIC, four extra parameters). Values farther than ``reach`` beyond
    ``centre`` on the other side are left out, so that changes of the opposite sign do not
    make the no-change class bimodal.
    """
    if side not in ("low", "high"):
        raise ValueError(f"side must be 'low' or 'high', got side={side!r}")
    x = _finite(values, "change statistic")
    if side == "high":
        x, centre = -x, -centre
    x = x[x <= centre + reach]
    if x.size < MIN_SAMPLES:
        raise ValueError(f"change statistic: {x.size} values near the centre, at least {MIN_SAMPLES} are needed")
    low, high = np.percentile(x, [0.0, 99.9])
    if not high > low:
        raise ValueError("change statistic: no spread (constant or saturated pair)")
    counts, edges = np.histogram(np.clip(x, low, high), bins=bins, range=(low, high))
    mids = 0.5 * (edges[:-1] + edges[1:])
    counts = counts.astype(np.float64)
    total = counts.sum()
    single = fit_generalised_gaussian(mids, counts)
    if single is None:
        raise ValueError("change statistic: no spread (constant or saturated pair)")
    j_single = -(counts * single.logpdf(mids)).sum()
    penalty = 2.0 * np.log(total)
    best = SideThreshold(None, -np.inf)
    for t in range(1, bins - 1):
        if edges[t] >= centre:
            break
        n1, n2 = counts[:t].sum(), counts[t:].sum()
        if n1 < 5 or n2 < 5:
            continue
        change = fit_generalised_gaussian(mids[:t], counts[:t])
        rest = fit_generalised_gaussian(mids[t:], counts[t:])
        if change is None or rest is None:
            continue
        j = -(counts[:t] * (np.log(n1 / total) + change.logpdf(mids[:t]))).sum()
        j -= (counts[t:] * (np.log(n2 / total) + rest.logpdf(mids[t:]))).sum()
        evidence = j_single - j - penalty
        if evidence > best.evidence:
            best = SideThreshold(float(edges[t]), float(evidence), change, rest, float(n1 / total))
    if best.threshold is None or best.evidence <= 0:
        return SideThreshold(None, float(best.evidence) if np.isfinite(best.evidence) else 0.0)
    if side == "high":
        flip = lambda g: GeneralisedGaussian(-g.centre, g.width, g.shape)  # noqa: E731
        return SideThreshold(-best.threshold, best.evidence, flip(best.change), flip(best.no_change), best.fraction)
    return best
