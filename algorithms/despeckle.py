"""Speckle filters for SAR intensity images.

All filters take linear intensity (power, not amplitude or dB), return the
same shape and float dtype, and pass no data (NaN) through: NaN pixels stay
NaN and are left out of their neighbours' statistics. Windows are square,
``window`` pixels on a side (odd); at the image edge the nearest pixel is
repeated, as Orfeo ToolBox (ITK's zero-flux Neumann condition) does, so the
block-local filters give the same result blockwise (with a halo of
:func:`halo` pixels) as on the whole array.

References
----------
- Lee, Frost, Gamma MAP, Kuan: the formulas of Orfeo ToolBox 8.1
  (``otb::LeeImageFilter``, ``FrostImageFilter``, ``GammaMAPImageFilter``,
  ``KuanImageFilter``), which this module reproduces (tests compare with
  ``otbcli_Despeckle``). Local variance is unbiased (``n - 1``).
- Refined Lee: J.-S. Lee, "Refined filtering of image noise using local
  statistics", CGIP 15 (1981) 380-389, with the 3 x 3 sub-window layout of
  ESA SNAP's Refined Lee operator for a 7 x 7 window.
- Lee sigma: J.-S. Lee, J.-H. Wen, T. Ainsworth et al., "Improved sigma
  filter for speckle filtering of SAR imagery", IEEE TGRS 47 (2009) 202-213,
  as in SNAP's "Lee Sigma" (point-target detection at the 98th percentile, a
  3 x 3 MMSE prior, the bias-free sigma range).
- TV: 10**(TV(10*log10(x))/10) with scikit-image's ``denoise_tv_bregman``.
- Non-local means: scikit-image's ``denoise_nl_means`` on dB.
"""

import threading
from functools import lru_cache

import numpy as np

from .blocks import iter_blocks
from .cancel import checkpoint, report
from .deps import require

#: Methods of :func:`despeckle`.
METHODS = (
    "boxcar",
    "median",
    "lee",
    "frost",
    "gamma_map",
    "kuan",
    "refined_lee",
    "lee_sigma",
    "tv",
    "nlmeans",
)
#: OTB's absolute epsilon on the local mean and variance.
_EPS = 1e-10


# -- validation ----------------------------------------------------------------------------------
def check_window(window) -> int:
    """Return ``window`` as int, or raise ``ValueError`` unless it is an odd integer >= 3."""
    if int(window) != window or window < 3 or window % 2 == 0:
        raise ValueError(f"window must be an odd integer >= 3, got window={window!r}")
    return int(window)


def check_looks(looks) -> float:
    """Return ``looks`` as float, or raise ``ValueError`` unless it is > 0."""
    if not np.isfinite(looks) or looks <= 0:
        raise ValueError(f"looks must be a positive number of looks, got looks={looks!r}")
    return float(looks)


def _as_float(intensity) -> np.ndarray:
    intensity = np.asarray(intensity)
    if intensity.ndim != 2:
        raise ValueError(f"intensity must be a 2-D array, got shape {intensity.shape}")
    if intensity.dtype in (np.float32, np.float64):
        return intensity
    return intensity.astype(np.float32)


# -- local statistics ----------------------------------------------------------------------------
def _correlate(image: np.ndarray, kernel: np.ndarray, dtype=np.float64) -> np.ndarray:
    """Correlate with a small kernel in ``dtype``, nearest-pixel edges (OpenCV, else scipy).

    Each output is a fixed-order sum of its taps (OpenCV's direct filter for small kernels), so a
    block gives the whole-image result.
    """
    image = image.astype(dtype, copy=False)
    kernel = kernel.astype(dtype, copy=False)
    try:
        cv2 = require("cv2")
    except ImportError:
        ndimage = require("scipy.ndimage")
        return ndimage.correlate(image, kernel, mode="nearest")
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REPLICATE)


def _box_sum(image: np.ndarray, window: int, out=None) -> np.ndarray:
    """Sum over a ``window`` x ``window`` box, nearest-pixel edges, accumulated in float64
    (into ``out``, a float64 array of the image's shape, when given)."""
    try:
        cv2 = require("cv2")
    except ImportError:
        ndimage = require("scipy.ndimage")
        result = ndimage.uniform_filter(image.astype(np.float64), window, mode="nearest") * window**2
        if out is None:
            return result
        out[...] = result
        return out
    return cv2.boxFilter(image, cv2.CV_64F, (window, window), dst=out, normalize=False, borderType=cv2.BORDER_REPLICATE)


def _box_sum_of_squares(image: np.ndarray, window: int, out=None) -> np.ndarray:
    """Sum of squares over a ``window`` x ``window`` box, nearest-pixel edges, float64
    (into ``out`` when given)."""
    try:
        cv2 = require("cv2")
    except ImportError:
        return _box_sum(image.astype(np.float64) ** 2, window, out=out)
    return cv2.sqrBoxFilter(
        image, cv2.CV_64F, (window, window), dst=out, normalize=False, borderType=cv2.BORDER_REPLICATE
    )


def local_moments(intensity: np.ndarray, window: int):
    """Local mean, unbiased variance and valid-pixel count over a square window.

    NaN pixels are left out of the sums. Returns float64 arrays ``(mean,
    variance, count)`` (``count`` is a float when no pixel is NaN); where
    fewer than 2 pixels are valid, mean or variance is NaN.
    """
    valid = np.isfinite(intensity)
    if valid.all():
        n = float(window * window)
        mean = _box_sum(intensity, window)
        mean /= n
        s2 = _box_sum_of_squares(intensity, window)
        s2 -= n * mean * mean
        np.maximum(s2, 0.0, out=s2)
        s2 /= n - 1
        return mean, s2, n
    x = np.where(valid, intensity, 0)
    count = _box_sum(valid.astype(np.float32), window)
    s1 = _box_sum(x, window)
    s2 = _box_sum_of_squares(x, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / count
        variance = np.maximum(s2 - s1 * mean, 0.0) / (count - 1)
    variance[count < 2] = np.nan
    return mean, variance, count


def _finish(result: np.ndarray, intensity: np.ndarray) -> np.ndarray:
    out = result.astype(intensity.dtype, copy=False)
    invalid = ~np.isfinite(intensity)
    if invalid.any():
        out[invalid] = np.nan
    return out


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


_scratch_local = threading.local()
_SCRATCH_MAX_PIXELS = 1 << 21  # 2 Mpixel: blocks of up to ~1400 x 1400


def _scratch(name: str, shape, dtype) -> np.ndarray:
    """A per-thread work array kept between calls (blockwise filtering calls with one block shape
    again and again; fresh multi-megabyte arrays would cost a page fault per 4 KiB each time).
    Arrays of more than :data:`_SCRATCH_MAX_PIXELS` (a whole image filtered in memory) are not
    kept, so a long-lived thread never holds image-sized work arrays."""
    if int(np.prod(shape)) > _SCRATCH_MAX_PIXELS:
        return np.empty(shape, dtype)
    key = (name, tuple(shape), np.dtype(dtype).str)
    store = _scratch_local.__dict__
    array = store.get(key)
    if array is None:
        if len(store) > 16:  # another block shape: drop the old arrays
            store.clear()
        array = store[key] = np.empty(shape, dtype)
    return array


def _fused_moments(intensity: np.ndarray, window: int):
    """Local mean and unbiased variance in the input's precision, on per-thread scratch arrays.

    The window sums are accumulated in float64 from the float32 pixels (exact for speckle's
    dynamic range, so a block gives bit for bit the whole-image result); the rest runs in the
    input's precision. Images with NaN take the same arithmetic with a per-pixel count of
    valid pixels in place of ``window**2``, so a pixel away from no data gets the same value
    either way. Returns ``(mean, variance, valid)``, ``valid`` None when every pixel is.
    The arrays are reused by the next call on this thread: copy what must outlive it.
    """
    shape, dtype = intensity.shape, intensity.dtype
    s1 = _scratch("s1", shape, np.float64)
    s2 = _scratch("s2", shape, np.float64)
    if np.isfinite(np.add.reduce(intensity, axis=None)):
        valid = None
        count = float(window * window)
        count1 = dtype.type(count - 1.0)
        _box_sum(intensity, window, out=s1)
        _box_sum_of_squares(intensity, window, out=s2)
    else:
        valid = np.isfinite(intensity)
        x = np.where(valid, intensity, dtype.type(0.0))
        count = _box_sum(valid.astype(dtype), window)
        count1 = (count - 1.0).astype(dtype)
        _box_sum(x, window, out=s1)
        _box_sum_of_squares(x, window, out=s2)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = _scratch("mean", shape, dtype)
        np.copyto(mean, s1, casting="unsafe")
        mean /= count if valid is None else count.astype(dtype)
        np.multiply(s1, s1, out=s1)
        s1 /= count
        s2 -= s1  # (count - 1) x the unbiased variance
        variance = _scratch("variance", shape, dtype)
        np.copyto(variance, s2, casting="unsafe")
        variance /= count1
        if valid is not None:
            variance[count < 2] = np.nan
    return mean, variance, valid


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


def refined_lee(intensity: np.ndarray, window: int = 7, looks: float = 1.0) -> np.ndarray:
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
    """
    intensity = _as_float(intensity)
    window = check_window(window)
    if window < 5:
        raise ValueError(f"refined_lee needs window >= 5, got window={window!r}")
    cu2 = 1.0 / check_looks(looks)
    sub, stride = _refined_geometry(window)
    valid = np.isfinite(intensity)
    x = np.where(valid, intensity, 0).astype(np.float64)
    v = valid.astype(np.float64)
    sub_sum, sub_n = _box_sum(x, sub), _box_sum(v, sub)
    with np.errstate(invalid="ignore", divide="ignore"):
        sub_mean = sub_sum / sub_n

    def m(dy, dx):  # sub-window mean centred (dy, dx) strides from the pixel, nearest-pixel edges
        shifted = np.pad(sub_mean, stride, mode="edge")
        r0, c0 = stride + dy * stride, stride + dx * stride
        return shifted[r0 : r0 + x.shape[0], c0 : c0 + x.shape[1]]

    grid = {(dy, dx): m(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)}
    g = lambda a, b: sum(grid[k] for k in a) - sum(grid[k] for k in b)  # noqa: E731
    gradients = np.stack(
        [
            np.abs(g([(-1, 1), (0, 1), (1, 1)], [(-1, -1), (0, -1), (1, -1)])),  # vertical edge
            np.abs(g([(1, -1), (1, 0), (1, 1)], [(-1, -1), (-1, 0), (-1, 1)])),  # horizontal edge
            np.abs(g([(-1, 0), (-1, 1), (0, 1)], [(0, -1), (1, -1), (1, 0)])),  # 45 degree edge
            np.abs(g([(-1, -1), (-1, 0), (0, -1)], [(0, 1), (1, 0), (1, 1)])),  # 135 degree edge
        ]
    )
    direction = np.argmax(np.nan_to_num(gradients, nan=-1), axis=0)
    centre = grid[(0, 0)]
    # For each direction: (half window on side A, side-A mean, half window on side B, side-B mean).
    sides = [
        ("left", grid[(0, -1)], "right", grid[(0, 1)]),
        ("up", grid[(-1, 0)], "down", grid[(1, 0)]),
        ("up_left", grid[(-1, -1)], "down_right", grid[(1, 1)]),
        ("up_right", grid[(-1, 1)], "down_left", grid[(1, -1)]),
    ]
    masks = _directional_masks(window)
    mean = np.full(x.shape, np.nan)
    var = np.full(x.shape, np.nan)
    for k, (name_a, mean_a, name_b, mean_b) in enumerate(sides):
        here = direction == k
        if not here.any():
            continue
        use_a = np.abs(mean_a - centre) <= np.abs(mean_b - centre)
        for name, chosen in ((name_a, here & use_a), (name_b, here & ~use_a)):
            if not chosen.any():
                continue
            kernel = masks[name]
            n = _correlate(v, kernel)
            s1 = _correlate(x, kernel)
            s2 = _correlate(x * x, kernel)
            with np.errstate(invalid="ignore", divide="ignore"):
                mu = s1 / n
                sigma2 = np.maximum(s2 - s1 * mu, 0) / (n - 1)
            mean[chosen] = mu[chosen]
            var[chosen] = sigma2[chosen]
    with np.errstate(invalid="ignore", divide="ignore"):
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
    from .convert import power_to_db

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
    from .convert import power_to_db

    db = power_to_db(intensity)
    filled = _fill_nan(db, 3).astype(np.float64)
    smooth = restoration.denoise_nl_means(
        filled, h=h, sigma=noise_db, patch_size=int(patch_size), patch_distance=int(patch_distance), fast_mode=True
    )
    smooth = np.reshape(smooth, filled.shape)  # scikit-image drops the axes of a 1-pixel row or column
    return _finish(np.power(10.0, smooth / 10.0), db).astype(intensity.dtype, copy=False)


# -- dispatch ----------------------------------------------------------------------------------
def halo(method: str, window: int = 7, **params) -> int:
    """Pixels of context ``method`` needs on each side for blockwise == whole-array results.

    TV and non-local means are not strictly local: their halo (32 pixels,
    and the patch reach) makes block seams invisible in practice but not
    bit-identical.
    """
    if method in ("boxcar", "median", "lee", "kuan", "gamma_map", "frost", "refined_lee"):
        return window // 2
    if method == "lee_sigma":
        return window // 2 + params.get("target_window", 3) // 2
    if method == "tv":
        return 32
    if method == "nlmeans":
        return params.get("patch_distance", 6) + params.get("patch_size", 5) // 2 + 8
    raise ValueError(f"method must be one of {METHODS}, got method={method!r}")


def despeckle(intensity: np.ndarray, method: str, *, window: int = 7, looks: float = 1.0, **params) -> np.ndarray:
    """Filter ``intensity`` (linear power) with ``method``; see :data:`METHODS`.

    Extra keyword parameters: ``damping`` (frost), ``sigma``,
    ``point_threshold`` (lee_sigma), ``weight`` (tv), ``h``, ``patch_size``,
    ``patch_distance`` (nlmeans). Unused ones are ignored.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got method={method!r}")
    if method == "boxcar":
        return boxcar(intensity, window)
    if method == "median":
        return median(intensity, window)
    if method in ("lee", "kuan", "gamma_map", "refined_lee"):
        return {"lee": lee, "kuan": kuan, "gamma_map": gamma_map, "refined_lee": refined_lee}[method](
            intensity, window, looks
        )
    if method == "frost":
        return frost(intensity, window, params.get("damping", 0.1))
    if method == "lee_sigma":
        return lee_sigma(
            intensity, window, looks, sigma=params.get("sigma", 0.9), point_threshold=params.get("point_threshold")
        )
    if method == "tv":
        return tv_db(intensity, params.get("weight", 0.5))
    return nlmeans_db(
        intensity,
        params.get("h"),
        looks=looks,
        patch_size=params.get("patch_size", 5),
        patch_distance=params.get("patch_distance", 6),
    )


def despeckle_in_blocks(
    intensity: np.ndarray, method: str, *, window: int = 7, looks: float = 1.0, block: int = 512, **params
) -> np.ndarray:
    """:func:`despeckle` of an in-memory image, ``block`` x ``block`` pixels at a time with the
    method's :func:`halo`: the same result (bit for bit for the local filters) with the
    temporaries of one block instead of a dozen float64 copies of the whole image.
    """
    intensity = _as_float(intensity)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got method={method!r}")
    if method == "lee_sigma" and params.get("point_threshold") is None:
        params["point_threshold"] = default_point_threshold(intensity)  # of the whole image, not of a block
    rows, cols = intensity.shape
    out = np.empty_like(intensity)
    margin = halo(method, window, **params)
    blocks = list(iter_blocks(rows, cols, block_rows=block, block_cols=block, halo=margin))
    for done, b in enumerate(blocks):
        checkpoint()
        report(done / len(blocks))
        filtered = despeckle(intensity[b.read_window], method, window=window, looks=looks, **params)
        out[b.window] = filtered[b.inner]
    return out
