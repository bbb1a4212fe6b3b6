"""Edge-aware Lee filters: refined Lee (directional sub-windows) and the improved Lee sigma filter.

Refined Lee: J.-S. Lee, CGIP 15 (1981) 380-389, with ESA SNAP's 3 x 3 sub-window layout.
Lee sigma: J.-S. Lee et al., IEEE TGRS 47 (2009) 202-213, as in SNAP (point targets at the 98th
percentile, a 3 x 3 MMSE prior, the bias-free sigma range).
"""

from functools import lru_cache

import numpy as np

from ...common.deps import require
from .adaptive import lee
from .moments import _EPS, _as_float, _box_sum, _correlate, _finish, check_looks, check_window


# -- Refined Lee -------------------------------------------------------------------------------
def _refined_geometry(window: int):
    stride = (window - 1) // 3
    sub = window - 2 * stride
    return sub, stride


@lru_cache(maxsize=8)
def _directional_masks(window: int):
    """The 8 edge-aligned half windows of Lee (1981), each including the centre line."""
    r = window // 2
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    halves = {
        "left": x <= 0,
        "right": x >= 0,
        "up": y <= 0,
        "down": y >= 0,
        "up_left": x + y <= 0,
        "down_right": x + y >= 0,
        "up_right": x - y >= 0,
        "down_left": x - y <= 0,
    }
    return {k: v.astype(np.float64) for k, v in halves.items()}


def _copy_where(target: np.ndarray, values: np.ndarray, where: np.ndarray) -> None:
    """``target[where] = values[where]`` (OpenCV's masked copy when it is there: 2x numpy's)."""
    try:
        cv2 = require("cv2")
    except ImportError:
        np.copyto(target, values, where=where if target.ndim == where.ndim else where[..., None])
        return
    cv2.copyTo(values, where.view(np.uint8), target)


def refined_lee(intensity: np.ndarray, window: int = 7, looks: float = 1.0, *, dtype=np.float64) -> np.ndarray:
    """Refined Lee filter (Lee 1981): MMSE over the edge-aligned half window.

    A 3 x 3 grid of sub-window means (sub-windows of 3 pixels at a stride of
    2 for a 7 x 7 window) gives gradients in four directions (0, 45, 90, 135
    degrees); the strongest picks the edge direction, and of its two half
    windows the one whose sub-window mean is closer to the centre's is used.
    The MMSE estimate on that half window is ``m + b (z - m)`` with
    ``b = max(0, (V - m**2 / L) / (V (1 + 1/L)))``.

    Parameters
    ----------
    window : int
        Odd window side >= 5 (7, as in SNAP, by default).
    dtype : numpy float type
        Of the half-window sums: float64 (the default), or float32, 2x faster for the change
        boundaries (:mod:`...change.boundaries`), where their last digits do not matter.
    """
    intensity = _as_float(intensity)
    window = check_window(window)
    if window < 5:
        raise ValueError(f"refined_lee needs window >= 5, got window={window!r}")
    cu2 = 1.0 / check_looks(looks)
    sub, stride = _refined_geometry(window)
    valid = np.isfinite(intensity)
    x = np.where(valid, intensity, 0).astype(dtype)
    v = valid.astype(dtype)
    sub_sum, sub_n = _box_sum(x, sub), _box_sum(v, sub)
    with np.errstate(invalid="ignore", divide="ignore"):
        sub_mean = (sub_sum / sub_n).astype(dtype, copy=False)
    padded = np.pad(sub_mean, stride, mode="edge")

    def m(dy, dx):  # sub-window mean centred (dy, dx) strides from the pixel, nearest-pixel edges
        r0, c0 = stride + dy * stride, stride + dx * stride
        return padded[r0 : r0 + x.shape[0], c0 : c0 + x.shape[1]]

    grid = {(dy, dx): m(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)}
    g = lambda a, b: sum(grid[k] for k in a) - sum(grid[k] for k in b)  # noqa: E731
    gradients = [
        g([(-1, 1), (0, 1), (1, 1)], [(-1, -1), (0, -1), (1, -1)]),  # vertical edge
        g([(1, -1), (1, 0), (1, 1)], [(-1, -1), (-1, 0), (-1, 1)]),  # horizontal edge
        g([(-1, 0), (-1, 1), (0, 1)], [(0, -1), (1, -1), (1, 0)]),  # 45 degree edge
        g([(-1, -1), (-1, 0), (0, -1)], [(0, 1), (1, 0), (1, 1)]),  # 135 degree edge
    ]
    # the strongest direction (the first of equals; a NaN gradient never wins)
    direction = np.zeros(x.shape, np.int8)
    best = np.full(x.shape, -1.0, dtype)
    for k, gradient in enumerate(gradients):
        gradient = np.abs(gradient, out=gradient)
        with np.errstate(invalid="ignore"):
            stronger = gradient > best
        direction[stronger] = k
        np.copyto(best, gradient, where=stronger)
    del gradients, best
    centre = grid[(0, 0)]
    # For each direction: (half window on side A, side-A mean, half window on side B, side-B mean).
    sides = [
        ("left", grid[(0, -1)], "right", grid[(0, 1)]),
        ("up", grid[(-1, 0)], "down", grid[(1, 0)]),
        ("up_left", grid[(-1, -1)], "down_right", grid[(1, 1)]),
        ("up_right", grid[(-1, 1)], "down_left", grid[(1, -1)]),
    ]
    masks = _directional_masks(window)
    # the chosen half window's sums of x and x^2 (two channels), gathered pixel by pixel
    moments = np.full(x.shape + (2,), np.nan, dtype)
    channels = np.dstack([x, x * x])
    counts = {kernel.sum() for kernel in masks.values()}
    n = counts.pop() if valid.all() and not counts else np.full(x.shape, np.nan, dtype)
    for k, (name_a, mean_a, name_b, mean_b) in enumerate(sides):
        here = direction == k
        if not here.any():
            continue
        use_a = np.abs(mean_a - centre) <= np.abs(mean_b - centre)
        for name, chosen in ((name_a, here & use_a), (name_b, here & ~use_a)):
            if not chosen.any():
                continue
            kernel = masks[name]
            _copy_where(moments, _correlate(channels, kernel, dtype), chosen)
            if not np.isscalar(n):
                _copy_where(n, _correlate(v, kernel, dtype), chosen)
    s1, s2 = moments[..., 0], moments[..., 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        var = np.maximum(s2 - s1 * mean, 0) / (n - 1)
        b = np.clip((var - mean * mean * cu2) / (var * (1 + cu2)), 0, 1)
        out = mean + b * (intensity - mean)
        out = np.where(var < _EPS, mean, out)
    return _finish(out, intensity)


# -- Lee sigma ---------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def sigma_range(looks: float, sigma: float):
    """Bias-free sigma range ``(I1, I2, eta2)`` of unit-mean gamma speckle with ``looks`` looks.

    ``[I1, I2]`` holds probability ``sigma`` and its truncated distribution
    has mean 1 (Lee et al. 2009); ``eta2`` is that truncated distribution's
    variance, the speckle variance the MMSE step then uses.
    """
    stats = require("scipy.stats")
    optimize = require("scipy.optimize")
    dist = stats.gamma(looks, scale=1.0 / looks)

    def bounds(lower_p):
        return dist.ppf(lower_p), dist.ppf(lower_p + sigma)

    def truncated_mean(lower_p):
        i1, i2 = bounds(lower_p)
        return dist.expect(lambda v: v, lb=i1, ub=i2, conditional=True)

    lower_p = optimize.brentq(lambda p: truncated_mean(p) - 1.0, 1e-9, 1 - sigma - 1e-9, xtol=1e-10)
    i1, i2 = bounds(lower_p)
    eta2 = dist.expect(lambda v: (v - 1.0) ** 2, lb=i1, ub=i2, conditional=True)
    return float(i1), float(i2), float(eta2)


def default_point_threshold(intensity: np.ndarray) -> float:
    """Lee sigma's default point-target threshold: the 98th percentile of the finite pixels
    (of the whole image, or a sample of it when filtering in blocks); inf when there are none."""
    finite = np.asarray(intensity)[np.isfinite(intensity)]
    return float(np.percentile(finite, 98)) if finite.size else np.inf


def lee_sigma(
    intensity: np.ndarray,
    window: int = 7,
    looks: float = 1.0,
    *,
    sigma: float = 0.9,
    target_window: int = 3,
    point_threshold: float = None,
    point_count: int = 5,
) -> np.ndarray:
    """Improved Lee sigma filter (Lee et al. 2009) with point-target preservation.

    1. Point targets: pixels above ``point_threshold`` (default: the 98th
       percentile of the input) with at least ``point_count`` such pixels in
       their 3 x 3 neighbourhood are kept unfiltered.
    2. A prior estimate ``x0`` is the Lee MMSE over ``target_window``.
    3. Pixels of the ``window`` whose value lies in ``[I1 x0, I2 x0]`` (the
       bias-free sigma range of :func:`sigma_range`) give the local mean and
       variance of a final MMSE estimate with speckle variance ``eta2``.

    Parameters
    ----------
    sigma : float
        Probability of the sigma range, 0.5-0.9 (SNAP's choices).
    point_threshold : float, optional
        Intensity above which a pixel may be a point target; pass the 98th
        percentile of the whole image when filtering it in blocks.
    """
    intensity = _as_float(intensity)
    window = check_window(window)
    looks = check_looks(looks)
    if not 0.5 <= sigma <= 0.9:
        raise ValueError(f"sigma must be between 0.5 and 0.9, got sigma={sigma!r}")
    target_window = check_window(target_window)
    i1, i2, eta2 = sigma_range(looks, float(sigma))
    valid = np.isfinite(intensity)
    x = intensity.astype(np.float64)
    if point_threshold is None:
        point_threshold = default_point_threshold(x)
    bright = valid & (x > point_threshold)
    point = bright & (_box_sum(bright.astype(np.float64), 3) >= point_count)
    prior = lee(x, target_window, looks)
    low, high = i1 * prior, i2 * prior
    r = window // 2
    padded = np.pad(np.where(valid, x, np.nan), r, mode="edge")
    s0 = np.zeros(x.shape)
    s1 = np.zeros(x.shape)
    s2 = np.zeros(x.shape)
    rows, cols = x.shape
    for dy in range(window):
        for dx in range(window):
            z = padded[dy : dy + rows, dx : dx + cols]
            inside = (z >= low) & (z <= high)  # False for NaN
            zi = np.where(inside, z, 0.0)
            s0 += inside
            s1 += zi
            s2 += zi * zi
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / s0
        var = np.maximum(s2 - s1 * mean, 0) / np.maximum(s0 - 1, 1)
        b = np.clip((var - mean * mean * eta2) / (var * (1 + eta2)), 0, 1)
        out = mean + b * (x - mean)
    out = np.where(s0 < 2, prior, out)
    out = np.where(var < _EPS, mean, out) if np.any(s0 >= 2) else out
    out = np.where(point, x, out)
    return _finish(out, intensity)
