"""Phase of co-registered complex images: interferogram, coherence, ramps, Goldstein, displacement.

Phase in radians wrapped to (-pi, pi]; displacement in metres along the line of sight.
"""

from typing import Tuple

import numpy as np

from ...common.deps import require

#: Radar wavelengths in metres.
WAVELENGTH_L_BAND_M = 0.2384  # ALOS-2 PALSAR-2


WAVELENGTH_C_BAND_M = 0.05547  # Sentinel-1


def _check_pair(reference, secondary):
    reference = np.asarray(reference)
    secondary = np.asarray(secondary)
    if reference.shape != secondary.shape or reference.ndim != 2:
        raise ValueError(
            f"reference and secondary must be 2-D and of one shape, got {reference.shape}, {secondary.shape}"
        )
    if not (np.iscomplexobj(reference) and np.iscomplexobj(secondary)):
        raise ValueError("reference and secondary must be complex (SLC) arrays")
    return reference.astype(np.complex64, copy=False), secondary.astype(np.complex64, copy=False)


def _box(values: np.ndarray, window: Tuple[int, int]) -> np.ndarray:
    ndimage = require("scipy.ndimage")
    return ndimage.uniform_filter(values, window, mode="reflect")


def check_window(window) -> Tuple[int, int]:
    """A (rows, cols) window of positive odd or even integers."""
    rows, cols = (window, window) if np.isscalar(window) else tuple(window)
    if int(rows) != rows or int(cols) != cols or rows < 1 or cols < 1 or rows * cols < 2:
        raise ValueError(f"coherence window must be (rows, cols) of positive integers, got window={window!r}")
    return int(rows), int(cols)


def interferogram(reference: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """``reference * conj(secondary)`` (complex64)."""
    reference, secondary = _check_pair(reference, secondary)
    return reference * np.conj(secondary)


def coherence(reference: np.ndarray, secondary: np.ndarray, window=(5, 5), *, ifg: np.ndarray = None) -> np.ndarray:
    """Coherence magnitude over a boxcar ``window`` (rows, cols), mirror-reflected at the borders.

    ``|sum r s*| / sqrt(sum |r|^2 sum |s|^2)``, 0-1, float32. Pass ``ifg`` to reuse an
    interferogram (e.g. the ramp-removed one: the ramp lowers coherence over the window).
    """
    reference, secondary = _check_pair(reference, secondary)
    window = check_window(window)
    z = interferogram(reference, secondary) if ifg is None else ifg
    z = np.nan_to_num(z.astype(np.complex128))
    numerator = np.hypot(_box(z.real, window), _box(z.imag, window))
    power_r = _box(np.nan_to_num(np.abs(reference.astype(np.complex128)) ** 2), window)
    power_s = _box(np.nan_to_num(np.abs(secondary.astype(np.complex128)) ** 2), window)
    with np.errstate(invalid="ignore", divide="ignore"):
        gamma = numerator / np.sqrt(power_r * power_s)
    gamma = np.clip(gamma, 0, 1).astype(np.float32)
    gamma[~(np.isfinite(reference) & np.isfinite(secondary))] = np.nan
    return gamma


# -- ramp ------------------------------------------------------------------------------------------
def estimate_ramp(
    ifg: np.ndarray, weights: np.ndarray = None, *, iterations: int = 3, offset: Tuple[int, int] = (0, 0)
) -> Tuple[float, float, float]:
    """Planar phase ramp ``phase = a + b * col + c * row`` (radians) of a wrapped interferogram.

    No unwrapping: ``b`` and ``c`` are the angles of the mean products of neighbouring pixels
    (``sum w z[:, 1:] conj(z[:, :-1])``), the phase gradient estimator that is exact for a
    plane, iterated on the residual; ``a`` is the angle of the weighted mean residual. ``weights``
    (e.g. coherence, 0 where incoherent) choose the pixels. ``ifg[0, 0]`` is pixel ``offset``
    (row, col) of the image the ramp refers to. See :func:`estimate_ramp_pieces` for several
    windows of one image.
    """
    return estimate_ramp_pieces([(ifg, weights, offset)], iterations=iterations)


def estimate_ramp_pieces(pieces, *, iterations: int = 3) -> Tuple[float, float, float]:
    """:func:`estimate_ramp` from several windows ``(ifg, weights or None, (row0, col0))`` of one
    image (e.g. an even grid of windows of a scene larger than memory): their sums add up."""
    prepared = []
    for ifg, weights, (row0, col0) in pieces:
        z = np.nan_to_num(np.asarray(ifg, dtype=np.complex128))
        magnitude = np.abs(z)
        z = np.where(magnitude > 0, z / np.where(magnitude > 0, magnitude, 1), 0)
        w = np.ones(z.shape) if weights is None else np.nan_to_num(np.asarray(weights, dtype=np.float64))
        rows = np.arange(row0, row0 + z.shape[0], dtype=np.float64)[:, None]
        cols = np.arange(col0, col0 + z.shape[1], dtype=np.float64)[None, :]
        prepared.append((z, w, rows, cols))
    b = c = 0.0
    for _ in range(iterations):
        sum_b = sum_c = 0j
        for z, w, rows, cols in prepared:
            residual = z * np.exp(-1j * (b * cols + c * rows))
            sum_b += np.sum(w[:, 1:] * w[:, :-1] * residual[:, 1:] * np.conj(residual[:, :-1]))
            sum_c += np.sum(w[1:, :] * w[:-1, :] * residual[1:, :] * np.conj(residual[:-1, :]))
        b += float(np.angle(sum_b))
        c += float(np.angle(sum_c))
    total = sum(np.sum(w * z * np.exp(-1j * (b * cols + c * rows))) for z, w, rows, cols in prepared)
    return float(np.angle(total)), b, c


def ramp_phase(shape, coefficients, offset: Tuple[int, int] = (0, 0)) -> np.ndarray:
    """The phase ``a + b * col + c * row`` (float32 radians) on a ``shape`` window whose first
    pixel is ``offset`` (row, col) of the image."""
    a, b, c = coefficients
    rows, cols = np.mgrid[offset[0] : offset[0] + shape[0], offset[1] : offset[1] + shape[1]]
    return (a + b * cols + c * rows).astype(np.float32)


def wrap(phase: np.ndarray) -> np.ndarray:
    """Wrap radians to (-pi, pi]."""
    return np.angle(np.exp(1j * np.asarray(phase)))


# -- Goldstein -------------------------------------------------------------------------------------
def goldstein(ifg: np.ndarray, alpha: float = 0.5, *, patch: int = 32, step: int = 8) -> np.ndarray:
    """Goldstein-Werner adaptive filter (GRL 1998): each patch's spectrum weighted by its smoothed
    magnitude to the power ``alpha`` (0: no filtering, 1: strong), patches blended with a
    raised-cosine window. Returns the filtered complex interferogram (magnitude not preserved:
    use its phase)."""
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be between 0 and 1, got alpha={alpha!r}")
    if patch < 4 or step < 1 or step > patch:
        raise ValueError(f"need patch >= 4 and 1 <= step <= patch, got patch={patch!r}, step={step!r}")
    z = np.nan_to_num(np.asarray(ifg, dtype=np.complex128))
    rows, cols = z.shape
    pad_r = (-(rows - patch) % step) if rows > patch else patch - rows
    pad_c = (-(cols - patch) % step) if cols > patch else patch - cols
    zp = np.pad(z, ((0, pad_r), (0, pad_c)))
    out = np.zeros(zp.shape, np.complex128)
    weight = np.zeros(zp.shape)
    taper = np.outer(np.hanning(patch + 2)[1:-1], np.hanning(patch + 2)[1:-1])
    kernel = np.zeros((patch, patch))
    kernel[[0, 0, 0, 1, 1, 1, -1, -1, -1], [0, 1, -1, 0, 1, -1, 0, 1, -1]] = 1 / 9  # 3 x 3 mean, wrapped
    kernel_spectrum = np.fft.fft2(kernel)
    starts_c = np.arange(0, zp.shape[1] - patch + 1, step)
    for r in range(0, zp.shape[0] - patch + 1, step):
        # every patch of this row of patches at once: (n_patches, patch, patch)
        strip = np.lib.stride_tricks.sliding_window_view(zp[r : r + patch], (patch, patch))[0, starts_c]
        spectra = np.fft.fft2(strip)
        magnitude = np.abs(np.fft.ifft2(np.fft.fft2(np.abs(spectra)) * kernel_spectrum))  # circular 3 x 3 mean
        peak = magnitude.max(axis=(1, 2), keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            weights = np.where(peak > 0, (magnitude / np.where(peak > 0, peak, 1)) ** alpha, 1.0)
        filtered_patches = np.fft.ifft2(spectra * weights) * taper
        for i, c in enumerate(starts_c):
            out[r : r + patch, c : c + patch] += filtered_patches[i]
            weight[r : r + patch, c : c + patch] += taper
    with np.errstate(invalid="ignore", divide="ignore"):
        filtered = out / weight
    filtered = filtered[:rows, :cols].astype(np.complex64)
    filtered[~np.isfinite(np.asarray(ifg))] = np.nan
    return filtered


def los_displacement_m(phase: np.ndarray, wavelength_m: float) -> np.ndarray:
    """Line-of-sight displacement in metres from (wrapped) phase: ``-wavelength / (4 pi) * phase``."""
    if not wavelength_m > 0:
        raise ValueError(f"wavelength_m must be > 0, got wavelength_m={wavelength_m!r}")
    return (-wavelength_m / (4 * np.pi) * np.asarray(phase)).astype(np.float32)


GOLDSTEIN_PATCH, GOLDSTEIN_STEP = 32, 8
