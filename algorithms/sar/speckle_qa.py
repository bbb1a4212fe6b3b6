"""Speckle-filter quality metrics: ENL, ratio-image statistics, edge preservation.

References
----------
- ENL on homogeneous areas, and the ratio image ``noisy / filtered``
  (mean 1 and variance ``1/L`` for an ideal filter of ``L``-look speckle):
  Gagnon & Jouan (1997), Argenti et al., "A tutorial on speckle reduction in
  SAR images", IEEE GRSM 1(3), 2013, section on quality assessment.
- Edge-preservation index: Sattar et al. (1997), the correlation of the
  high-pass images of a reference and the filtered image (1 = edges as in
  the reference); the high-pass here is a Laplacian of Gaussian.
"""

from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..common.deps import require


@dataclass
class FilterQuality:
    """Quality figures of one filtered image against its noisy input.

    Attributes
    ----------
    name : str
    enl : float
        Mean equivalent number of looks (mean**2 / variance) over the homogeneous blocks.
    ratio_mean : float
        Mean of noisy / filtered over valid pixels (1 preserves the radiometry).
    ratio_variance : float
        Variance of the ratio (``1/L`` when the filter removes exactly the speckle).
    epi : float
        Edge-preservation index (1 best).
    ratio_histogram : (counts, edges)
        Histogram of the ratio image on [0, 4].
    """

    name: str
    enl: float
    ratio_mean: float
    ratio_variance: float
    epi: float
    ratio_histogram: Tuple[np.ndarray, np.ndarray] = field(repr=False, default=None)


def homogeneous_blocks(intensity: np.ndarray, block: int = 32, count: int = 10) -> List[Tuple[int, int]]:
    """The ``count`` most homogeneous ``block`` x ``block`` blocks, as (row, col) of their corners.

    Homogeneity is judged on a 7 x 7 boxcar of the image (so that speckle in
    the selection image does not pick the blocks by chance) as the lowest
    coefficient of variation; blocks with any NaN are skipped. ``intensity`` may be a
    ``(dates, rows, cols)`` stack: a block's coefficient is then its largest over the dates, and
    a block with a NaN or no variation at any date is skipped (the blocks homogeneous at *every*
    date: a block half flooded at one date is not taken).
    """
    if block < 4 or count < 1:
        raise ValueError(f"block must be >= 4 and count >= 1, got block={block!r}, count={count!r}")
    ndimage = require("scipy.ndimage")
    stack = intensity[None] if intensity.ndim == 2 else intensity
    rows, cols = (stack.shape[1] // block) * block, (stack.shape[2] // block) * block
    worst = np.zeros((rows // block, cols // block))
    skipped = np.zeros(worst.shape, bool)

    def per_block(image):  # (block rows, block cols, block * block) view of the whole blocks
        tiles = image[:rows, :cols].reshape(rows // block, block, cols // block, block)
        return tiles.transpose(0, 2, 1, 3).reshape(worst.shape + (block * block,))

    for image in stack:  # one date's boxcar in memory at a time
        image = image.astype(np.float64)
        smooth = ndimage.uniform_filter(np.nan_to_num(image, nan=0.0), 7, mode="nearest")
        tiles = per_block(image)
        with np.errstate(invalid="ignore"):
            # NaN, or constant / saturated (to rounding): an ENL of inf, not a homogeneous speckle area
            varying = np.isfinite(tiles).all(axis=-1) & (tiles.std(axis=-1) > 1e-6 * np.abs(tiles.mean(axis=-1)))
        tiles = per_block(smooth)
        mean = tiles.mean(axis=-1)
        skipped |= ~varying | ~(mean > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            worst = np.maximum(worst, np.where(mean > 0, tiles.std(axis=-1) / mean, 0.0))
    worst = {(int(i) * block, int(j) * block): float(worst[i, j]) for i, j in zip(*np.nonzero(~skipped))}
    scores = sorted((score, r, c) for (r, c), score in worst.items())
    if not scores:
        raise ValueError(
            f"no {block} x {block} block with valid, varying pixels (the image is smaller than a block, "
            "all nodata, or constant): the number of looks cannot be estimated here; give LOOKS"
        )
    return [(r, c) for _, r, c in scores[:count]]


def enl(intensity: np.ndarray, blocks: Sequence[Tuple[int, int]], block: int) -> float:
    """Mean equivalent number of looks ``mean**2 / var`` over the given blocks.

    Blocks with a NaN pixel are skipped. Blocks without variance (the image is constant there,
    e.g. a filter flattened them) have no finite ENL: when every block is such, the result is
    ``inf`` (documented: "no speckle left"); NaN when no block has valid pixels.
    """
    values, flat = [], 0
    for r, c in blocks:
        window = intensity[r : r + block, c : c + block].astype(np.float64)
        if window.size < 2 or not np.isfinite(window).all():
            continue
        var = window.var(ddof=1)
        if var > 1e-12 * window.mean() ** 2:
            values.append(window.mean() ** 2 / var)
        else:
            flat += 1
    if values:
        return float(np.mean(values))
    return float("inf") if flat else float("nan")


def estimate_looks(intensity: np.ndarray, *, block: int = 24, count: int = 12) -> float:
    """Equivalent number of looks of an intensity image, from its most homogeneous blocks.

    Texture in the chosen blocks biases the estimate low (conservative for tests). Always finite
    and positive: an image without a valid, varying block is a ``ValueError``.
    """
    looks = enl(intensity, homogeneous_blocks(intensity, block, count), block)
    if not (np.isfinite(looks) and looks > 0):
        raise ValueError(
            f"the number of looks estimated from the most homogeneous blocks is {looks}: the image has no "
            "speckle there (constant or saturated); give LOOKS"
        )
    return looks


def edge_preservation_index(reference: np.ndarray, filtered: np.ndarray, *, sigma_px: float = 1.5) -> float:
    """Sattar's EPI: correlation of the high-pass images of ``reference`` and ``filtered``.

    The high-pass is a Laplacian of Gaussian of ``sigma_px`` pixels rather
    than Sattar's bare 3 x 3 Laplacian, so that residual speckle does not
    swamp the edges. 1 when the filtered edges match the reference's.
    """
    ndimage = require("scipy.ndimage")
    valid = np.isfinite(reference) & np.isfinite(filtered)
    a = ndimage.gaussian_laplace(np.where(valid, reference, 0).astype(np.float64), sigma_px)
    b = ndimage.gaussian_laplace(np.where(valid, filtered, 0).astype(np.float64), sigma_px)
    inner = ndimage.binary_erosion(valid, iterations=4)
    if not inner.any():
        raise ValueError("no valid pixel common to the reference and the filtered image (4 pixels from any nodata)")
    a, b = a[inner] - a[inner].mean(), b[inner] - b[inner].mean()
    energy_a, energy_b = (a * a).sum(), (b * b).sum()
    if not energy_a > 0:
        raise ValueError("the reference has no edges (it is constant): the edge-preservation index is undefined")
    if not energy_b > 0:
        return 0.0  # the filter flattened every edge
    return float((a * b).sum() / np.sqrt(energy_a * energy_b))


def assess(
    noisy: np.ndarray,
    filtered: dict,
    *,
    block: int = 32,
    count: int = 10,
    reference: Optional[np.ndarray] = None,
) -> Tuple[List[FilterQuality], List[Tuple[int, int]], float]:
    """Quality of each filtered image of ``noisy`` (linear intensity, same shape).

    Parameters
    ----------
    noisy : 2-D ndarray
        The unfiltered intensity.
    filtered : dict of name -> 2-D ndarray
        Filtered versions.
    block, count : int
        Side and number of the homogeneous blocks for the ENL.
    reference : 2-D ndarray, optional
        A noise-free reference for the EPI (e.g. a simulated reflectivity);
        the noisy image itself by default.

    Returns
    -------
    (qualities, blocks, noisy_enl)
        One :class:`FilterQuality` per filtered image, the blocks used, and
        the ENL of the noisy image on those blocks.
    """
    for name, image in filtered.items():
        if image.shape != noisy.shape:
            raise ValueError(f"filtered image {name!r} has shape {image.shape}, the input {noisy.shape}")
    blocks = homogeneous_blocks(noisy, block, count)
    reference = noisy if reference is None else reference
    results = []
    for name, image in filtered.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = noisy.astype(np.float64) / image
        ratio = ratio[np.isfinite(ratio)]
        if ratio.size == 0:
            raise ValueError(
                f"filtered image {name!r} has no valid, non-zero pixel where the input has one "
                "(all nodata or zero): nothing to assess"
            )
        results.append(
            FilterQuality(
                name=name,
                enl=enl(image, blocks, block),
                ratio_mean=float(ratio.mean()),
                ratio_variance=float(ratio.var()),
                epi=edge_preservation_index(reference, image),
                ratio_histogram=np.histogram(ratio, bins=80, range=(0, 4)),
            )
        )
    return results, blocks, enl(noisy, blocks, block)


def format_enl(value: float) -> str:
    """An ENL for people: two decimals, or what an infinite ENL means."""
    return f"{value:.2f}" if np.isfinite(value) else "no variance left (constant blocks)"
