"""The backscatter curve of the surface model: log brightness as a function of ``cos t``.

Two estimators, and the choice between them (:func:`choose_curve`):

- :func:`fit_curve`: binned medians of the reference date's log intensity against ``cos t`` of
  the reference DEM. Robust to the DEM's errors (they only blur the scene-wide curve), but a
  land cover that lies on one flank bends it.
- :func:`fit_curve_pairs`: the log-ratios of neighbouring pixels, whose albedo cancels. Immune to
  land covers, but it needs a DEM that resolves the image's pixel scale: errors of the DEM in the
  pairs' small ``cos t`` contrast flatten its slope (errors in variables).
"""

from dataclasses import dataclass

import numpy as np

from ...common.deps import require


@dataclass(frozen=True)
class BackscatterCurve:
    """Natural log of the brightness as a function of ``cos t`` (local incidence), fitted on data.

    A monotone-preserving cubic (PCHIP) through ``(knots, values)``. Outside the knots the curve
    is held at its end values, with no sensitivity.
    """

    knots: tuple
    values: tuple

    def _interpolator(self):
        interpolate = require("scipy.interpolate")
        return interpolate.PchipInterpolator(np.asarray(self.knots), np.asarray(self.values), extrapolate=False)

    def __call__(self, cos_local):
        c = np.clip(cos_local, self.knots[0], self.knots[-1])
        return self._interpolator()(c)

    def slope(self, cos_local):
        """``d ln(brightness) / d cos t``; 0 outside the knots."""
        out = self._interpolator().derivative()(np.asarray(cos_local, np.float64))
        return np.nan_to_num(out, nan=0.0)


def fit_curve(log_intensity: np.ndarray, cos_local: np.ndarray, valid: np.ndarray, *, bins: int = 32):
    """Fit :class:`BackscatterCurve` to ``log_intensity`` (natural log) against ``cos_local``.

    The knots are the medians of ``cos t`` and of the log intensity in ``bins`` bins of equal
    count (medians: robust to the albedo and to point targets; no parametric law assumed).
    Raises ``ValueError`` when fewer than ``16 * bins`` valid pixels or no spread of ``cos t``
    are left (a flat reference DEM cannot calibrate the curve).
    """
    ok = valid & np.isfinite(log_intensity) & np.isfinite(cos_local) & (cos_local > 0)
    c, v = cos_local[ok], log_intensity[ok]
    if c.size < 16 * bins:
        raise ValueError(f"too few valid pixels to fit the backscatter curve: {c.size} (need {16 * bins})")
    edges = np.quantile(c, np.linspace(0, 1, bins + 1))
    if edges[-1] - edges[0] < 0.02:
        raise ValueError(
            "the reference DEM has too little relief to fit the backscatter curve "
            f"(cos of the local incidence spans {edges[0]:.3f}..{edges[-1]:.3f})"
        )
    order = np.argsort(c)
    knots, values = [], []
    for part in np.array_split(order, bins):
        knots.append(float(np.median(c[part])))
        values.append(float(np.median(v[part])))
    knots, unique = np.unique(knots, return_index=True)
    if knots.size < 4:
        raise ValueError("the reference DEM has too little relief to fit the backscatter curve")
    return BackscatterCurve(tuple(float(k) for k in knots), tuple(values[i] for i in unique))


#: The backscatter curve fitted to neighbouring pixels (:func:`fit_curve_pairs`): cubic B-spline
#: knots (at quantiles of ``cos t``), the largest pixel offset of a pair, the most pairs used, and
#: the weight of the second-difference penalty on the spline's coefficients.
CURVE_KNOTS, CURVE_REACH_PX, CURVE_MAX_PAIRS, CURVE_PENALTY = 20, 2, 1_000_000, 0.05


def fit_curve_pairs(images, *, knots: int = CURVE_KNOTS, seed: int = 0):
    """Fit :class:`BackscatterCurve` to the log-ratios of neighbouring pixels of the reference date.

    ``images`` are ``(ok, log_intensity, cos_local)`` 2-D arrays of windows of the scene. For
    pixels ``i, j`` up to :data:`CURVE_REACH_PX` apart along rows or columns, both ``ok``, the
    curve ``F`` (a cubic B-spline in ``cos t`` with ``knots`` knots at its quantiles) is fitted to
    ``ln I_i - ln I_j = F(cos_i) - F(cos_j)`` by least squares with a light curvature penalty,
    reweighted three times with Huber's weights (edges of land covers). The albedo of
    neighbouring pixels is nearly the same and cancels, where the binned medians of
    :func:`fit_curve` mix the land covers that each range of ``cos t`` happens to hold: with a
    real land cover (the Gabon albedo) on one flank of the simulated volcano their slope was off
    by up to 5x, and these within 10-30 %. Only differences of the curve are defined (its level
    is arbitrary). None when fewer than ``64 * knots`` pairs are found.
    """
    from ..change.stats import MAD_TO_SD

    interpolate = require("scipy.interpolate")
    c_all = np.concatenate([cos[ok] for ok, _, cos in images])
    if c_all.size < 16 * knots:
        return None
    lo, hi = np.quantile(c_all, [0.001, 0.999])
    if not hi - lo > 1e-3:
        return None
    inner = np.quantile(c_all, np.linspace(0, 1, knots)[1:-1])
    t = np.concatenate([[lo] * 4, inner, [hi] * 4])
    first, second, steps = [], [], []
    offsets = [(0, d) for d in range(1, CURVE_REACH_PX + 1)] + [(d, 0) for d in range(1, CURVE_REACH_PX + 1)]
    for ok, log, cos in images:
        cos = np.clip(cos, lo, hi)
        for dr, dc in offsets:
            rows, cols = ok.shape[0] - dr, ok.shape[1] - dc
            both = ok[:rows, :cols] & ok[dr:, dc:]
            first.append(cos[:rows, :cols][both])
            second.append(cos[dr:, dc:][both])
            steps.append(log[:rows, :cols][both] - log[dr:, dc:][both])
    ci, cj, y = (np.concatenate(parts) for parts in (first, second, steps))
    if y.size < 64 * knots:
        return None
    if y.size > CURVE_MAX_PAIRS:  # memory: the design matrix holds 8 values per pair
        keep = np.random.default_rng(seed).choice(y.size, CURVE_MAX_PAIRS, replace=False)
        ci, cj, y = ci[keep], cj[keep], y[keep]
    design = (interpolate.BSpline.design_matrix(ci, t, 3) - interpolate.BSpline.design_matrix(cj, t, 3)).tocsr()
    size = len(t) - 4
    second_difference = np.diff(np.eye(size), 2, axis=0)
    weight = np.ones(y.size)
    for _ in range(3):
        normal = (design.T @ design.multiply(weight[:, None]).tocsr()).toarray()
        penalty = CURVE_PENALTY * np.trace(normal) / size * (second_difference.T @ second_difference)
        beta = np.linalg.solve(normal + penalty + 1e-9 * np.eye(size), design.T @ (weight * y))
        residual = np.abs(y - design @ beta)
        weight = np.minimum(1.0, 2.0 * MAD_TO_SD * np.median(residual) / np.maximum(residual, 1e-12))
    grid = np.linspace(lo, hi, 300)
    values = interpolate.BSpline(t, beta, 3)(grid)
    return BackscatterCurve(tuple(float(g) for g in grid), tuple(float(v) for v in values))


#: :func:`choose_curve` keeps the pairs' curve when its span of ``ln`` brightness over the central
#: 90 % of ``cos t`` is at least this share of the binned medians'. On the simulated volcano with
#: the true DEM the share was 0.87-1.35, and 0.66-0.74 with a real land cover on one flank (which
#: widens the medians' span); with the DEM given as a 30 m DEM with 1-3 m of noise, interpolated to
#: the 10 m pixels, it was 0.09-0.56, and the pairs' curve gave 2-3x the error of the medians'.
CURVE_MIN_SPAN_RATIO = 0.6


@dataclass(frozen=True)
class CurveChoice:
    """The curve the surface model uses, where it came from, and the pairs' span over the medians'."""

    curve: BackscatterCurve
    source: str
    span_ratio: float


def choose_curve(medians: BackscatterCurve, pairs, cos_local: np.ndarray) -> CurveChoice:
    """The pairs' curve (:func:`fit_curve_pairs`) unless the DEM's errors have flattened it.

    ``source`` is ``"neighbouring pixels"`` or ``"binned medians"``; ``span_ratio`` is the pairs'
    span of ``ln`` brightness over the 5-95 % quantiles of ``cos_local`` divided by the medians'
    (NaN when there are no pairs). The medians are used when it is under
    :data:`CURVE_MIN_SPAN_RATIO`: the DEM does not resolve the image's pixel scale (a coarser or
    noisier DEM), and the pairs would understate each pixel's sensitivity, so overstate its change.
    """
    if pairs is None:
        return CurveChoice(medians, "binned medians", float("nan"))
    lo, hi = np.quantile(cos_local, [0.05, 0.95])
    span = float(medians(hi) - medians(lo))
    ratio = float(pairs(hi) - pairs(lo)) / span if abs(span) > 1e-9 else float("nan")
    if np.isfinite(ratio) and ratio >= CURVE_MIN_SPAN_RATIO:
        return CurveChoice(pairs, "neighbouring pixels", ratio)
    return CurveChoice(medians, "binned medians", ratio)
