"""Per-pixel change statistics of a pair: log-ratio, difference, thresholds, likelihood-ratio p-values.

For two independent gamma intensities with ``m`` looks and equal mean the ratio ``s2 / s1``
follows F(2m, 2m), so the exact p-value of the likelihood-ratio test is ``2 min(F(r), 1 - F(r))``
(Conradsen et al. 2003); :func:`speckle_correlation_efficiency` gives the fraction ``eta`` of
the nominal looks that spatially correlated speckle is worth.
"""

import numpy as np

from ...common.deps import require
from ..segmentation import scale_features

NO_CHANGE, LOSS, GAIN, NODATA = 0, 1, 2, 255


METHODS = ("threshold", "superpixel_kmeans", "likelihood_ratio")


STATISTICS = ("log_ratio", "difference")


UNITS = ("superpixel", "pixel")


CLASS_NAMES = {LOSS: "loss", GAIN: "gain"}


#: One colour code for the whole product (RGB 0-255), set by the two-date overlay (before in blue,
#: after in red): a gain of backscatter shows red, a loss blue, no change grey. The class raster,
#: the polygons' style, the report and the README use these.
CLASS_RGB = {NO_CHANGE: (200, 200, 200), LOSS: (43, 131, 186), GAIN: (215, 25, 28)}


def hex_colour(value: int) -> str:
    """The ``#rrggbb`` of a change class (:data:`CLASS_RGB`)."""
    return "#{:02x}{:02x}{:02x}".format(*CLASS_RGB[value])


def log_ratio_db(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``10 log10(after / before)`` in dB; NaN where either is non-positive or NaN."""
    before = np.asarray(before, dtype=np.float64)
    after = np.asarray(after, dtype=np.float64)
    valid = (before > 0) & (after > 0)
    out = np.full(before.shape, np.nan)
    np.log10(after, out=out, where=valid)
    out[valid] -= np.log10(before[valid])
    return (10 * out).astype(np.float32)


def difference(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``after - before`` in the inputs' units (pass dB images for a dB difference)."""
    return (np.asarray(after, dtype=np.float64) - before).astype(np.float32)


def change_statistic(before, after, statistic: str = "log_ratio") -> np.ndarray:
    """The pixel change statistic named ``statistic`` (see :data:`STATISTICS`)."""
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {STATISTICS}, got statistic={statistic!r}")
    return log_ratio_db(before, after) if statistic == "log_ratio" else difference(before, after)


def classify_threshold(statistic: np.ndarray, loss_threshold: float, gain_threshold: float) -> np.ndarray:
    """Loss where ``statistic <= loss_threshold``, gain where ``>= gain_threshold``; NaN is :data:`NODATA`."""
    if not loss_threshold < gain_threshold:
        raise ValueError(
            f"loss_threshold must be below gain_threshold, got loss_threshold={loss_threshold!r}, "
            f"gain_threshold={gain_threshold!r}"
        )
    classes = np.full(statistic.shape, NO_CHANGE, np.uint8)
    classes[statistic <= loss_threshold] = LOSS
    classes[statistic >= gain_threshold] = GAIN
    classes[~np.isfinite(statistic)] = NODATA
    return classes


def ratio_test_pvalue(before_sum, after_sum, looks, after_looks=None) -> np.ndarray:
    """Two-sided p-value of equal means for gamma intensities (sums) with ``looks`` looks each.

    Under no change ``after_sum / before_sum`` follows F(2 looks, 2 looks);
    its distribution function at ``r`` is the regularised incomplete beta
    ``I_{r/(1+r)}(looks, looks)``. When the after date has ``after_looks`` looks of its own (two
    sensors, or two processings), the ratio follows F(2 after_looks, 2 looks) and the beta's
    argument is ``after_looks r / (after_looks r + looks)``.
    """
    special = require("scipy.special")
    before_sum = np.asarray(before_sum, dtype=np.float64)
    after_sum = np.asarray(after_sum, dtype=np.float64)
    looks = np.broadcast_to(np.asarray(looks, dtype=np.float64), before_sum.shape)
    la = looks if after_looks is None else np.broadcast_to(np.asarray(after_looks, np.float64), before_sum.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = la * after_sum / (la * after_sum + looks * before_sum)
        cdf = special.betainc(la, looks, x)
        p = 2 * np.minimum(cdf, 1 - cdf)
    return np.clip(p, 0, 1)


def speckle_correlation_efficiency(
    intensity: np.ndarray, *, block: int = 24, count: int = 12, factor: int = 3
) -> float:
    """How many independent looks a pixel's neighbours add, 0-1 (1 = uncorrelated speckle).

    On the most homogeneous blocks, the ENL of ``factor`` x ``factor``
    non-overlapping averages is compared with ``factor**2`` times the ENL of
    single pixels: with uncorrelated speckle they are equal; correlated
    speckle (oversampled or filtered images) adds fewer looks. The sum of
    ``n`` pixels of ``m`` looks is then taken to have ``eta * n * m`` looks.
    """
    from ..speckle_qa import enl, homogeneous_blocks

    blocks = homogeneous_blocks(intensity, block, count)
    pixel_enl = enl(intensity, blocks, block)
    rows = cols = block // factor * factor
    aggregates = []
    for r, c in blocks:
        window = intensity[r : r + rows, c : c + cols].astype(np.float64)
        agg = window.reshape(rows // factor, factor, cols // factor, factor).mean(axis=(1, 3))
        aggregates.append(agg.mean() ** 2 / agg.var(ddof=1))
    eta = float(np.mean(aggregates)) / (factor * factor * pixel_enl)
    if not np.isfinite(eta):
        raise ValueError(
            "the speckle correlation efficiency could not be estimated (no homogeneous, varying block); "
            "use UNIT=pixel or METHOD=automatic"
        )
    return float(np.clip(eta, 0.05, 1.0))


def segment_features(before, after, *, percentiles=(2.0, 98.0)) -> np.ndarray:
    """Features for segmenting a pair: before and after in dB, each scaled to [0, 1] (2-98 % clipped)."""
    from ..convert import power_to_db

    return scale_features([power_to_db(before), power_to_db(after)], percentiles=percentiles)
