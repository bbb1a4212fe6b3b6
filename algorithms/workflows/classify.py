"""k-means classification of raster files: fit on a sample, predict blockwise (the file side of :mod:`.classify`)."""

import contextlib
from typing import Sequence, Tuple

import numpy as np

from ..common.cancel import interruptible, phase
from ..io.align import aligned
from ..io.outputs import RasterWriter
from ..io.pipeline import process_blocks
from ..io.raster import open_raster, raster_info, read_band, sample_band
from ..sar import classify

#: Colours of classes 0..9 (dark to bright backscatter): water blue, then greens to tans.
DESCRIPTION = "class (0 = darkest backscatter)"
CLASS_COLOURS = [
    (31, 78, 180),
    (60, 150, 60),
    (150, 200, 80),
    (220, 200, 120),
    (200, 120, 60),
    (160, 60, 160),
    (230, 230, 230),
    (120, 120, 120),
    (240, 150, 150),
    (90, 200, 200),
]


def kmeans_rasters(
    backscatter: Sequence[Tuple[str, int]],
    coherence: Sequence[Tuple[str, int]],
    output: str,
    *,
    classes: int = 3,
    features_db: bool = True,
    normalise: str = "standard",
    unit: str = "pixel",
    seed: int = 0,
    sample_size: int = 200_000,
    scale: float = 1.0,
    sigma: float = 0.8,
    min_size: int = 20,
    progress=None,
    is_cancelled=None,
) -> classify.KMeansModel:
    """Classify rasters (``(path, band)`` each; all aligned onto the first backscatter grid) into ``output``.

    ``pixel``: fit on up to ``sample_size`` random valid pixels taken from
    evenly spread windows of the rasters, then predict block by block.
    ``superpixel``: segment and cluster the whole stack in memory.
    The output is a Byte GeoTIFF with a colour table, nodata 255.
    """
    if unit not in classify.UNITS:
        raise ValueError(f"unit must be one of {classify.UNITS}, got unit={unit!r}")
    if sample_size < classes:
        raise ValueError(f"sample_size must be >= classes, got sample_size={sample_size!r}")
    reference = raster_info(backscatter[0][0])
    flags = [True] * len(backscatter) + [False] * len(coherence)
    n_bs = len(backscatter)

    def features(*windows):
        return classify.feature_stack(windows[:n_bs], windows[n_bs:], features_db=features_db)

    with contextlib.ExitStack() as stack:
        sources = [(stack.enter_context(aligned(path, reference)), band) for path, band in [*backscatter, *coherence]]
        if unit == "superpixel":
            arrays = [read_band(path, band) for path, band in sources]
            with phase(0.05, 0.85):  # segmentation tiles report their progress
                labels, model, _ = interruptible(
                    # the features too: their dB of a whole scene is a second a cancel would wait for
                    lambda *args, **kwargs: classify.classify_superpixels(features(*arrays), *args, **kwargs),
                    classes,
                    backscatter=flags,
                    features_db=features_db,
                    normalise=normalise,
                    seed=seed,
                    scale=scale,
                    sigma=sigma,
                    min_size=min_size,
                )
            with RasterWriter.like(reference, output, dtype=np.uint8, nodata=classify.NODATA) as writer:
                writer.write(labels)
                writer.set_color_table(CLASS_COLOURS[:classes])
                writer.set_band_description(1, DESCRIPTION)
            return model
        sample = features(
            *[sample_band(path, band, max_pixels=max(sample_size * 4, 1_000_000)) for path, band in sources]
        )
        model = interruptible(
            classify.fit_kmeans,
            classify.sample_pixels(sample, sample_size, seed),
            classes,
            backscatter=flags,
            features_db=features_db,
            normalise=normalise,
            seed=seed,
        )
        process_blocks(
            sources,
            output,
            lambda *w: classify.predict(model, features(*w)),
            out_dtype=np.uint8,
            nodata=classify.NODATA,
            band_descriptions=[DESCRIPTION],
            color_table=CLASS_COLOURS[:classes],
            progress=progress,
            is_cancelled=is_cancelled,
        )
    return model


def class_counts(path: str, classes: int) -> np.ndarray:
    """Pixels of each class 0..classes-1 in a Byte class raster, counted block by block."""
    from ..common.blocks import iter_blocks

    info = raster_info(path)
    dataset = open_raster(path)
    counts = np.zeros(256, np.int64)
    for block in iter_blocks(info.rows, info.cols):
        window = dataset.GetRasterBand(1).ReadAsArray(block.col, block.row, block.cols, block.rows)
        counts += np.bincount(window.ravel(), minlength=256)
    return counts[:classes]
