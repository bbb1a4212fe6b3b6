"""Overlay throughput: the vectorised blockwise overlay vs a per-pixel Python loop.

Usage: /usr/bin/python3 benchmarks/overlay.py [SIZE]   (default 8192: an 8192 x 8192 pair)

Prints Mpixel/s of ``overlay_rasters`` end to end (files in, GeoTIFF out, with the
percentile scaling pass) and of a straightforward per-pixel loop on a 512 x 512 crop of
the same levels, and the ratio extrapolated per pixel.
"""

import os
import sys
import tempfile

import numpy as np
from common import peak_rss_mb, register_package, timed, write_random_power

register_package()
from sar_change.algorithms.sar import overlay  # noqa: E402
from sar_change.algorithms.workflows.overlay import overlay_rasters  # noqa: E402


def loop_overlay(before, after, tolerance):
    """The naive per-pixel loop a notebook would write (the peer)."""
    rows, cols = before.shape
    out = np.zeros((3, rows, cols), np.uint8)
    for i in range(rows):
        for j in range(cols):
            b, a = int(before[i, j]), int(after[i, j])
            if abs(a - b) < tolerance:
                out[:, i, j] = a
            else:
                out[0, i, j], out[2, i, j] = a, b
    return out


def main(size=8192):
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        before = write_random_power(os.path.join(tmp, "before.tif"), size, size, seed=1)
        after = write_random_power(os.path.join(tmp, "after.tif"), size, size, seed=2)
        seconds, _ = timed(overlay_rasters, (before, 1), (after, 1), os.path.join(tmp, "ov.tif"))
        ours = size * size / seconds / 1e6
        rng = np.random.default_rng(0)
        b = rng.integers(0, 256, (512, 512)).astype(np.int16)
        a = rng.integers(0, 256, (512, 512)).astype(np.int16)
        loop_s, loop_rgb = timed(loop_overlay, b, a, 30)
        np.testing.assert_array_equal(loop_rgb, overlay.overlay_levels(b, a, 30))  # same rule
        loop = 512 * 512 / loop_s / 1e6
        print(
            f"overlay {size}x{size} pair, files to GeoTIFF: {seconds:.2f} s, {ours:.1f} Mpixel/s, "
            f"peak RSS {peak_rss_mb():.0f} MB"
        )
        print(
            f"per-pixel Python loop on 512x512 levels: {loop_s:.2f} s, {loop:.3f} Mpixel/s "
            f"(extrapolated {size}x{size}: {size * size / (loop * 1e6):.0f} s)"
        )
        print(f"ratio (ours / loop, per pixel): {ours / loop:.0f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8192)
