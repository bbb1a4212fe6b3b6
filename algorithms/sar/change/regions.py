"""Connected change regions of a class raster, with each region's class, area and mean change in dB."""

from dataclasses import dataclass

import numpy as np

from ...common.cancel import checkpoint
from ..segmentation import label_counts, label_regions, segment_sums
from .gate import date_pair
from .pixel import CLASS_NAMES, GAIN, LOSS, NO_CHANGE, ratio_test_pvalue


# -- regions ---------------------------------------------------------------------------------------
@dataclass
class ChangeRegions:
    """Connected change regions and their statistics (arrays indexed by region id - 1).

    Attributes
    ----------
    labels : int32 (rows, cols) ndarray, or str
        Region id per pixel, 0 outside regions; or the path of an int32 raster of them (a scene
        labelled a strip at a time, :func:`..workflows.change.regions_from_class_raster`).
    classes : uint8 (rows, cols) ndarray, str or None
        The change classes after removing regions smaller than ``min_pixels``; or the path of a
        Byte raster of them; None when not asked for.
    class_pixels : dict
        Pixels per class after that removal: ``{'no change': n, 'loss': n, 'gain': n}``.
    change : list of str
        ``loss`` or ``gain``.
    pixels : int64 array
    mean_before_db, mean_after_db, change_db : float64 arrays
        Region means of the linear intensities, in dB, and their difference.
    p_value : float64 array
        Likelihood-ratio p-value of the region as a whole (sums over the
        region, ``eta * looks * pixels`` looks).
    """

    labels: object
    classes: object
    class_pixels: dict
    change: list
    pixels: np.ndarray
    mean_before_db: np.ndarray
    mean_after_db: np.ndarray
    change_db: np.ndarray
    p_value: np.ndarray


def change_regions(
    classes: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    *,
    min_pixels: int = 1,
    looks: float = 1.0,
    looks_efficiency: float = 1.0,
) -> ChangeRegions:
    """Group loss and gain pixels into 8-connected regions, drop small ones, and describe each.

    Parameters
    ----------
    classes : uint8 (rows, cols)
        Output of :func:`detect_change`.
    before, after : (rows, cols)
        Linear intensities, for the region statistics.
    min_pixels : int
        Regions with fewer pixels become :data:`NO_CHANGE`.
    """
    if min_pixels < 0:
        raise ValueError(f"min_pixels must be >= 0, got min_pixels={min_pixels!r}")
    labels, classes, names = label_change(classes.copy(), min_pixels)
    n = len(names) + 1
    sum_b, count = segment_sums(labels, np.asarray(before, np.float64), n)
    sum_a, _ = segment_sums(labels, np.asarray(after, np.float64), n)
    return regions_from_sums(
        labels,
        classes,
        names,
        (sum_b, sum_a, count),
        label_counts(labels, n)[1:],
        class_pixels(classes),
        looks_efficiency * looks,
    )


def class_pixels(classes: np.ndarray, counts: dict = None) -> dict:
    """Pixels of ``classes`` per class name (``no change``, ``loss``, ``gain``), added to ``counts``."""
    tally = np.bincount(np.asarray(classes, np.uint8).ravel(), minlength=256)
    counts = dict(counts or {})
    for value, name in ((NO_CHANGE, "no change"), (LOSS, "loss"), (GAIN, "gain")):
        counts[name] = counts.get(name, 0) + int(tally[value])
    return counts


def label_change(classes: np.ndarray, min_pixels: int = 1):
    """Number the 8-connected loss and gain regions of ``classes`` (modified in place).

    Regions under ``min_pixels`` become :data:`NO_CHANGE` in ``classes``. Returns ``(labels,
    classes, names)``: int32 ids 1..n (loss regions first), the classes, and ``loss``/``gain``
    per id.
    """
    labels = None
    names = []
    for value in (LOSS, GAIN):
        checkpoint()
        ids, kept = label_regions(classes == value, min_pixels, len(names) + 1)
        classes[(classes == value) & (ids == 0)] = NO_CHANGE
        if labels is None:
            labels = ids  # loss and gain regions never overlap: the first labelling is the base
        else:
            np.copyto(labels, ids, where=ids > 0)
        del ids
        names += [CLASS_NAMES[value]] * kept
    return labels, classes, names


def regions_from_sums(labels, classes, names, sums, pixels, counts, looks_per_pixel) -> ChangeRegions:
    """:class:`ChangeRegions` from per-region ``sums`` (of the two intensities and of the pixels
    where both are finite; index 0 = outside), the ``pixels`` of regions ``1..n`` and the
    ``counts`` of :func:`class_pixels`. ``looks_per_pixel``: one number, or ``(before, after)``
    when the dates differ (:func:`.gate.date_pair`)."""
    sum_b, sum_a, count = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_b_db = 10 * np.log10(sum_b / count)
        mean_a_db = 10 * np.log10(sum_a / count)
    before_looks, after_looks = date_pair(looks_per_pixel)
    p = ratio_test_pvalue(sum_b, sum_a, before_looks * count, after_looks * count)
    return ChangeRegions(
        labels=labels,
        classes=classes,
        class_pixels=counts,
        change=names,
        pixels=np.asarray(pixels, np.int64),
        mean_before_db=mean_b_db[1:],
        mean_after_db=mean_a_db[1:],
        change_db=(mean_a_db - mean_b_db)[1:],
        p_value=p[1:],
    )


def first_change_regions_in_strips(rows, cols, read, write, k: int, min_pixels: int = 1, strip_rows: int = 256):
    """Regions of equal first-change date, labelled a strip at a time (:mod:`.strip_regions`).

    ``read(row0, row1)`` returns the rows' 0-based first and last change date indices (-1 where
    none) and number of changes; ``write(row0, labels)`` receives their int32 labels. Returns
    ``{label: (first date index, most frequent last date index, most frequent number of
    changes, pixels)}``.
    """
    from .strip_regions import regions_in_strips

    def keyed(row0, row1):
        first, last, changes = read(row0, row1)
        return first, [np.maximum(last, 0), np.minimum(changes, k)]

    found = regions_in_strips(rows, cols, keyed, write, bins=(k, k + 1), min_pixels=min_pixels, strip_rows=strip_rows)
    return {label: (first, last, changes, pixels) for label, (first, (last, changes), pixels) in found.items()}


def regions_of_first_change(first_index, last_index, changes, k: int, min_pixels: int = 1):
    """:func:`.omnibus.first_change_regions` from the three arrays alone: 0-based first and last
    change date indices (-1 where none), number of changes, and the number of dates ``k``.
    Returns ``(labels, attributes)`` as :func:`first_change_regions_in_strips` in one strip."""
    first_index = np.asarray(first_index)
    labels = np.zeros(first_index.shape, np.int32)
    rows, cols = first_index.shape

    def write(row0, part):
        labels[row0 : row0 + part.shape[0]] = part

    def read(row0, row1):
        return first_index[row0:row1], np.asarray(last_index)[row0:row1], np.asarray(changes)[row0:row1]

    attributes = first_change_regions_in_strips(rows, cols, read, write, k, min_pixels, strip_rows=max(rows, 1))
    return labels, attributes
