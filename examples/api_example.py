"""SAR Change Toolkit from plain Python: arrays in memory, dask arrays, files on a cluster.

Run from the folder that holds the plugin folder ``sar_change`` (or with it on PYTHONPATH):

    /usr/bin/python3 sar_change/examples/api_example.py [SCHEDULER]

With SCHEDULER (e.g. tcp://10.0.0.5:8786, or "local" for a throwaway LocalCluster here), the file
step runs its blocks on that dask.distributed cluster; its workers must read the files written
here (a shared disk).
"""

import os
import sys
import tempfile

import numpy as np

try:
    from sar_change.algorithms import api
    from sar_change.algorithms.simulation.pair import simulate_pair
except ImportError:  # run from a checkout under another name: import it as sar_change
    import importlib.util

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    spec = importlib.util.spec_from_file_location(
        "sar_change", os.path.join(root, "__init__.py"), submodule_search_locations=[root]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["sar_change"] = module
    spec.loader.exec_module(module)
    from sar_change.algorithms import api
    from sar_change.algorithms.simulation.pair import simulate_pair


def main(scheduler=None):
    # 1. numpy arrays in, numpy arrays out: a simulated single-look pair with known changes
    pair = simulate_pair(512, 512, looks=1, seed=0)
    before, after, truth = pair["before"], pair["after"], pair["truth"]
    classes = api.change_classes(before, after)
    found = classes[(truth != 0)] != 0
    print(
        f"numpy: {np.mean(found):.0%} of the changed pixels found, {np.mean(classes[truth == 0] != 0):.2%} false alarms"
    )

    # 2. dask arrays in, dask arrays out: the same block functions through map_overlap
    import dask.array as da

    lazy = api.despeckle(da.from_array(before, chunks=128), "refined_lee")
    print(
        f"dask: despeckled lazily in {lazy.npartitions} chunks; mean {float(lazy.mean().compute()):.4f} "
        f"(input {float(np.nanmean(before)):.4f})"
    )

    # 3. files, blockwise, optionally on a dask.distributed cluster
    from sar_change.algorithms.io.outputs import write_array
    from sar_change.algorithms.io.raster import read_band

    folder = tempfile.mkdtemp(prefix="sarchange-example-")
    gt = (380000.0, 10.0, 0.0, 3950000.0, 0.0, -10.0)
    paths = [os.path.join(folder, f"{name}.tif") for name in ("before", "after")]
    for path, image in zip(paths, (before, after)):
        write_array(path, image, geotransform=gt, crs_wkt="")
    cluster = None
    if scheduler == "local":
        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0")
        scheduler = cluster.scheduler_address
    out = api.despeckle_file(paths[0], os.path.join(folder, "before_lee.tif"), "lee", scheduler=scheduler)
    print(
        f"file: {out} ({'on ' + scheduler if scheduler else 'local threads'}); "
        f"std {np.nanstd(read_band(out)):.4f} vs {np.nanstd(before):.4f}"
    )
    if cluster is not None:
        from sar_change.algorithms.io.cluster import close_clients

        close_clients()
        cluster.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
