"""Science core of SAR Change Toolkit: numpy arrays in, arrays out.

Nothing in this package imports ``qgis``; it runs and is tested without QGIS.
GDAL (``osgeo``) is used only by the I/O modules (:mod:`.raster_io`,
:mod:`.align`), never by the maths.
"""
