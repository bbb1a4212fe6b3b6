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
process, apart from the driver. Both clusters live through the run and, after a warm-up run each
(workers import the libraries, the page cache takes the tiles; its time is reported as "first"),
the configurations take turns for ``repeats`` rounds (the order reversed every other round), so that
the VM's drift from minute to minute falls on all of them alike. Reported: the median of the rounds,
the CPU seconds of the driver (its whole process), of the scheduler and nannies (this process) and
of the workers, and the speed-up this machine allows at best: the 2-worker run cannot end before
the CPU seconds of all its processes are spread over the cores.

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
#: This process's environment before any cluster starts: dask's nannies set MALLOC_TRIM_THRESHOLD_,
#: OMP_NUM_THREADS and others in it for their workers, and a driver that inherited them ran the
#: local-threads omnibus 3.4x slower.
DRIVER_ENV = dict(os.environ)
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
    start, start_cpu = time.perf_counter(), time.process_time()
    if pipeline == "despeckle":
        api.despeckle_file(vrts[0], os.path.join(out_dir, "lee.tif"), "lee", input_scale="linear")
    else:
        api.omnibus_files(
            vrts,
            *(os.path.join(out_dir, f"{name}.tif") for name in ("changes", "first", "last")),
            input_scale="linear",
        )
    seconds, window_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": seconds,
        "peak_mb": peak_rss_mb(),
        "connect_s": connect,
        "cpu_s": usage.ru_utime + usage.ru_stime,  # the driver's whole process, imports included
        "window_cpu_s": window_cpu,  # the pipeline's own part of it
    }


def run_driver(pipeline, vrts, address):
    env = dict(DRIVER_ENV)
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


def _cpu_s(process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def run_measured_driver(pipeline, vrts, address, workers):
    """One driver run, with the CPU seconds of this process (the schedulers and nannies) and of
    the worker processes (``workers``: psutil processes) spent meanwhile."""
    before_here = resource.getrusage(resource.RUSAGE_SELF)
    before_workers = [_cpu_s(w) for w in workers]
    result = run_driver(pipeline, vrts, address)
    after_here = resource.getrusage(resource.RUSAGE_SELF)
    result["scheduler_cpu_s"] = (
        after_here.ru_utime + after_here.ru_stime - before_here.ru_utime - before_here.ru_stime if address else 0.0
    )
    result["workers_cpu_s"] = sum(_cpu_s(w) - b for w, b in zip(workers, before_workers))
    return result


def summarise(runs, warm):
    """Medians of the measured runs (peak memory: the largest)."""
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "first_s": warm["seconds"],
        "peak_mb": max(r["peak_mb"] for r in runs),
        "connect_s": statistics.median(r["connect_s"] for r in runs),
        "driver_cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "driver_window_cpu_s": statistics.median(r["window_cpu_s"] for r in runs),
        "scheduler_cpu_s": statistics.median(r["scheduler_cpu_s"] for r in runs),
        "workers_cpu_s": statistics.median(r["workers_cpu_s"] for r in runs),
        "runs": [r["seconds"] for r in runs],
    }


def main(args):
    import distributed
    import psutil  # a dependency of distributed

    register_package()
    from sar_change.algorithms.io.pipeline import WORKERS

    pipelines = args.pipelines.split(",")
    dates = DATES if "omnibus" in pipelines else 1
    sizes = {"big": args.size, "small": args.small}
    mosaics = {key: make_mosaic(size, args.tile, dates) for key, size in sizes.items()}
    results = {}
    # Both clusters live through the whole run and the configurations take turns, round by round
    # (the order reversed every other round), so that this VM's drift from minute to minute falls
    # on all of them alike instead of on whichever ran last.
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
        ) as one,
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
        ) as two,
    ):

        def worker_processes(cluster):
            return [psutil.Process(w.process.pid) for w in cluster.workers.values()]

        configurations = {
            "threads": (None, [], "big"),
            "1 worker": (one.scheduler_address, worker_processes(one), "big"),
            "2 worker": (two.scheduler_address, worker_processes(two), "big"),
            "2 worker small": (two.scheduler_address, worker_processes(two), "small"),
        }
        for pipeline in pipelines:
            warm = {
                where: run_driver(pipeline, mosaics[size], address)
                for where, (address, _, size) in configurations.items()
            }
            runs = {where: [] for where in configurations}
            for round_ in range(args.repeats):
                order = list(configurations) if round_ % 2 == 0 else list(reversed(configurations))
                for where in order:
                    address, workers, size = configurations[where]
                    runs[where].append(run_measured_driver(pipeline, mosaics[size], address, workers))
            for where in configurations:
                results[(pipeline, where)] = summarise(runs[where], warm[where])
    megapixels = args.size * args.size / 1e6
    cores = os.cpu_count()
    print(
        f"\nMosaic {args.size} x {args.size} ({megapixels:.0f} Mpx per date, {dates} dates, VRT of "
        f"{args.tile}-px GeoTIFF tiles); {cores} cores; local threads: {WORKERS}; median of {args.repeats} "
        "rounds, the configurations taking turns"
    )
    print(
        f"{'pipeline':10} {'run on':24} {'seconds':>8} {'first s':>8} {'Mpx/s':>7} {'driver MB':>10} "
        f"{'driver CPU s':>12} {'sched. CPU s':>12} {'workers CPU s':>13} {'connect s':>10}"
    )
    for (pipeline, where), r in results.items():
        size = args.small if where.endswith("small") else args.size
        label = f"{where} ({size}^2)" if where.endswith("small") else where
        print(
            f"{pipeline:10} {label:24} {r['seconds']:8.2f} {r['first_s']:8.2f} {size * size / 1e6 / r['seconds']:7.1f} "
            f"{r['peak_mb']:10.0f} {r['driver_cpu_s']:12.2f} {r['scheduler_cpu_s']:12.2f} {r['workers_cpu_s']:13.2f} "
            f"{r['connect_s']:10.2f}"
        )
    print()
    for pipeline in pipelines:
        one, two = results[(pipeline, "1 worker")], results[(pipeline, "2 worker")]
        threads, small = results[(pipeline, "threads")], results[(pipeline, "2 worker small")]
        speedup = one["seconds"] / two["seconds"]
        per_round = [a / b for a, b in zip(one["runs"], two["runs"])]
        overhead = two["seconds"] / threads["seconds"] - 1
        memory = two["peak_mb"] / small["peak_mb"]
        # the 2-worker run cannot end before all its processes' CPU seconds are spread over the cores
        used = two["workers_cpu_s"] + two["driver_window_cpu_s"] + two["scheduler_cpu_s"]
        bound = one["seconds"] / max(used / cores, two["workers_cpu_s"] / 2)
        print(
            f"{pipeline}: 2 workers / 1 worker speed-up {speedup:.2f}x "
            f"(rounds {min(per_round):.2f}-{max(per_round):.2f}x; target >= 1.7: "
            f"{'met' if speedup >= 1.7 else 'MISSED'}); cluster vs local threads {overhead:+.0%} "
            f"(target <= +15 %: {'met' if overhead <= 0.15 else 'MISSED'}); driver memory {args.size}^2 / "
            f"{args.small}^2 = {memory:.2f} ({two['peak_mb']:.0f} vs {small['peak_mb']:.0f} MB; target ~1: "
            f"{'met' if memory <= 1.15 else 'MISSED'})"
        )
        print(
            f"  the 2-worker run used {used:.1f} CPU s (workers {two['workers_cpu_s']:.1f}, driver "
            f"{two['driver_window_cpu_s']:.1f} after connecting, scheduler {two['scheduler_cpu_s']:.1f}) on {cores} "
            f"cores: at best {used / cores:.1f} s, a speed-up of at most {bound:.2f}x on this machine"
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
