"""Interferogram chain end to end on a SIZE x SIZE complex pair: time and peak memory.

Usage: /usr/bin/python3 benchmarks/interferogram.py [SIZE]   (default 4096)

Runs qgis_process.bin run sarchange:interferogram (subpixel coregistration, ramp removal,
Goldstein filter; blockwise) on a simulated band-limited pair with a known shift, ramp and
deformation bowl, and, as the peer in the same run, the same chain the way a notebook does it:
both rasters read whole and ifm.process_pair in memory (a child Python). Prints wall time and peak
RSS (GNU time) of each, their ratios, and the recovered shift.
"""

import os
import sys
import tempfile

import numpy as np
from common import REPO_ROOT, qgis_env, register_package, run_measured

register_package()
from sar_change.algorithms.io.outputs import write_array  # noqa: E402
from sar_change.algorithms.sar import interferometry as ifm  # noqa: E402


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
            "WAVELENGTH_M=0.2424",  # PALSAR-2: the displacement output needs a wavelength
            *(
                f"{k}={os.path.join(tmp, k + '.tif')}"
                for k in ("OUTPUT_PHASE", "OUTPUT_COHERENCE", "OUTPUT_DISPLACEMENT")
            ),
        ]
        seconds, peak_mb = run_measured(cmd, env=env)
        from osgeo import gdal

        dataset = gdal.Open(os.path.join(tmp, "OUTPUT_PHASE.tif"))
        shift = (float(dataset.GetMetadataItem("SHIFT_ROWS")), float(dataset.GetMetadataItem("SHIFT_COLS")))
        dataset = None
        notebook = IN_MEMORY.format(repo=REPO_ROOT, ref=paths["ref"], sec=paths["sec"])
        peer_s, peer_mb = run_measured([sys.executable, "-c", notebook])
        print(
            f"interferogram {size}x{size} complex pair, subpixel coregistration + ramp + Goldstein, whole process:\n"
            f"  sarchange:interferogram (blockwise) {seconds:6.1f} s, peak RSS {peak_mb:5.0f} MB; "
            f"shift {shift[0]:.2f}, {shift[1]:.2f} (true -1.3, 0.6)\n"
            f"  in memory (read whole + process_pair) {peer_s:6.1f} s, peak RSS {peer_mb:5.0f} MB\n"
            f"  ratios: time {peer_s / seconds:.2f}x faster, memory {peer_mb / peak_mb:.1f}x less"
        )


IN_MEMORY = """
import sys
sys.path.insert(0, {repo!r} + "/benchmarks")
from common import register_package
register_package()
import numpy as np
from sar_change.algorithms.sar import interferometry as ifm
from sar_change.algorithms.io.raster import read_band
result = ifm.process_pair(
    read_band({ref!r}, dtype=np.complex64), read_band({sec!r}, dtype=np.complex64), goldstein_alpha=0.5
)
"""


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4096)
