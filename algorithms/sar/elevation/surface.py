"""The default elevation-change model (``MODEL=surface``): a 2-D surface per date.

The brightness is a fitted curve of the local incidence angle (:class:`BackscatterCurve`); the
change of each date is fitted to its log-ratio against the reference date with a smoothness
prior, by Gauss-Newton iterations, with per-pixel standard errors. Elevations in metres.
"""

from dataclasses import dataclass

import numpy as np

from ...common.cancel import checkpoint
from ...common.deps import require
from .curve import BackscatterCurve, choose_curve, fit_curve, fit_curve_pairs
from .geometry import (
    _cos_derivatives,
    check_spacing,
    layover_shadow,
    local_incidence_cos,
    slopes,
)

#: Gauss-Newton iterations of the surface model, and random draws for its standard error.
ITERATIONS, SE_DRAWS = 3, 8


#: Under this many looks (single-look data) the surface model averages each date's intensity over
#: MULTILOOK x MULTILOOK pixels before the log: the log of a mean of N L-look intensities varies by
#: trigamma(N L), the mean of N logs by trigamma(L) / N: 1.56x more at 1 look (N = 9), 1.26x at 2,
#: 1.13x at 4. Averaging also mixes albedo and shading within the window; with a real albedo (the
#: Gabon backscatter) at 2 looks that cost more than it gained (3.85 m against 3.63 m, 3 seeds, near the
#: summit), so only single-look data are averaged.
MULTILOOK_UNDER_LOOKS, MULTILOOK = 1.5, 3


# -- the default: a 2-D surface fit of the change -------------------------------------------------
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


#: Models of :func:`...workflows.elevation.elevation_change_rasters`.
MODELS = ("surface", "seed_lines")


#: Smoothness prior of the surface model: the slope of the change varies from one pixel to the
#: next with a standard deviation of ``1 / sqrt(SMOOTHNESS)`` (0.18 m/m: about 10 degrees).
SMOOTHNESS = 30.0


#: Scale (pixels, a Gaussian's sigma) over which the surface model's change is taken relative to
#: its surroundings: brightness carries slopes, and slopes integrated over long distances drift.
DETREND_PX = 32.0


def surface_multilook(looks: float) -> int:
    """Side (pixels) of the intensity average the surface model uses for data of ``looks`` looks."""
    return MULTILOOK if looks < MULTILOOK_UNDER_LOOKS else 1


@dataclass(frozen=True)
class SurfaceModel:
    """What the surface model fits once per scene: the curve, the gain of each date, the looks.

    ``gains`` are natural-log offsets of each date against the reference date; ``curve_source``
    and ``curve_span_ratio`` say which curve :func:`~.curve.choose_curve` kept, and why.
    """

    curve: BackscatterCurve
    gains: tuple
    looks: float
    curve_source: str = "binned medians"
    curve_span_ratio: float = float("nan")


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
    from ..change.stats import looks_from_log_ratio_sd, robust_centre_scale

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
    logs, cosines, ratios, images = [], [], [], []
    for intensities, dem, water in windows:
        intensities = np.asarray(intensities, np.float64)
        p, q = slopes(dem, range_spacing_m, azimuth_spacing_m)
        layover, shadow = layover_shadow(dem, range_spacing_m, incidence_deg)
        ok = valid_pixels(intensities, dem, water) & ~layover & ~shadow
        log = np.log(intensities[:, ok])
        cos = local_incidence_cos(p, q, incidence_deg)
        logs.append(log[reference])
        cosines.append(cos[ok])
        ratios.append(log - log[reference])
        images.append((ok, np.log(np.where(ok, intensities[reference], 1.0)), cos))
    log_ref, cos_ref = np.concatenate(logs), np.concatenate(cosines)
    medians = fit_curve(log_ref, cos_ref, np.ones(log_ref.shape, bool))  # also refuses a DEM without relief
    choice = choose_curve(medians, fit_curve_pairs(images), cos_ref)
    gains, looks = gains_and_looks(np.concatenate(ratios, axis=1), reference, looks)
    return SurfaceModel(choice.curve, gains, looks, choice.source, choice.span_ratio)


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
        from ..change.auto import box_mean

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
