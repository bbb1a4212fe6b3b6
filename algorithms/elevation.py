"""Elevation change from SAR amplitude by shape from shading.

Arrays are ``(rows, cols)`` = (azimuth, range) with range increasing along columns (flip the
columns of a scene whose range runs right to left before calling, and flip the results back).
Slopes are dimensionless (metres per metre); elevations and changes are metres.

Two models:

``seed_lines`` (:func:`seed_line_dems`), the seed notebook's MoSARt method: along each range
line, the elevation is ``a * cumsum(amplitude) + b * x + c``, with ``a, b, c`` fitted by weighted
least squares to the reference DEM on the same line. It assumes the brightness linear in the
range slope and uses no neighbouring line.

``surface`` (:func:`change_surface`), the default: the elevation change of each date is one
2-D surface fitted to the log-ratio of that date's intensity to the reference date's. The
brightness is a non-linear function of the local incidence angle, fitted on the reference date
against the reference DEM (:class:`BackscatterCurve`), so the change of each pixel's slope in
range *and* azimuth moves its brightness along that curve; the albedo of the ground, unknown,
cancels in the ratio; a smoothness prior couples neighbouring lines; layover, shadow and water
carry no weight; Gauss-Newton iterations follow the non-linear curve. Being a linear least
squares problem at each iteration, it also gives the standard error of every pixel's change
(:func:`change_surface`, ``standard_error``).
"""

import warnings
from dataclasses import dataclass

import numpy as np

from .cancel import checkpoint
from .deps import require

#: Slope (degrees) under which the reference DEM is "flat" for the seed method's weights.
FLAT_SLOPE_DEG = 2.0


def check_angle(incidence_deg: float) -> float:
    """``incidence_deg`` as a float in (0, 90), else ``ValueError`` naming it."""
    try:
        value = float(incidence_deg)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0 < value < 90:
        raise ValueError(f"incidence_deg must be an angle in (0, 90) degrees, got incidence_deg={incidence_deg!r}")
    return value


def check_spacing(name: str, value: float) -> float:
    """A pixel spacing (metres) as a float > 0, else ``ValueError`` naming it."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = float("nan")
    if not (np.isfinite(out) and out > 0):
        raise ValueError(f"{name} must be a pixel spacing > 0 metres, got {name}={value!r}")
    return out


# -- geometry ------------------------------------------------------------------------------------
def slopes(dem_m: np.ndarray, range_spacing_m: float, azimuth_spacing_m: float):
    """Range slope ``p = dz/dx`` and azimuth slope ``q = dz/dy`` (m/m) of a DEM (central differences)."""
    dem = np.asarray(dem_m, np.float64)
    if dem.ndim != 2 or min(dem.shape) < 2:
        raise ValueError(f"dem must be a 2-D array of at least 2 x 2 pixels, got shape {dem.shape}")
    q, p = np.gradient(
        dem, check_spacing("azimuth_spacing_m", azimuth_spacing_m), check_spacing("range_spacing_m", range_spacing_m)
    )
    return p, q


def local_incidence_cos(p: np.ndarray, q: np.ndarray, incidence_deg: float) -> np.ndarray:
    """Cosine of the local incidence angle of a surface of slopes ``p`` (range) and ``q`` (azimuth).

    The radar looks along increasing range at ``incidence_deg`` from the vertical:
    ``cos t = (cos t0 + p sin t0) / sqrt(1 + p^2 + q^2)``; a slope facing the radar (p > 0) is
    brighter, a negative value is a slope turned away beyond grazing (shadow).
    """
    t0 = np.radians(check_angle(incidence_deg))
    return (np.cos(t0) + p * np.sin(t0)) / np.sqrt(1.0 + p * p + q * q)


def _cos_derivatives(p, q, incidence_deg):
    """``d cos t / dp`` and ``d cos t / dq`` of :func:`local_incidence_cos`."""
    t0 = np.radians(incidence_deg)
    n2 = 1.0 + p * p + q * q
    n = np.sqrt(n2)
    top = np.cos(t0) + p * np.sin(t0)
    return np.sin(t0) / n - top * p / (n2 * n), -top * q / (n2 * n)


def layover_shadow(dem_m: np.ndarray, range_spacing_m: float, incidence_deg: float, *, tolerance_m: float = 0.5):
    """Masks of layover and radar shadow of a DEM seen along increasing range.

    Layover: the range slope faces the radar more steeply than the incidence angle
    (``p >= tan t0``; the top of the slope is nearer the radar than its foot). Shadow: the line of
    sight to a pixel is blocked by terrain at nearer range (``z + x cot t0`` under its running
    maximum by more than ``tolerance_m``), which includes slopes turned away beyond grazing.
    """
    dem = np.asarray(dem_m, np.float64)
    dx = check_spacing("range_spacing_m", range_spacing_m)
    t0 = np.radians(check_angle(incidence_deg))
    p = np.gradient(dem, dx, axis=1)
    layover = p >= np.tan(t0)
    sight = dem + np.arange(dem.shape[1]) * dx / np.tan(t0)
    sight = np.where(np.isfinite(sight), sight, -np.inf)
    shadow = sight < np.maximum.accumulate(sight, axis=1) - tolerance_m
    return layover, shadow


# -- the seed's line method ----------------------------------------------------------------------
def flat_ground(dem_m: np.ndarray, range_spacing_m: float, azimuth_spacing_m: float) -> np.ndarray:
    """Where the DEM's slope is under :data:`FLAT_SLOPE_DEG` (False where it is no data)."""
    p, q = slopes(dem_m, range_spacing_m, azimuth_spacing_m)
    with np.errstate(invalid="ignore"):
        return np.degrees(np.arctan(np.hypot(p, q))) < FLAT_SLOPE_DEG


def seed_weights(dem_m: np.ndarray, water: np.ndarray, range_spacing_m: float, azimuth_spacing_m: float):
    """The seed's weights: 0 on water and where the reference DEM is flat (< FLAT_SLOPE_DEG), else 1."""
    flat = flat_ground(dem_m, range_spacing_m, azimuth_spacing_m)
    ok = ~(flat | np.asarray(water, bool)) & np.isfinite(dem_m)
    return ok.astype(np.float64)


def seed_line_dems(amplitudes: np.ndarray, dem_m: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """DEMs of every date by the seed's line fit (MoSARt): ``a * cumsum(A) + b * x + c`` per range line.

    Parameters
    ----------
    amplitudes : (dates, rows, cols) ndarray
        Filtered amplitude of each date (any linear amplitude unit); NaN is no data.
    dem_m : (rows, cols) ndarray
        Reference elevation, metres.
    weights : (rows, cols) ndarray
        Weight of each pixel in the fit (0 drops it: water, flat ground, no data).

    Returns
    -------
    (dates, rows, cols) float64 ndarray
        Elevation of each date, metres; NaN on lines with fewer than 3 weighted pixels or a
        singular fit, and where an amplitude is no data.
    """
    amplitudes = np.asarray(amplitudes, np.float64)
    if amplitudes.ndim != 3:
        raise ValueError(f"amplitudes must be (dates, rows, cols), got shape {amplitudes.shape}")
    dem = np.asarray(dem_m, np.float64)
    if dem.shape != amplitudes.shape[1:] or np.shape(weights) != dem.shape:
        raise ValueError(
            f"dem_m {dem.shape} and weights {np.shape(weights)} must match the amplitudes' grid {amplitudes.shape[1:]}"
        )
    cols = dem.shape[1]
    x = np.arange(cols, dtype=np.float64) / cols  # scaled for a well-conditioned fit
    out = np.full(amplitudes.shape, np.nan)
    for k, amplitude in enumerate(amplitudes):
        checkpoint()
        missing = ~np.isfinite(amplitude)
        cumulative = np.cumsum(np.where(missing, 0.0, amplitude), axis=1)
        scale = np.maximum(np.abs(cumulative[:, -1:]), 1e-30)
        s = cumulative / scale
        w = np.where(missing | ~np.isfinite(dem), 0.0, np.asarray(weights, np.float64))
        z = np.where(w > 0, dem, 0.0)
        design = np.stack([s, np.broadcast_to(x, s.shape), np.ones_like(s)], axis=-1)  # (rows, cols, 3)
        normal = np.einsum("rci,rc,rcj->rij", design, w, design)
        rhs = np.einsum("rci,rc,rc->ri", design, w, z)
        good = (np.count_nonzero(w > 0, axis=1) >= 3) & (np.linalg.cond(normal) < 1e12)
        coef = np.full((dem.shape[0], 3), np.nan)
        if good.any():
            coef[good] = np.linalg.solve(normal[good], rhs[good][..., None])[..., 0]
        out[k] = np.einsum("rci,ri->rc", design, coef)
        out[k][missing] = np.nan
    return out


# -- the default: a 2-D surface fit of the change -------------------------------------------------
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


def _operators(rows: int, cols: int, dx: float, dy: float):
    """Sparse central-difference gradients (m/m per metre of change) and forward differences."""
    sparse = require("scipy.sparse")

    def central(n, step):
        d = sparse.diags([-0.5 * np.ones(n - 1), 0.5 * np.ones(n - 1)], [-1, 1], format="lil")
        d[0, 0], d[0, 1] = -1.0, 1.0
        d[n - 1, n - 2], d[n - 1, n - 1] = -1.0, 1.0
        return d.tocsr() / step

    def forward(n):
        return sparse.diags([-np.ones(n - 1), np.ones(n - 1)], [0, 1], shape=(n - 1, n), format="csr")

    ir, ic = sparse.identity(rows, format="csr"), sparse.identity(cols, format="csr")
    gx = sparse.kron(ir, central(cols, dx), format="csr")
    gy = sparse.kron(central(rows, dy), ic, format="csr")
    fx = sparse.kron(ir, forward(cols), format="csr")
    fy = sparse.kron(forward(rows), ic, format="csr")
    return gx, gy, fx, fy


#: Models of :func:`.elevation_io.elevation_change_rasters`.
MODELS = ("surface", "seed_lines")
#: Smoothness prior of the surface model: the slope of the change varies from one pixel to the
#: next with a standard deviation of ``1 / sqrt(SMOOTHNESS)`` (0.18 m/m: about 10 degrees).
SMOOTHNESS = 30.0
#: Scale (pixels, a Gaussian's sigma) over which the surface model's change is taken relative to
#: its surroundings: brightness carries slopes, and slopes integrated over long distances drift.
DETREND_PX = 32.0
#: Gauss-Newton iterations of the surface model, and random draws for its standard error.
ITERATIONS, SE_DRAWS = 3, 8
#: Under this many looks (single-look data) the surface model averages each date's intensity over
#: MULTILOOK x MULTILOOK pixels before the log: the log of a mean of N L-look intensities varies by
#: trigamma(N L), the mean of N logs by trigamma(L) / N: 1.56x more at 1 look (N = 9), 1.26x at 2,
#: 1.13x at 4. Averaging also mixes albedo and shading within the window; with a real albedo (the
#: Gabon backscatter) at 2 looks that cost more than it gained (3.85 m against 3.63 m near the
#: summit), so only single-look data are averaged.
MULTILOOK_UNDER_LOOKS, MULTILOOK = 1.5, 3


def surface_multilook(looks: float) -> int:
    """Side (pixels) of the intensity average the surface model uses for data of ``looks`` looks."""
    return MULTILOOK if looks < MULTILOOK_UNDER_LOOKS else 1


@dataclass(frozen=True)
class SurfaceModel:
    """What the surface model fits once per scene: the curve, the gain of each date, the looks.

    ``gains`` are natural-log offsets of each date against the reference date.
    """

    curve: BackscatterCurve
    gains: tuple
    looks: float


def valid_pixels(intensities, dem, water):
    """Pixels with a DEM value, not water, and a valid (finite, > 0) intensity on every date."""
    ok = np.isfinite(dem) & ~np.asarray(water, bool)
    for image in intensities:
        ok &= np.isfinite(image) & (image > 0)
    return ok


def gains_and_looks(log_ratios: np.ndarray, reference: int, looks: float = 0.0):
    """Gain of each date (natural log, 0 for the reference) and the looks, from log-ratios to the reference.

    ``log_ratios`` is ``(dates, pixels)`` of ``ln(I_t / I_ref)``. A date's gain is the robust centre
    of its ratios (most of a scene does not change); ``looks`` <= 0 is estimated from their robust
    spread (the ratio of two independent ``L``-look dates), the median over dates.
    """
    from .change_stats import looks_from_log_ratio_sd, robust_centre_scale

    gains, spreads = [], []
    for k, values in enumerate(log_ratios):
        if k == reference:
            gains.append(0.0)
            continue
        centre, spread = robust_centre_scale(values, f"log-ratio of date {k + 1} to the reference date")
        gains.append(centre)
        spreads.append(spread)
    if not looks or looks <= 0:
        looks = float(np.median([looks_from_log_ratio_sd(s) for s in spreads]))
    return tuple(gains), float(looks)


def fit_surface_model(
    windows,
    *,
    reference: int,
    incidence_deg: float,
    range_spacing_m: float,
    azimuth_spacing_m: float,
    looks: float = 0.0,
) -> SurfaceModel:
    """Fit :class:`SurfaceModel` on windows of the scene.

    Parameters
    ----------
    windows : sequence of (intensities, dem_m, water)
        Windows of the scene: ``(dates, rows, cols)`` linear intensity, the reference DEM (m) and
        the water mask on the same pixels.
    reference : int
        0-based index of the reference date.
    looks : float
        Equivalent number of looks of one date; <= 0 estimates it from the spread of the
        log-ratio of each date to the reference date (median over dates).
    """
    logs, cosines, ratios = [], [], []
    for intensities, dem, water in windows:
        intensities = np.asarray(intensities, np.float64)
        p, q = slopes(dem, range_spacing_m, azimuth_spacing_m)
        layover, shadow = layover_shadow(dem, range_spacing_m, incidence_deg)
        ok = valid_pixels(intensities, dem, water) & ~layover & ~shadow
        log = np.log(intensities[:, ok])
        logs.append(log[reference])
        cosines.append(local_incidence_cos(p, q, incidence_deg)[ok])
        ratios.append(log - log[reference])
    log_ref, cos_ref = np.concatenate(logs), np.concatenate(cosines)
    curve = fit_curve(log_ref, cos_ref, np.ones(log_ref.shape, bool))
    gains, looks = gains_and_looks(np.concatenate(ratios, axis=1), reference, looks)
    return SurfaceModel(curve, gains, looks)


def _detrend(change, weight, detrend_px, gaussian_filter):
    if not detrend_px:
        return change
    smooth = gaussian_filter(change * weight, detrend_px, mode="nearest")
    norm = gaussian_filter(weight, detrend_px, mode="nearest")
    return change - smooth / np.maximum(norm, 1e-6)


def change_surface(
    intensities: np.ndarray,
    dem_m: np.ndarray,
    water: np.ndarray,
    model: SurfaceModel,
    *,
    reference: int,
    incidence_deg: float,
    range_spacing_m: float,
    azimuth_spacing_m: float,
    smoothness: float = SMOOTHNESS,
    detrend_px: float = DETREND_PX,
    iterations: int = ITERATIONS,
    draws: int = SE_DRAWS,
    seed: int = 0,
    multilook: int = None,
):
    """Elevation change of every date against the reference date by the 2-D surface fit.

    For each date ``t`` the change ``dz`` minimises (Gauss-Newton, ``iterations``)

        sum_pixels w * (ln I_t - ln I_ref - g_t - F(cos t(dz)) + F(cos t(0)))^2
        + smoothness * sum_pixels |laplacian(dz) / spacing|^2

    where ``F`` is ``model.curve``, ``cos t(dz)`` the local incidence of the reference DEM plus
    ``dz``, ``g_t`` the date's gain, and ``w = 1 / (2 trigamma(m^2 looks) m^2)`` the inverse
    variance of a log-ratio of two ``looks``-look intensities averaged over ``m x m`` pixels
    (``multilook``, default :func:`surface_multilook`), shared by the ``m^2`` pixels of a window
    (0 on water, layover, shadow and no data).
    The result is taken relative to its surroundings over ``detrend_px`` pixels (0: not).

    Returns
    -------
    change, standard_error : (dates, rows, cols) float64 ndarrays
        Metres; NaN on water and no data; the reference date is 0. The standard error is that
        of the linearised fit at the solution, from ``draws`` random draws of its posterior
        (each a solve with the factorised matrix), scaled by the residuals' chi-square when
        they spread more than the looks say; ``draws=0`` skips it (None is returned).
    """
    sparse = require("scipy.sparse")
    linalg = require("scipy.sparse.linalg")
    ndimage = require("scipy.ndimage")
    special = require("scipy.special")
    intensities = np.asarray(intensities, np.float64)
    dem = np.asarray(dem_m, np.float64)
    if intensities.ndim != 3 or intensities.shape[1:] != dem.shape or np.shape(water) != dem.shape:
        raise ValueError(
            f"intensities (dates, rows, cols) {intensities.shape}, dem_m {dem.shape} and water "
            f"{np.shape(water)} must share one grid"
        )
    if not 0 <= reference < intensities.shape[0]:
        raise ValueError(f"reference must index a date (0..{intensities.shape[0] - 1}), got reference={reference!r}")
    if not (np.isfinite(smoothness) and smoothness > 0):
        raise ValueError(f"smoothness must be > 0, got smoothness={smoothness!r}")
    if not (np.isfinite(detrend_px) and detrend_px >= 0):
        raise ValueError(f"detrend_px must be >= 0 pixels, got detrend_px={detrend_px!r}")
    dx = check_spacing("range_spacing_m", range_spacing_m)
    dy = check_spacing("azimuth_spacing_m", azimuth_spacing_m)
    rows, cols = dem.shape
    n = rows * cols
    filled = np.where(np.isfinite(dem), dem, np.nanmean(dem) if np.isfinite(dem).any() else 0.0)
    p0, q0 = slopes(filled, dx, dy)
    p0, q0 = p0.ravel(), q0.ravel()
    cos0 = local_incidence_cos(p0, q0, incidence_deg)
    layover, shadow = layover_shadow(filled, dx, incidence_deg)
    water = np.asarray(water, bool)
    nodata = ~np.isfinite(dem) | water
    gx, gy, fx, fy = _operators(rows, cols, dx, dy)
    laplacian = (fx.T @ fx + fy.T @ fy) / (0.5 * (dx + dy))
    prior = smoothness * (laplacian.T @ laplacian) + 1e-6 * sparse.identity(n)
    side = surface_multilook(model.looks) if multilook is None else int(multilook)
    if side < 1:
        raise ValueError(f"multilook must be a window side >= 1 pixel, got multilook={multilook!r}")
    weight_of_pixel = 1.0 / (2.0 * float(special.polygamma(1, model.looks * side * side)) * side * side)
    averaged = intensities
    if side > 1:
        from .change_auto import box_mean

        averaged = np.stack([box_mean(image, side).astype(np.float64) for image in intensities])
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(averaged)
    change = np.zeros(intensities.shape)
    stderr = np.zeros(intensities.shape) if draws else None
    rng = np.random.default_rng(seed)
    weight = (~nodata).astype(np.float64)  # of the detrending
    root_prior = np.sqrt(smoothness) * laplacian
    for t in range(intensities.shape[0]):
        if t == reference:
            change[t][nodata] = np.nan
            if draws:
                stderr[t][nodata] = np.nan
            continue
        ok = valid_pixels(intensities[[t, reference]], dem, water) & ~layover & ~shadow
        data = np.where(ok, logs[t] - logs[reference], 0.0).ravel() - model.gains[t]
        w = np.where(ok.ravel(), weight_of_pixel, 0.0)
        dz = np.zeros(n)
        for _ in range(max(1, int(iterations))):
            checkpoint()
            p, q = p0 + gx @ dz, q0 + gy @ dz
            cos = local_incidence_cos(p, q, incidence_deg)
            dcos_dp, dcos_dq = _cos_derivatives(p, q, incidence_deg)
            slope = model.curve.slope(cos)
            residual = data - (model.curve(cos) - model.curve(cos0))
            jacobian = sparse.diags(slope * dcos_dp) @ gx + sparse.diags(slope * dcos_dq) @ gy
            weighted = sparse.diags(w) @ jacobian
            matrix = (jacobian.T @ weighted + prior).tocsc()
            solver = linalg.splu(matrix)
            dz = dz + solver.solve(jacobian.T @ (w * residual) - prior @ dz)
        change[t] = _detrend(dz.reshape(rows, cols), weight, detrend_px, ndimage.gaussian_filter)
        missing = nodata | ~np.isfinite(intensities[t])
        change[t][missing] = np.nan
        if not draws:
            continue
        # the residual spread against the looks: > 1 when the data vary more than speckle explains
        p, q = p0 + gx @ dz, q0 + gy @ dz
        residual = data - (model.curve(local_incidence_cos(p, q, incidence_deg)) - model.curve(cos0))
        used = w > 0
        chi2 = float(np.mean(w[used] * residual[used] ** 2)) if used.any() else 1.0
        # draws of the posterior of the linearised problem: H x = J' W^1/2 e1 + P^1/2 e2
        noise = jacobian.T @ (np.sqrt(w)[:, None] * rng.standard_normal((n, draws)))
        noise += root_prior.T @ rng.standard_normal((n, draws))
        samples = solver.solve(np.asarray(noise))
        detrended = np.stack(
            [
                _detrend(samples[:, k].reshape(rows, cols), weight, detrend_px, ndimage.gaussian_filter)
                for k in range(draws)
            ]
        )
        variance = ndimage.gaussian_filter(np.mean(detrended**2, axis=0), 2.0, mode="nearest")
        stderr[t] = np.sqrt(variance * max(chi2, 1.0))
        stderr[t][missing] = np.nan
    return change, stderr


def seed_change(
    amplitudes: np.ndarray,
    dem_m: np.ndarray,
    water: np.ndarray,
    *,
    reference: int,
    range_spacing_m: float,
    azimuth_spacing_m: float,
):
    """The seed method's DEMs, change against the reference date, and a standard error from its residuals.

    ``amplitudes`` are already filtered (the seed filters with non-local means). The standard
    error of a line's change is ``sqrt(s_t^2 + s_ref^2)``, the RMS residuals of the two lines'
    fits to the reference DEM (the same on the whole line: the line method has no finer one).
    """
    weights = seed_weights(dem_m, water, range_spacing_m, azimuth_spacing_m)
    dems = seed_line_dems(amplitudes, dem_m, weights)
    used = weights > 0
    misfit = np.where(used, dems - np.asarray(dem_m, np.float64), np.nan)
    with warnings.catch_warnings():  # a line without weight has no residual: NaN, said by the output
        warnings.simplefilter("ignore", RuntimeWarning)
        rms = np.sqrt(np.nanmean(misfit**2, axis=2))  # (dates, rows)
    change = dems - dems[reference]
    stderr = np.sqrt(rms**2 + rms[reference] ** 2)[:, :, None] * np.ones(dems.shape[1:])
    stderr[reference] = 0.0
    stderr[np.isnan(change)] = np.nan
    water = np.asarray(water, bool)
    for array in (dems, change, stderr):
        array[:, water] = np.nan
    return dems, change, stderr
