"""Scene-scale change detection: time and peak memory of ``sarchange:changedetection`` with defaults.

Usage: /usr/bin/python3 benchmarks/change_scale.py [SIZE] [PEER_SIZE] [MORE_SIZES...]
(default 8192 and 2048; e.g. ``8192 2048 13000`` adds a PALSAR-2-sized pair)

Writes a SIZE x SIZE single-look pair (gamma speckle over a ramp, after with square losses of
-8 dB), runs the default method (automatic, blockwise) through qgis_process.bin, and measures
wall time and peak RSS of the whole process. Then the worst case for the boundaries and the
polygons: a SIZE x SIZE pair changed everywhere, fields of 50-2000 px changed by 3-6 dB in a
quarter of the pixels (the mix of ``change_accuracy.py``, a simulated 2048^2 pair repeated).
The peer, measured in the same run, is the former
default (``METHOD=likelihood_ratio``, superpixels, in memory) on a PEER_SIZE pair, next to the
default on the same PEER_SIZE pair. Target (issue 13): 8192^2 in <= 60 s and <= 1.5 GB.
"""

import os
import sys
import tempfile

import numpy as np
from common import qgis_env, register_package, run_measured, write_random_power

register_package()


def write_pair(folder, size):
    before = write_random_power(os.path.join(folder, f"before_{size}.tif"), size, size, seed=1)
    after = write_random_power(os.path.join(folder, f"after_{size}.tif"), size, size, seed=2)
    from osgeo import gdal

    dataset = gdal.Open(after, gdal.GA_Update)
    band = dataset.GetRasterBand(1)
    side = max(size // 16, 8)
    for k in range(0, size - side, size // 4):
        window = band.ReadAsArray(k, k, side, side)
        band.WriteArray((window * np.float32(10**-0.8)).astype(np.float32), k, k)
    dataset.FlushCache()
    del band, dataset
    return before, after


def write_dense_pair(folder, size, tile=2048):
    """A SIZE^2 one-look pair whose fields changed everywhere: a simulated ``tile``^2 pair repeated."""
    from change_accuracy import patches
    from osgeo import gdal

    from sar_change.algorithms.simulation import pair as simulate

    gdal.UseExceptions()
    scene = simulate.simulate_pair(
        tile, tile, looks=1, seed=0, patches=patches(tile, (3, 6), (50, 2000), np.random.default_rng(0))
    )
    paths = []
    for name in ("before", "after"):
        path = os.path.join(folder, f"dense_{name}_{size}.tif")
        dataset = gdal.GetDriverByName("GTiff").Create(path, size, size, 1, gdal.GDT_Float32, ["TILED=YES"])
        dataset.SetGeoTransform((500000.0, 10.0, 0.0, 4000000.0, 0.0, -10.0))
        dataset.SetProjection(scene_crs())
        band = dataset.GetRasterBand(1)
        for r in range(0, size, tile):
            for c in range(0, size, tile):
                band.WriteArray(scene[name][: size - r, : size - c], c, r)
        dataset.FlushCache()
        del band, dataset
        paths.append(path)
    return paths


def scene_crs():
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32654)
    return srs.ExportToWkt()


def run(env, folder, before, after, name, *extra):
    out = os.path.join(folder, f"{name}.gpkg")
    cmd = ["qgis_process.bin", "run", "sarchange:changedetection", "--", f"BEFORE={before}", f"AFTER={after}"]
    return run_measured([*cmd, *extra, f"OUTPUT={out}"], env=env)


def main(size=8192, peer_size=2048, *more):
    with tempfile.TemporaryDirectory() as folder:
        env = qgis_env(os.path.join(folder, "qgis"))
        small = write_pair(folder, peer_size)
        seconds, mb = run(env, folder, *small, "peer", "METHOD=likelihood_ratio", "LOOKS=1")
        print(f"{peer_size}^2 likelihood_ratio (former default): {seconds:6.1f} s {mb:7.0f} MB")
        ours, ours_mb = run(env, folder, *small, "small")
        print(f"{peer_size}^2 automatic (default):          {ours:6.1f} s {ours_mb:7.0f} MB")
        print(f"  ratio: {seconds / ours:.1f}x faster, {mb / ours_mb:.1f}x less memory")
        for extra in (size, *more):
            large = write_pair(folder, extra)
            seconds, mb = run(env, folder, *large, f"large{extra}")
            target = "  (target <= 60 s, <= 1536 MB)" if extra == 8192 else ""
            print(f"{extra}^2 automatic (default):          {seconds:6.1f} s {mb:7.0f} MB{target}")
            for path in large:
                os.remove(path)
        dense = write_dense_pair(folder, size)
        seconds, mb = run(env, folder, *dense, "dense")
        print(f"{size}^2 fields changed everywhere (25 %):  {seconds:6.1f} s {mb:7.0f} MB")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
