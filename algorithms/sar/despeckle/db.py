"""Filters applied in dB: total variation (scikit-image's Bregman TV) and non-local means.

Both return linear intensity, ``10**(filter(10 log10 x) / 10)``; the non-local means strength
follows the speckle's standard deviation in dB for the given looks.
"""

import numpy as np

from ...common.deps import require
from .moments import _as_float, _finish, check_looks, local_moments


# -- dB-domain filters -------------------------------------------------------------------------
def _fill_nan(intensity: np.ndarray, window: int) -> np.ndarray:
    """Replace NaN pixels by the mean of the valid pixels around them (growing the window as needed)."""
    valid = np.isfinite(intensity)
    if valid.all():
        return intensity
    if not valid.any():
        return np.zeros_like(intensity)
    out = intensity.copy()
    size = window
    while not np.isfinite(out).all():
        mean, _, _ = local_moments(out, size)
        holes = ~np.isfinite(out) & np.isfinite(mean)
        out[holes] = mean[holes]
        size = 2 * size + 1
    return out


def tv_db(intensity: np.ndarray, weight: float = 0.5, *, max_num_iter: int = 100, eps: float = 1e-3) -> np.ndarray:
    """Total-variation despeckling in dB: ``10 ** (TV(10 * log10(x)) / 10)``.

    TV is scikit-image's split-Bregman ``denoise_tv_bregman`` (isotropic).
    ``weight`` is its fidelity weight: smaller smooths more. Non-positive and
    NaN pixels are no data (filled for the solve, NaN in the output).
    """
    intensity = _as_float(intensity)
    if not weight > 0:
        raise ValueError(f"weight must be > 0, got weight={weight!r}")
    restoration = require("skimage.restoration")
    from ..convert import power_to_db

    db = power_to_db(intensity.astype(np.float64))  # float64 as the reference computation
    filled = _fill_nan(db, 3)
    # scikit-image's solver drops the axes of a 1-pixel row or column and drifts on thin images:
    # those are solved edge-padded to 8 pixels a side, then cropped
    pad = [(0, max(0, 8 - n)) for n in filled.shape]
    smooth = restoration.denoise_tv_bregman(
        np.pad(filled, pad, mode="edge"), weight=weight, max_num_iter=max_num_iter, eps=eps
    )[: filled.shape[0], : filled.shape[1]]
    out = np.power(10.0, smooth / 10.0)
    return _finish(out, db).astype(intensity.dtype, copy=False)


def speckle_std_db(looks: float) -> float:
    """Standard deviation in dB of ``looks``-look intensity speckle: ``10/ln(10) * sqrt(trigamma(L))``.

    5.57 dB for 1 look, 2.2 dB for 4 looks.
    """
    special = require("scipy.special")
    return float(10.0 / np.log(10.0) * np.sqrt(special.polygamma(1, check_looks(looks))))


def nlmeans_db(
    intensity: np.ndarray,
    h: float = None,
    *,
    looks: float = 1.0,
    patch_size: int = 5,
    patch_distance: int = 6,
) -> np.ndarray:
    """Non-local means in dB (scikit-image ``denoise_nl_means``, fast mode).

    Parameters
    ----------
    h : float, optional
        Filtering strength in dB. By default ``0.8 * speckle_std_db(looks)``
        (scikit-image's advice for a known noise level), with that noise level
        passed as ``sigma``.
    looks : float
        Equivalent number of looks, for the default ``h``.
    patch_size : int
        Side of the compared patches, pixels.
    patch_distance : int
        Search radius, pixels.
    """
    intensity = _as_float(intensity)
    noise_db = speckle_std_db(looks)
    if h is None or h == 0:
        h = 0.8 * noise_db
    if not h > 0:
        raise ValueError(f"h must be > 0 dB (or 0 for automatic), got h={h!r}")
    if patch_size < 1 or patch_distance < 1:
        raise ValueError(f"patch_size and patch_distance must be >= 1, got {patch_size=}, {patch_distance=}")
    restoration = require("skimage.restoration")
    from ..convert import power_to_db

    db = power_to_db(intensity)
    filled = _fill_nan(db, 3).astype(np.float64)
    smooth = restoration.denoise_nl_means(
        filled, h=h, sigma=noise_db, patch_size=int(patch_size), patch_distance=int(patch_distance), fast_mode=True
    )
    smooth = np.reshape(smooth, filled.shape)  # scikit-image drops the axes of a 1-pixel row or column
    return _finish(np.power(10.0, smooth / 10.0), db).astype(intensity.dtype, copy=False)
