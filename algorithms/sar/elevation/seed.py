"""The seed notebook's MoSARt line model (``MODEL=seed_lines``), kept as a documented reference.

Along each range line the elevation is ``a * cumsum(amplitude) + b * x + c``, fitted by weighted
least squares to the reference DEM on that line; water and flat ground carry no weight.
"""

import warnings

import numpy as np

from ...common.cancel import checkpoint
from .geometry import flat_ground


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
