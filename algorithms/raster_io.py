"""GDAL raster I/O: windows as numpy arrays with NaN for nodata, atomic GeoTIFF writes.

Kept apart from the maths: functions here read and write, the modules by
topic compute. GDAL comes with QGIS (``osgeo``) and is imported lazily.
"""

import contextlib
import os
import threading
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from .blocks import DEFAULT_BLOCK, count_blocks, even_windows, iter_blocks
from .cancel import POLL_S, Cancelled, abandon, checkpoint, current
from .cluster import cluster_map, current_scheduler
from .deps import has, require


def gdal():
    """Return the ``osgeo.gdal`` module with exceptions enabled."""
    module = require("osgeo.gdal")
    module.UseExceptions()
    return module


#: numpy dtype -> GDAL type name
_GDAL_TYPES = {
    np.dtype(np.uint8): "Byte",
    np.dtype(np.int16): "Int16",
    np.dtype(np.uint16): "UInt16",
    np.dtype(np.int32): "Int32",
    np.dtype(np.uint32): "UInt32",
    np.dtype(np.float32): "Float32",
    np.dtype(np.float64): "Float64",
    np.dtype(np.complex64): "CFloat32",
    np.dtype(np.complex128): "CFloat64",
}


@dataclass
class RasterInfo:
    """Grid and bands of a raster file.

    Attributes
    ----------
    rows, cols, bands : int
        Size in pixels and number of bands.
    geotransform : tuple of 6 float
        GDAL geotransform (origin x, pixel width, row rotation, origin y,
        column rotation, pixel height), in CRS units.
    crs_wkt : str
        CRS as WKT, empty when the raster has none (e.g. radar geometry).
    nodata : list of (float or None)
        Nodata value of each band.
    dtypes : list of numpy.dtype
        Data type of each band.
    """

    path: str
    rows: int
    cols: int
    bands: int
    geotransform: Tuple[float, ...]
    crs_wkt: str
    nodata: list = field(default_factory=list)
    dtypes: list = field(default_factory=list)

    @property
    def pixel_area(self) -> float:
        """Area of one pixel in squared CRS units."""
        gt = self.geotransform
        return abs(gt[1] * gt[5] - gt[2] * gt[4])


def open_raster(path: str):
    """Open ``path`` read-only with GDAL, raising ``ValueError`` with a clear message.

    The caller must keep the returned dataset referenced while using its bands.
    """
    if not path:
        raise ValueError("path must name a raster file, got an empty path")
    gdal_ = gdal()
    if not path.startswith("/vsi") and not os.path.exists(path.split("|")[0]):
        raise ValueError(f"raster file does not exist: path={path!r}")
    try:
        dataset = gdal_.Open(path, gdal_.GA_ReadOnly)
    except RuntimeError as exc:
        raise ValueError(f"not a raster GDAL can read: path={path!r} ({exc})") from exc
    if dataset is None or dataset.RasterCount == 0:
        raise ValueError(f"not a raster GDAL can read (no bands): path={path!r}")
    return dataset


def raster_info(path: str) -> RasterInfo:
    """Return the :class:`RasterInfo` of the raster at ``path``."""
    dataset = open_raster(path)
    gdal_array = require("osgeo.gdal_array")
    bands = [dataset.GetRasterBand(i + 1) for i in range(dataset.RasterCount)]
    return RasterInfo(
        path=path,
        rows=dataset.RasterYSize,
        cols=dataset.RasterXSize,
        bands=dataset.RasterCount,
        geotransform=tuple(dataset.GetGeoTransform()),
        crs_wkt=dataset.GetProjection() or "",
        nodata=[b.GetNoDataValue() for b in bands],
        dtypes=[np.dtype(gdal_array.GDALTypeCodeToNumericTypeCode(b.DataType)) for b in bands],
    )


def check_band(info: RasterInfo, band: int, name: str = "band") -> int:
    """Validate a 1-based band number against ``info``; return it as int."""
    if int(band) != band or not 1 <= band <= info.bands:
        raise ValueError(
            f"{name} must be between 1 and {info.bands} for {os.path.basename(info.path)}, got {name}={band!r}"
        )
    return int(band)


def read_window(
    dataset,
    band: int,
    window: Optional[Tuple[slice, slice]] = None,
    *,
    dtype=np.float32,
) -> np.ndarray:
    """Read a window of one band as ``dtype``, with nodata pixels as NaN.

    Parameters
    ----------
    dataset : gdal.Dataset
        An open dataset (keep it referenced while reading).
    band : int
        1-based band number.
    window : (slice, slice), optional
        Rows and columns to read; the whole band when omitted.
    dtype : numpy dtype
        Floating (or complex) type of the result.
    """
    if np.dtype(dtype).kind not in "fc":
        raise ValueError(f"dtype must be floating or complex (nodata becomes NaN), got dtype={np.dtype(dtype)}")
    rb = dataset.GetRasterBand(band)
    if window is None:
        window = (slice(0, dataset.RasterYSize), slice(0, dataset.RasterXSize))
    rows, cols = window
    r0, r1, c0, c1 = int(rows.start), int(rows.stop), int(cols.start), int(cols.stop)
    data = rb.ReadAsArray(c0, r0, c1 - c0, r1 - r0)
    nodata = rb.GetNoDataValue()
    out = data.astype(dtype, copy=False)  # ReadAsArray gives a fresh array: safe to edit
    if nodata is not None and not np.isnan(nodata):
        out[data == nodata] = np.nan
    return out


def read_band(path: str, band: int = 1, *, dtype=np.float32) -> np.ndarray:
    """Read a whole band of the raster at ``path`` (small rasters only), nodata as NaN."""
    dataset = open_raster(path)
    check_band(raster_info(path), band)
    return read_window(dataset, band, dtype=dtype)


def _creation_options(dtype: np.dtype, rows: int, cols: int) -> list:
    """GeoTIFF creation options: tiled; integer rasters compressed, float rasters not.

    Speckled float32 images gain only ~10 % from any lossless codec while
    compressing them costs about a third of a filter's run time, so float
    outputs are stored plain. Class, mask and RGB rasters compress several-fold
    and are ZSTD level 1 (DEFLATE where GDAL lacks ZSTD), multithreaded.
    """
    options = ["BIGTIFF=IF_SAFER"]
    if rows >= 256 and cols >= 256:
        options += ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"]
    if np.dtype(dtype).kind in "iub":
        codecs = gdal().GetDriverByName("GTiff").GetMetadataItem("DMD_CREATIONOPTIONLIST") or ""
        options += ["COMPRESS=ZSTD", "ZSTD_LEVEL=1"] if "ZSTD" in codecs else ["COMPRESS=DEFLATE", "ZLEVEL=1"]
        options += ["PREDICTOR=2", f"NUM_THREADS={WORKERS}"]
    return options


_RUN = threading.local()


class OutputTransaction:
    """The outputs of one algorithm run: all of them are kept, or none.

    Each :class:`RasterWriter` committed while the transaction is open is renamed into place at
    once (later steps may read it back), and remembered with a backup of the file it replaced.
    :meth:`rollback` removes what this run wrote (only if the file is still the one it wrote: a
    concurrent run's result is never removed) and restores the backups; :meth:`finish` drops
    the backups."""

    def __init__(self):
        self.done = []  # (path, inode written, backup path or None)

    def place(self, tmp_path: str, path: str) -> None:
        backup = None
        if os.path.exists(path):
            backup = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{_run_tag()}.bak")
            os.replace(path, backup)
        os.replace(tmp_path, path)
        self.done.append((path, os.stat(path).st_ino, backup))

    def rollback(self) -> None:
        for path, inode, backup in reversed(self.done):
            with contextlib.suppress(OSError):
                if os.stat(path).st_ino == inode:
                    os.remove(path)
                    for sidecar in (path + ".aux.xml", path + ".msk"):
                        if os.path.exists(sidecar):
                            os.remove(sidecar)
            if backup:
                with contextlib.suppress(OSError):
                    if not os.path.exists(path):
                        os.replace(backup, path)
                    else:
                        os.remove(backup)
        self.done = []

    def finish(self) -> None:
        for _, _, backup in self.done:
            if backup:
                with contextlib.suppress(OSError):
                    os.remove(backup)
        self.done = []


@contextlib.contextmanager
def output_transaction():
    """Run a block whose raster outputs are all kept when it succeeds and all removed when it raises."""
    outer = getattr(_RUN, "transaction", None)
    if outer is not None:  # nested: the outermost decides
        yield outer
        return
    transaction = _RUN.transaction = OutputTransaction()
    try:
        yield transaction
    except BaseException:
        transaction.rollback()
        raise
    else:
        transaction.finish()
    finally:
        _RUN.transaction = None


def temporary_path(path: str, suffix: str = "") -> str:
    """A hidden temporary name beside ``path`` for this run (``.<name>.<pid>-<id>.part<suffix>``), which
    :func:`remove_stale_temporaries` removes once the run's process is gone."""
    folder, base = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{base}.{_run_tag()}.part{suffix}")


def _run_tag() -> str:
    """``<pid>-<random>``: temporaries name the process that writes them, so a later run can tell
    a live run's file from one left by a killed run."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temporaries(path: str) -> list:
    """Delete the temporaries of ``path`` (``.<name>.<pid>-<id>.part[.ext]``, with a SQLite journal, or
    ``.bak``) whose writing process is gone, e.g. killed by SIGKILL; returns the paths removed."""
    import re

    folder, base = os.path.split(os.path.abspath(path))
    pattern = re.compile(
        r"\." + re.escape(base) + r"\.(?:(\d+)-)?[0-9a-f]{8}\.(?:part(?:\.[A-Za-z0-9]+)?(?:-journal|-wal|-shm)?|bak)$"
    )
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = pattern.match(name)
        if match and not (match.group(1) and _alive(int(match.group(1)))):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, name))
                removed.append(os.path.join(folder, name))
    return removed


def check_writable(path: str, name: str = "output") -> str:
    """Raise ``ValueError`` naming ``name`` when ``path`` cannot be created (folder not writable,
    a file where a folder is needed, a folder at the path itself)."""
    target = os.path.abspath(path)
    if os.path.isdir(target):
        raise ValueError(f"{name}: {target} is a folder, not a file name")
    folder = os.path.dirname(target)
    probe = folder
    while probe and not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise ValueError(f"{name}: cannot create the folder {folder}: {probe} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(f"{name}: the folder {probe} is not writable")
    return target


class RasterWriter:
    """Write a GeoTIFF through a temporary file renamed into place on success.

    Use as a context manager: when the block inside raises (an error or
    :class:`Cancelled`), the temporary file is deleted and nothing is left at
    ``path``.

    Parameters
    ----------
    path : str
        Output GeoTIFF path.
    rows, cols, bands : int
        Size of the output.
    dtype : numpy dtype
        Data type of every band.
    geotransform : tuple of 6 float
        GDAL geotransform of the output grid.
    crs_wkt : str
        CRS as WKT (may be empty).
    nodata : float, optional
        Nodata value set on every band (NaN for float outputs by default).
    """

    def __init__(self, path, rows, cols, *, bands=1, dtype=np.float32, geotransform, crs_wkt, nodata=None):
        self.path = os.path.abspath(path)
        self.dtype = np.dtype(dtype)
        if self.dtype not in _GDAL_TYPES:
            raise ValueError(f"dtype has no GeoTIFF equivalent: dtype={self.dtype}")
        if nodata is None and self.dtype.kind == "f":
            nodata = float("nan")
        self.nodata = nodata
        if int(rows) < 1 or int(cols) < 1 or int(bands) < 1:
            raise ValueError(f"an output raster needs at least 1 x 1 pixels, got {rows} x {cols} x {bands}")
        check_writable(self.path, os.path.basename(self.path))
        folder = os.path.dirname(self.path)
        remove_stale_temporaries(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"cannot create the output folder {folder}: {exc.strerror or exc}") from None
        self.tmp_path = temporary_path(self.path, ".tif")
        gdal_ = gdal()
        driver = gdal_.GetDriverByName("GTiff")
        try:
            self.dataset = driver.Create(
                self.tmp_path,
                int(cols),
                int(rows),
                int(bands),
                gdal_.GetDataTypeByName(_GDAL_TYPES[self.dtype]),
                options=_creation_options(self.dtype, rows, cols),
            )
        except RuntimeError as exc:
            raise ValueError(f"cannot create {self.path}: {exc}") from None
        if geotransform is not None:
            self.dataset.SetGeoTransform(tuple(geotransform))
            if crs_wkt:
                self.dataset.SetProjection(crs_wkt)
        if nodata is not None:
            for i in range(bands):
                self.dataset.GetRasterBand(i + 1).SetNoDataValue(float(nodata))

    @classmethod
    def like(cls, info: RasterInfo, path: str, **kwargs) -> "RasterWriter":
        """A writer on the same grid and CRS as ``info``."""
        return cls(path, info.rows, info.cols, geotransform=info.geotransform, crs_wkt=info.crs_wkt, **kwargs)

    def write(self, array: np.ndarray, row: int = 0, col: int = 0, band: int = 1) -> None:
        """Write ``array`` at pixel (``row``, ``col``) of ``band``; NaN becomes the nodata value."""
        array = np.asarray(array)
        if array.dtype != self.dtype:
            if self.dtype.kind in "iu" and self.nodata is not None and array.dtype.kind == "f":
                array = np.where(np.isnan(array), self.nodata, array)
            array = array.astype(self.dtype)
        self.dataset.GetRasterBand(band).WriteArray(array, int(col), int(row))

    def set_band_description(self, band: int, text: str) -> None:
        """Name a band (shown by QGIS in the layer properties)."""
        self.dataset.GetRasterBand(band).SetDescription(text)

    def set_gcps(self, gcps, crs_wkt: str) -> None:
        """Georeference by ground control points ``(col, row, x, y)`` in ``crs_wkt`` (radar geometry)."""
        gdal_ = gdal()
        points = [gdal_.GCP(float(x), float(y), 0.0, float(col), float(row)) for col, row, x, y in gcps]
        self.dataset.SetGCPs(points, crs_wkt)

    def set_metadata(self, items: Dict[str, str]) -> None:
        """Set dataset metadata items (strings)."""
        for key, value in items.items():
            self.dataset.SetMetadataItem(str(key), str(value))

    def set_color_table(self, colors: Sequence[Tuple[int, int, int]], band: int = 1) -> None:
        """Attach a colour table (entry ``i`` colours value ``i``) to a Byte band."""
        table = gdal().ColorTable()
        for i, rgb in enumerate(colors):
            table.SetColorEntry(i, tuple(int(v) for v in rgb) + (255,))
        self.dataset.GetRasterBand(band).SetRasterColorTable(table)

    def flush(self) -> None:
        """Write the blocks GDAL holds in its cache to the file."""
        self.dataset.FlushCache()

    def commit(self) -> str:
        """Close the temporary file and move it to ``path``; return ``path``."""
        self.dataset.FlushCache()
        self.dataset = None
        return place_file(self.tmp_path, self.path)

    def abort(self) -> None:
        """Close and delete the temporary file."""
        self.dataset = None
        if os.path.exists(self.tmp_path):
            os.remove(self.tmp_path)

    def __enter__(self) -> "RasterWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
        return False


def place_file(tmp_path: str, path: str) -> str:
    """Rename a finished temporary file to ``path``, inside the open :func:`output_transaction` if any."""
    transaction = getattr(_RUN, "transaction", None)
    if transaction is not None:
        transaction.place(tmp_path, path)
    else:
        os.replace(tmp_path, path)
    return path


def write_text(path: str, text: str) -> str:
    """Write a text output (an HTML report) atomically, as part of the run's outputs."""
    path = os.path.abspath(path)
    check_writable(path, os.path.basename(path))
    remove_stale_temporaries(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = temporary_path(path)
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    return place_file(tmp, path)


def set_metadata(path: str, items: Dict[str, str]) -> None:
    """Add dataset metadata items (strings) to an existing raster file."""
    gdal_ = gdal()
    dataset = gdal_.Open(path, gdal_.GA_Update)
    for key, value in items.items():
        dataset.SetMetadataItem(str(key), str(value))
    dataset.FlushCache()
    dataset = None


def write_array(path: str, array: np.ndarray, *, geotransform, crs_wkt, nodata=None) -> str:
    """Write a small 2-D (or bands-first 3-D) array to a GeoTIFF at once."""
    array = np.asarray(array)
    stack = array[None] if array.ndim == 2 else array
    with RasterWriter(
        path,
        stack.shape[1],
        stack.shape[2],
        bands=stack.shape[0],
        dtype=stack.dtype,
        geotransform=geotransform,
        crs_wkt=crs_wkt,
        nodata=nodata,
    ) as writer:
        for i, band in enumerate(stack):
            writer.write(band, band=i + 1)
    return path


#: Worker threads reading and computing blocks while the main thread writes (numpy and GDAL
#: release the GIL). At most WORKERS + 1 blocks are in flight, so memory stays bounded.
WORKERS = max(1, min(4, os.cpu_count() or 1))


def _ordered_map(func, items, is_cancelled=None, ahead=None):
    """Yield ``func(item)`` in order, computed by :data:`WORKERS` threads with bounded look-ahead.

    At most ``ahead`` items (default ``2 * WORKERS``) are submitted and not yet
    yielded. Polls ``is_cancelled`` (default: the open :func:`.cancel.cancel_scope`) before
    submitting each item and every :data:`.cancel.POLL_S` seconds while waiting for one, and
    raises :class:`Cancelled` at once: queued items are dropped and the blocks being computed
    finish in the background, their results unused.
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
    try:
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


class _ProcessSetting:
    """A process-wide library setting changed while any job runs and restored after the last one.

    Jobs may overlap (QGIS runs Processing tasks in background threads): the first to enter saves
    the original value, every job may only lower it, and the last to leave restores it.
    """

    def __init__(self, get, put):
        self._get, self._put = get, put
        self._lock = threading.Lock()
        self._users = 0
        self._original = None

    @contextlib.contextmanager
    def lowered_to(self, value):
        with self._lock:
            if self._users == 0:
                self._original = self._get()
            self._users += 1
            if value < self._get():
                self._put(value)
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0 and self._get() != self._original:
                    self._put(self._original)


_settings: Dict[str, _ProcessSetting] = {}
_settings_lock = threading.Lock()


def _process_setting(name: str, get, put) -> _ProcessSetting:
    with _settings_lock:
        if name not in _settings:
            _settings[name] = _ProcessSetting(get, put)
        return _settings[name]


@contextlib.contextmanager
def opencv_single_threaded():
    """Run OpenCV on one thread for the duration (our block workers already use every core;
    OpenCV's own thread pool on top of them makes its filters about 1.5x slower), then restore."""
    if WORKERS == 1 or not has("cv2"):
        yield
        return
    cv2 = require("cv2")
    with _process_setting("opencv threads", cv2.getNumThreads, cv2.setNumThreads).lowered_to(1):
        yield


def _blas_threads() -> int:
    from threadpoolctl import threadpool_info

    counts = [lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return min(counts) if counts else 1


def _set_blas_threads(count: int) -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(int(count), user_api="blas")


@contextlib.contextmanager
def blas_single_threaded():
    """Run BLAS (OpenBLAS, MKL) on one thread for the duration, then restore.

    Our block workers already use every core. One BLAS thread also gives the same sums, in the
    same order, as the workers of a dask cluster (started with ``OPENBLAS_NUM_THREADS=1``): a
    sparse LU factorisation of the elevation-change model differed in the last bits otherwise.
    """
    if not has("threadpoolctl"):
        yield
        return
    with _process_setting("blas threads", _blas_threads, _set_blas_threads).lowered_to(1):
        yield


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
    Returns ``(block, (bands, rows, cols) array)``.
    """

    def __init__(self, sources, dtypes, func, pass_block):
        self.sources, self.dtypes, self.func, self.pass_block = sources, dtypes, func, pass_block
        self._local = threading.local()

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_local"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def __call__(self, block):
        local = self._local
        if not hasattr(local, "datasets"):
            local.datasets = [open_raster(path) for path, _ in self.sources]
        windows = [
            read_window(ds, band, block.read_window, dtype=dt)
            for ds, (_, band), dt in zip(local.datasets, self.sources, self.dtypes)
        ]
        result = np.asarray(self.func(block, *windows) if self.pass_block else self.func(*windows))
        return block, result[None] if result.ndim == 2 else result


ProgressFn = Callable[[float], None]
StopFn = Callable[[], bool]


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
        sources as complex64), preceded by the :class:`.blocks.Block` when
        ``pass_block``; returns a 2-D array, or ``(out_bands, rows, cols)``.
    halo : int
        Pixels of context ``func`` needs on each side, see :func:`.blocks.iter_blocks`.
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
    job = BlockJob(list(sources), dtypes, func, pass_block)

    paths = [dst_path] if isinstance(dst_path, str) else list(dst_path)
    out_dtypes = list(out_dtype) if isinstance(out_dtype, (list, tuple)) else [out_dtype] * len(paths)
    nodatas = list(nodata) if isinstance(nodata, (list, tuple)) else [nodata] * len(paths)
    with contextlib.ExitStack() as stack_of_files:
        out_pixel_bytes = out_bands * sum(np.dtype(d).itemsize for d in out_dtypes)  # every output, every band
        out_row = block_size * grid.cols * out_pixel_bytes
        itemsizes = [np.dtype(dt).itemsize for dt in dtypes]
        stack_of_files.enter_context(bounded_gdal_cache(block_cache_bytes(block_size, halo, itemsizes, out_row)))
        stack_of_files.enter_context(opencv_single_threaded())
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
            results = _ordered_map(job, blocks, is_cancelled, ahead)
        else:
            batch = max(1, CLUSTER_TASK_PIXELS // (block_size * block_cols))
            results = cluster_map(address, job, blocks, [path for path, _ in sources], is_cancelled, ahead, batch)
        for done, (block, stack) in enumerate(results):
            for k, writer in enumerate(writers):
                for b in range(out_bands):
                    writer.write(stack[k * out_bands + b][block.inner], block.row, block.col, band=b + 1)
                if block.col + block.cols == grid.cols:
                    writer.flush()  # a finished row of blocks goes to disk now, while workers compute
            if progress is not None:
                progress((done + 1) / total)
    return dst_path


def process_blockwise(src_path: str, dst_path: str, func, *, band: int = 1, **kwargs) -> str:
    """Run a block-local ``func`` over one band of one raster; see :func:`process_blocks`."""
    return process_blocks([(src_path, band)], dst_path, func, **kwargs)


def resolve_raster_scale(path: str, band: int, input_scale: str) -> str:
    """The input scale of one band of a raster: ``input_scale``, or what ``auto`` stands for.

    ``auto`` follows :func:`.convert.resolve_scale` (Byte = display amplitude, values with
    negatives = dB, else linear power) on the band's type and a sample of its values.
    """
    from .convert import resolve_scale

    info = raster_info(path)
    check_band(info, band)
    sample = sample_band(path, band, max_pixels=250_000, window=128)
    return resolve_scale(input_scale, info.dtypes[band - 1], sample, os.path.basename(path))


def sample_band(path: str, band: int = 1, *, max_pixels: int = 4_000_000, window: int = 256) -> np.ndarray:
    """Read a band whole when it has at most ``max_pixels`` pixels, else an even grid of windows.

    For statistics (percentiles, histograms) of rasters larger than memory.
    The windows (``window`` x ``window`` pixels, spread evenly over the raster)
    are stacked vertically; reading them
    touches only a fraction of a compressed file. Rasters on one grid are
    sampled at the same pixels. Nodata is NaN, float32.
    """
    dataset = open_raster(path)
    info = raster_info(path)
    check_band(info, band)
    if info.rows * info.cols <= max_pixels:
        return read_window(dataset, band)
    windows = even_windows(info.rows, info.cols, window, int(np.sqrt(max_pixels) // window))
    return np.concatenate([read_window(dataset, band, w) for w in windows], axis=0)  # all one width
