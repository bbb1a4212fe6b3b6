"""Reading rasters with GDAL: dataset info, windows as numpy arrays with NaN for nodata, samples.

Kept apart from the maths: functions here read, the modules of :mod:`..sar` compute. GDAL comes
with QGIS (``osgeo``) and is imported lazily.
"""

import os
from dataclasses import dataclass, field
from typing import Callable, Optional, Tuple

import numpy as np

from ..common.blocks import sample_windows
from ..common.deps import require


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


ProgressFn = Callable[[float], None]


StopFn = Callable[[], bool]


def resolve_raster_scale(path: str, band: int, input_scale: str) -> str:
    """The input scale of one band of a raster: ``input_scale``, or what ``auto`` stands for.

    ``auto`` follows :func:`..sar.convert.resolve_scale` (Byte = display amplitude, values with
    negatives = dB, else linear power) on the band's type and a sample of its values.
    """
    from ..sar.convert import resolve_scale

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
    windows = sample_windows(info.rows, info.cols, max_pixels=max_pixels, side=window)
    if windows is None:
        return read_window(dataset, band)
    return np.concatenate([read_window(dataset, band, w) for w in windows], axis=0)  # all one width
