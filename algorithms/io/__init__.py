"""Rasters on disk and the block pipeline that runs the maths over them.

May import: :mod:`..common`, :mod:`..sar` (only for scale names) and GDAL (``osgeo``, lazily).
:mod:`.raster` opens and reads windows (NaN for nodata), :mod:`.outputs` writes GeoTIFFs and text
atomically (temporary file, renamed on success, removed on error or cancel), :mod:`.pipeline`
runs a block function over rasters of any size with a halo on local threads, :mod:`.cluster`
sends the same blocks to a dask.distributed scheduler, :mod:`.align` puts a second raster on the
grid of the first, :mod:`.vectorize` turns class rasters into polygons.
"""
