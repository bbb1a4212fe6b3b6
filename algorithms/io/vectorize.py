"""Raster regions to polygons with GDAL (kept apart from the maths)."""

from typing import Iterator, Tuple

import numpy as np

from ..common.cancel import checkpoint, current
from ..common.deps import require
from .pipeline import bounded_gdal_cache
from .raster import gdal


def polygonize(labels: np.ndarray, geotransform, crs_wkt: str = "") -> Iterator[Tuple[int, bytes]]:
    """Yield ``(label, wkb)`` for every region of ``labels`` > 0, one (multi)polygon per label.

    Pixels of one label are 8-connected regions (see
    :func:`..sar.change.regions.change_regions`); GDAL traces them with 8-connectedness and
    the pieces of one label are united, so every region comes out as one
    valid geometry in the raster's CRS.
    """
    gdal_ = gdal()
    rows, cols = labels.shape
    mem = gdal_.GetDriverByName("MEM").Create("", cols, rows, 1, gdal_.GDT_Int32)
    mem.SetGeoTransform(tuple(geotransform))
    band = mem.GetRasterBand(1)
    band.WriteArray(labels.astype(np.int32, copy=False))
    yield from _polygonize_band(band, crs_wkt)


def polygonize_file(path: str) -> Iterator[Tuple[int, bytes]]:
    """:func:`polygonize` of the int32 labels of a raster file, in its grid and CRS.

    GDAL traces the file a line at a time, so memory follows the polygons, not the raster.
    """
    dataset = gdal().Open(path)
    with bounded_gdal_cache():
        yield from _polygonize_band(dataset.GetRasterBand(1), dataset.GetProjection())
    del dataset


def _polygonize_band(band, crs_wkt: str):
    gdal_ = gdal()
    ogr = require("osgeo.ogr")
    osr = require("osgeo.osr")
    mask_band = band  # GDAL skips pixels where the mask is 0: the labels are their own mask
    srs = None
    if crs_wkt:
        srs = osr.SpatialReference()
        srs.ImportFromWkt(crs_wkt)
    vector = ogr.GetDriverByName("Memory").CreateDataSource("regions")
    layer = vector.CreateLayer("regions", srs=srs, geom_type=ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("label", ogr.OFTInteger))
    check = current()

    def keep_going(*_):  # GDAL's progress callback: 0 stops the tracing
        return 0 if check is not None and check() else 1

    try:
        gdal_.Polygonize(band, mask_band, layer, 0, ["8CONNECTED=8"], callback=keep_going)
    except RuntimeError:
        checkpoint(check)  # stopped by the callback: a cancel, not a GDAL failure
        raise
    gdal_.PushErrorHandler("CPLQuietErrorHandler")  # self-touching rings are expected; MakeValid mends them
    try:
        yield from _merged(layer, ogr)
    finally:
        gdal_.PopErrorHandler()


def _merged(layer, ogr):
    pieces = {}
    for i, feature in enumerate(layer):
        if i % 1024 == 0:
            checkpoint()
        pieces.setdefault(feature.GetField(0), []).append(feature.GetGeometryRef().Clone())
    for i, label in enumerate(sorted(pieces)):
        if i % 256 == 0:
            checkpoint()
        geometries = pieces[label]
        if len(geometries) == 1:
            geometry = geometries[0]
        else:
            collection = ogr.Geometry(ogr.wkbMultiPolygon)
            for g in geometries:
                collection.AddGeometry(g)
            geometry = collection.UnionCascaded()
        if not geometry.IsValid():
            geometry = geometry.Buffer(0)  # mends self-touching rings; much faster than MakeValid
        yield int(label), bytes(geometry.ExportToWkb())
