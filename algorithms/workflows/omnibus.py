"""The omnibus change test on raster files, blockwise (the file-level side of :mod:`.omnibus`).

The test is per pixel, so blocks need no halo: a scene of any size and any number of dates is
read one block of every date at a time. The region polygons are built from the three compact
outputs (uint8, and int16 or int32) a strip of rows at a time, not from the stack of dates.
"""

import contextlib
from typing import Sequence

import numpy as np

from ..common.blocks import sample_windows
from ..common.cancel import checkpoint
from ..common.deps import require
from ..io.align import aligned
from ..io.outputs import RasterWriter
from ..io.pipeline import bounded_gdal_cache, process_blocks
from ..io.raster import open_raster, raster_info, read_window, resolve_raster_scale, sample_band
from ..sar.change import omnibus
from ..sar.change.regions import first_change_regions_in_strips
from ..sar.change.shift import halo as shift_halo
from ..sar.convert import TO_POWER

#: Nodata of the number-of-changes (uint8) and the date-code (int16 or int32) rasters; the date
#: code of a valid pixel that never changed.
CHANGES_NODATA, DATE_NODATA, NO_CHANGE = 255, -1, 0
#: Largest block side (pixels) of the test: a block holds every date and a dozen float64 arrays
#: of them, about 12 MB per worker for 8 dates at 128 x 128 (256 x 256 took 47 MB more for the
#: Malaysia stack, and no less time: the test is per pixel, the outputs are the same).
MAX_BLOCK = 128
#: Pixels of each date sampled to fit the gains, looks and noise floor (:func:`..sar.change.omnibus.fit_stack`),
#: in windows of FIT_WINDOW pixels a side spread evenly over the scene.
FIT_PIXELS, FIT_WINDOW = 500_000, 64
#: Misregistration tolerated by default and at most (pixels): see :mod:`..sar.change.shift`.
SHIFT, MAX_SHIFT = 1, 5
#: Rows of the rasters the region pass holds at a time (one row of the outputs' 256-pixel tiles).
STRIP_ROWS = 256


def date_code_dtype(codes: Sequence[int]) -> np.dtype:
    """The type of the date-code rasters: int16 when every code fits (1..k, years), else int32
    (YYYYMMDD, as ``sarchange:omnibus`` codes its DATES). Where it fits, half the bytes in memory
    and from cluster workers."""
    info = np.iinfo(np.int16)
    return np.dtype(np.int16 if all(info.min < int(c) <= info.max for c in codes) else np.int32)


def omnibus_rasters(
    paths: Sequence[str],
    *,
    band: int = 1,
    input_scale: str = "auto",
    looks: float = 0.0,
    alpha: float = 0.01,
    normalise: bool = True,
    min_change_db: float = 2.0,
    noise_floor_db: float = None,
    codes: Sequence[int] = None,
    window: int = 0,
    shift: int = SHIFT,
    second_paths: Sequence[str] = None,
    changes_path: str,
    first_path: str,
    last_path: str,
    block_size: int = 512,
    progress=None,
    is_cancelled=None,
) -> omnibus.StackModel:
    """Write the number of changes, and the codes of the first and last change dates, per pixel.

    ``paths`` are the dates in time order, aligned onto the first one's grid on the fly; ``codes``
    (default 1..k, never 0) are written for the dates (0-based index ``i`` becomes ``codes[i]``;
    0 where a valid pixel never changed, -1 where a date has no data; int16 rasters when every
    code fits, :func:`date_code_dtype`). The gains of the dates
    (``normalise``), the looks (``looks`` <= 0) and the noise floor (``noise_floor_db`` None) are
    fitted on the same sample of every date (:func:`..sar.change.omnibus.fit_stack`); a change must also be
    ``min_change_db`` large and not under the floor on both sides.

    ``window`` (odd, pixels) tests ``window`` x ``window`` means of each date instead of single
    pixels, with the looks of those means estimated from their date-to-date spread (which takes in
    the correlation of the speckle); 0 (default) picks the smallest window reaching
    :data:`..sar.change.omnibus.TARGET_LOOKS` from the pixels' looks; 1 tests single pixels. With
    windows, the noise floor is also checked on the pixel's own levels: a water pixel whose window
    reaches across the shore into changed land is not a change.
    ``second_paths`` (the same dates in a second polarisation, e.g. HV beside HH) makes the test
    joint: the channels' statistics add (:func:`..sar.change.omnibus.omnibus_changes`); gains and
    floor are fitted per channel, the looks are the fewer of the two. ``shift`` (pixels) is the
    misregistration tolerated between dates (:mod:`..sar.change.shift`): a change must be
    ``min_change_db`` large against every pixel within ``shift`` of the earlier dates; 0: off.

    Returns the fitted model: its ``looks`` are those of the tested means, its ``window`` the side;
    with two channels, ``channels`` holds the model of each.
    """
    if len(paths) < 3:
        raise ValueError(f"the omnibus test needs at least 3 dates, got {len(paths)}")
    input_scale = resolve_raster_scale(paths[0], band, input_scale)  # auto: decided on the first date
    codes = list(range(1, len(paths) + 1)) if codes is None else list(codes)
    if len(codes) != len(paths) or NO_CHANGE in codes or DATE_NODATA in codes:
        raise ValueError(f"codes must give one code per date ({len(paths)}), none 0 or -1, got codes={codes!r}")
    to_power = TO_POWER[input_scale]
    reference = raster_info(paths[0])
    code_of = np.asarray([NO_CHANGE] + codes, dtype=np.int64)  # index -1 (no change) -> 0

    if not (isinstance(window, (int, np.integer)) and window >= 0 and (window == 0 or window % 2 == 1)):
        raise ValueError(f"window must be 0 (automatic) or an odd number of pixels, got window={window!r}")
    if not (isinstance(shift, (int, np.integer)) and 0 <= shift <= MAX_SHIFT):
        raise ValueError(f"shift must be a whole number of pixels in 0..{MAX_SHIFT}, got shift={shift!r}")

    def block_test(*windows):
        stack = np.stack([to_power(w) for w in windows]).reshape(model.gain_factors.shape[:2] + windows[0].shape)
        result = omnibus.stack_changes(stack, model, alpha=alpha, min_change_db=min_change_db, shift=shift)
        changes = np.where(result.valid, result.changes, CHANGES_NODATA)
        first = np.where(result.valid, code_of[result.first.astype(np.int64) + 1], DATE_NODATA)
        last = np.where(result.valid, code_of[result.last.astype(np.int64) + 1], DATE_NODATA)
        return np.stack([changes, first, last]).astype(np.int32)

    channels = [list(paths)] + ([list(second_paths)] if second_paths else [])
    if len(channels[-1]) != len(paths):
        raise ValueError(
            f"second_paths must give the second polarisation of every date ({len(paths)}), got {len(channels[-1])}"
        )
    with contextlib.ExitStack() as stack:
        sources = [(stack.enter_context(aligned(path, reference)), band) for group in channels for path in group]
        # the same windows of every date, small and many so that the sample covers the scene: four
        # 256-pixel windows of the Malaysia stack gave 26 % changed pixels, the whole image 5.1 %
        samples = np.stack(
            [to_power(sample_band(path, b, max_pixels=FIT_PIXELS, window=FIT_WINDOW)) for path, b in sources]
        )
        samples = samples.reshape((len(channels), len(paths)) + samples.shape[1:])
        whole = sample_windows(reference.rows, reference.cols, max_pixels=FIT_PIXELS, side=FIT_WINDOW) is None
        model = omnibus.fit_stack_model(
            samples,
            normalise=normalise,
            looks=looks,
            floor_db=noise_floor_db,
            window=window,
            window_rows=None if whole else FIT_WINDOW,  # the sample is windows stacked vertically
        )
        del samples  # tens of MB the blocks can use
        process_blocks(
            sources,
            [changes_path, first_path, last_path],
            block_test,
            halo=model.window // 2 + shift_halo(shift),
            block_size=min(block_size, MAX_BLOCK),
            out_dtype=[np.uint8, date_code_dtype(codes), date_code_dtype(codes)],
            nodata=[CHANGES_NODATA, DATE_NODATA, DATE_NODATA],
            progress=progress,
            is_cancelled=is_cancelled,
        )
    return model


def _date_index(values: np.ndarray, codes: Sequence[int]) -> np.ndarray:
    """0-based date index of each date code in ``values`` (int8, int16 past 127 dates); -1 for no
    change (0), nodata (-1) and any value that is not a code."""
    index = np.full(values.shape, -1, np.int8 if len(codes) < 128 else np.int16)
    for i, code in enumerate(codes):
        index[values == int(code)] = i
    return index


def regions_from_rasters(
    changes_path: str,
    first_path: str,
    last_path: str,
    codes: Sequence[int],
    min_pixels: int,
    labels_path: str,
    strip_rows: int = STRIP_ROWS,
):
    """Regions of first change from the rasters :func:`omnibus_rasters` wrote, a strip at a time.

    Writes the int32 region labels (0 outside) to ``labels_path`` on the rasters' grid and returns
    ``{label: (first date index, most frequent last date index, most frequent number of
    changes, pixels)}`` (:func:`..sar.change.regions.first_change_regions_in_strips`: memory
    follows ``strip_rows``, not the scene).
    """
    info = raster_info(first_path)
    datasets = [open_raster(path) for path in (changes_path, first_path, last_path)]

    def read(row0, row1):
        changes, first, last = (d.GetRasterBand(1).ReadAsArray(0, row0, info.cols, row1 - row0) for d in datasets)
        changes[changes == CHANGES_NODATA] = 0
        return _date_index(first, codes), _date_index(last, codes), changes

    with bounded_gdal_cache(), RasterWriter.like(info, labels_path, dtype=np.int32, nodata=0) as writer:
        return first_change_regions_in_strips(
            info.rows,
            info.cols,
            read,
            lambda row0, labels: writer.write(labels, row0),
            len(codes),
            min_pixels,
            strip_rows,
        )


def region_steps_db(
    paths: Sequence[str],
    labels_path: str,
    first_path: str,
    codes: Sequence[int],
    gains_db: Sequence[float],
    *,
    band: int = 1,
    input_scale: str = "auto",
    edge_px: int = 0,
    strip_rows: int = STRIP_ROWS,
) -> np.ndarray:
    """Change (dB) of each region at its first change: ``10 log10`` of the region's mean level on
    the date of the first change over its mean level on the dates before it, each date's gain
    (``gains_db``, as fitted by :func:`omnibus_rasters`) removed.

    Window means carry a region up to ``window // 2`` pixels past the change that made it, onto
    pixels whose own level did not change, which would dilute its step. So a region is measured on
    its interior, the pixels farther than ``edge_px`` from any other label (or from no region),
    when that interior holds at least one window's worth, ``(2 edge_px + 1)**2`` pixels; a region
    too thin for that is measured on all its pixels.

    Reads the label raster of :func:`regions_from_rasters`, the first-change raster and every date,
    a strip of rows (and ``edge_px`` rows either side) at a time. Returns a float array indexed by
    label (NaN for 0 and for labels without a valid pixel).
    """
    ndimage = require("scipy.ndimage")
    edge_px = int(edge_px)
    if edge_px < 0:
        raise ValueError(f"edge_px must be >= 0 pixels, got edge_px={edge_px!r}")
    footprint = 2 * edge_px + 1
    to_power = TO_POWER[resolve_raster_scale(paths[0], band, input_scale)]
    factors = 10 ** (np.asarray(gains_db, np.float64) / 10)
    info = raster_info(labels_path)
    # per label: level before and at the first change, over all pixels (0, 1) and the interior (2, 3)
    sums = np.zeros((4, 1))
    inner_pixels = np.zeros(1)
    with contextlib.ExitStack() as stack:
        dates = [open_raster(stack.enter_context(aligned(path, info))) for path in paths]
        labels_ds, first_ds = open_raster(labels_path), open_raster(first_path)
        for row0 in range(0, info.rows, strip_rows):
            checkpoint()
            rows = min(strip_rows, info.rows - row0)
            top, bottom = max(0, row0 - edge_px), min(info.rows, row0 + rows + edge_px)
            padded = labels_ds.GetRasterBand(1).ReadAsArray(0, top, info.cols, bottom - top)
            labels = padded[row0 - top : row0 - top + rows]
            if edge_px:
                same = (ndimage.minimum_filter(padded, footprint, mode="nearest") == padded) & (
                    ndimage.maximum_filter(padded, footprint, mode="nearest") == padded
                )
                inner = same[row0 - top : row0 - top + rows]
            else:
                inner = np.ones(labels.shape, bool)
            where = np.nonzero(labels > 0)
            if not where[0].size:
                continue
            index = _date_index(first_ds.GetRasterBand(1).ReadAsArray(0, row0, info.cols, rows)[where], codes)
            index = index.astype(np.int64)
            window = (slice(row0, row0 + rows), slice(0, info.cols))
            levels = np.stack([to_power(read_window(d, band, window))[where] for d in dates]) / factors[:, None]
            earlier = np.arange(len(dates))[:, None] < index
            with np.errstate(invalid="ignore", divide="ignore"):
                before = np.where(earlier, levels, 0.0).sum(axis=0) / index
            at = levels[index, np.arange(index.size)]
            ok = (index > 0) & np.isfinite(before) & np.isfinite(at) & (before > 0)
            region = labels[where][ok].astype(np.int64)
            interior = inner[where][ok]
            size = max(sums.shape[1], int(region.max(initial=0)) + 1)
            sums = np.pad(sums, ((0, 0), (0, size - sums.shape[1])))
            inner_pixels = np.pad(inner_pixels, (0, size - inner_pixels.size))
            for values, row in ((before, 0), (at, 1)):
                sums[row] += np.bincount(region, values[ok], size)
                sums[row + 2] += np.bincount(region, values[ok] * interior, size)
            inner_pixels += np.bincount(region, interior, size)
    use_interior = (inner_pixels >= footprint**2) if edge_px else np.zeros(inner_pixels.size, bool)
    before, at = np.where(use_interior, sums[2], sums[0]), np.where(use_interior, sums[3], sums[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 10 * np.log10(at / before)
    out[~np.isfinite(out)] = np.nan
    return out
