"""Bring a raster onto the grid of a reference raster (CRS, resolution, extent).

The aligned raster is a virtual (VRT) warp in GDAL's in-memory file system:
nothing is computed until a window is read, so it is read blockwise like any
other raster and costs no memory up front.
"""

import contextlib
import os
import uuid
from typing import Iterator

import numpy as np

from ..common.deps import require
from .raster import RasterInfo, gdal, open_raster, raster_info

#: Resampling names accepted by :func:`aligned`, as GDAL spells them.
RESAMPLING = ("nearest", "bilinear", "cubic", "average")


def same_grid(a: RasterInfo, b: RasterInfo, *, tolerance: float = 1e-6) -> bool:
    """True when two rasters share size, geotransform (to ``tolerance`` of a pixel) and CRS."""
    if (a.rows, a.cols) != (b.rows, b.cols):
        return False
    pixel = max(abs(a.geotransform[1]), abs(a.geotransform[5]), 1e-12)
    if not np.allclose(a.geotransform, b.geotransform, rtol=0, atol=tolerance * pixel):
        return False
    return same_crs(a.crs_wkt, b.crs_wkt)


def same_crs(wkt_a: str, wkt_b: str) -> bool:
    """True when two WKT strings describe the same CRS (both empty counts as same)."""
    if not wkt_a or not wkt_b:
        return not wkt_a and not wkt_b
    gdal()  # enables exceptions
    osr = require("osgeo.osr")
    a, b = osr.SpatialReference(), osr.SpatialReference()
    a.ImportFromWkt(wkt_a)
    b.ImportFromWkt(wkt_b)
    return bool(a.IsSame(b))


def bounds(info: RasterInfo):
    """``(xmin, ymin, xmax, ymax)`` of a north-up raster in its CRS units."""
    gt = info.geotransform
    xs = (gt[0], gt[0] + gt[1] * info.cols + gt[2] * info.rows)
    ys = (gt[3], gt[3] + gt[4] * info.cols + gt[5] * info.rows)
    return min(xs), min(ys), max(xs), max(ys)


def check_overlap(src_path: str, info: RasterInfo, reference: RasterInfo) -> None:
    """Raise ``ValueError`` when ``src_path`` (``info``) covers none of the ``reference`` grid.

    Without this a pair of different places aligns to an all-nodata raster, and every
    statistic after it is empty.
    """
    osr = require("osgeo.osr")
    gdal()
    source, target = osr.SpatialReference(), osr.SpatialReference()
    source.ImportFromWkt(info.crs_wkt)
    target.ImportFromWkt(reference.crs_wkt)
    for srs in (source, target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    x0, y0, x1, y1 = bounds(info)
    try:
        x0, y0, x1, y1 = osr.CoordinateTransformation(source, target).TransformBounds(x0, y0, x1, y1, 21)
    except RuntimeError as exc:
        raise ValueError(f"{os.path.basename(src_path)} cannot be brought to the reference CRS ({exc})") from None
    r0, s0, r1, s1 = bounds(reference)
    if not (np.isfinite([x0, y0, x1, y1]).all() and x0 < r1 and x1 > r0 and y0 < s1 and y1 > s0):
        raise ValueError(
            f"{os.path.basename(src_path)} does not overlap the reference raster: its extent "
            f"({x0:.6g}, {y0:.6g}, {x1:.6g}, {y1:.6g}) and the reference's ({r0:.6g}, {s0:.6g}, {r1:.6g}, {s1:.6g}) "
            "share no pixel (in the reference CRS); are they the same place?"
        )


@contextlib.contextmanager
def aligned(src_path: str, reference: RasterInfo, *, resampling: str = "bilinear") -> Iterator[str]:
    """Yield a path to ``src_path`` as seen on the grid of ``reference``.

    When the grids already match, ``src_path`` itself is yielded. Otherwise a
    virtual warped raster is made (float32, or complex64 for complex input,
    nodata NaN, pixels outside ``src_path`` are nodata) and removed on exit.

    Parameters
    ----------
    src_path : str
        Raster to align.
    reference : RasterInfo
        Grid to align onto (from :func:`.raster.raster_info`).
    resampling : str
        One of :data:`RESAMPLING`. ``average`` suits power images brought to a
        coarser grid; ``nearest`` suits class rasters.
    """
    if resampling not in RESAMPLING:
        raise ValueError(f"resampling must be one of {RESAMPLING}, got resampling={resampling!r}")
    info = raster_info(src_path)
    if same_grid(info, reference):
        yield src_path
        return
    if not info.crs_wkt or not reference.crs_wkt:
        raise ValueError(
            f"cannot align {src_path!r} onto the reference grid: both rasters need a CRS "
            "(radar-geometry rasters must already share the reference grid)"
        )
    gdal_ = gdal()
    gt = reference.geotransform
    if gt[2] or gt[4]:
        raise ValueError("the reference raster has a rotated geotransform, which alignment does not support")
    xmin, ymax = gt[0], gt[3]
    xmax = xmin + gt[1] * reference.cols
    ymin = ymax + gt[5] * reference.rows
    check_overlap(src_path, info, reference)
    complex_input = any(d.kind == "c" for d in info.dtypes)
    vrt = f"/vsimem/sarchange_align_{uuid.uuid4().hex}.vrt"
    source = open_raster(src_path)
    try:
        gdal_.Warp(
            vrt,
            source,
            format="VRT",
            dstSRS=reference.crs_wkt,
            outputBounds=(xmin, min(ymin, ymax), xmax, max(ymin, ymax)),
            width=reference.cols,
            height=reference.rows,
            resampleAlg=resampling,
            outputType=gdal_.GDT_CFloat32 if complex_input else gdal_.GDT_Float32,
            dstNodata=None if complex_input else float("nan"),
            multithread=True,
        )
        yield vrt
    finally:
        source = None
        gdal_.Unlink(vrt)
