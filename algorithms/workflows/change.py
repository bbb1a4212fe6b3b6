"""Two-date change detection on raster files, blockwise (the file-level side of :mod:`..sar.change.auto`).

Pass 1 reads a sample of both dates (:func:`..io.raster.sample_band`: the whole raster up to
4 Mpixel, else an even grid of windows) and fits the :class:`..sar.change.auto.PairModel`. Pass 2
classifies blocks with a halo into a Byte class raster, so memory does not grow with the
scene. Regions are then labelled from the compact class raster and described by per-region
sums accumulated block by block.
"""

import contextlib
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from ..common.blocks import iter_blocks
from ..common.cancel import Cancelled, interruptible
from ..io.align import aligned
from ..io.pipeline import process_blocks
from ..io.raster import check_band, open_raster, raster_info, read_window, resolve_raster_scale, sample_band
from ..sar.change import auto as change_auto
from ..sar.change.pixel import NODATA
from ..sar.change.regions import ChangeRegions, label_change, regions_from_sums
from ..sar.convert import TO_POWER


@dataclass
class PairRun:
    """What :func:`detect_change_rasters` decided, for the log and the report.

    Attributes
    ----------
    model : change_auto.PairModel
    scale_before, scale_after : str
        Input scales used (``auto`` resolved).
    sample_statistic : float32 ndarray
        The decision statistic (dB) on the sample, for the report's histogram.
    sample_classes : uint8 ndarray
        The classes of the sample pixels.
    """

    model: change_auto.PairModel
    scale_before: str
    scale_after: str
    sample_statistic: np.ndarray
    sample_classes: np.ndarray


def detect_change_rasters(
    before_path: str,
    after_path: str,
    classes_path: str,
    *,
    bands_before: Sequence[int] = (1,),
    bands_after: Sequence[int] = (1,),
    input_scale: str = "auto",
    looks: float = 0.0,
    alpha: float = 0.01,
    min_change_db: float = 2.0,
    noise_floor_db: Optional[float] = None,
    normalise: bool = True,
    block_size: int = 512,
    progress=None,
    is_cancelled=None,
) -> PairRun:
    """Write the change classes (Byte: 0 none, 1 loss, 2 gain, 255 nodata) of a pair of rasters.

    ``after_path`` is aligned onto the grid of ``before_path``. ``bands_before`` and
    ``bands_after`` pair up channels (e.g. HH and HV) for the joint test. See
    :func:`..sar.change.auto.fit_pair_model` for the other parameters.
    """
    bands_before, bands_after = list(bands_before), list(bands_after)
    if not bands_before or len(bands_before) != len(bands_after):
        raise ValueError(
            f"bands_before and bands_after must pair up one or more bands, got {bands_before} and {bands_after}"
        )
    reference = raster_info(before_path)
    scale_b = resolve_raster_scale(before_path, bands_before[0], input_scale)
    scale_a = resolve_raster_scale(after_path, bands_after[0], input_scale)
    to_b, to_a = TO_POWER[scale_b], TO_POWER[scale_a]
    with contextlib.ExitStack() as stack:
        after_on_grid = stack.enter_context(aligned(after_path, reference))
        for band in bands_after:
            check_band(raster_info(after_on_grid), band, "bands_after")
        sample_b = np.stack([to_b(sample_band(before_path, b)) for b in bands_before])
        sample_a = np.stack([to_a(sample_band(after_on_grid, b)) for b in bands_after])
        model = interruptible(
            change_auto.fit_pair_model,
            sample_b,
            sample_a,
            looks=looks,
            alpha=alpha,
            min_change_db=min_change_db,
            noise_floor_db=noise_floor_db,
            normalise=normalise,
        )
        sample_classes, sample_stat, _ = interruptible(
            change_auto.classify_pair, model, sample_b, sample_a, with_pvalue=False
        )
        channels = len(bands_before)

        def classify_block(*windows):
            before = np.stack([to_b(w) for w in windows[:channels]])
            after = np.stack([to_a(w) for w in windows[channels:]])
            return change_auto.classify_pair(model, before, after, with_pvalue=False)[0]

        sources = [(before_path, b) for b in bands_before] + [(after_on_grid, b) for b in bands_after]
        process_blocks(
            sources,
            classes_path,
            classify_block,
            halo=model.halo,
            block_size=block_size,
            out_dtype=np.uint8,
            nodata=NODATA,
            progress=progress,
            is_cancelled=is_cancelled,
        )
    return PairRun(model, scale_b, scale_a, sample_stat, sample_classes)


def regions_from_class_raster(
    classes_path: str,
    before_path: str,
    after_path: str,
    *,
    band_before: int = 1,
    band_after: int = 1,
    scale_before: str = "linear",
    scale_after: str = "linear",
    gain_db: float = 0.0,
    looks_per_pixel: float = 1.0,
    min_pixels: int = 1,
    block_size: int = 1024,
    is_cancelled=None,
) -> ChangeRegions:
    """:class:`..sar.change.regions.ChangeRegions` of a class raster; region sums read block by block.

    The region means are of the linear intensities (after with the gain removed); the region
    p-value is the likelihood-ratio test of the region's sums with ``looks_per_pixel`` looks
    per pixel (the looks the box test observed, divided by its pixels).
    """
    dataset = open_raster(classes_path)
    classes = dataset.GetRasterBand(1).ReadAsArray()
    labels, classes, names = label_change(classes, min_pixels)
    n = len(names) + 1
    sum_b, sum_a, count = np.zeros(n), np.zeros(n), np.zeros(n)
    rows, cols = classes.shape
    scale = 10 ** (-gain_db / 10)
    with aligned(after_path, raster_info(classes_path)) as after_on_grid:
        ds_b, ds_a = open_raster(before_path), open_raster(after_on_grid)
        for block in iter_blocks(rows, cols, block_rows=block_size, block_cols=block_size):
            if is_cancelled is not None and is_cancelled():
                raise Cancelled("cancelled by the user")
            window = block.read_window
            lab = labels[window].ravel()
            if not lab.any():
                continue
            b = TO_POWER[scale_before](read_window(ds_b, band_before, window)).ravel().astype(np.float64)
            a = TO_POWER[scale_after](read_window(ds_a, band_after, window)).ravel().astype(np.float64) * scale
            ok = (lab > 0) & np.isfinite(b) & np.isfinite(a)
            sum_b += np.bincount(lab[ok], weights=b[ok], minlength=n)
            sum_a += np.bincount(lab[ok], weights=a[ok], minlength=n)
            count += np.bincount(lab[ok], minlength=n)
    return regions_from_sums(labels, classes, names, sum_b, sum_a, count, looks_per_pixel)
