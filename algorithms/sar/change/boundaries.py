"""Edge-aware local levels on which the two-date change boundaries are drawn (``method="automatic"``).

The automatic decision finds regions at a window of ~200 looks, then redraws their boundaries on
each date filtered at a finer window of ~45 looks (:data:`.auto.FINE_LOOKS`). The filter must keep
edges where they are: a box mean moves them by half a window.

- **Lee** (Lee, CGIP 17, 1981) keeps a pixel's own value where its window straddles an edge. For
  many-look data the fine window is 3 x 3 and that is enough.
- **Refined Lee** (Lee, CGIP 15, 1981; ESA SNAP's 7 x 7 layout) averages over the half window on
  the pixel's own side of the edge. Few-look data (fine windows of 5 or more) need that: there a
  pixel's own value is too noisy to place an edge. On the simulated pairs of
  ``benchmarks/change_accuracy.py`` (6 seeds, two seed sets) it raised F1 by 0.004-0.005 at one
  look and 0.006-0.007 at four, where a 5 x 5 refined Lee lost 0.006 at four looks (its sub-windows
  overlap). On the Bern pair (8 looks, fine window 3) a 7 x 7 refined Lee lost 0.006 kappa, so
  many-look data keep Lee at their own fine window.

Only the tiles of :data:`TILE` pixels that hold a pixel near a detected region are filtered: the
boundaries are drawn nowhere else, and refined Lee costs ~1 s per Mpixel.
"""

import numpy as np

from ...common.blocks import iter_blocks

#: Fine windows of at least this side are filtered by refined Lee, at least :data:`REFINED_SIDE` wide.
REFINED_FROM, REFINED_SIDE = 5, 7
#: Side (pixels) of the tiles that are filtered only when they hold a pixel to redraw.
TILE = 256


def filter_side(fine_window: int) -> int:
    """Side (pixels) of the edge-aware filter used for a fine window of ``fine_window`` pixels."""
    return max(fine_window, REFINED_SIDE) if fine_window >= REFINED_FROM else fine_window


def filter_name(fine_window: int) -> str:
    """What draws the boundaries at ``fine_window``, for logs and reports (e.g. ``"refined Lee 7 x 7"``)."""
    side = filter_side(fine_window)
    return f"{'refined Lee' if side >= REFINED_FROM else 'Lee'} {side} x {side}"


def edge_level(intensity: np.ndarray, fine_window: int, looks: float, fill: float) -> np.ndarray:
    """Edge-aware local level of a linear intensity: refined Lee for fine windows of 5 or more, else Lee.

    NaN pixels are filled with ``fill`` first. Float32, the intensity's shape.
    """
    from ..despeckle.adaptive import lee
    from ..despeckle.refined import refined_lee

    values = np.where(np.isfinite(intensity), intensity, fill).astype(np.float32)
    side = filter_side(fine_window)
    if side >= REFINED_FROM:
        return refined_lee(values, side, looks, dtype=np.float32).astype(np.float32)
    return lee(values, side, looks).astype(np.float32)


def edge_level_where(
    intensity: np.ndarray, fine_window: int, looks: float, fill: float, where: np.ndarray, tile: int = TILE
) -> np.ndarray:
    """:func:`edge_level` on the ``tile`` x ``tile`` tiles that hold a pixel of ``where``; NaN elsewhere.

    Each tile is filtered with a halo of half the filter's side, so its values equal those of
    the whole image.
    """
    out = np.full(where.shape, np.nan, np.float32)
    halo = filter_side(fine_window) // 2
    for block in iter_blocks(*where.shape, block_rows=tile, block_cols=tile, halo=halo):
        if where[block.window].any():
            out[block.window] = edge_level(intensity[block.read_window], fine_window, looks, fill)[block.inner]
    return out
