"""Change between dates of SAR intensity: per-pixel statistics, decisions, regions.

Conventions: ``before`` and ``after`` are linear intensities (power) on one grid; NaN is no
data. Change classes are :data:`NO_CHANGE`, :data:`LOSS` (backscatter decreased), :data:`GAIN`
(increased) and :data:`NODATA` (255).

- :mod:`.pixel`: log-ratio and difference, thresholds, the exact likelihood-ratio p-value.
- :mod:`.stats`: robust centre and scale, generalised Gaussians, Kittler-Illingworth thresholds.
- :mod:`.auto`: the default two-date decision, estimated from the pair itself.
- :mod:`.gate`: its likelihood-ratio gate on box means, one or several channels.
- :mod:`.boundaries`: the edge-aware levels on which it draws the boundaries of its regions.
- :mod:`.detect`: the other two-date methods (threshold, superpixel k-means, likelihood ratio).
- :mod:`.regions`: connected change regions and their statistics, for polygons.
- :mod:`.strip_regions`: the same regions of a raster too large for memory, a strip at a time.
- :mod:`.omnibus`: the multi-date omnibus test (Conradsen et al. 2016).
- :mod:`.omnibus_model`: what a real stack needs first: gains, looks and noise floor of its dates.
- :mod:`.omnibus_stats`: the distributions of its statistics: p-values and critical values, floor margins.
- :mod:`.shift`: its tolerance to misregistration between dates.
"""

from .detect import KMEANS_SEPARATION, ChangeResult, detect_change
from .pixel import (
    CLASS_NAMES,
    CLASS_RGB,
    GAIN,
    LOSS,
    METHODS,
    NO_CHANGE,
    NODATA,
    STATISTICS,
    UNITS,
    change_statistic,
    classify_threshold,
    difference,
    hex_colour,
    log_ratio_db,
    ratio_test_pvalue,
    segment_features,
    speckle_correlation_efficiency,
)
from .regions import ChangeRegions, change_regions, label_change, regions_from_sums

__all__ = [
    "CLASS_NAMES",
    "CLASS_RGB",
    "ChangeRegions",
    "ChangeResult",
    "GAIN",
    "KMEANS_SEPARATION",
    "LOSS",
    "METHODS",
    "NODATA",
    "NO_CHANGE",
    "STATISTICS",
    "UNITS",
    "change_regions",
    "change_statistic",
    "classify_threshold",
    "detect_change",
    "difference",
    "hex_colour",
    "label_change",
    "log_ratio_db",
    "ratio_test_pvalue",
    "regions_from_sums",
    "segment_features",
    "speckle_correlation_efficiency",
]
