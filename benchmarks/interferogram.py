"""Interferogram chain end to end on a SIZE x SIZE complex pair: time and peak memory.

Usage: /usr/bin/python3 benchmarks/interferogram.py [SIZE]   (default 4096)

Runs qgis_process.bin run sarchange:interferogram (subpixel coregistration, ramp removal,
Goldstein filter) on a simulated band-limited pair with a known shift, ramp and deformation bowl,
and prints wall time, peak RSS (GNU time) and the recovered shift.
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
from common import qgis_env, register_package, run_measured

register_package()
from sar_change.algorithms import interferometry as ifm  # noqa: E402
from sar_change.algorithms.raster_io import write_array  # noqa: E402


def main(size):
    rng = np.random.default_rng(0)
    f = np.abs(np.fft.fftfreq(size)).astype(np.float32)
    noise = rng.standard_normal((size, size), np.float32) + 1j * rng.standard_normal((size, size), np.float32)
    scene = np.fft.ifft2(np.fft.fft2(noise) * ((f[:, None] < 0.4) & (f[None, :] < 0.4))).astype(np.complex64)
    del noise
    rows, cols = np.mgrid[:size, :size].astype(np.float32)
    phase = (
        0.3
        + 0.01 * cols
        - 0.007 * rows
        + 1.5 * np.exp(-((rows - size / 2) ** 2 + (cols - size / 2) ** 2) / (2 * (size / 10) ** 2))
    )
    secondary = ifm.shift_complex(scene * np.exp(-1j * phase).astype(np.complex64), (1.3, -0.6))
    del rows, cols, phase
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        paths = {}
        for name, z in (("ref", scene), ("sec", secondary)):
            paths[name] = os.path.join(tmp, f"{name}.tif")
            write_array(paths[name], z, geotransform=(0, 1, 0, 0, 0, -1), crs_wkt="")
        del scene, secondary
        env = qgis_env(os.path.join(tmp, "qgis"))
        os.sync()
        cmd = [
            "qgis_process.bin",
            "run",
            "sarchange:interferogram",
            "--",
            f"REFERENCE={paths['ref']}",
            f"SECONDARY={paths['sec']}",
            "COREGISTER=subpixel",
            "REMOVE_RAMP=true",
            "FILTER=goldstein",
            "ALPHA=0.5",
            *(
                f"{k}={os.path.join(tmp, k + '.tif')}"
                for k in ("OUTPUT_PHASE", "OUTPUT_COHERENCE", "OUTPUT_DISPLACEMENT")
            ),
        ]
        seconds, peak_mb = run_measured(cmd, env=env)
        out = subprocess.run(cmd, env=env, capture_output=True, text=True).stdout
        shift = [line for line in out.splitlines() if line.startswith("SHIFT_")]
        print(
            f"interferogram {size}x{size} complex pair, subpixel coregistration + ramp + Goldstein, "
            f"whole process: {seconds:.1f} s, peak RSS {peak_mb:.0f} MB; {'; '.join(shift)} "
            f"(true -1.3, 0.6)"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4096)
