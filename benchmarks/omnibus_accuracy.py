"""Accuracy of the multi-date change test (omnibus) on simulated stacks with known change dates.

Usage: /usr/bin/python3 benchmarks/omnibus_accuracy.py [SIZE] [SEEDS]   (default 512, 6 seeds)

Each stack has 8 dates of SIZE x SIZE pixels, made to look like real products rather than ideal
speckle:

- a textured ground (a smooth random field of +-3 dB) and, at ``WATER``, open water whose level
  sits under the noise floor: there each date is the floor plus its own noise, which varies more
  than speckle of the nominal looks (the wind on the sea, the noise of each acquisition);
- speckle of ``LOOKS`` looks that is *spatially correlated* (each look is a complex Gaussian
  field filtered by a 2 x 2 box, as oversampled products are), so that the equivalent looks of the
  data are fewer than the nominal ones and the test must estimate them (``LOOKS=0``);
- a gain step of ``STEP_DB`` on every date from the 5th on (a sensor switch, as ALOS -> ALOS-2):
  a change of whole dates, not of the ground;
- change patches (20 - 60 pixels across) whose backscatter rises or falls by 3 - 6 dB at a known
  date and stays; some change twice.

The defaults (``NORMALISE=auto``, ``LOOKS=0``, ``MIN_CHANGE_DB=2``, the noise floor estimated,
``WINDOW=0``: window means of ~45 looks), the same per pixel (``WINDOW=1``, the default until
December 2026) and the pure test (the former
defaults: no gain removed, the nominal looks, no effect size, no floor) run through the file-level
function the Processing algorithm calls, in the same run.

Printed per variant: the share of truly changed pixels flagged (recall) and, of those, the share
whose first change date is right; the false-alarm rate on stable land at least ``MARGIN`` pixels
from any change, against ``ALPHA``, and on all stable land (with the boundaries a window moves);
the share of that stable land whose first change is the gain step; the share of the water flagged. Targets
(issue 14): first date right for >= 90 % of changed pixels, false alarms within 2 x ALPHA, nothing
at the gain step.
"""

import os
import sys
import tempfile
import time

import numpy as np
from scipy import ndimage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import register_package  # noqa: E402

register_package()
from sar_change.algorithms.io.outputs import write_array  # noqa: E402
from sar_change.algorithms.io.raster import read_band  # noqa: E402
from sar_change.algorithms.simulation.pair import smooth_field  # noqa: E402
from sar_change.algorithms.workflows.omnibus import (  # noqa: E402
    omnibus_rasters,
    region_steps_db,
    regions_from_rasters,
)

DATES, LOOKS, STEP_AT, STEP_DB, ALPHA = 8, 4, 4, 2.0, 0.01
MARGIN = 5  # pixels: stable land this far from any change counts for the false alarms
FLOOR_DB, WATER_DB = -24.0, -32.0


def correlated_speckle(shape, looks: int, rng) -> np.ndarray:
    """Unit-mean intensity speckle of ``looks`` looks, each look correlated over 2 x 2 pixels."""
    total = np.zeros(shape)
    for _ in range(looks):
        z = rng.standard_normal((shape[0] + 1, shape[1] + 1)) + 1j * rng.standard_normal((shape[0] + 1, shape[1] + 1))
        z = (z[:-1, :-1] + z[1:, :-1] + z[:-1, 1:] + z[1:, 1:]) / 2.0  # E|z|^2 stays 2
        total += np.abs(z) ** 2 / 2.0
    return total / looks


def simulate_stack(size: int, seed: int):
    """(stack of linear intensities (dates, rows, cols), first change index (-1: none), water mask,
    the first change's step in dB (NaN where none))."""
    rng = np.random.default_rng(seed)
    ground_db = -9.0 + 3.0 * smooth_field((size, size), 6.0, rng)
    levels = np.repeat(ground_db[None], DATES, axis=0)
    first = np.full((size, size), -1)
    step_db = np.full((size, size), np.nan)
    yy, xx = np.mgrid[:size, :size]
    water = (xx - 0.8 * size) ** 2 + (yy - 0.2 * size) ** 2 < (0.12 * size) ** 2
    for _ in range(int(size * size / 4000)):
        r, c, radius = rng.integers(30, size - 30), rng.integers(30, size - 30), rng.integers(10, 30)
        patch = ((yy - r) ** 2 + (xx - c) ** 2 < radius**2) & ~water & (first < 0)
        if patch.sum() < 50:
            continue
        date = int(rng.integers(1, DATES))
        step_db[patch] = rng.choice([-1, 1]) * rng.uniform(3.0, 6.0)
        levels[date:, patch] += step_db[patch][0]
        if rng.random() < 0.3 and date < DATES - 1:  # a second change later on
            later = int(rng.integers(date + 1, DATES))
            levels[later:, patch] += rng.choice([-1, 1]) * rng.uniform(3.0, 6.0)
        first[patch] = date
    levels[:, water] = WATER_DB
    stack = np.empty(levels.shape)
    for t in range(DATES):
        signal = 10 ** (levels[t] / 10) * correlated_speckle((size, size), LOOKS, rng)
        floor = 10 ** (FLOOR_DB / 10) * rng.gamma(2.0, 0.5, (size, size))  # thermal noise, ~2 looks
        stack[t] = (signal + floor) * 10 ** ((STEP_DB if t >= STEP_AT else 0.0) / 10)
    return stack.astype(np.float32), first, water, step_db


def run(stack, folder, variant: str):
    paths = []
    for t, image in enumerate(stack):
        paths.append(os.path.join(folder, f"d{t}.tif"))
        write_array(paths[-1], image, geotransform=(0, 10, 0, 0, 0, -10), crs_wkt="")
    out = {name: os.path.join(folder, f"{name}-{variant}.tif") for name in ("n", "f", "l")}
    options = {"window": 1} if variant == "pixel" else {}
    if variant == "pure":
        options = dict(normalise=False, looks=float(LOOKS), min_change_db=0.0, noise_floor_db=float("-inf"), window=1)
    model = omnibus_rasters(
        paths,
        input_scale="linear",
        alpha=ALPHA,
        changes_path=out["n"],
        first_path=out["f"],
        last_path=out["l"],
        **options,
    )
    from osgeo import gdal

    dataset = gdal.Open(out["f"])
    codes = dataset.GetRasterBand(1).ReadAsArray()
    dataset = None
    return np.where(codes > 0, codes - 1, -1), model, paths, out  # codes 1..k -> 0-based date index


def step_errors(paths, out, model, step_db, folder):
    """Error (dB) of each region's ``change_db`` against its fields' first step, measured on all its
    pixels and on its interior (as ``sarchange:omnibus`` does), for regions of at least 1 ha (100 px)."""
    codes = list(range(1, len(paths) + 1))
    labels_path = os.path.join(folder, "labels.tif")
    attributes = regions_from_rasters(out["n"], out["f"], out["l"], codes, 100, labels_path)
    labels = read_band(labels_path)  # NaN outside the regions
    errors = []
    truths = []
    for label in attributes:
        inside = step_db[labels == label]
        truths.append(np.nanmedian(inside) if np.isfinite(inside).any() else np.nan)
    for edge in (0, model.window // 2):
        steps = region_steps_db(paths, labels_path, out["f"], codes, model.gains_db, edge_px=edge)
        error = [steps[label] - truth for label, truth in zip(attributes, truths)]
        errors.append(np.asarray(error))
    return np.asarray(truths), errors[0], errors[1]


def main(size=512, seeds=6):
    print(
        f"simulated stacks: {DATES} dates of {size} x {size}, {LOOKS} correlated looks, gain step +{STEP_DB:g} dB "
        f"from date {STEP_AT + 1}, water under a {FLOOR_DB:g} dB floor, ALPHA {ALPHA}; {seeds} seeds"
    )
    variants = (
        ("defaults", "defaults (WINDOW=0: ~45 looks)"),
        ("pixel", "WINDOW=1 (single pixels)"),
        ("pure", "pure test (former defaults)"),
    )
    rows = {variant: [] for variant, _ in variants}
    steps = []
    started = time.time()
    for seed in range(seeds):
        stack, truth, water, step_db = simulate_stack(size, seed)
        with tempfile.TemporaryDirectory() as folder:
            for variant, _ in variants:
                found, model, paths, out = run(stack, folder, variant)
                if variant == "defaults":
                    steps.append(step_errors(paths, out, model, step_db, folder))
                changed, stable = truth >= 0, (truth < 0) & ~water
                detected = changed & (found >= 0)
                # stable land at least MARGIN pixels from any change: window means mix in their
                # neighbours, so a change moves the boundary by up to half a window (counted apart)
                away = stable & ~ndimage.binary_dilation(changed, iterations=MARGIN)
                rows[variant].append(
                    (
                        detected.sum() / changed.sum(),
                        (found[detected] == truth[detected]).mean(),
                        (found[away] >= 0).mean(),
                        (found[stable] >= 0).mean(),
                        (found[away] == STEP_AT).mean(),
                        (found[water] >= 0).mean(),
                        model.looks,
                        model.window,
                    )
                )
    print(
        f"  {'variant':30s} recall  date right  false alarms (x ALPHA)  near changes  at the step  water  looks  window"
    )
    for variant, label in variants:
        recall, right, false, near, step, wet, looks, side = np.mean(rows[variant], axis=0)
        print(
            f"  {label:30s} {recall:6.3f}  {right:9.3f}  {false:8.4f} ({false / ALPHA:5.2f}x)  {near:12.4f}  "
            f"{step:11.4f}  {wet:5.3f}  {looks:5.1f}  {side:6.0f}"
        )
    print("targets: first date right >= 0.9, false alarms <= 2 x ALPHA, nothing at the step (<= 0.1 %):")
    for variant, label in variants[:2]:
        recall, right, false, _, step, _, _, _ = np.mean(rows[variant], axis=0)
        met = right >= 0.9 and false <= 2 * ALPHA and step <= 0.001
        print(f"  {label}: {'met' if met else 'NOT met'}")
    truth, whole, inner = (np.concatenate([s[k] for s in steps]) for k in (0, 1, 2))
    print("change_db of the default's regions (>= 100 px) against their fields' first step (median error, dB):")
    for name, side in (("losses", truth < 0), ("gains", truth > 0)):
        ok = side & np.isfinite(whole) & np.isfinite(inner)
        print(
            f"  {name:6s} ({ok.sum():3d} regions, true steps {np.median(truth[ok]):+.1f} dB median): all pixels "
            f"{np.median(whole[ok]):+.2f} (|error| {np.median(np.abs(whole[ok])):.2f}), interior "
            f"{np.median(inner[ok]):+.2f} (|error| {np.median(np.abs(inner[ok])):.2f})"
        )
    print(f"({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
