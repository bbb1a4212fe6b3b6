"""Shared fixtures; the checkout is importable as ``sar_change`` whatever its folder name."""

import os
import tempfile

# Qt settings of the test run go to a throwaway folder, never to the user's ~/.config
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="sarchange-config-")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from helpers import GEOTRANSFORM, SHARED_DATA, register_package, utm54_wkt

register_package()


@pytest.fixture
def shared_data():
    """Path of ``../shared/data``; the test is skipped when it is absent."""
    if not os.path.isdir(SHARED_DATA):
        pytest.skip(f"real SAR data not found at {SHARED_DATA} (see the project README)")
    return SHARED_DATA


@pytest.fixture
def write_raster(tmp_path):
    """Write a 2-D (or bands-first 3-D) array as a GeoTIFF in ``tmp_path``; returns its path."""
    from sar_change.algorithms.io.outputs import write_array

    def write(name, array, *, nodata=None, geotransform=GEOTRANSFORM, crs_wkt=None):
        path = str(tmp_path / name)
        write_array(
            path,
            np.asarray(array),
            geotransform=geotransform,
            crs_wkt=utm54_wkt() if crs_wkt is None else crs_wkt,
            nodata=nodata,
        )
        return path

    return write


@pytest.fixture(scope="session")
def dask_cluster():
    """A dask.distributed LocalCluster on loopback: 2 worker processes of 1 thread each.

    Skipped when ``distributed`` is not installed (``make test`` installs python3-distributed).
    """
    pytest.importorskip("distributed", reason="dask.distributed not installed (python3-distributed)")
    from helpers import local_cluster

    cluster = local_cluster(2)
    yield cluster
    from sar_change.algorithms.io.cluster import close_clients

    close_clients()
    cluster.close()
