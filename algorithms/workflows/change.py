"""Two-date change detection on raster files, blockwise (the file-level side of :mod:`..sar.change.auto`).

Pass 1 reads a sample of both dates (:func:`..io.raster.sample_band`: the whole raster up to
4 Mpixel, else an even grid of windows) and fits the :class:`..sar.change.auto.PairModel`. Pass 2
classifies blocks with a halo into a Byte class raster, so memory does not grow with the
scene. Regions are then labelled from the compact class raster a strip of rows at a time
(:mod:`..sar.change.strip_regions`) and described by per-region sums accumulated strip by strip.
"""

import contextlib
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from ..common.cancel import interruptible
from ..io.align import aligned
from ..io.outputs import RasterWriter
from ..io.pipeline import bounded_gdal_cache, process_blocks
from ..io.raster import check_band, open_raster, raster_info, read_window, resolve_raster_scale, sample_band
from ..sar.change import auto as change_auto
from ..sar.change.pixel import CLASS_NAMES, GAIN, LOSS, NO_CHANGE, NODATA
from ..sar.change.regions import ChangeRegions, class_pixels, regions_from_sums
from ..sar.change.strip_regions import regions_in_strips
from ..sar.convert import TO_POWER

#: Rows of the class raster labelled at a time by :func:`regions_from_class_raster`.
STRIP_ROWS = 256


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
    labels_path: str,
    classes_out_path: Optional[str] = None,
    band_before: int = 1,
    band_after: int = 1,
    scale_before: str = "linear",
    scale_after: str = "linear",
    gain_db: float = 0.0,
    looks_per_pixel=1.0,
    min_pixels: int = 1,
    strip_rows: int = STRIP_ROWS,
) -> ChangeRegions:
    """:class:`..sar.change.regions.ChangeRegions` of a class raster, a strip of rows at a time.

    The loss and gain regions (8-connected) are labelled by :mod:`..sar.change.strip_regions`, so
    memory follows ``strip_rows`` and the number of regions, not the scene. Writes the int32
    labels (0 outside; loss regions numbered first, as :func:`..sar.change.regions.label_change`)
    to ``labels_path`` and, when given, the classes without the regions under ``min_pixels`` to
    ``classes_out_path`` (Byte, :data:`..sar.change.pixel.NODATA` kept); the result holds both
    paths. The region means are of the linear intensities (after with the gain removed); the
    region p-value is the likelihood-ratio test of the region's sums with ``looks_per_pixel``
    looks per pixel (the looks the box test observed, divided by its pixels; a ``(before, after)``
    pair when the dates differ, see :mod:`..sar.change.gate`).
    """
    info = raster_info(classes_path)
    scale = 10 ** (-gain_db / 10)
    sums = np.zeros((3, 1))  # before, after, finite pixels; row 0 = outside
    counts = {}
    with contextlib.ExitStack() as stack:
        after_on_grid = stack.enter_context(aligned(after_path, info))
        stack.enter_context(bounded_gdal_cache())
        ds_c, ds_b, ds_a = (open_raster(p) for p in (classes_path, before_path, after_on_grid))
        label_writer = stack.enter_context(RasterWriter.like(info, labels_path, dtype=np.int32, nodata=0))
        class_writer = None
        if classes_out_path:
            class_writer = stack.enter_context(RasterWriter.like(info, classes_out_path, dtype=np.uint8, nodata=NODATA))

        last_read = {}  # the second pass reads a strip, then writes its labels: read it once

        def read_classes(row0, row1):
            if last_read.get("rows") != (row0, row1):
                strip = ds_c.GetRasterBand(1).ReadAsArray(0, row0, info.cols, row1 - row0)
                last_read.update(rows=(row0, row1), classes=strip)
            return last_read["classes"]

        def read(row0, row1):
            classes = read_classes(row0, row1)
            key = np.where((classes == LOSS) | (classes == GAIN), classes.astype(np.int8) - LOSS, -1)
            return key, []

        def write(row0, labels):
            nonlocal sums, counts
            label_writer.write(labels, row0)
            window = (slice(row0, row0 + labels.shape[0]), slice(0, info.cols))
            classes = read_classes(row0, row0 + labels.shape[0])
            classes = np.where(((classes == LOSS) | (classes == GAIN)) & (labels == 0), NO_CHANGE, classes)
            counts = class_pixels(classes, counts)
            if class_writer is not None:
                class_writer.write(classes, row0)
            inside = np.flatnonzero(labels.ravel())
            if not inside.size:
                return
            lab = labels.ravel()[inside].astype(np.int64)
            b = TO_POWER[scale_before](read_window(ds_b, band_before, window).ravel()[inside]).astype(np.float64)
            a = TO_POWER[scale_after](read_window(ds_a, band_after, window).ravel()[inside]).astype(np.float64) * scale
            ok = np.isfinite(b) & np.isfinite(a)
            top = int(lab.max()) + 1
            if top > sums.shape[1]:
                sums = np.pad(sums, ((0, 0), (0, max(top, 2 * sums.shape[1]) - sums.shape[1])))
            for row, weights in enumerate((b[ok], a[ok], None)):
                sums[row, :top] += np.bincount(lab[ok], weights=weights, minlength=top)

        found = regions_in_strips(
            info.rows, info.cols, read, write, bins=(), min_pixels=min_pixels, strip_rows=strip_rows
        )
    n = len(found) + 1
    sums = np.pad(sums, ((0, 0), (0, max(0, n - sums.shape[1]))))[:, :n]
    names = [CLASS_NAMES[LOSS] if found[k][0] == 0 else CLASS_NAMES[GAIN] for k in range(1, n)]
    pixels = [found[k][2] for k in range(1, n)]
    return regions_from_sums(labels_path, classes_out_path, names, tuple(sums), pixels, counts, looks_per_pixel)
