"""Scaling on dask.distributed: a virtual mosaic through despeckle and the omnibus test, on local
threads and on a LocalCluster of 1 and 2 workers, in the same run.

Usage: /usr/bin/python3 benchmarks/cluster.py [--size 8192] [--small 4096] [--tile 2048] [--repeats 3]
                                             [--pipelines despeckle,omnibus]

The mosaic of each date is a VRT of ``tile`` x ``tile`` float32 GeoTIFF tiles (speckle on a
texture, a change patch in the later dates), ``size`` x ``size`` pixels, made once in
``$TMPDIR/sarchange-mosaic-SIZE``. Each measured run is a fresh driver process (the one QGIS would
be) that runs the pipeline and writes the output, with the scheduler named by
``$SARCHANGE_DASK_SCHEDULER`` or none (local threads); it prints its wall time (after connecting)
and its own peak RSS. The cluster (scheduler and worker processes of 1 thread each) lives in this
process, apart from the driver. The median of ``repeats`` runs after a warm-up run is reported
(the first run's time too: workers import the libraries then), with the CPU seconds of the driver
(its whole process) and of the scheduler and nannies.

Targets (issue 16): 2 workers >= 1.7x one worker; the driver's peak memory independent of the
mosaic size (``size`` against ``small``); the cluster path on one machine <= 15 % slower than
local threads (2 workers against the default local threads, as many as the cores here).
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from common import REPO_ROOT, peak_rss_mb, register_package

PIPELINES = ("despeckle", "omnibus")
DATES = 3


def make_mosaic(size: int, tile: int, dates: int = DATES) -> list:
    """Paths of ``dates`` VRT mosaics of ``size`` x ``size`` pixels (made once per size and tile)."""
    import numpy as np

    register_package()
    from common import _utm
    from osgeo import gdal

    from sar_change.algorithms.io.outputs import RasterWriter

    gdal.UseExceptions()
    folder = os.path.join(tempfile.gettempdir(), f"sarchange-mosaic-{size}-{tile}")
    vrts = [os.path.join(folder, f"date{d}.vrt") for d in range(dates)]
    if all(os.path.exists(v) for v in vrts):
        return vrts
    os.makedirs(folder, exist_ok=True)
    for d in range(dates):
        if os.path.exists(vrts[d]):
            continue
        rng = np.random.default_rng(16 + d)
        tiles = []
        for row in range(0, size, tile):
            for col in range(0, size, tile):
                rows, cols = min(tile, size - row), min(tile, size - col)
                y, x = np.mgrid[row : row + rows, col : col + cols].astype(np.float32)
                texture = 0.1 * (1.5 + np.sin(x / 97.0) * np.cos(y / 131.0))
                if d > 0:  # a change patch in the middle of the mosaic from the second date on
                    texture[(abs(y - size / 2) < size / 8) & (abs(x - size / 2) < size / 8)] *= 6.0
                image = (texture * rng.gamma(4.0, 0.25, (rows, cols))).astype(np.float32)
                path = os.path.join(folder, f"d{d}_{row}_{col}.tif")
                gt = (500000.0 + 10.0 * col, 10.0, 0.0, 4000000.0 - 10.0 * row, 0.0, -10.0)
                with RasterWriter(path, rows, cols, geotransform=gt, crs_wkt=_utm()) as writer:
                    writer.write(image)
                tiles.append(path)
        gdal.BuildVRT(vrts[d], tiles).FlushCache()
    return vrts


def drive(pipeline: str, vrts: list, out_dir: str) -> dict:
    """One driver run (in its own process): wall seconds of the pipeline and peak RSS in MB."""
    register_package()
    from sar_change.algorithms import api
    from sar_change.algorithms.io import cluster

    address = cluster.current_scheduler()
    connect = 0.0
    if address is not None:
        start = time.perf_counter()
        cluster.client(address)  # connecting and sending the code once is not the pipeline's time
        connect = time.perf_counter() - start
    start = time.perf_counter()
    if pipeline == "despeckle":
        api.despeckle_file(vrts[0], os.path.join(out_dir, "lee.tif"), "lee", input_scale="linear")
    else:
        api.omnibus_files(
            vrts,
            *(os.path.join(out_dir, f"{name}.tif") for name in ("changes", "first", "last")),
            input_scale="linear",
        )
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": seconds,
        "peak_mb": peak_rss_mb(),
        "connect_s": connect,
        "cpu_s": usage.ru_utime + usage.ru_stime,  # the driver's whole process, imports included
    }


def run_driver(pipeline, vrts, address):
    env = dict(os.environ)
    env.pop("SARCHANGE_DASK_SCHEDULER", None)
    if address:
        env["SARCHANGE_DASK_SCHEDULER"] = address
    with tempfile.TemporaryDirectory(prefix="sarchange-bench-") as out_dir:
        os.sync()
        result = subprocess.run(
            [sys.executable, __file__, "--drive", pipeline, out_dir, *vrts],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"driver failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(pipeline, vrts, address, repeats):
    """Median of ``repeats`` driver runs after one warm-up run (workers import the libraries and the
    page cache takes the tiles), with this process's CPU (the scheduler and nannies) per run."""
    warm = run_driver(pipeline, vrts, address)
    before = resource.getrusage(resource.RUSAGE_SELF)
    runs = [run_driver(pipeline, vrts, address) for _ in range(repeats)]
    after = resource.getrusage(resource.RUSAGE_SELF)
    here = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / repeats
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "first_s": warm["seconds"],
        "peak_mb": max(r["peak_mb"] for r in runs),
        "connect_s": statistics.median(r["connect_s"] for r in runs),
        "driver_cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "scheduler_cpu_s": here if address else 0.0,
    }


def main(args):
    import distributed

    register_package()
    from sar_change.algorithms.io.pipeline import WORKERS

    pipelines = args.pipelines.split(",")
    dates = DATES if "omnibus" in pipelines else 1
    sizes = {"big": args.size, "small": args.small}
    mosaics = {key: make_mosaic(size, args.tile, dates) for key, size in sizes.items()}
    results = {}
    for pipeline in pipelines:
        results[(pipeline, "threads")] = measure(pipeline, mosaics["big"], None, args.repeats)
    for workers in (1, 2):
        with distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
        ) as local_cluster:
            address = local_cluster.scheduler_address
            for pipeline in pipelines:
                results[(pipeline, f"{workers} worker")] = measure(pipeline, mosaics["big"], address, args.repeats)
                if workers == 2:
                    results[(pipeline, "2 worker small")] = measure(pipeline, mosaics["small"], address, args.repeats)
    megapixels = args.size * args.size / 1e6
    print(
        f"\nMosaic {args.size} x {args.size} ({megapixels:.0f} Mpx per date, {dates} dates, VRT of "
        f"{args.tile}-px GeoTIFF tiles); {os.cpu_count()} cores; local threads: {WORKERS}; median of {args.repeats}"
    )
    print(
        f"{'pipeline':10} {'run on':24} {'seconds':>8} {'first s':>8} {'Mpx/s':>7} {'driver MB':>10} "
        f"{'driver CPU s':>12} {'sched. CPU s':>12} {'connect s':>10}"
    )
    for (pipeline, where), r in results.items():
        size = args.small if where.endswith("small") else args.size
        label = f"{where} ({size}^2)" if where.endswith("small") else where
        print(
            f"{pipeline:10} {label:24} {r['seconds']:8.2f} {r['first_s']:8.2f} {size * size / 1e6 / r['seconds']:7.1f} "
            f"{r['peak_mb']:10.0f} {r['driver_cpu_s']:12.2f} {r['scheduler_cpu_s']:12.2f} {r['connect_s']:10.2f}"
        )
    print()
    for pipeline in pipelines:
        one, two = results[(pipeline, "1 worker")], results[(pipeline, "2 worker")]
        threads, small = results[(pipeline, "threads")], results[(pipeline, "2 worker small")]
        speedup = one["seconds"] / two["seconds"]
        overhead = two["seconds"] / threads["seconds"] - 1
        memory = two["peak_mb"] / small["peak_mb"]
        print(
            f"{pipeline}: 2 workers / 1 worker speed-up {speedup:.2f}x (target >= 1.7: "
            f"{'met' if speedup >= 1.7 else 'MISSED'}); cluster vs local threads {overhead:+.0%} (target <= +15 %: "
            f"{'met' if overhead <= 0.15 else 'MISSED'}); driver memory {args.size}^2 / {args.small}^2 = "
            f"{memory:.2f} ({two['peak_mb']:.0f} vs {small['peak_mb']:.0f} MB; target ~1: "
            f"{'met' if memory <= 1.15 else 'MISSED'})"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--drive":
        print(json.dumps(drive(sys.argv[2], sys.argv[4:], sys.argv[3])))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8192, help="mosaic side in pixels (the issue's: 40000)")
    parser.add_argument("--small", type=int, default=4096, help="a smaller mosaic for the driver's memory")
    parser.add_argument("--tile", type=int, default=2048, help="tile side in pixels")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pipelines", default=",".join(PIPELINES), help="despeckle, omnibus or both")
    sys.path.insert(0, REPO_ROOT)
    main(parser.parse_args())
