"""Connected regions of a raster too large for memory, labelled a strip of rows at a time.

Each strip is labelled on its own (8-connected regions of equal key); regions that touch the
strip's first or last row are joined to the regions of the neighbouring strip they touch (a
union-find over their ids); a region that touches neither is complete, and is kept only when it
is large enough. A second pass labels every strip again, writes the final labels and counts the
votes of each region. Memory follows the strip and the number of regions (16 bytes each while
they are joined), not the scene. The labels are those of the whole array labelled at once,
numbered by key, then by the raster position of the region's first pixel (tested against such a
labelling).
"""

from typing import Callable, Sequence, Tuple

import numpy as np

from ...common.cancel import checkpoint
from ...common.deps import require


def _label_strip(key: np.ndarray):
    """Local 8-connected labels (1..n, by key then scan order) of equal ``key`` >= 0."""
    ndimage = require("scipy.ndimage")
    labels = np.zeros(key.shape, np.int32)
    n = 0
    for value in np.unique(key[key >= 0]):
        part, count = ndimage.label(key == value, structure=np.ones((3, 3)))
        np.add(labels, part + n, out=labels, where=part > 0)
        n += count
    return labels, n


def _find(parent: np.ndarray, ids: np.ndarray) -> np.ndarray:
    roots = ids.copy()
    while True:
        up = parent[roots]
        if np.array_equal(up, roots):
            return roots
        roots = up


def _joins(above, above_key, below, below_key):
    """Pairs of region ids (``above`` row, ``below`` row) that touch, 8-connected, with one key."""
    cols = above.size
    found = []
    for shift in (-1, 0, 1):
        a, ka = above[max(0, -shift) : cols - max(0, shift)], above_key[max(0, -shift) : cols - max(0, shift)]
        b, kb = below[max(0, shift) : cols - max(0, -shift)], below_key[max(0, shift) : cols - max(0, -shift)]
        join = (a >= 0) & (b >= 0) & (ka == kb)
        if join.any():
            found.append(np.unique(np.stack([a[join], b[join]], axis=1), axis=0))
    return found


def _union(count: int, pairs) -> np.ndarray:
    """Root of every id: the smallest id of its group (the group's first region in scan order)."""
    parent = np.arange(count)
    pairs = np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64)
    while pairs.size:
        ra, rb = _find(parent, pairs[:, 0]), _find(parent, pairs[:, 1])
        differ = ra != rb
        if not differ.any():
            break
        np.minimum.at(parent, np.maximum(ra, rb)[differ], np.minimum(ra, rb)[differ])
        pairs = pairs[differ]
    return _find(parent, np.arange(count))


def regions_in_strips(
    rows: int,
    cols: int,
    read: Callable[[int, int], Tuple[np.ndarray, Sequence[np.ndarray]]],
    write: Callable[[int, np.ndarray], None],
    *,
    bins: Sequence[int],
    min_pixels: int = 1,
    strip_rows: int = 256,
):
    """Label the regions of a ``rows`` x ``cols`` raster read a strip at a time.

    Parameters
    ----------
    read : callable ``(row0, row1) -> (key, votes)``
        The rows ``row0..row1-1``: an integer ``key`` (regions are 8-connected pixels of one key
        >= 0; < 0 is outside every region) and one array of small non-negative integers per entry
        of ``bins`` (each < its bin count), voted on per region. Called twice per strip.
    write : callable ``(row0, labels)``
        Receives the int32 labels of the rows from ``row0`` (0 outside the kept regions), in order.
    bins : sequence of int
        Number of values of each vote.
    min_pixels : int
        Regions with fewer pixels are dropped.

    Returns
    -------
    dict
        ``{label: (key, [most frequent value of each vote], pixels)}`` for labels ``1..n``.
    """
    if strip_rows < 1:
        raise ValueError(f"strip_rows must be >= 1, got strip_rows={strip_rows!r}")
    min_pixels = max(int(min_pixels), 1)
    keys, sizes, maps, pairs = [], [], [], []  # per strip; maps: local label -> region id (-1: dropped)
    count, previous = 0, None  # previous: (region ids, key) of the last row of the previous strip
    starts = range(0, rows, strip_rows)
    for row0 in starts:
        checkpoint()
        key, _ = read(row0, min(rows, row0 + strip_rows))
        local, n = _label_strip(key)
        pixels = np.bincount(local.ravel(), minlength=n + 1)
        edge = np.zeros(n + 1, bool)
        edge[local[0]] = edge[local[-1]] = True
        kept = np.flatnonzero(edge | (pixels >= min_pixels))
        kept = kept[kept > 0]
        region_key = np.zeros(n + 1, np.int64)
        region_key[local.ravel()] = key.ravel()
        keys.append(region_key[kept])
        sizes.append(pixels[kept])
        to_id = np.full(n + 1, -1, np.int64)
        to_id[kept] = np.arange(count, count + kept.size)
        count += kept.size
        maps.append(to_id)
        if previous is not None:
            pairs += _joins(previous[0], previous[1], to_id[local[0]], key[0])
        previous = (to_id[local[-1]], key[-1].copy())
    root = _union(count, pairs)
    key = np.concatenate(keys) if count else np.zeros(0, np.int64)
    pixels = np.bincount(root, weights=np.concatenate(sizes), minlength=count) if count else key
    final = np.flatnonzero((root == np.arange(count)) & (pixels >= min_pixels))
    final = final[np.argsort(key[final], kind="stable")]  # by key, then by id: the first pixel's order
    label_of = np.zeros(count + 1, np.int32)  # the last entry: dropped (-1)
    label_of[final] = np.arange(1, final.size + 1)
    tallies = [np.zeros((final.size + 1, n), np.int64) for n in bins]
    for row0, to_id in zip(starts, maps):
        checkpoint()
        key_strip, votes = read(row0, min(rows, row0 + strip_rows))
        ids = to_id[_label_strip(key_strip)[0]]
        labels = label_of[np.where(ids >= 0, root[np.maximum(ids, 0)] if count else -1, -1)]
        write(row0, labels)
        for tally, vote, n in zip(tallies, votes, bins):
            tally += np.bincount(
                labels.ravel().astype(np.int64) * n + vote.ravel(), minlength=(final.size + 1) * n
            ).reshape(-1, n)
    return {
        label: (int(key[region]), [int(t[label].argmax()) for t in tallies], int(pixels[region]))
        for label, region in enumerate(final, start=1)
    }
