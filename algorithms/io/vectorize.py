"""Raster regions to polygons with GDAL (kept apart from the maths)."""

import contextlib
import os
import tempfile
from typing import Iterator, Optional, Tuple

import numpy as np

from ..common.cancel import checkpoint, current
from ..common.deps import require
from .pipeline import bounded_gdal_cache
from .raster import gdal


def polygonize(labels: np.ndarray, geotransform, crs_wkt: str = "") -> Iterator[Tuple[int, bytes]]:
    """Yield ``(label, wkb)`` for every region of ``labels`` > 0, one (multi)polygon per label.

    Pixels of one label are 8-connected regions (see
    :func:`..sar.change.regions.change_regions`). GDAL traces their 4-connected pieces, whose
    rings are simple, and the pieces of one label, which meet at most at corners, make one valid
    (multi)polygon in the raster's CRS without any union. (Traced with 8-connectedness, a region
    comes out as one ring that touches itself at every diagonal step; mending it with
    ``Buffer(0)`` took 438 s for a 3000 x 3000 region with 2 % of its pixels holes, against 2 s
    for the pieces and their validity check.)
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

    GDAL traces the file a line at a time, and the traced pieces wait for their merge in a
    temporary GeoPackage beside the file (deleted after), so memory follows neither the raster
    nor its polygons: only a feature id per piece is held.
    """
    dataset = gdal().Open(path)
    with bounded_gdal_cache():
        yield from _polygonize_band(dataset.GetRasterBand(1), dataset.GetProjection(), os.path.dirname(path) or ".")
    del dataset


@contextlib.contextmanager
def _pieces_source(folder: Optional[str], ogr):
    """An OGR data source for the traced pieces: in memory, or a GeoPackage in ``folder`` removed after."""
    if folder is None:
        yield ogr.GetDriverByName("Memory").CreateDataSource("regions")
        return
    handle, path = tempfile.mkstemp(prefix=".regions-", suffix=".gpkg", dir=folder)
    os.close(handle)
    os.remove(path)  # the driver creates the file itself
    source = None
    try:
        source = ogr.GetDriverByName("GPKG").CreateDataSource(path)
        yield source
    finally:
        source = None
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path + suffix)


def _polygonize_band(band, crs_wkt: str, folder: Optional[str] = None):
    with _pieces_source(folder, require("osgeo.ogr")) as vector:
        yield from _trace_and_merge(band, crs_wkt, vector)


def _trace_and_merge(band, crs_wkt: str, vector):
    gdal_ = gdal()
    ogr = require("osgeo.ogr")
    osr = require("osgeo.osr")
    mask_band = band  # GDAL skips pixels where the mask is 0: the labels are their own mask
    srs = None
    if crs_wkt:
        srs = osr.SpatialReference()
        srs.ImportFromWkt(crs_wkt)
    options = ["SPATIAL_INDEX=NO"] if vector.GetDriver().GetName() == "GPKG" else []
    layer = vector.CreateLayer("regions", srs=srs, geom_type=ogr.wkbPolygon, options=options)
    layer.CreateField(ogr.FieldDefn("label", ogr.OFTInteger))
    check = current()

    def keep_going(*_):  # GDAL's progress callback: 0 stops the tracing
        return 0 if check is not None and check() else 1

    layer.StartTransaction()  # one transaction: a GeoPackage would commit every piece on its own
    try:
        gdal_.Polygonize(band, mask_band, layer, 0, [], callback=keep_going)  # 4-connected pieces
    except RuntimeError:
        checkpoint(check)  # stopped by the callback: a cancel, not a GDAL failure
        raise
    layer.CommitTransaction()
    gdal_.PushErrorHandler("CPLQuietErrorHandler")  # the validity check reports through GDAL errors
    try:
        yield from _merged(layer, ogr)
    finally:
        gdal_.PopErrorHandler()


def _merged(layer, ogr):
    """One geometry per label: its pieces gathered in a MultiPolygon (they share no edge).

    Only the pieces' feature ids are held, not copies of their geometries: the layer already
    holds them (half the memory of a scene's polygons).
    """
    pieces = {}
    for i, feature in enumerate(layer):
        if i % 1024 == 0:
            checkpoint()
        pieces.setdefault(feature.GetField(0), []).append(feature.GetFID())
    for i, label in enumerate(sorted(pieces)):
        if i % 256 == 0:
            checkpoint()
        features = [layer.GetFeature(fid) for fid in pieces.pop(label)]
        if len(features) == 1:
            geometry = features[0].GetGeometryRef()
        else:
            geometry = ogr.Geometry(ogr.wkbMultiPolygon)
            for feature in features:
                geometry.AddGeometry(feature.GetGeometryRef())
        if not geometry.IsValid():  # not seen in 4-connected tracing; a safety net
            geometry = geometry.Buffer(0)
        yield int(label), bytes(geometry.ExportToWkb())
