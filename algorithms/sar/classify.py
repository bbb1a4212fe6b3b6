"""Unsupervised classification (k-means) of backscatter and coherence, per pixel or per superpixel.

Features are stacked as ``(n_features, rows, cols)``: backscatter in dB (or
linear power) and coherence (0-1). The model is fitted on a random sample of
valid pixels (or on segment means) and applied to any array block by block,
so a raster of any size is classified in bounded memory. Classes are
renumbered by their centres' mean backscatter, ascending (0 = darkest), so
the same scene gives the same numbers every run.
"""

from dataclasses import dataclass
from typing import List, Sequence

import numpy as np

from ..common.deps import require
from .convert import power_to_db

NORMALISATIONS = ("none", "minmax", "standard")
UNITS = ("pixel", "superpixel")
NODATA = 255


@dataclass
class KMeansModel:
    """A fitted classifier.

    Attributes
    ----------
    centres : (classes, n_features) ndarray
        Centres in feature units (dB for backscatter when ``features_db``),
        row ``i`` is class ``i`` (already in the stable order).
    offset, scale : (n_features,) ndarray
        Normalisation: ``(feature - offset) / scale``.
    backscatter : list of bool
        Which features are backscatter.
    features_db : bool
    inertia : float
        Sum of squared distances of the fitted samples to their centres, normalised units.
    counts : (classes,) ndarray
        Samples per class in the fit.
    """

    centres: np.ndarray
    offset: np.ndarray
    scale: np.ndarray
    backscatter: List[bool]
    features_db: bool
    inertia: float
    counts: np.ndarray

    def centres_original_units(self) -> np.ndarray:
        """Centres with backscatter back in linear power (coherence unchanged)."""
        out = self.centres.copy()
        if self.features_db:
            for i, is_bs in enumerate(self.backscatter):
                if is_bs:
                    out[:, i] = 10 ** (out[:, i] / 10)
        return out


def feature_stack(backscatter: Sequence[np.ndarray], coherence: Sequence[np.ndarray] = (), *, features_db=True):
    """Stack backscatter (linear power; to dB when ``features_db``) and coherence as ``(n, rows, cols)`` float64.

    Non-positive power and coherence outside [0, 1] become NaN (no data).
    """
    layers = []
    for image in backscatter:
        image = np.asarray(image, dtype=np.float64)
        layers.append(power_to_db(image) if features_db else np.where(image > 0, image, np.nan))
    for image in coherence:
        image = np.asarray(image, dtype=np.float64)
        layers.append(np.where((image >= 0) & (image <= 1), image, np.nan))
    if not layers:
        raise ValueError("give at least one backscatter raster")
    return np.stack(layers).astype(np.float64)


def _normalisation(samples: np.ndarray, method: str):
    if method not in NORMALISATIONS:
        raise ValueError(f"normalise must be one of {NORMALISATIONS}, got normalise={method!r}")
    n = samples.shape[1]
    if method == "none":
        return np.zeros(n), np.ones(n)
    if method == "minmax":
        low, high = samples.min(axis=0), samples.max(axis=0)
        return low, np.where(high > low, high - low, 1.0)
    std = samples.std(axis=0)
    return samples.mean(axis=0), np.where(std > 0, std, 1.0)


def fit_kmeans(
    samples: np.ndarray,
    classes: int = 3,
    *,
    backscatter: Sequence[bool],
    features_db: bool = True,
    normalise: str = "standard",
    seed: int = 0,
    weights: np.ndarray = None,
) -> KMeansModel:
    """Fit k-means on ``samples`` (``(n_samples, n_features)``, no NaN) and order the classes.

    Parameters
    ----------
    classes : int
        Number of clusters (>= 2).
    backscatter : sequence of bool
        Which columns are backscatter (they decide the class order).
    normalise : str
        ``standard`` (zero mean, unit variance: dB and coherence weigh alike),
        ``minmax`` or ``none``.
    seed : int
        Random state: the same seed gives the same classes.
    weights : (n_samples,) ndarray, optional
        Sample weights (segment sizes in superpixel mode).
    """
    if int(classes) != classes or classes < 2:
        raise ValueError(f"classes must be an integer >= 2, got classes={classes!r}")
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[0] < classes:
        raise ValueError(f"need at least {classes} valid samples, got {samples.shape[0] if samples.ndim == 2 else 0}")
    if not any(backscatter):
        raise ValueError("at least one feature must be backscatter")
    if not np.isfinite(samples).all():
        raise ValueError("samples must be finite (drop nodata pixels first)")
    distinct = np.unique(samples, axis=0).shape[0]
    if distinct < classes:
        raise ValueError(
            f"the features take only {distinct} distinct value(s) over the valid pixels, fewer than "
            f"classes={classes}: a constant or saturated input cannot be split into classes"
        )
    cluster = require("sklearn.cluster")
    offset, scale = _normalisation(samples, normalise)
    normalised = (samples - offset) / scale
    km = cluster.KMeans(n_clusters=int(classes), n_init=10, random_state=int(seed))
    labels = km.fit_predict(normalised, sample_weight=weights)
    centres = km.cluster_centers_ * scale + offset
    order = np.argsort(centres[:, np.asarray(backscatter, bool)].mean(axis=1), kind="stable")
    counts = np.bincount(labels, minlength=classes)[order]
    return KMeansModel(centres[order], offset, scale, list(backscatter), features_db, float(km.inertia_), counts)


def predict(model: KMeansModel, features: np.ndarray) -> np.ndarray:
    """Class of each pixel of ``features`` (``(n_features, rows, cols)``); :data:`NODATA` where any is NaN."""
    features = np.asarray(features, dtype=np.float64)
    shape = features.shape[1:]
    flat = features.reshape(features.shape[0], -1).T
    valid = np.all(np.isfinite(flat), axis=1)
    out = np.full(flat.shape[0], NODATA, np.uint8)
    if valid.any():
        z = (flat[valid] - model.offset) / model.scale
        centres = (model.centres - model.offset) / model.scale
        d = ((z[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        out[valid] = d.argmin(axis=1).astype(np.uint8)
    return out.reshape(shape)


def sample_pixels(features: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """Up to ``size`` random valid pixels of a feature stack, as ``(n, n_features)``."""
    flat = features.reshape(features.shape[0], -1).T
    flat = flat[np.all(np.isfinite(flat), axis=1)]
    if flat.shape[0] > size:
        rng = np.random.default_rng(seed)
        flat = flat[rng.choice(flat.shape[0], size, replace=False)]
    return flat


def classify_superpixels(
    features: np.ndarray,
    classes: int = 3,
    *,
    backscatter: Sequence[bool],
    features_db: bool = True,
    normalise: str = "standard",
    seed: int = 0,
    scale: float = 1.0,
    sigma: float = 0.8,
    min_size: int = 20,
):
    """Segment the stack (Felzenszwalb on min-max scaled features), cluster segment means, paint classes back.

    Returns ``(classes, model, labels)``.
    """
    from .segmentation import felzenszwalb, scale_features, segment_mean_std

    valid = np.all(np.isfinite(features), axis=0)
    labels = felzenszwalb(scale_features(list(features)), scale, sigma, min_size)
    n = int(labels.max()) + 1
    means = np.stack([segment_mean_std(labels, np.where(valid, f, np.nan), n)[0] for f in features], axis=1)
    sizes = np.bincount(labels[valid], minlength=n)
    usable = np.all(np.isfinite(means), axis=1) & (sizes > 0)
    model = fit_kmeans(
        means[usable],
        classes,
        backscatter=backscatter,
        features_db=features_db,
        normalise=normalise,
        seed=seed,
        weights=sizes[usable],
    )
    segment_class = np.full(n, NODATA, np.uint8)
    segment_class[usable] = predict(model, means[usable].T[:, :, None])[:, 0]
    out = segment_class[labels]
    out[~valid] = NODATA
    return out, model, labels
