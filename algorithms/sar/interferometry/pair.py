"""A pair's processing as blocks: the shift, the ramp from samples, then each block's products.

:func:`process_pair` on whole arrays and :func:`pair_block` on a window with its halo give the
same interferogram and coherence; the differential interferogram of two pairs likewise.
"""

from dataclasses import dataclass
from typing import Tuple

import numpy as np

from .coregistration import estimate_shift, resample_halo, resample_shift
from .phase import (
    GOLDSTEIN_PATCH,
    GOLDSTEIN_STEP,
    WAVELENGTH_L_BAND_M,
    _box,
    _check_pair,
    check_window,
    coherence,
    estimate_ramp_pieces,
    goldstein,
    interferogram,
    los_displacement_m,
    ramp_phase,
)

# -- the chain -------------------------------------------------------------------------------------
COREGISTRATION = ("none", "integer", "subpixel")


@dataclass
class InterferogramResult:
    """Outputs of :func:`process_pair`: wrapped phase (rad; Goldstein-filtered when asked),
    coherence (0-1), LOS displacement (m, wrapped; from the Goldstein-filtered phase, or from the
    interferogram averaged over the coherence window), the shift applied to the secondary (rows,
    cols, px) and the ramp (a rad, b rad/col, c rad/row)."""

    phase: np.ndarray
    coherence: np.ndarray
    displacement_m: np.ndarray
    shift: Tuple[float, float]
    ramp: Tuple[float, float, float]
    ifg: np.ndarray


def coregistration_shift(reference: np.ndarray, secondary: np.ndarray, coregister: str) -> Tuple[float, float]:
    """The (rows, cols) shift that registers ``secondary`` on ``reference`` for a ``coregister``
    mode of :data:`COREGISTRATION` (measured on their central 1024 x 1024 window)."""
    if coregister not in COREGISTRATION:
        raise ValueError(f"coregister must be one of {COREGISTRATION}, got coregister={coregister!r}")
    if coregister == "none":
        return 0.0, 0.0
    # 'integer' rounds the sub-pixel estimate: correlating without refinement on the grid
    # oversampled by 2 gives half pixels, and rounding those (1.4 -> 1.5 -> 2) can miss by one.
    shift = estimate_shift(reference, secondary, subpixel=True)
    if coregister == "integer":
        shift = (float(np.round(shift[0])), float(np.round(shift[1])))
    return shift


def fit_ramp(pieces, window=(5, 5), coherence_threshold: float = 0.5) -> Tuple[float, float, float]:
    """The orbital ramp of a pair from ``(reference, shifted secondary, (row0, col0))`` windows.

    First fitted on every pixel, then again on the pixels whose coherence (of the interferogram
    freed of the first ramp, over ``window``) reaches ``coherence_threshold``, when there are
    more than 100 of them.
    """
    window = check_window(window)
    ifgs = [(interferogram(r, s), offset) for r, s, offset in pieces]
    ramp = estimate_ramp_pieces([(z, None, offset) for z, offset in ifgs])
    weighted, count = [], 0
    for (r, s, offset), (z, _) in zip(pieces, ifgs):
        flat = z * np.exp(-1j * ramp_phase(z.shape, ramp, offset))
        weights = coherence(r, s, window, ifg=flat) >= coherence_threshold
        count += int(weights.sum())
        weighted.append((z, weights.astype(np.float64), offset))
    return estimate_ramp_pieces(weighted) if count > 100 else ramp


def pair_halo(shift, window, goldstein_alpha: float) -> int:
    """Halo (pixels, a multiple of the Goldstein step) for which :func:`pair_block` on a block
    gives the whole-image result."""
    # the filters run on the resampled secondary: their reaches add up
    reach = max(max(check_window(window)) // 2 + 1, GOLDSTEIN_PATCH if goldstein_alpha > 0 else 0)
    halo = reach + resample_halo(shift)
    return -(-halo // GOLDSTEIN_STEP) * GOLDSTEIN_STEP


def pair_block(
    reference: np.ndarray,
    secondary: np.ndarray,
    *,
    shift=(0.0, 0.0),
    ramp=(0.0, 0.0, 0.0),
    offset=(0, 0),
    window=(5, 5),
    goldstein_alpha: float = 0.0,
    wavelength_m: float = WAVELENGTH_L_BAND_M,
):
    """Phase, coherence, displacement and interferogram of one window of a pair.

    ``secondary`` is resampled by ``shift``; the interferogram ``reference * conj(secondary)``
    is freed of ``ramp`` (with ``offset``, the window's first pixel in the image) and, when
    ``goldstein_alpha`` > 0, filtered. Displacement comes from the filtered phase, else from
    the interferogram averaged over the coherence ``window`` (single-look phase is too noisy
    for millimetres). With a halo of :func:`pair_halo` pixels and blocks starting on multiples
    of the Goldstein step, blocks give the whole-image result.
    """
    reference, secondary = _check_pair(reference, secondary)
    window = check_window(window)
    secondary = resample_shift(secondary, shift)  # a copy when there is no shift
    z = interferogram(reference, secondary)
    if any(ramp):
        z = (z * np.exp(-1j * ramp_phase(z.shape, ramp, offset))).astype(np.complex64)
    gamma = coherence(reference, secondary, window, ifg=z)
    if goldstein_alpha > 0:
        z = goldstein(z, goldstein_alpha, patch=GOLDSTEIN_PATCH, step=GOLDSTEIN_STEP)
        smooth_phase = np.angle(z)
    else:
        zz = np.nan_to_num(z.astype(np.complex128))
        smooth_phase = np.angle(_box(zz.real, window) + 1j * _box(zz.imag, window))
    invalid = ~np.isfinite(gamma)
    phase = np.angle(z).astype(np.float32)
    phase[invalid] = np.nan
    displacement = los_displacement_m(smooth_phase, wavelength_m)
    displacement[invalid] = np.nan
    return phase, gamma, displacement, z


def process_pair(
    reference: np.ndarray,
    secondary: np.ndarray,
    *,
    coregister: str = "subpixel",
    window=(5, 5),
    remove_ramp: bool = True,
    coherence_threshold: float = 0.5,
    goldstein_alpha: float = 0.0,
    wavelength_m: float = WAVELENGTH_L_BAND_M,
) -> InterferogramResult:
    """Coregister, form the interferogram, estimate coherence, remove the ramp, filter, convert.

    In memory; :func:`...workflows.interferometry.process_pair_files` does the same blockwise on files.
    The secondary is resampled with :func:`resample_shift` (its border, where the kernel leaves
    the image, becomes no data). The ramp is fitted by :func:`fit_ramp`.
    """
    reference, secondary = _check_pair(reference, secondary)
    window = check_window(window)
    shift = coregistration_shift(reference, secondary, coregister)
    ramp = (0.0, 0.0, 0.0)
    if remove_ramp:
        ramp = fit_ramp([(reference, resample_shift(secondary, shift), (0, 0))], window, coherence_threshold)
    phase, gamma, displacement, z = pair_block(
        reference,
        secondary,
        shift=shift,
        ramp=ramp,
        window=window,
        goldstein_alpha=goldstein_alpha,
        wavelength_m=wavelength_m,
    )
    return InterferogramResult(phase, gamma, displacement, shift, ramp, z)


def differential(ifg_a: np.ndarray, ifg_b: np.ndarray) -> np.ndarray:
    """DEM-free differential phase of two (ramp-removed) interferograms sharing a reference:
    ``wrap(phase_a - phase_b)`` computed as ``angle(a * conj(b))``: topography cancels."""
    a = np.asarray(ifg_a)
    b = np.asarray(ifg_b)
    _check_same_shape(a, b)
    if not (np.iscomplexobj(a) and np.iscomplexobj(b)):
        a, b = np.exp(1j * a), np.exp(1j * b)  # phases given
    return np.angle(a * np.conj(b)).astype(np.float32)


def _check_same_shape(a: np.ndarray, b: np.ndarray) -> None:
    if np.shape(a) != np.shape(b):
        raise ValueError(f"interferograms must have one shape, got {np.shape(a)} and {np.shape(b)}")


def phase_ramps(pieces) -> Tuple[Tuple[float, float, float], Tuple[float, float, float]]:
    """Planar ramps of two wrapped-phase images (radians) from windows ``(phase_a, phase_b,
    (row0, col0))``, both fitted on the pixels valid in both, so that what is not a plane
    (topography) leaks into the two fits alike and cancels in their difference."""
    fits = ([], [])
    for phase_a, phase_b, offset in pieces:
        valid = (np.isfinite(phase_a) & np.isfinite(phase_b)) * 1.0
        for fit, phase in zip(fits, (phase_a, phase_b)):
            fit.append((np.exp(1j * np.nan_to_num(np.asarray(phase, dtype=np.float64))), valid, offset))
    return estimate_ramp_pieces(fits[0]), estimate_ramp_pieces(fits[1])


def differential_block(phase_a, phase_b, ramps=None, offset=(0, 0)) -> np.ndarray:
    """``wrap(phase_a - ramp_a - (phase_b - ramp_b))`` on a window whose first pixel is ``offset``
    of the image (``ramps`` from :func:`phase_ramps`, or None). NaN where either is NaN."""
    a = np.asarray(phase_a, dtype=np.float64)
    b = np.asarray(phase_b, dtype=np.float64)
    _check_same_shape(a, b)
    valid = np.isfinite(a) & np.isfinite(b)
    wrapped = []
    for phase, ramp in zip((a, b), ramps or (None, None)):
        z = np.exp(1j * np.nan_to_num(phase))
        if ramp is not None:
            z = z * np.exp(-1j * ramp_phase(z.shape, ramp, offset))
        z[~valid] = np.nan
        wrapped.append(z)
    return differential(*wrapped)


def differential_from_phases(phase_a: np.ndarray, phase_b: np.ndarray, *, remove_ramp: bool = True) -> np.ndarray:
    """:func:`differential` of two wrapped-phase images (radians), each first freed of its planar ramp
    when ``remove_ramp`` (see :func:`phase_ramps`). NaN in either input is NaN in the output.
    :func:`...workflows.interferometry.differential_files` does the same blockwise on files."""
    a = np.asarray(phase_a, dtype=np.float64)
    b = np.asarray(phase_b, dtype=np.float64)
    _check_same_shape(a, b)
    return differential_block(a, b, phase_ramps([(a, b, (0, 0))]) if remove_ramp else None)
