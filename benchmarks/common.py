"""Helpers shared by the benchmark scripts (run with /usr/bin/python3 benchmarks/NAME.py)."""

import importlib.util
import os
import resource
import subprocess
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def register_package():
    """Import the checkout as ``sar_change`` whatever its folder name."""
    if "sar_change" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "sar_change", os.path.join(REPO_ROOT, "__init__.py"), submodule_search_locations=[REPO_ROOT]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["sar_change"] = module
        spec.loader.exec_module(module)


def timed(func, *args, **kwargs):
    """Return (seconds, result) of one call."""
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


def run_measured(cmd, env=None):
    """Run a command; return (wall seconds, peak RSS in MB of the child) measured with GNU time."""
    out = subprocess.run(["/usr/bin/time", "-f", "%e %M", *cmd], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    wall, peak_kb = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(peak_kb) / 1024


def peak_rss_mb():
    """Peak resident memory of this process so far, in MB.

    VmHWM, not ``ru_maxrss``: Linux keeps that across ``exec``, so a process started by a
    benchmark would report the peak of the benchmark that started it."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_random_power(path, rows, cols, *, seed=0, block=2048):
    """Write a rows x cols float32 gamma-speckled GeoTIFF blockwise (bounded memory)."""
    import numpy as np

    register_package()
    from sar_change.algorithms.io.outputs import RasterWriter

    rng = np.random.default_rng(seed)
    with RasterWriter(path, rows, cols, geotransform=(500000.0, 10.0, 0, 4000000.0, 0, -10.0), crs_wkt=_utm()) as w:
        for row in range(0, rows, block):
            n = min(block, rows - row)
            texture = np.linspace(0.05, 0.3, cols, dtype=np.float32)[None, :]
            w.write((texture * rng.gamma(1.0, 1.0, (n, cols))).astype(np.float32), row, 0)
    return path


def _utm():
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32654)
    return srs.ExportToWkt()


def qgis_env(home):
    """Environment for qgis_process.bin with this checkout linked as plugin ``sar_change`` under ``home``."""
    os.makedirs(os.path.join(home, "plugins"))
    os.symlink(REPO_ROOT, os.path.join(home, "plugins", "sar_change"))
    runtime = os.path.join(home, "runtime")
    os.makedirs(runtime, mode=0o700)
    env = dict(
        os.environ,
        QGIS_PLUGINPATH=os.path.join(home, "plugins"),
        QGIS_CUSTOM_CONFIG_PATH=os.path.join(home, "profile"),
        QT_QPA_PLATFORM="offscreen",
        XDG_RUNTIME_DIR=runtime,
    )
    # As in a normal install, Python caches the plugin's compiled modules (a sandbox may turn that off).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(["qgis_process.bin", "plugins", "enable", "sar_change"], env=env, capture_output=True, check=True)
    return env
