"""Local statistics shared by the speckle filters: parameter checks, box sums and local moments.

The moments are computed as OTB does (unbiased variance, its epsilon) with the nearest pixel
repeated at the image edge; work arrays are kept per thread for block-sized images only.
"""

import threading

import numpy as np

from ...common.deps import require

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
    """Correlate with a small kernel in ``dtype``, nearest-pixel edges (OpenCV, else scipy);
    an image of (rows, cols, channels) channel by channel.

    Each output is a fixed-order sum of its taps (OpenCV's direct filter for small kernels), so a
    block gives the whole-image result.
    """
    image = image.astype(dtype, copy=False)
    kernel = kernel.astype(dtype, copy=False)
    try:
        cv2 = require("cv2")
    except ImportError:
        ndimage = require("scipy.ndimage")
        return ndimage.correlate(image, kernel if image.ndim == 2 else kernel[..., None], mode="nearest")
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
