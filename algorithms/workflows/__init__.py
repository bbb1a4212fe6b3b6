"""One file-level run per algorithm: read rasters, compute blockwise, write outputs.

May import: every layer below (:mod:`..common`, :mod:`..sar`, :mod:`..io`, :mod:`..reports`).
Each module here is what a Processing algorithm (or the Python API) calls: paths in, paths and a
small result object out. Nothing here is QGIS: the Processing shells only declare parameters,
resolve layers to paths and call these.
"""
