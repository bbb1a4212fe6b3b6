"""The block pipeline: a function of windows (with a halo) over rasters of any size.

Blocks are read and computed by :data:`WORKERS` threads with a bounded look-ahead and written in
order by the caller, or sent to a dask.distributed scheduler (:mod:`.cluster`); memory is a few
blocks whatever the scene size.
"""

import contextlib
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Callable, Optional, Sequence, Tuple

import numpy as np

from ..common.blocks import DEFAULT_BLOCK, count_blocks, iter_blocks
from ..common.cancel import POLL_S, Cancelled, abandon, checkpoint, current
from ..common.threads import (
    WORKERS,
    _process_setting,
    blas_single_threaded,
    block_running,
    opencv_single_threaded,
    release_free_memory,
)
from .cluster import cluster_map, current_scheduler
from .outputs import RasterWriter, as_stored
from .raster import (
    ProgressFn,
    StopFn,
    check_band,
    gdal,
    open_raster,
    raster_info,
    read_window,
)


def _ordered_map(func, items, is_cancelled=None, ahead=None, after_first=None):
    """Yield ``func(item)`` in order, computed by :data:`WORKERS` threads with bounded look-ahead.

    At most ``ahead`` items (default ``2 * WORKERS``) are submitted and not yet
    yielded. Polls ``is_cancelled`` (default: the open :func:`..common.cancel.cancel_scope`) before
    submitting each item and every :data:`..common.cancel.POLL_S` seconds while waiting for one, and
    raises :class:`Cancelled` at once: queued items are dropped and the blocks being computed
    finish in the background, their results unused.

    With ``after_first``, the first item is computed alone and ``after_first()`` is called once it
    is done, before the others are submitted (see :func:`process_blocks`: OpenCV).
    """
    check = current(is_cancelled)
    ahead = max(ahead or 0, 2 * WORKERS)
    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="sarchange")
    pending = deque()

    def next_result():
        future = pending.popleft()
        while check is not None:
            try:
                return future.result(timeout=POLL_S)
            except FuturesTimeout:
                checkpoint(check)
        return future.result()

    cancelled = False
    items = iter(items)
    try:
        if after_first is not None:
            for item in items:  # only the first
                checkpoint(check)
                pending.append(pool.submit(func, item))
                yield next_result()
                after_first()
                break
        for item in items:
            checkpoint(check)
            pending.append(pool.submit(func, item))
            if len(pending) >= ahead:
                yield next_result()
        while pending:
            checkpoint(check)
            yield next_result()
    except Cancelled:
        cancelled = True
        raise
    finally:
        # a cancel returns now; otherwise (done, an error, the consumer stopped) wait for the workers
        pool.shutdown(wait=not cancelled, cancel_futures=True)
        if cancelled:
            abandon(pending)


#: Bytes of computed blocks that may wait for the writer (see :func:`process_blocks`).
LOOKAHEAD_BYTES = 16 * 1024 * 1024


#: Pixels of blocks one cluster task computes (several small blocks make one task: see
#: :func:`.cluster.cluster_map`).
CLUSTER_TASK_PIXELS = 1024 * 1024


#: GDAL block cache used while we stream blocks, in bytes. GDAL's default (5 % of RAM) would
#: let dirty output blocks pile up to gigabytes before they reach disk.
GDAL_CACHE_BYTES = 64 * 1024 * 1024


#: The least cache :func:`process_blocks` asks for.
GDAL_CACHE_MIN_BYTES = 16 * 1024 * 1024


def block_cache_bytes(block_size: int, halo: int, source_itemsizes, out_row_bytes: int) -> int:
    """GDAL cache for a block pipeline: every worker's read window (grown to whole 256-pixel tiles)
    plus one row of output blocks, within [:data:`GDAL_CACHE_MIN_BYTES`, :data:`GDAL_CACHE_BYTES`].

    No more: on virtual machines a fresh page of memory can cost microseconds (measured 2 ms per
    MB here), so an idle 64 MB cache costs a short run a tenth of a second.
    """
    side = block_size + 2 * halo + 2 * 256
    reads = WORKERS * side * side * sum(source_itemsizes)
    return int(min(GDAL_CACHE_BYTES, max(GDAL_CACHE_MIN_BYTES, reads + out_row_bytes)))


@contextlib.contextmanager
def bounded_gdal_cache(max_bytes: int = GDAL_CACHE_BYTES):
    """Lower GDAL's block cache to ``max_bytes`` for the duration (never raise it), then restore it."""
    gdal_ = gdal()
    with _process_setting("gdal cache", gdal_.GetCacheMax, gdal_.SetCacheMax).lowered_to(int(max_bytes)):
        yield


class BlockJob:
    """Read a block's windows of the sources (with the halo) and run ``func`` on them.

    Called from several threads (each reads through its own dataset handles: GDAL datasets are
    not thread-safe) or pickled to cluster workers (the handles are not sent).
    Returns ``(block, [array of each output])``, ``outputs`` giving ``(bands, dtype, nodata)`` of
    each output raster: the block without its halo, as each output stores it
    (:func:`.outputs.as_stored`). So the cast runs where the block was computed, and a cluster
    worker sends only what is written (the omnibus: 9 bytes a pixel, not 12 and the halo).
    """

    def __init__(self, sources, dtypes, func, pass_block, outputs):
        self.sources, self.dtypes, self.func, self.pass_block = sources, dtypes, func, pass_block
        self.outputs = outputs
        self._local = threading.local()

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_local"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def __call__(self, block):
        with block_running():
            return self._compute(block)

    def _compute(self, block):
        local = self._local
        if not hasattr(local, "datasets"):
            local.datasets = [open_raster(path) for path, _ in self.sources]
        windows = [
            read_window(ds, band, block.read_window, dtype=dt)
            for ds, (_, band), dt in zip(local.datasets, self.sources, self.dtypes)
        ]
        result = np.asarray(self.func(block, *windows) if self.pass_block else self.func(*windows))
        result = result[None] if result.ndim == 2 else result
        parts, first = [], 0
        for bands, dtype, nodata in self.outputs:
            parts.append(as_stored(result[(slice(first, first + bands),) + tuple(block.inner)], dtype, nodata))
            first += bands
        return block, parts


def process_blocks(
    sources: Sequence[Tuple[str, int]],
    dst_path: str,
    func: Callable[..., np.ndarray],
    *,
    halo: int = 0,
    block_size: int = DEFAULT_BLOCK,
    block_cols: Optional[int] = None,
    out_bands: int = 1,
    out_dtype=np.float32,
    nodata=None,
    band_descriptions: Optional[Sequence[str]] = None,
    color_table: Optional[Sequence[Tuple[int, int, int]]] = None,
    progress: Optional[ProgressFn] = None,
    is_cancelled: Optional[StopFn] = None,
    pass_block: bool = False,
) -> str:
    """Run a block-local ``func`` over bands of rasters sharing one grid, into a new GeoTIFF.

    Parameters
    ----------
    sources : sequence of (path, band)
        Input rasters (already on one grid, see :func:`.align.aligned`) and
        their 1-based bands. The output takes the grid and CRS of the first.
    dst_path : str or sequence of str
        Output GeoTIFF, written through a temporary file (see :class:`RasterWriter`).
        With several paths, each is a file of ``out_bands`` bands taking its
        slice of the ``(len(dst_path) * out_bands, rows, cols)`` arrays ``func``
        returns (``out_dtype`` and ``nodata`` may then be sequences, one per
        path); all or none are written.
    func : callable
        Called with one float32 window per source (nodata as NaN, complex
        sources as complex64), preceded by the :class:`..common.blocks.Block` when
        ``pass_block``; returns a 2-D array, or ``(out_bands, rows, cols)``.
    halo : int
        Pixels of context ``func`` needs on each side, see :func:`..common.blocks.iter_blocks`.
    block_size : int
        Block side in pixels; memory is about ``(block_size + 2 * halo) ** 2``
        pixels times the arrays ``func`` holds.
    block_cols : int, optional
        Block width when not ``block_size`` (``grid cols``: strips of whole rows).
    progress : callable, optional
        Called with the fraction done (0-1) after each block.
    is_cancelled : callable, optional
        Polled before each block; when it returns True, :class:`Cancelled` is
        raised and no output is left behind.

    Notes
    -----
    The blocks run on this machine's threads, or on a dask.distributed cluster when a
    scheduler is named (see :mod:`.cluster`): workers then read the sources themselves and
    ``func`` must be picklable by cloudpickle (closures are). The output is the same.

    Returns
    -------
    str
        ``dst_path``.
    """
    infos = [raster_info(path) for path, _ in sources]
    for info, (path, band) in zip(infos, sources):
        check_band(info, band)
        if (info.rows, info.cols) != (infos[0].rows, infos[0].cols):
            raise ValueError(
                f"rasters must share one grid: {path!r} is {info.rows}x{info.cols}, "
                f"{infos[0].path!r} is {infos[0].rows}x{infos[0].cols}"
            )
    dtypes = [
        np.complex64 if info.dtypes[band - 1].kind == "c" else np.float32 for info, (_, band) in zip(infos, sources)
    ]
    grid = infos[0]
    block_cols = block_size if block_cols is None else int(block_cols)
    total = count_blocks(grid.rows, grid.cols, block_rows=block_size, block_cols=block_cols)
    paths = [dst_path] if isinstance(dst_path, str) else list(dst_path)
    out_dtypes = list(out_dtype) if isinstance(out_dtype, (list, tuple)) else [out_dtype] * len(paths)
    nodatas = list(nodata) if isinstance(nodata, (list, tuple)) else [nodata] * len(paths)
    outputs = [(out_bands, np.dtype(dt), nd) for dt, nd in zip(out_dtypes, nodatas)]
    job = BlockJob(list(sources), dtypes, func, pass_block, outputs)
    with contextlib.ExitStack() as stack_of_files:
        out_pixel_bytes = out_bands * sum(np.dtype(d).itemsize for d in out_dtypes)  # every output, every band
        out_row = block_size * grid.cols * out_pixel_bytes
        itemsizes = [np.dtype(dt).itemsize for dt in dtypes]
        stack_of_files.enter_context(bounded_gdal_cache(block_cache_bytes(block_size, halo, itemsizes, out_row)))
        stack_of_files.enter_context(opencv_single_threaded())  # when loaded; else see lower_opencv
        stack_of_files.enter_context(blas_single_threaded())
        writers = [
            stack_of_files.enter_context(RasterWriter.like(grid, path, bands=out_bands, dtype=dt, nodata=nd))
            for path, dt, nd in zip(paths, out_dtypes, nodatas)
        ]
        for i, text in enumerate(band_descriptions or []):
            writers[0].set_band_description(i + 1, text)
        if color_table:
            writers[0].set_color_table(color_table)
        blocks = iter_blocks(grid.rows, grid.cols, block_rows=block_size, block_cols=block_cols, halo=halo)
        # Workers may run ahead of the writer by LOOKAHEAD_BYTES of results: the kernel throttles
        # the writer now and then (dirty page write-back) and the workers should not idle meanwhile.
        per_block = block_size * block_cols * out_pixel_bytes
        ahead = LOOKAHEAD_BYTES // per_block
        address = current_scheduler()
        if address is None:

            def lower_opencv():
                # a block function that uses OpenCV has imported it in the first block: the other
                # blocks run it single-threaded (entering twice is harmless); a run that never
                # uses it never imports it
                stack_of_files.enter_context(opencv_single_threaded())

            results = _ordered_map(job, blocks, is_cancelled, ahead, lower_opencv)
        else:
            batch = max(1, CLUSTER_TASK_PIXELS // (block_size * block_cols))
            results = cluster_map(address, job, blocks, [path for path, _ in sources], is_cancelled, ahead, batch)
        for done, (block, parts) in enumerate(results):
            for part, writer in zip(parts, writers):
                for b in range(out_bands):
                    writer.write(part[b], block.row, block.col, band=b + 1)
                if block.col + block.cols == grid.cols:
                    writer.flush()  # a finished row of blocks goes to disk now, while workers compute
            if progress is not None:
                progress((done + 1) / total)
    release_free_memory()  # the blocks' arrays, kept by the worker threads' arenas
    return dst_path


def process_blockwise(src_path: str, dst_path: str, func, *, band: int = 1, **kwargs) -> str:
    """Run a block-local ``func`` over one band of one raster; see :func:`process_blocks`."""
    return process_blocks([(src_path, band)], dst_path, func, **kwargs)
