"""Scaling of the multi-date change test (omnibus) with the scene: time and peak memory.

Usage: /usr/bin/python3 benchmarks/omnibus_scale.py [SIDES...]   (default 1000 3000 10000)

Each date of the real Malaysia HV stack (8 dates of 1000 x 1000) is repeated ``side / 1000`` times
in each direction by a GDAL VRT, so an 8 x 9000^2 stack (648 Mpixel, 2.6 GB as float32) costs
no disk. The stack model's sample windows are moved at random within the cells of an even grid:
on the even grid itself (994 px apart at 10000) every window sampled the same edge strip of the
tile, and the fit was not the scene's (window looks 95 instead of 49, gains off by 1.8 dB, 57 %
flagged). The share of pixels with a change should stay that of the 1000^2 stack.
Each run is a fresh Python process calling the file-level functions that ``sarchange:omnibus``
calls, with its defaults, and reports:

- the blockwise pass (sample fit, then every block of every date read, tested and written):
  time, time per Mpixel of the stack, and the process's peak resident memory (VmHWM);
- the region pass (connected regions of the first-change dates a strip of rows at a time, their
  label raster, and GDAL's polygons of it, as ``sarchange:omnibus`` writes them), measured in
  another fresh process on the rasters the first wrote.

The peer is the first run: time per pixel should stay flat and the blockwise memory should not
grow with the scene.
"""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO_ROOT  # noqa: E402

sys.path.insert(0, os.path.join(REPO_ROOT, "tests"))
from helpers import mosaic_vrt  # noqa: E402

YEARS = ("07", "08", "09", "10", "15", "16", "17", "18")
DATA = os.path.join(os.path.dirname(REPO_ROOT), "shared", "data", "malaysia_jaxa_mosaics", "hv")

CHILD = """
import re, sys, time
sys.path.insert(0, {tests!r})
from helpers import register_package
register_package()
from sar_change.algorithms.workflows.omnibus import omnibus_rasters, regions_from_rasters
paths, out, codes = {paths!r}, {out!r}, {codes!r}
start = time.perf_counter()
if {phase!r} == "blocks":
    omnibus_rasters(paths, input_scale="palsar_dn", codes=codes, changes_path=out + "/n.tif",
                    first_path=out + "/f.tif", last_path=out + "/l.tif")
else:
    attributes = regions_from_rasters(out + "/n.tif", out + "/f.tif", out + "/l.tif", codes, 16, out + "/r.tif")
    from sar_change.algorithms.io.vectorize import polygonize_file
    polygons = sum(1 for _ in polygonize_file(out + "/r.tif"))
    assert polygons == len(attributes), (polygons, len(attributes))
seconds = time.perf_counter() - start
peak = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) // 1024
print(seconds, peak, polygons if {phase!r} == "regions" else 0)
"""


def measure(phase, paths, out, codes):
    code = CHILD.format(tests=os.path.join(REPO_ROOT, "tests"), paths=paths, out=out, codes=codes, phase=phase)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, peak, polygons = result.stdout.split()[-3:]
    return float(seconds), int(peak), int(polygons)


def changed_share(path: str) -> float:
    """Share of the pixels with at least one change, read a strip at a time."""
    from osgeo import gdal

    gdal.UseExceptions()
    dataset = gdal.Open(path)
    band, rows, cols = dataset.GetRasterBand(1), dataset.RasterYSize, dataset.RasterXSize
    changed = sum(int((band.ReadAsArray(0, r, cols, min(1024, rows - r)) > 0).sum()) for r in range(0, rows, 1024))
    return changed / (rows * cols)


def main(sides):
    if not os.path.isdir(DATA):
        sys.exit(f"real data not found at {DATA} (see the project README)")
    codes = [int(f"20{year}0101") for year in YEARS]
    print("omnibus, 8 dates (the Malaysia HV stack tiled by a VRT), defaults, fresh process per run:")
    header = f"  {'side':>6s} {'Mpixel':>7s}  blocks: {'s':>7s} {'s/Mpx':>7s} {'peak MB':>8s}"
    print(header + f" {'changed':>8s}   regions: {'s':>6s} {'peak MB':>8s} {'polygons':>9s}")
    first = None
    with tempfile.TemporaryDirectory() as folder:
        for side in sides:
            repeat = max(1, side // 1000)
            paths = []
            for year in YEARS:
                paths.append(os.path.join(folder, f"{year}_{repeat}.vrt"))
                mosaic_vrt(paths[-1], os.path.join(DATA, f"N05E100_{year}_sl_HV.tif"), repeat)
            out = os.path.join(folder, f"out{repeat}")
            os.makedirs(out, exist_ok=True)
            seconds, peak, _ = measure("blocks", paths, out, codes)
            share = changed_share(os.path.join(out, "n.tif"))
            region_s, region_peak, polygons = measure("regions", paths, out, codes)
            mpx = (1000 * repeat) ** 2 / 1e6
            first = first or seconds / mpx
            print(
                f"  {1000 * repeat:6d} {mpx:7.0f}  blocks: {seconds:7.1f} {seconds / mpx:7.3f} {peak:8d} "
                f"{share:8.1%}   regions: {region_s:6.1f} {region_peak:8d} {polygons:9d}   "
                f"(time per Mpixel x{seconds / mpx / first:.2f})"
            )
            for name in os.listdir(out):
                os.remove(os.path.join(out, name))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 3000, 10000])
