"""Superpixels (Felzenszwalb graph segmentation) and per-segment statistics."""

import warnings
from typing import Sequence

import numpy as np

from ..common.cancel import interruptible, report
from ..common.deps import require


def scale_features(channels: Sequence[np.ndarray], *, percentiles=(0.0, 100.0)) -> np.ndarray:
    """Stack channels as ``(rows, cols, n)`` float64, each min-max scaled to [0, 1].

    Scaling each channel the same way makes Felzenszwalb's ``scale`` behave
    alike whatever the units (dB, linear power, coherence). ``percentiles``
    other than (0, 100) clip outliers first. NaN becomes 0.
    """
    out = []
    for channel in channels:
        values = np.asarray(channel, dtype=np.float64)
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            out.append(np.zeros(values.shape))
            continue
        low, high = np.percentile(finite, percentiles) if percentiles != (0.0, 100.0) else (finite.min(), finite.max())
        span = high - low if high > low else 1.0
        out.append(np.nan_to_num(np.clip((values - low) / span, 0, 1), nan=0.0))
    return np.stack(out, axis=-1)


#: Largest smoothing (pixels) accepted: beyond it every boundary is blurred away and the Gaussian
#: kernel (8 sigma wide) alone takes minutes per scene.
MAX_SIGMA_PX = 20.0
#: Side (pixels) of the tiles :func:`felzenszwalb` segments one at a time, and their overlap.
SEGMENT_TILE, SEGMENT_HALO = 1024, 64


def felzenszwalb(
    features: np.ndarray,
    scale: float = 1.0,
    sigma: float = 0.8,
    min_size: int = 20,
    *,
    tile: int = SEGMENT_TILE,
    halo: int = SEGMENT_HALO,
) -> np.ndarray:
    """Felzenszwalb-Huttenlocher segmentation (scikit-image) of a ``(rows, cols[, channels])`` image.

    Returns int32 labels 0..n-1, one per segment. scikit-image's graph takes a few hundred
    bytes per pixel, so images larger than ``tile`` x ``tile`` are segmented in tiles, each
    with ``halo`` pixels of context on every side; segments are cut where tiles meet. Images
    up to ``tile`` pixels on a side get exactly the whole-image segmentation.
    """
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got scale={scale!r}")
    if not 0 <= sigma <= MAX_SIGMA_PX:
        raise ValueError(f"sigma must be in [0, {MAX_SIGMA_PX}] pixels, got sigma={sigma!r}")
    if int(min_size) != min_size or min_size < 1:
        raise ValueError(f"min_size must be an integer >= 1, got min_size={min_size!r}")
    segmentation = require("skimage.segmentation")
    features = np.asarray(features)
    if features.ndim == 2:
        features = features[..., None]

    def segment(part):
        with warnings.catch_warnings():  # 4+ channels are intended here
            warnings.filterwarnings("ignore", message="Got image with third dimension")
            return segmentation.felzenszwalb(part, scale=scale, sigma=sigma, min_size=int(min_size), channel_axis=-1)

    rows, cols = features.shape[:2]
    if rows <= tile and cols <= tile:
        return interruptible(segment, features).astype(np.int32)
    labels = np.empty((rows, cols), np.int32)
    count = 0
    tiles = [(r, c) for r in range(0, rows, tile) for c in range(0, cols, tile)]
    for done, (r, c) in enumerate(tiles):
        report(done / len(tiles))
        r0, c0 = max(0, r - halo), max(0, c - halo)
        r1, c1 = min(rows, r + tile + halo), min(cols, c + tile + halo)
        inner = interruptible(segment, features[r0:r1, c0:c1])[
            r - r0 : r - r0 + min(tile, rows - r), c - c0 : c - c0 + min(tile, cols - c)
        ]
        kept, compact = np.unique(inner, return_inverse=True)
        labels[r : r + inner.shape[0], c : c + inner.shape[1]] = compact.reshape(inner.shape) + count
        count += kept.size
    return labels


def segment_sums(labels: np.ndarray, values: np.ndarray, n_segments: int = None):
    """Per-segment (sum of finite values, count of finite values) as float64 arrays indexed by label."""
    n = int(labels.max()) + 1 if n_segments is None else n_segments
    finite = np.isfinite(values)
    flat_labels = labels[finite]
    sums = np.bincount(flat_labels, weights=values[finite].astype(np.float64), minlength=n)
    counts = np.bincount(flat_labels, minlength=n).astype(np.float64)
    return sums, counts


def segment_mean_std(labels: np.ndarray, values: np.ndarray, n_segments: int = None):
    """Per-segment mean and (population) standard deviation of the finite values; NaN for empty segments."""
    sums, counts = segment_sums(labels, values, n_segments)
    squares, _ = segment_sums(labels, np.asarray(values, dtype=np.float64) ** 2, n_segments)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
        std = np.sqrt(np.maximum(squares / counts - mean * mean, 0))
    return mean, std


def label_regions(mask: np.ndarray, min_pixels: int = 1, first_id: int = 1):
    """Number the 8-connected regions of ``mask`` with at least ``min_pixels`` pixels.

    Returns ``(ids, kept)``: int32 ids ``first_id .. first_id + kept - 1`` in the kept regions, 0
    elsewhere (outside ``mask`` and in dropped regions).
    """
    ndimage = require("scipy.ndimage")
    lab, n = ndimage.label(mask, structure=np.ones((3, 3)))
    if n == 0:
        return np.zeros(mask.shape, np.int32), 0
    sizes = label_counts(lab, n + 1)
    keep = sizes >= max(min_pixels, 1)
    keep[0] = False
    ids = np.zeros(n + 1, np.int32)
    kept = int(keep.sum())
    ids[keep] = np.arange(first_id, first_id + kept)
    return _relabel_in_place(lab.astype(np.int32, copy=False), ids), kept


def label_counts(labels: np.ndarray, n: int, rows: int = 1024) -> np.ndarray:
    """``np.bincount(labels.ravel(), minlength=n)`` a band of rows at a time.

    bincount converts its input to 64-bit integers: on a whole int32 scene that is a temporary
    twice the labels' size.
    """
    counts = np.zeros(n, np.int64)
    for start in range(0, labels.shape[0], rows):
        counts += np.bincount(labels[start : start + rows].ravel(), minlength=n)[:n]
    return counts


def _relabel_in_place(lab: np.ndarray, ids: np.ndarray, rows: int = 1024) -> np.ndarray:
    """``lab[...] = ids[lab]`` a band of rows at a time, so no second scene-sized array is made."""
    for start in range(0, lab.shape[0], rows):
        part = lab[start : start + rows]
        part[...] = ids[part]
    return lab
