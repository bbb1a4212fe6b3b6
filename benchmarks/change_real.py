"""Change-detection accuracy on the real ERS-2 Bern pair, defaults only, against two baselines.

Usage: /usr/bin/python3 benchmarks/change_real.py [DATA_DIR]   (default ../shared/data/bern_ers2)

Every method runs with the defaults of ``sarchange:changedetection`` (INPUT_SCALE auto, LOOKS 0,
NORMALISE auto, MIN_AREA 0) through the same core functions. The baselines are measured in the
same run: PCA + k-means (Celik, IEEE GRSL 6(4), 2009: non-overlapping h x h blocks of the
log-ratio image, PCA keeping 90 % of the variance, each pixel's h x h neighbourhood projected,
k-means with two clusters; h = 4) and log-ratio + Otsu. Prints PCC and kappa of each against
the reference map. Target (issue 13): the default kappa >= 0.88 and above PCA + k-means by 0.02.
"""

import os
import sys
import tempfile
import time

import numpy as np
from common import REPO_ROOT, register_package

register_package()
from sar_change.algorithms.io.raster import read_band  # noqa: E402
from sar_change.algorithms.sar import change  # noqa: E402
from sar_change.algorithms.sar.change import stats as change_stats  # noqa: E402
from sar_change.algorithms.sar.convert import TO_POWER  # noqa: E402
from sar_change.algorithms.workflows import change as change_io  # noqa: E402

DEFAULT_DATA = os.path.join(os.path.dirname(REPO_ROOT), "shared", "data", "bern_ers2")


def pcc_kappa(changed: np.ndarray, reference: np.ndarray):
    """Overall accuracy (PCC) and Cohen's kappa of a changed/unchanged map."""
    changed, reference = changed.astype(bool).ravel(), reference.astype(bool).ravel()
    n = changed.size
    pcc = float((changed == reference).mean())
    expected = (changed.sum() * reference.sum() + (~changed).sum() * (~reference).sum()) / n**2
    return pcc, float((pcc - expected) / (1 - expected))


def pca_kmeans(before: np.ndarray, after: np.ndarray, h: int = 4, variance: float = 0.9, seed: int = 0):
    """Celik (2009) on the absolute log-ratio image of two amplitude images (the peer)."""
    from sklearn.cluster import KMeans

    difference = np.abs(np.log((after + 1.0) / (before + 1.0)))
    rows, cols = difference.shape
    blocks = (
        difference[: rows // h * h, : cols // h * h]
        .reshape(rows // h, h, cols // h, h)
        .transpose(0, 2, 1, 3)
        .reshape(-1, h * h)
    )
    mean = blocks.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov((blocks - mean).T))
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    keep = int(np.searchsorted(np.cumsum(values) / values.sum(), variance) + 1)
    padded = np.pad(difference, ((h // 2, h - h // 2 - 1), (h // 2, h - h // 2 - 1)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (h, h)).reshape(rows * cols, h * h)
    features = (windows - mean) @ vectors[:, :keep]
    labels = KMeans(2, n_init=10, random_state=seed).fit_predict(features)
    changed_cluster = int(np.argmax([difference.ravel()[labels == k].mean() for k in (0, 1)]))
    return (labels == changed_cluster).reshape(rows, cols)


def log_ratio_otsu(before: np.ndarray, after: np.ndarray):
    """|log-ratio| of the amplitudes thresholded by Otsu's method (the second peer)."""
    from skimage.filters import threshold_otsu

    ratio = np.abs(np.log((after + 1.0) / (before + 1.0)))
    return ratio > threshold_otsu(ratio)


def main(data=DEFAULT_DATA):
    before_path = os.path.join(data, "bern_1999-04.bmp")
    after_path = os.path.join(data, "bern_1999-05.bmp")
    reference = read_band(os.path.join(data, "bern_reference_change.bmp")) > 127
    grey_b, grey_a = read_band(before_path), read_band(after_path)
    print(f"Bern ERS-2 pair {grey_b.shape[0]} x {grey_b.shape[1]}, {int(reference.sum())} changed pixels")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        run = change_io.detect_change_rasters(before_path, after_path, os.path.join(folder, "classes.tif"))
        classes = np.nan_to_num(read_band(os.path.join(folder, "classes.tif")), nan=255).astype(np.uint8)
        rows.append(("automatic (default)", classes, time.perf_counter() - start))
        model = run.model
        print(
            f"  automatic: scale {run.scale_before}, looks {model.pixel_looks[0]:.2f}, window {model.window}, "
            f"gain {model.gain_db[0]:+.2f} dB, thresholds {model.loss.threshold} / {model.gain.threshold}"
        )
    power_b, power_a = TO_POWER["display"](grey_b), TO_POWER["display"](grey_a)
    after, looks, _ = change_stats.prepare_pair(power_b, power_a)
    for label, method in (
        ("likelihood_ratio", "likelihood_ratio"),
        ("threshold", "threshold"),
        ("superpixel_kmeans", "superpixel_kmeans"),
    ):
        start = time.perf_counter()
        result = change.detect_change(power_b, after, method, looks=looks, despeckle="refined_lee")
        rows.append((label, result.classes, time.perf_counter() - start))
    for label, func in (("PCA + k-means (Celik 2009)", pca_kmeans), ("log-ratio + Otsu", log_ratio_otsu)):
        start = time.perf_counter()
        changed = func(grey_b.astype(np.float64), grey_a.astype(np.float64))
        rows.append((label, changed.astype(np.uint8), time.perf_counter() - start))
    print(f"  {'method':28s} {'PCC':>7s} {'kappa':>7s} {'changed':>8s} {'s':>6s}")
    scores = {}
    for label, classes, seconds in rows:
        changed = (classes == change.LOSS) | (classes == change.GAIN) if classes.max() > 1 else classes > 0
        pcc, kappa = pcc_kappa(changed, reference)
        scores[label] = kappa
        print(f"  {label:28s} {pcc:7.4f} {kappa:7.4f} {int(changed.sum()):8d} {seconds:6.2f}")
    margin = scores["automatic (default)"] - scores["PCA + k-means (Celik 2009)"]
    print(f"\nautomatic - PCA + k-means: {margin:+.4f} kappa (target +0.02; default target kappa >= 0.88)")
    water_check(os.path.join(os.path.dirname(data), "malaysia_jaxa_mosaics", "hv"))


def water_check(folder):
    """Malaysia HV mosaics, pairs of years (no reference map): how much of the open water is flagged."""
    if not os.path.isdir(folder):
        return
    print("\nMalaysia HV mosaics (INPUT_SCALE=palsar_dn), automatic: flagged area and persistent water flagged")
    for first, second in (("09", "10"), ("10", "15"), ("16", "17")):
        paths = [os.path.join(folder, f"N05E100_{y}_sl_HV.tif") for y in (first, second)]
        with tempfile.TemporaryDirectory() as out:
            change_io.detect_change_rasters(*paths, os.path.join(out, "c.tif"), input_scale="palsar_dn")
            classes = read_band(os.path.join(out, "c.tif"))
        db = [10 * np.log10(TO_POWER["palsar_dn"](read_band(p))) for p in paths]
        water = (db[0] < -22) & (db[1] < -22)
        flagged = (classes == change.LOSS) | (classes == change.GAIN)
        share = flagged[water].mean()
        print(f"  20{first} -> 20{second}: {flagged.mean():6.2%} flagged, water {share:6.2%} of {water.mean():.0%}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DATA)
