"""Tolerance to misregistration: the effect size of a change that a small shift does not explain.

Two mosaics of one place from two sensors (ALOS and ALOS-2) or two processings are registered to
within a pixel or so. Along a sharp edge (a coast, a river bank, a road) a one-pixel shift turns
water into land and back: a large, significant "change" a pixel wide, which is not land change.
The classic remedy (Bovolo, Marchesi & Bruzzone, IEEE TGRS 50(6), 2012, on registration noise;
the neighbourhood-matching of e.g. Dai & Khorram 1998) is to compare a pixel's later level with
the earlier levels of its neighbours too: a change counts only when the later level is far from
the earlier level of every pixel within ``shift`` pixels. Inside a changed field every neighbour
changed as well, so real change keeps its full effect; an edge that merely moved does not.
"""

import numpy as np


def halo(shift: int) -> int:
    """Pixels of context a block needs for :func:`shifted_effect_db` to give the whole image's result."""
    return shift + 1 if shift else 0


def shifted_effect_db(prefix, valid, start, j, rows, cols, after_mean, shift):
    """Smallest ``|10 log10(after_mean / before)|`` over the earlier levels within ``shift`` pixels.

    The earlier level at each shifted position is the 3 x 3 median of the pixels' earlier means
    there: a median keeps an edge where it is (two land columns and one water column give land),
    and unlike single pixels of few looks, the medians of overlapping windows do not offer nine
    independent chances for speckle to match the later level.

    Parameters
    ----------
    prefix : (channels, k + 1, R, C) ndarray
        Cumulative sums over the dates of the whole block (``prefix[:, i]`` = dates ``0..i-1``).
    valid : (R, C) bool ndarray
        Pixels valid on every date (others count as the tested pixel's own earlier level).
    start, j : (n,) int ndarray and int
        The earlier side of each tested pixel is dates ``start..j-1``.
    rows, cols : (n,) int ndarray
        Positions of the tested pixels in the block.
    after_mean : (channels, n) ndarray
        Their later level (linear intensity).
    shift : int
        Largest shift (pixels) tolerated along each axis.

    Returns
    -------
    (channels, n) ndarray, dB.
    """
    count = (j - start).astype(np.float64)
    channels, height, width = prefix.shape[0], valid.shape[0], valid.shape[1]
    later = prefix[:, j].reshape(channels, -1)
    every = prefix.reshape(channels, -1)
    base = start * (height * width)  # where each pixel's earlier side starts, in ``every``
    reach = range(-shift - 1, shift + 2)
    at_row = {d: np.clip(rows + d, 0, height - 1) * width for d in reach}
    at_col = {d: np.clip(cols + d, 0, width - 1) for d in reach}
    flat = rows * width + cols
    own = (later[:, flat] - every[:, base + flat]) / count
    valid = valid.ravel()
    earlier = {}
    for dr in reach:
        for dc in reach:
            flat = at_row[dr] + at_col[dc]
            # no data stands in as the pixel's own earlier level
            earlier[dr, dc] = np.where(valid[flat], (later[:, flat] - every[:, base + flat]) / count, own)
    with np.errstate(divide="ignore", invalid="ignore"):
        best = np.abs(10 * np.log10(after_mean / own))
        for dr in range(-shift, shift + 1):
            for dc in range(-shift, shift + 1):
                level = median_of_nine([earlier[dr + a, dc + b] for a in (-1, 0, 1) for b in (-1, 0, 1)])
                np.fmin(best, np.abs(10 * np.log10(after_mean / level)), out=best)
    return best


#: Devillard's 19 compare-exchanges whose fifth output is the median of nine ("Fast median
#: search: an ANSI C implementation", 1998): elementwise on arrays, far cheaper than sorting.
_MEDIAN_OF_NINE = (
    (1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3),
    (5, 8), (4, 7), (3, 6), (1, 4), (2, 5), (4, 7), (4, 2), (6, 4), (4, 2),
)  # fmt: skip


def median_of_nine(values):
    """Elementwise median of nine arrays of one shape."""
    p = list(values)
    for a, b in _MEDIAN_OF_NINE:
        p[a], p[b] = np.minimum(p[a], p[b]), np.maximum(p[a], p[b])
    return p[4]
