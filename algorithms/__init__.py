"""Science core of SAR Change Toolkit: numpy arrays in, arrays out; rasters in, rasters out.

Nothing in this package imports ``qgis``; it runs and is tested without QGIS. It is layered,
and a layer imports only the layers below it (``tests/unit/test_architecture.py`` checks this)::

    api.py        the stable Python API (numpy or dask arrays, file paths)
    workflows/    one file-level run per algorithm: read, compute blockwise, write
    readers/      CEOS products, the Tellus platform        reports/  HTML reports
    io/           GDAL rasters, atomic outputs, the block pipeline, dask clusters
    simulation/   simulated scenes (uses sar/ and io/)
    sar/          the SAR maths by topic: arrays only, no GDAL, no files
    common/       dependencies, cancel and progress, block grids, threads

See ``docs/ARCHITECTURE.md`` for the rule of each layer.
"""
