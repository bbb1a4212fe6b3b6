"""The interferogram chain on raster files, blockwise (the file-level side of :mod:`.interferometry`).

Three passes, none holding a whole scene: the shift is measured on the central 1024 x 1024
window; the ramp is fitted on the whole pair when it has at most :data:`RAMP_SAMPLE_PIXELS` pixels,
else on an even 3 x 3 grid of 512 x 512 windows (centre and edges); then blocks with a halo
(:func:`..sar.interferometry.pair.pair_halo`) give phase, coherence and displacement equal to the in-memory
:func:`..sar.interferometry.pair.process_pair`.
"""

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from ..common.blocks import even_windows
from ..common.cancel import checkpoint, interruptible
from ..io.pipeline import process_blocks
from ..io.raster import open_raster, raster_info, read_window
from ..sar import interferometry as ifm

#: Largest pair (pixels) whose ramp is fitted on every pixel; larger ones use a grid of windows.
RAMP_SAMPLE_PIXELS = 2_097_152
RAMP_WINDOW = 512


@dataclass
class PairSummary:
    """The shift applied to the secondary (rows, cols, px) and the ramp removed (a rad, b rad per
    column, c rad per row)."""

    shift: Tuple[float, float]
    ramp: Tuple[float, float, float]


def _read(dataset, rows: slice, cols: slice) -> np.ndarray:
    return read_window(dataset, 1, (rows, cols), dtype=np.complex64)


def _shifted_window(dataset, rows: slice, cols: slice, shift, shape) -> np.ndarray:
    """The secondary resampled by ``shift`` on a window, read with the kernel's halo."""
    halo = ifm.resample_halo(shift)
    r0, r1 = max(0, rows.start - halo), min(shape[0], rows.stop + halo)
    c0, c1 = max(0, cols.start - halo), min(shape[1], cols.stop + halo)
    wide = ifm.resample_shift(_read(dataset, slice(r0, r1), slice(c0, c1)), shift)
    return wide[rows.start - r0 : rows.stop - r0, cols.start - c0 : cols.stop - c0]


def ramp_windows(rows: int, cols: int, *, max_pixels: int = RAMP_SAMPLE_PIXELS, side: int = RAMP_WINDOW):
    """(rows slice, cols slice) windows to fit the ramp on: the whole image, or an even grid."""
    if rows * cols <= max_pixels:
        return [(slice(0, rows), slice(0, cols))]
    return even_windows(rows, cols, side, max(2, int(round(np.sqrt(max_pixels) / side))))  # 3: centre, edges


def check_valid_samples(datasets, shape, *, complex_data: bool) -> None:
    """Raise ``ValueError`` naming the input when a sample of a raster (an even grid of windows) has
    no valid pixel (finite, and non-zero for complex data), or when the inputs share none.

    Without this an all-nodata or all-zero input gives all-nodata outputs and exit 0.
    """
    windows = ramp_windows(*shape)
    both = None
    for dataset, name in datasets:
        valid = []
        for rows, cols in windows:
            values = read_window(dataset, 1, (rows, cols), dtype=np.complex64 if complex_data else np.float32)
            ok = np.isfinite(values)
            if complex_data:
                ok &= values != 0
            valid.append(ok)
        if not any(v.any() for v in valid):
            what = "finite, non-zero" if complex_data else "finite"
            raise ValueError(f"{name} has no valid ({what}) pixel: nothing to compute")
        both = valid if both is None else [a & b for a, b in zip(both, valid)]
    if both is not None and not any(v.any() for v in both):
        raise ValueError(f"{' and '.join(name for _, name in datasets)} have no valid pixel in common")


def process_pair_files(
    reference_path: str,
    secondary_path: str,
    *,
    phase_path: str,
    coherence_path: str,
    displacement_path: Optional[str] = None,
    coregister: str = "subpixel",
    window=(5, 5),
    remove_ramp: bool = True,
    coherence_threshold: float = 0.5,
    goldstein_alpha: float = 0.0,
    wavelength_m: Optional[float] = None,
    block_size: int = 512,
    progress=None,
    is_cancelled=None,
) -> PairSummary:
    """:func:`..sar.interferometry.pair.process_pair` on two complex rasters of one size, blockwise.

    Writes the wrapped phase (rad), coherence (0-1) and, when ``displacement_path`` is given, the
    line-of-sight displacement (m, wrapped; needs ``wavelength_m``, there is no default band) as
    Float32 GeoTIFFs on the reference's grid; all of them or none. Memory is bounded by
    ``block_size`` and the sampled windows, whatever the scene size.
    """
    window = ifm.check_window(window)
    if coregister not in ifm.COREGISTRATION:
        raise ValueError(f"coregister must be one of {ifm.COREGISTRATION}, got coregister={coregister!r}")
    infos = [raster_info(path) for path in (reference_path, secondary_path)]
    for name, info in zip(("reference", "secondary"), infos):
        if info.dtypes[0].kind != "c":
            raise ValueError(f"{name} must be a complex raster, got {info.dtypes[0]} in {info.path!r}")
    shape = (infos[0].rows, infos[0].cols)
    if (infos[1].rows, infos[1].cols) != shape:
        raise ValueError(
            f"reference and secondary must have one size, got {shape[0]}x{shape[1]} and {infos[1].rows}x{infos[1].cols}"
        )
    if shape[0] < window[0] or shape[1] < window[1]:
        raise ValueError(
            f"the pair is {shape[0]} x {shape[1]} pixels, smaller than the coherence window "
            f"{window[0]} x {window[1]}: no coherence can be estimated"
        )
    if displacement_path and not (wavelength_m is not None and 0.001 <= wavelength_m <= 1.0):
        raise ValueError(
            f"the displacement needs the radar wavelength in metres (0.001-1), got wavelength_m={wavelength_m!r}"
        )
    report = progress or (lambda fraction: None)
    ref_ds, sec_ds = open_raster(reference_path), open_raster(secondary_path)
    check_valid_samples([(ref_ds, "REFERENCE"), (sec_ds, "SECONDARY")], shape, complex_data=True)

    shift = (0.0, 0.0)
    if coregister != "none":
        side = 1024  # estimate_shift's central window, read alone
        r0, c0 = max(0, (shape[0] - side) // 2), max(0, (shape[1] - side) // 2)
        rows, cols = slice(r0, min(r0 + side, shape[0])), slice(c0, min(c0 + side, shape[1]))
        shift = interruptible(
            ifm.coregistration_shift, _read(ref_ds, rows, cols), _read(sec_ds, rows, cols), coregister
        )
    report(0.05)

    ramp = (0.0, 0.0, 0.0)
    if remove_ramp:
        pieces = []
        for rows, cols in ramp_windows(*shape):
            checkpoint()
            pieces.append(
                (_read(ref_ds, rows, cols), _shifted_window(sec_ds, rows, cols, shift, shape), (rows.start, cols.start))
            )
        ramp = interruptible(ifm.fit_ramp, pieces, window, coherence_threshold)
        del pieces
    report(0.15)

    def block_outputs(block, reference, secondary):
        phase, gamma, displacement, _ = ifm.pair_block(
            reference,
            secondary,
            shift=shift,
            ramp=ramp,
            offset=(block.read_row, block.read_col),
            window=window,
            goldstein_alpha=goldstein_alpha,
            wavelength_m=wavelength_m or ifm.WAVELENGTH_L_BAND_M,
        )
        return np.stack([phase, gamma, displacement] if displacement_path else [phase, gamma])

    step = ifm.GOLDSTEIN_STEP
    process_blocks(
        [(reference_path, 1), (secondary_path, 1)],
        [phase_path, coherence_path] + ([displacement_path] if displacement_path else []),
        block_outputs,
        halo=ifm.pair_halo(shift, window, goldstein_alpha),
        block_size=max(step, block_size // step * step),  # blocks start on the Goldstein grid
        pass_block=True,
        progress=lambda fraction: report(0.15 + 0.85 * fraction),
        is_cancelled=is_cancelled,
    )
    return PairSummary(shift=shift, ramp=ramp)


def differential_files(
    phase_a_path: str,
    phase_b_path: str,
    out_path: str,
    *,
    remove_ramp: bool = True,
    block_size: int = 1024,
    progress=None,
    is_cancelled=None,
) -> Tuple[Tuple[float, float, float], Tuple[float, float, float]]:
    """:func:`..sar.interferometry.pair.differential_from_phases` on two phase rasters of one size,
    blockwise; returns the two ramps removed (zeros without ``remove_ramp``)."""
    infos = [raster_info(path) for path in (phase_a_path, phase_b_path)]
    shape = (infos[0].rows, infos[0].cols)
    if (infos[1].rows, infos[1].cols) != shape:
        raise ValueError(
            f"interferograms must have one size, got {shape[0]}x{shape[1]} and {infos[1].rows}x{infos[1].cols}"
        )
    ramps = None
    datasets = [open_raster(path) for path in (phase_a_path, phase_b_path)]
    check_valid_samples(list(zip(datasets, ("INTERFEROGRAM_A", "INTERFEROGRAM_B"))), shape, complex_data=False)
    if remove_ramp:
        pieces = [
            (
                read_window(datasets[0], 1, (rows, cols), dtype=np.float64),
                read_window(datasets[1], 1, (rows, cols), dtype=np.float64),
                (rows.start, cols.start),
            )
            for rows, cols in ramp_windows(*shape)
        ]
        ramps = ifm.phase_ramps(pieces)
        del pieces

    def block_difference(block, phase_a, phase_b):
        return ifm.differential_block(phase_a, phase_b, ramps, (block.read_row, block.read_col))

    process_blocks(
        [(phase_a_path, 1), (phase_b_path, 1)],
        out_path,
        block_difference,
        block_size=block_size,
        pass_block=True,
        progress=progress,
        is_cancelled=is_cancelled,
    )
    return ramps or ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
