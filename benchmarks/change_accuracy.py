"""Change-detection accuracy on simulated pairs with known change.

Usage: /usr/bin/python3 benchmarks/change_accuracy.py [SIZE] [SEEDS]   (default 768, 6 seeds: with 3, F1
moved by 0.004 between seed sets, as much as the margin to the target)

For each scenario (looks, change magnitude, region sizes) and method, prints precision, recall
and F1 of changed pixels against the truth, averaged over seeds; then the observed false-alarm
rate of the likelihood-ratio test on no-change pairs against ALPHA (per pixel and per superpixel).
Target: likelihood_ratio per superpixel reaches F1 >= 0.9 on changes of >= 3 dB over regions of
>= 50 pixels at 1 look, and beats superpixel_kmeans; false alarms within a factor 2 of ALPHA.
"""

import sys
import time

import numpy as np
from common import register_package

register_package()
from sar_change.algorithms.sar import change  # noqa: E402
from sar_change.algorithms.sar.change import auto as change_auto  # noqa: E402
from sar_change.algorithms.simulation import pair as simulate  # noqa: E402


def detect(before, after, method, looks, **kwargs):
    """Classes of one method; ``automatic`` estimates its looks itself (LOOKS=0, the default)."""
    if method == "automatic":
        return change_auto.classify_pair(change_auto.fit_pair_model(before, after), before, after)[0]
    return change.detect_change(before, after, method, looks=looks, **kwargs).classes


METHODS = [
    ("automatic (default)", "automatic", {}),
    ("likelihood_ratio/superpixel", "likelihood_ratio", {"unit": "superpixel", "despeckle": "refined_lee"}),
    ("likelihood_ratio/pixel", "likelihood_ratio", {"unit": "pixel"}),
    ("threshold (lee, +-3 dB)", "threshold", {"despeckle": "lee"}),
    ("threshold (boxcar, +-3 dB)", "threshold", {"despeckle": "boxcar"}),
    ("superpixel_kmeans", "superpixel_kmeans", {"despeckle": "lee"}),
]
SCENARIOS = [
    # (name, looks, |change| dB range, region size range in pixels)
    ("1 look, 3-6 dB, 50-2000 px", 1, (3.0, 6.0), (50, 2000)),
    ("1 look, 1.5-3 dB, 50-2000 px", 1, (1.5, 3.0), (50, 2000)),
    ("1 look, 3-6 dB, 20-50 px", 1, (3.0, 6.0), (20, 50)),
    ("4 looks, 1.5-6 dB, 20-2000 px", 4, (1.5, 6.0), (20, 2000)),
]


def patches(size, db_range, px_range, rng, cell=72):
    out = []
    for r0 in range(4, size - cell, cell):
        for c0 in range(4, size - cell, cell):
            if rng.random() < 0.5:
                continue
            area = np.exp(rng.uniform(np.log(px_range[0]), np.log(px_range[1])))
            h = int(np.clip(np.sqrt(area * rng.uniform(0.6, 1.6)), 3, cell - 4))
            w = int(np.clip(round(area / h), 3, cell - 4))
            sign = 1 if rng.random() < 0.5 else -1
            r, c = r0 + rng.integers(0, cell - h), c0 + rng.integers(0, cell - w)
            shape = "ellipse" if rng.random() < 0.4 else "rectangle"
            out.append(simulate.Patch(int(r), int(c), h, w, sign * float(rng.uniform(*db_range)), shape))
    return out


def scores(classes, truth):
    pred = (classes == change.LOSS) | (classes == change.GAIN)
    real = truth > 0
    tp = (pred & real).sum()
    p, r = tp / max(pred.sum(), 1), tp / max(real.sum(), 1)
    return np.array([p, r, 2 * p * r / max(p + r, 1e-12)])


def large_share(size=768):
    """A change over a large share of the scene (a flood, a harvest): 64-px fields of +-4 dB at
    one look covering 10-45 % of it. The default's gain, recall and precision, next to the same
    decision with the median-based centre and spread it used before (the peer, same run)."""
    from sar_change.algorithms.sar.change import stats as change_stats

    print("\nchange over a large share of the scene (1 look, 64-px fields, +-4 dB): gain removed, recall, precision")
    for share in (0.1, 0.3, 0.45):
        for step_db in (4.0, -4.0):
            rng = np.random.default_rng(1)
            before, after = (rng.gamma(1.0, 1.0, (size, size)).astype(np.float32) for _ in range(2))
            truth = np.zeros(before.shape, bool)
            cells = [(r, c) for r in range(0, size, 96) for c in range(0, size, 96)]
            rng.shuffle(cells)
            for r, c in cells:
                if truth.mean() >= share:
                    break
                truth[r + 16 : r + 80, c + 16 : c + 80] = True
            after[truth] *= np.float32(10 ** (step_db / 10))
            line = []
            for label, estimator in (
                ("mode", change_stats.mode_centre_scale),
                ("median", change_stats.robust_centre_scale),
            ):
                change_auto.mode_centre_scale = estimator
                model = change_auto.fit_pair_model(before, after)
                found = change_auto.classify_pair(model, before, after, with_pvalue=False)[0] > 0
                recall, precision = found[truth].mean(), truth[found].mean() if found.any() else 0.0
                line.append(f"{label} {model.gain_db[0]:+.2f} dB R {recall:.3f} P {precision:.3f}")
            change_auto.mode_centre_scale = change_stats.mode_centre_scale
            print(f"  {truth.mean():4.0%} changed by {step_db:+.0f} dB: " + "; ".join(line))


def main(size=768, seeds=6):
    start = time.time()
    print(f"scenes {size}x{size}, {seeds} seeds; precision / recall / F1 of changed pixels")
    for name, looks, db_range, px_range in SCENARIOS:
        print(f"\n{name}")
        totals = {label: np.zeros(3) for label, _, _ in METHODS}
        for seed in range(seeds):
            rng = np.random.default_rng(100 + seed)
            scene = simulate.simulate_pair(
                size, size, looks=looks, seed=seed, patches=patches(size, db_range, px_range, rng)
            )
            for label, method, kwargs in METHODS:
                classes = detect(scene["before"], scene["after"], method, looks, **kwargs)
                # MIN_AREA as a user would set it: drop regions under 20 pixels.
                regions = change.change_regions(classes, scene["before"], scene["after"], min_pixels=20)
                totals[label] += scores(regions.classes, scene["truth"]) / seeds
        for label, (p, r, f) in totals.items():
            print(f"  {label:28s} P {p:.3f}  R {r:.3f}  F1 {f:.3f}")
    print("\nfalse alarms on no-change pairs (fraction of pixels flagged; no MIN_AREA)")
    for looks in (1, 4):
        for alpha in (0.01, 0.05):
            rates = {"pixel": [], "superpixel": [], "automatic": []}
            for seed in range(seeds):
                scene = simulate.simulate_pair(size, size, looks=looks, seed=50 + seed, patches=[])
                flagged = detect(scene["before"], scene["after"], "automatic", looks)
                rates["automatic"].append(np.isin(flagged, (change.LOSS, change.GAIN)).mean())
                for unit in ("pixel", "superpixel"):
                    result = change.detect_change(
                        scene["before"],
                        scene["after"],
                        "likelihood_ratio",
                        looks=looks,
                        alpha=alpha,
                        unit=unit,
                        despeckle="refined_lee",
                    )
                    rates[unit].append((result.classes > 0).mean())
            line = ", ".join(f"{u} {np.mean(v):.4f} ({np.mean(v) / alpha:.2f}x)" for u, v in rates.items())
            print(f"  {looks} look(s), ALPHA {alpha}: {line}")
    unequal_looks(size, seeds)
    large_share(size)
    print(f"\n({time.time() - start:.0f} s)")


def unequal_looks(size=768, seeds=6, alpha=0.01):
    """Dates of different looks (two sensors): the default's gate rejects ALPHA / 2 on each side,
    with each date's looks (shared out by its speckle), next to one pooled number (the peer)."""
    from sar_change.algorithms.sar.change.gate import gate_rejects

    print(f"\ndates of different looks, no change: the gate's rejections per side at ALPHA {alpha} (each {alpha / 2})")
    for before_looks, after_looks in ((1, 4), (4, 1), (2, 8)):
        sides = {"per date": np.zeros(2), "pooled": np.zeros(2)}
        for seed in range(seeds):
            rng = np.random.default_rng(70 + seed)
            before = rng.gamma(before_looks, 1 / before_looks, (size, size)).astype(np.float32)
            after = rng.gamma(after_looks, 1 / after_looks, (size, size)).astype(np.float32)
            model = change_auto.fit_pair_model(before, after)
            mb, ma = (change_auto.box_mean(x, model.window)[None] for x in (before, after))
            for label, looks in (("per date", model.gate_looks), ("pooled", model.window_looks)):
                rejects = gate_rejects(mb, ma, looks, alpha)
                loss, gain = (rejects & (ma[0] < mb[0])).mean(), (rejects & (ma[0] > mb[0])).mean()
                sides[label] += np.array([loss, gain]) / seeds
        line = "; ".join(f"{k} loss {v[0]:.4f} gain {v[1]:.4f}" for k, v in sides.items())
        print(f"  {before_looks} look(s) before, {after_looks} after: {line}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 768, int(sys.argv[2]) if len(sys.argv) > 2 else 6)
