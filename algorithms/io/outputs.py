"""Writing outputs atomically: GeoTIFFs and text go to a temporary file renamed on success.

An error or a cancel removes every file the run created (:func:`output_transaction`); a file a
crashed run left behind is removed the next time its output is written.
"""

import contextlib
import os
import threading
import uuid
from typing import Dict, Sequence, Tuple

import numpy as np

from ..common.threads import WORKERS
from .raster import _GDAL_TYPES, RasterInfo, gdal


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


def as_stored(array, dtype, nodata=None) -> np.ndarray:
    """``array`` as a raster of ``dtype`` stores it (:meth:`RasterWriter.write`): cast, with NaN
    made ``nodata`` when an integer raster has one. Unchanged when already ``dtype``."""
    array = np.asarray(array)
    dtype = np.dtype(dtype)
    if array.dtype == dtype:
        return array
    if dtype.kind in "iu" and nodata is not None and array.dtype.kind == "f":
        array = np.where(np.isnan(array), nodata, array)
    return array.astype(dtype)


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
        array = as_stored(array, self.dtype, self.nodata)
        self.dataset.GetRasterBand(band).WriteArray(array, int(col), int(row))

    def write_from(self, path: str, band: int = 1, strip_rows: int = 512) -> None:
        """Copy ``band`` of the raster ``path`` (same size) into ``band``, a strip of rows at a time."""
        source = gdal().Open(path)
        rows, cols = source.RasterYSize, source.RasterXSize
        for row in range(0, rows, strip_rows):
            self.write(source.GetRasterBand(band).ReadAsArray(0, row, cols, min(strip_rows, rows - row)), row, 0, band)
        del source

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
