"""Interferometry on co-registered complex (SLC) images: coregistration, interferogram, coherence,
orbital-ramp removal, Goldstein filtering and line-of-sight displacement.

Conventions: the interferogram is ``reference * conj(secondary)`` (never a difference of stored
phases); phase in radians, wrapped to (-pi, pi]; line-of-sight displacement
``d = -wavelength / (4 pi) * phase`` in metres (positive towards the satellite), and it stays
*wrapped*: it is only meaningful within one fringe (``wavelength / 2``) unless the phase was
unwrapped. NaN marks no data.

- :mod:`.phase`: interferogram, coherence, ramps, wrapping, Goldstein filter, displacement.
- :mod:`.coregistration`: sub-pixel shift estimation and windowed-sinc resampling.
- :mod:`.pair`: a co-registered pair or two interferograms, block by block.
"""

from .coregistration import (
    MIN_SHIFT_SIDE,
    RESAMPLE_HALF_WIDTH,
    RESAMPLE_KAISER_BETA,
    estimate_shift,
    oversample,
    resample_halo,
    resample_shift,
    shift_complex,
)
from .pair import (
    COREGISTRATION,
    InterferogramResult,
    coregistration_shift,
    differential,
    differential_block,
    differential_from_phases,
    fit_ramp,
    pair_block,
    pair_halo,
    phase_ramps,
    process_pair,
)
from .phase import (
    GOLDSTEIN_PATCH,
    GOLDSTEIN_STEP,
    WAVELENGTH_C_BAND_M,
    WAVELENGTH_L_BAND_M,
    check_window,
    coherence,
    estimate_ramp,
    estimate_ramp_pieces,
    goldstein,
    interferogram,
    los_displacement_m,
    ramp_phase,
    wrap,
)

__all__ = [
    "COREGISTRATION",
    "GOLDSTEIN_PATCH",
    "GOLDSTEIN_STEP",
    "InterferogramResult",
    "MIN_SHIFT_SIDE",
    "RESAMPLE_HALF_WIDTH",
    "RESAMPLE_KAISER_BETA",
    "WAVELENGTH_C_BAND_M",
    "WAVELENGTH_L_BAND_M",
    "check_window",
    "coherence",
    "coregistration_shift",
    "differential",
    "differential_block",
    "differential_from_phases",
    "estimate_ramp",
    "estimate_ramp_pieces",
    "estimate_shift",
    "fit_ramp",
    "goldstein",
    "interferogram",
    "los_displacement_m",
    "oversample",
    "pair_block",
    "pair_halo",
    "phase_ramps",
    "process_pair",
    "ramp_phase",
    "resample_halo",
    "resample_shift",
    "shift_complex",
    "wrap",
]
