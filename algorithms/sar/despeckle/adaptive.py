"""The classic adaptive filters: boxcar, median, Lee, Kuan, Gamma MAP and Frost.

Formulas of Orfeo ToolBox 8.1 (``otb::LeeImageFilter``, ``FrostImageFilter``,
``GammaMAPImageFilter``, ``KuanImageFilter``); the tests compare with ``otbcli_Despeckle``.
"""

from functools import lru_cache

import numpy as np

from ...common.deps import require
from .db import _fill_nan
from .moments import (
    _EPS,
    _as_float,
    _correlate,
    _finish,
    _fused_moments,
    _scratch,
    check_looks,
    check_window,
    local_moments,
)


# -- the OTB family ------------------------------------------------------------------------------
def boxcar(intensity: np.ndarray, window: int = 7) -> np.ndarray:
    """Mean over a square window (the multilook estimate of the local reflectivity)."""
    intensity = _as_float(intensity)
    mean, _, _ = local_moments(intensity, check_window(window))
    return _finish(mean, intensity)


def median(intensity: np.ndarray, window: int = 7) -> np.ndarray:
    """Median over a square window. NaN pixels are first filled with their local mean."""
    intensity = _as_float(intensity)
    window = check_window(window)
    ndimage = require("scipy.ndimage")
    filled = _fill_nan(intensity, window)
    return _finish(ndimage.median_filter(filled, size=window, mode="nearest"), intensity)


def lee(intensity: np.ndarray, window: int = 7, looks: float = 1.0) -> np.ndarray:
    """Lee MMSE filter, as Orfeo ToolBox computes it.

    With local mean ``E``, unbiased variance ``V``, ``Ci2 = V / E**2`` and
    ``Cu2 = 1 / looks``: the output is ``E`` where ``Ci2 < Cu2`` (homogeneous),
    else ``I * w + E * (1 - w)`` with ``w = 1 - Cu2 / Ci2``.

    Parameters
    ----------
    intensity : (rows, cols) ndarray of float32 or float64
        Linear power (not dB). NaN marks no data and is passed through.
    window : int
        Odd side of the square window, in pixels (OTB radius = window // 2).
    looks : float
        Equivalent number of looks of the input.

    Returns
    -------
    (rows, cols) ndarray, same dtype as ``intensity``.
    """
    return _lee_kuan(intensity, window, looks, "lee")


def kuan(intensity: np.ndarray, window: int = 7, looks: float = 1.0) -> np.ndarray:
    """Kuan filter (OTB): as :func:`lee` with ``w = (1 - Cu2 / Ci2) / (1 + Cu2)``."""
    return _lee_kuan(intensity, window, looks, "kuan")


def gamma_map(intensity: np.ndarray, window: int = 7, looks: float = 1.0) -> np.ndarray:
    """Gamma MAP filter (Lopes et al. 1990) as OTB computes it.

    ``E`` where ``Ci2 < Cu2``; the pixel itself where ``Ci >= sqrt(2) * Cu``
    (a strong scatterer); in between the positive root of the MAP equation
    with ``alpha = (1 + Cu2) / (Ci2 - Cu2)``.
    """
    intensity = _as_float(intensity)
    window = check_window(window)
    looks = check_looks(looks)
    cu2 = 1.0 / looks
    mean, variance, valid = _fused_moments(intensity, window)
    shape, dtype = intensity.shape, intensity.dtype
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        m2 = np.multiply(mean, mean, out=_scratch("w", shape, dtype))
        tiny_mean = np.less(m2, _EPS * _EPS, out=_scratch("tiny", shape, bool))  # |E| < eps: OTB writes 0
        homogeneous = np.less(variance, _EPS, out=_scratch("small", shape, bool))
        ci2 = np.divide(variance, m2, out=variance)  # the variance is not needed any more
        homogeneous |= ci2 < cu2
        scatterer = ci2 >= 2.0 * cu2  # Ci >= sqrt(2) Cu: keep the pixel
        alpha = np.subtract(ci2, dtype.type(cu2), out=ci2)
        np.divide(dtype.type(1.0 + cu2), alpha, out=alpha)
        b = alpha - dtype.type(looks + 1.0)
        d = m2 * b
        d *= b
        root = np.multiply(alpha, mean, out=m2)  # m2 is folded into d already
        root *= intensity
        root *= dtype.type(4.0 * looks)
        d += root
        np.sqrt(d, out=d)
        b *= mean
        d += b
        alpha *= dtype.type(2.0)
        d /= alpha
        out = np.where(homogeneous, mean, np.where(scatterer, intensity, d))
    out[tiny_mean] = 0.0
    return out if valid is None else _finish(out, intensity)


def _lee_kuan(intensity, window, looks, kind):
    """Lee or Kuan in the OTB formulas, fused and in place on :func:`_fused_moments`."""
    intensity = _as_float(intensity)
    window = check_window(window)
    cu2 = 1.0 / check_looks(looks)
    shape, dtype = intensity.shape, intensity.dtype
    mean, variance, valid = _fused_moments(intensity, window)
    with np.errstate(divide="ignore", invalid="ignore"):
        # w = 1 - Cu2 / Ci2 = 1 - Cu2 E**2 / V (Kuan: divided by 1 + Cu2), clipped at 0, and 0
        # where V < eps (OTB's "homogeneous"): there the output is E.
        w = np.multiply(mean, mean, out=_scratch("w", shape, dtype))
        tiny_mean = np.less(w, _EPS * _EPS, out=_scratch("tiny", shape, bool))  # |E| < eps: OTB writes 0
        w *= dtype.type(cu2)
        w /= variance
        np.subtract(dtype.type(1.0), w, out=w)
        if kind == "kuan":
            w *= dtype.type(1.0 / (1.0 + cu2))
        np.maximum(w, dtype.type(0.0), out=w)
        small_variance = np.less(variance, _EPS, out=_scratch("small", shape, bool))
        if small_variance.any():
            w[small_variance] = 0.0
        out = np.subtract(intensity, mean)  # the result: a fresh array the caller keeps
        out *= w
        out += mean
    if tiny_mean.any():
        out[tiny_mean] = 0.0
    return out if valid is None else _finish(out, intensity)


@lru_cache(maxsize=16)
def _rings(window: int):
    """Distinct distances from the centre of a ``window`` x ``window`` box and a 0/1 kernel for each."""
    r = window // 2
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    dist = np.sqrt(x * x + y * y)
    return [(float(d), (dist == d).astype(np.float64)) for d in np.unique(dist)]


def frost(intensity: np.ndarray, window: int = 7, damping: float = 0.1) -> np.ndarray:
    """Frost filter (OTB): an exponentially weighted mean, sharper where the scene varies.

    Weights ``exp(-alpha * d)`` with ``d`` the distance in pixels from the
    centre and ``alpha = damping * V / E**2``. The sum is taken ring by ring
    (pixels at one distance), so the cost grows with the number of distinct
    distances, not with the window area.

    Parameters
    ----------
    damping : float
        OTB's ``deramp`` factor (default 0.1, OTB's default); larger keeps edges sharper.
    """
    intensity = _as_float(intensity)
    window = check_window(window)
    if not np.isfinite(damping) or damping < 0:
        raise ValueError(f"damping must be >= 0, got damping={damping!r}")
    mean, variance, valid = _fused_moments(intensity, window)
    shape, dtype = intensity.shape, intensity.dtype
    x = intensity if valid is None else np.where(valid, intensity, dtype.type(0.0))
    weights_valid = None if valid is None else valid.astype(dtype)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        alpha = np.multiply(mean, mean, out=_scratch("w", shape, dtype))
        np.divide(variance, alpha, out=alpha)
        alpha *= dtype.type(-damping)  # -alpha, so that exp(-alpha d) is one multiply and an exp
        numerator = np.zeros(shape, dtype)
        norm = np.zeros(shape, dtype)
        coef = _scratch("coef", shape, dtype)
        for d, kernel in _rings(window):
            if d:
                np.multiply(alpha, dtype.type(d), out=coef)
                np.exp(coef, out=coef)
            else:
                coef.fill(1.0)
            numerator += coef * _correlate(x, kernel, dtype)
            if weights_valid is None:
                norm += coef * dtype.type(kernel.sum())
            else:
                norm += coef * _correlate(weights_valid, kernel, dtype)
        out = numerator / norm
        out = np.where(np.abs(variance) < _EPS, mean, out)
        out = np.where(np.abs(mean) < _EPS, dtype.type(0.0), out)
    return out if valid is None else _finish(out, intensity)
