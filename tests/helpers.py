"""Paths and package set-up shared by all tests (imported by tests/conftest.py and test modules)."""

import importlib.util
import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.abspath(os.path.join(REPO_ROOT, "..", "shared", "data"))


def register_package():
    """Import the checkout as the package ``sar_change`` (its folder may have any name)."""
    if "sar_change" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        "sar_change", os.path.join(REPO_ROOT, "__init__.py"), submodule_search_locations=[REPO_ROOT]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["sar_change"] = module
    spec.loader.exec_module(module)


register_package()


#: A UTM 54N geotransform with 10 m pixels used by the synthetic test rasters.
GEOTRANSFORM = (380000.0, 10.0, 0.0, 3950000.0, 0.0, -10.0)


def utm54_wkt():
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32654)
    return srs.ExportToWkt()


def local_cluster(workers: int = 2):
    """A dask.distributed LocalCluster on loopback: ``workers`` processes of one thread each
    (a context manager; the dashboard on a free port, not 8787)."""
    import distributed

    return distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
    )


def mosaic_vrt(path, tile_path, times):
    """A VRT repeating the raster ``tile_path`` ``times`` x ``times`` (its type, CRS, geotransform and
    nodata kept, the extent grown): a large raster that costs nothing on disk."""
    from osgeo import gdal

    gdal.UseExceptions()
    dataset = gdal.Open(tile_path)
    rows, cols = dataset.RasterYSize, dataset.RasterXSize
    band = dataset.GetRasterBand(1)
    sources = "".join(
        f"<SimpleSource><SourceFilename relativeToVRT='0'>{tile_path}</SourceFilename><SourceBand>1</SourceBand>"
        f"<SrcRect xOff='0' yOff='0' xSize='{cols}' ySize='{rows}'/>"
        f"<DstRect xOff='{c * cols}' yOff='{r * rows}' xSize='{cols}' ySize='{rows}'/></SimpleSource>"
        for r in range(times)
        for c in range(times)
    )
    nodata = band.GetNoDataValue()
    srs = dataset.GetProjection().replace("<", "&lt;").replace(">", "&gt;")
    with open(path, "w") as handle:
        handle.write(
            f"<VRTDataset rasterXSize='{cols * times}' rasterYSize='{rows * times}'>"
            + (f"<SRS>{srs}</SRS>" if srs else "")
            + f"<GeoTransform>{', '.join(repr(v) for v in dataset.GetGeoTransform())}</GeoTransform>"
            f"<VRTRasterBand dataType='{gdal.GetDataTypeName(band.DataType)}' band='1'>"
            + (f"<NoDataValue>{nodata}</NoDataValue>" if nodata is not None else "")
            + f"{sources}</VRTRasterBand></VRTDataset>"
        )
    return path
