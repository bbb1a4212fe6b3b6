"""Despeckle speed and memory: qgis_process.bin sarchange:despeckle vs otbcli_Despeckle, same run.

Usage: /usr/bin/python3 benchmarks/despeckle.py [SIZE] [METHODS...]
(default: 8192 and lee frost gamma_map kuan; needs qgis_process.bin and otbcli_Despeckle,
`apt-get install otb-bin`). Whole process to whole process, wall time and peak RSS of the
child measured by GNU time (median of BENCH_REPEATS=3 alternating runs each; peak memory is the
largest); the input is a SIZE x SIZE float32 speckled GeoTIFF.
Targets: lee >= 6x faster than OTB, frost/gamma_map/kuan >= 3x, our peak memory < 600 MB.
"""

import os
import shutil
import sys
import tempfile

from common import qgis_env, run_measured, write_random_power

OTB_NAMES = {"lee": "lee", "frost": "frost", "gamma_map": "gammamap", "kuan": "kuan"}
TARGETS = {"lee": 6.0, "frost": 3.0, "gamma_map": 3.0, "kuan": 3.0}
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
COOL_DOWN_S = float(os.environ.get("BENCH_COOL_DOWN_S", "5"))


def main(size, methods):
    for exe in ("qgis_process.bin", "otbcli_Despeckle", "/usr/bin/time"):
        if not shutil.which(exe):
            sys.exit(f"{exe} not found: apt-get install qgis otb-bin time")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        src = write_random_power(os.path.join(tmp, "in.tif"), size, size)
        os.sync()  # the input's dirty pages must not be written back during the first timed run
        with open(src, "rb") as handle:  # both tools then read it from the page cache
            while handle.read(1 << 24):
                pass
        env = qgis_env(os.path.join(tmp, "qgis"))
        startup, _ = run_measured(["qgis_process.bin", "help", "sarchange:despeckle"], env=env)
        print(f"input {size}x{size} float32; QGIS start-up alone (help): {startup:.2f} s")
        print(f"{'method':10s} {'ours s':>7s} {'ours MB':>8s} {'OTB s':>7s} {'OTB MB':>7s} {'speed-up':>9s} target")
        for method in methods:
            ours_out, otb_out = os.path.join(tmp, f"ours_{method}.tif"), os.path.join(tmp, f"otb_{method}.tif")
            ours_s, ours_mb = run_measured(
                [
                    "qgis_process.bin",
                    "run",
                    "sarchange:despeckle",
                    "--",
                    f"INPUT={src}",
                    f"METHOD={method}",
                    "WINDOW=7",
                    "LOOKS=1",
                    f"OUTPUT={ours_out}",
                ],
                env=env,
            )
            name = OTB_NAMES[method]
            extra = ["-filter.frost.deramp", "0.1"] if method == "frost" else [f"-filter.{name}.nblooks", "1"]
            otb_s, otb_mb = run_measured(
                ["otbcli_Despeckle", "-in", src, "-out", otb_out, "-filter", name, f"-filter.{name}.rad", "3", *extra]
            )
            ratio = otb_s / ours_s
            verdict = "ok" if ratio >= TARGETS[method] and ours_mb < 600 else "MISSED"
            print(
                f"{method:10s} {ours_s:7.2f} {ours_mb:8.0f} {otb_s:7.2f} {otb_mb:7.0f} {ratio:8.1f}x "
                f">= {TARGETS[method]:.0f}x, < 600 MB: {verdict}"
            )
            os.remove(ours_out)
            os.remove(otb_out)


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 8192
    methods = sys.argv[2:] or ["lee", "frost", "gamma_map", "kuan"]
    main(size, methods)
