"""Coregistration of complex images: shifts by oversampled cross-correlation, sinc resampling.

Shifts are (rows, cols) in pixels; resampling uses a Kaiser-windowed sinc of
:data:`RESAMPLE_HALF_WIDTH` samples each side, one axis at a time.
"""

from typing import Tuple

import numpy as np

from ...common.deps import require


# -- coregistration --------------------------------------------------------------------------------
def oversample(image: np.ndarray, factor: int = 2) -> np.ndarray:
    """Oversample a complex image by ``factor`` with FFT zero-padding (band-limited interpolation).

    In single precision (complex64, scipy.fft): plenty for amplitude correlation, half the memory.
    """
    fft = require("scipy.fft")
    z = np.nan_to_num(np.asarray(image, dtype=np.complex64))
    rows, cols = z.shape
    spectrum = fft.fftshift(fft.fft2(z))
    padded = np.zeros((factor * rows, factor * cols), np.complex64)
    r0, c0 = (factor * rows - rows) // 2, (factor * cols - cols) // 2
    padded[r0 : r0 + rows, c0 : c0 + cols] = spectrum
    del spectrum
    out = fft.ifft2(fft.ifftshift(padded))
    out *= factor * factor
    return out


#: Smallest window side (pixels) on which a shift is measured.
MIN_SHIFT_SIDE = 8


def estimate_shift(
    reference: np.ndarray, secondary: np.ndarray, *, subpixel: bool = True, max_side: int = 1024
) -> Tuple[float, float]:
    """(rows, cols) shift to apply to ``secondary`` to register it on ``reference``.

    The shift is global: it is measured on the central ``max_side`` x ``max_side`` window, which
    bounds time and memory for large scenes.

    Phase correlation of the amplitude images. Amplitude has twice the bandwidth of the complex
    signal, so the complex images are first oversampled by 2 (as ISCE's ampcor does): without it
    the sub-pixel estimate is biased by ~0.15 px. With ``subpixel`` the peak is refined by
    upsampled cross-correlation (Guizar-Sicairos et al. 2008) to 0.05 px of the original grid.
    """
    registration = require("skimage.registration")
    rows, cols = reference.shape
    r0, c0 = max(0, (rows - max_side) // 2), max(0, (cols - max_side) // 2)
    reference = reference[r0 : r0 + max_side, c0 : c0 + max_side]
    secondary = secondary[r0 : r0 + max_side, c0 : c0 + max_side]
    if min(reference.shape) < MIN_SHIFT_SIDE:
        raise ValueError(
            f"the pair is {rows} x {cols} pixels: at least {MIN_SHIFT_SIDE} x {MIN_SHIFT_SIDE} are needed to "
            "measure a shift; use coregister='none'"
        )
    for name, image in (("reference", reference), ("secondary", secondary)):
        amplitude = np.abs(image[np.isfinite(image)])
        if amplitude.size < 0.5 * image.size or not amplitude.std() > 1e-6 * max(float(amplitude.mean()), 1e-30):
            # a flat correlation surface has its "peak" anywhere: a constant image gave -0.35 px
            raise ValueError(
                f"the {name} amplitude is constant or mostly nodata over the central window, so no shift can "
                "be measured; use coregister='none' if the pair is already registered"
            )
    ref_amp = np.abs(oversample(np.nan_to_num(reference)))  # float32: the correlation's FFTs stay single precision
    sec_amp = np.abs(oversample(np.nan_to_num(secondary)))
    shift, _, _ = registration.phase_cross_correlation(
        ref_amp - ref_amp.mean(),
        sec_amp - sec_amp.mean(),
        upsample_factor=10 if subpixel else 1,
        normalization=None,
    )
    return float(shift[0]) / 2, float(shift[1]) / 2


def shift_complex(image: np.ndarray, shift: Tuple[float, float]) -> np.ndarray:
    """Shift a complex image by (rows, cols) pixels with the Fourier shift theorem.

    Complex-aware (amplitude and phase move together, no interpolation of phase); exact for
    band-limited SLC data; wraps at the borders like any FFT shift.
    """
    ndimage = require("scipy.ndimage")
    spectrum = np.fft.fft2(np.nan_to_num(image).astype(np.complex128))
    return np.fft.ifft2(ndimage.fourier_shift(spectrum, shift)).astype(np.complex64)


#: Half-width (taps on each side) and Kaiser beta of the resampling kernel of :func:`resample_shift`.
RESAMPLE_HALF_WIDTH = 16


RESAMPLE_KAISER_BETA = 6.0


def _sinc_weights(fraction: float, half_width: int = RESAMPLE_HALF_WIDTH) -> np.ndarray:
    """Kaiser-windowed sinc weights ``h(m + fraction)``, ``m = -half_width..half_width``, summing to 1."""
    t = np.arange(-half_width, half_width + 1) + fraction
    window = np.i0(RESAMPLE_KAISER_BETA * np.sqrt(np.clip(1 - (t / (half_width + 1)) ** 2, 0, None)))
    weights = np.sinc(t) * window / np.i0(RESAMPLE_KAISER_BETA)
    return weights / weights.sum()


def _shift_axis(z: np.ndarray, shift: float, axis: int, half_width: int) -> np.ndarray:
    ndimage = require("scipy.ndimage")
    whole = int(np.floor(shift))
    fraction = shift - whole
    out = np.full(z.shape, np.nan, np.complex128)
    n = z.shape[axis]
    if abs(whole) < n:
        src = [slice(None)] * 2
        dst = [slice(None)] * 2
        src[axis] = slice(max(0, -whole), n - max(0, whole))
        dst[axis] = slice(max(0, whole), n - max(0, -whole))
        out[tuple(dst)] = z[tuple(src)]
    if fraction > 1e-9:
        weights = _sinc_weights(fraction, half_width)
        kwargs = dict(axis=axis, mode="constant", cval=np.nan)
        out = ndimage.correlate1d(out.real, weights, **kwargs) + 1j * ndimage.correlate1d(out.imag, weights, **kwargs)
    return out


def resample_shift(image: np.ndarray, shift: Tuple[float, float], half_width: int = RESAMPLE_HALF_WIDTH) -> np.ndarray:
    """Shift a complex image by (rows, cols) pixels: ``out[i, j] = image(i - rows, j - cols)``.

    The integer part moves pixels; the fraction is interpolated with a separable Kaiser-windowed
    sinc of ``2 * half_width + 1`` taps (beta 6), applied to I and Q (complex-aware: amplitude
    and phase move together). On SLCs sampled at 1.25 x their bandwidth the interpolation
    error is 0.06 % rms (coherence loss < 1e-6). Pixels whose kernel reaches outside the image
    or onto NaN are NaN. Local: blockwise with a halo of ``half_width + ceil(|shift|)`` it
    gives the whole-image result.
    """
    z = np.asarray(image, dtype=np.complex128)
    for axis, value in enumerate(shift):
        if value:
            z = _shift_axis(z, float(value), axis, half_width)
    return z.astype(np.complex64)


def resample_halo(shift: Tuple[float, float], half_width: int = RESAMPLE_HALF_WIDTH) -> int:
    """Pixels of context :func:`resample_shift` needs on each side for ``shift`` (0 for no shift)."""
    if not any(shift):
        return 0
    return half_width + int(np.ceil(max(abs(shift[0]), abs(shift[1]))))
