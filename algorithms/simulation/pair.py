"""Deterministic simulated SAR scene pairs with known change, for the demo and tests.

The model is the multiplicative speckle model of fully developed speckle:
an observed intensity is ``I = sigma0 * n`` with ``n ~ Gamma(L, 1/L)`` (mean 1,
variance ``1/L``) for ``L`` looks, independent between dates. ``sigma0`` is a
textured reflectivity (a smooth random field plus parcels); change patches
multiply ``sigma0`` of the after date by a known factor.
"""

import os
from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Sequence

import numpy as np

#: Truth mask values.
NO_CHANGE, LOSS, GAIN = 0, 1, 2


@dataclass(frozen=True)
class Patch:
    """A change patch: an ellipse (``shape='ellipse'``) or rectangle, in pixels.

    ``change_db`` is the after/before ratio of the reflectivity in dB
    (negative for a loss of backscatter, positive for a gain).
    """

    row: int
    col: int
    height: int
    width: int
    change_db: float
    shape: str = "rectangle"

    def mask(self, rows: int, cols: int) -> np.ndarray:
        """Boolean mask of the patch on a ``rows`` x ``cols`` grid."""
        r, c = np.ogrid[:rows, :cols]
        if self.shape == "ellipse":
            ry, rx = self.height / 2, self.width / 2
            cy, cx = self.row + ry - 0.5, self.col + rx - 0.5
            return ((r - cy) / ry) ** 2 + ((c - cx) / rx) ** 2 <= 1
        return (r >= self.row) & (r < self.row + self.height) & (c >= self.col) & (c < self.col + self.width)


def smooth_field(shape, correlation_px: float, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian random field with a Gaussian correlation of ``correlation_px``."""
    noise = rng.standard_normal(shape)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    kernel = np.exp(-2 * (np.pi * correlation_px) ** 2 * (fx**2 + fy**2))
    field = np.fft.irfft2(np.fft.rfft2(noise) * kernel, s=shape)
    field -= field.mean()
    return field / (field.std() or 1.0)


def reflectivity(rows: int, cols: int, *, seed: int = 0, mean_db: float = -10.0, std_db: float = 3.0) -> np.ndarray:
    """A textured reflectivity map sigma0 (linear power, float64).

    A smooth random field (std ``std_db`` around ``mean_db``) with parcels
    of constant offset laid over it, like fields and forest stands.
    """
    rng = np.random.default_rng(seed)
    db = mean_db + std_db * smooth_field((rows, cols), max(rows, cols) / 16, rng)
    for _ in range(max(1, rows * cols // 20000)):
        h, w = rng.integers(8, max(9, rows // 6)), rng.integers(8, max(9, cols // 6))
        r, c = rng.integers(0, rows - h + 1), rng.integers(0, cols - w + 1)
        db[r : r + h, c : c + w] += rng.uniform(-4, 4)
    return 10 ** (db / 10)


def default_patches(rows: int, cols: int, *, seed: int = 0) -> list:
    """A spread of loss and gain patches of 3-6 dB and ~20-2000 pixels on a ``rows`` x ``cols`` grid."""
    rng = np.random.default_rng(seed + 1)
    patches = []
    cell = 64
    for i, r0 in enumerate(range(8, rows - cell, cell)):
        for j, c0 in enumerate(range(8, cols - cell, cell)):
            if (i + j) % 2:
                continue
            side = int(rng.choice([5, 8, 12, 20, 30, 45]))
            change = float(rng.uniform(3, 6)) * (1 if (i // 1 + j // 2) % 2 else -1)
            shape = "ellipse" if (i * 7 + j) % 3 == 0 else "rectangle"
            dr, dc = rng.integers(0, cell - side), rng.integers(0, cell - side)
            patches.append(Patch(int(r0 + dr), int(c0 + dc), side, int(side * rng.uniform(0.8, 1.25)), change, shape))
    return patches


def speckle(shape, looks: float, rng: np.random.Generator) -> np.ndarray:
    """Multiplicative speckle of mean 1 and variance ``1/looks`` (gamma distributed)."""
    return rng.gamma(looks, 1.0 / looks, size=shape)


def simulate_pair(
    rows: int = 512,
    cols: int = 512,
    *,
    looks: float = 1.0,
    seed: int = 0,
    patches: Optional[Sequence[Patch]] = None,
) -> Dict[str, np.ndarray]:
    """Simulate a before/after intensity pair with known change.

    Parameters
    ----------
    rows, cols : int
        Size in pixels (at least 32 each).
    looks : float
        Number of looks ``L`` of the speckle (1 for single-look).
    seed : int
        Seed: the same arguments always give the same arrays.
    patches : sequence of Patch, optional
        Change patches; :func:`default_patches` when omitted.

    Returns
    -------
    dict
        ``before``, ``after``: float32 linear intensity; ``truth``: uint8 with
        :data:`NO_CHANGE`, :data:`LOSS`, :data:`GAIN`; ``sigma0_before``,
        ``sigma0_after``: the noise-free reflectivities (float32).
    """
    if int(rows) != rows or int(cols) != cols or rows < 32 or cols < 32:
        raise ValueError(f"rows and cols must be integers >= 32, got rows={rows!r}, cols={cols!r}")
    if not looks > 0:
        raise ValueError(f"looks must be > 0, got looks={looks!r}")
    sigma_before = reflectivity(rows, cols, seed=seed)
    sigma_after = sigma_before.copy()
    truth = np.zeros((rows, cols), dtype=np.uint8)
    for patch in default_patches(rows, cols, seed=seed) if patches is None else patches:
        mask = patch.mask(rows, cols)
        sigma_after[mask] *= 10 ** (patch.change_db / 10)
        truth[mask] = LOSS if patch.change_db < 0 else GAIN
    rng = np.random.default_rng(seed + 2)
    before = sigma_before * speckle((rows, cols), looks, rng)
    after = sigma_after * speckle((rows, cols), looks, rng)
    return {
        "before": before.astype(np.float32),
        "after": after.astype(np.float32),
        "truth": truth,
        "sigma0_before": sigma_before.astype(np.float32),
        "sigma0_after": sigma_after.astype(np.float32),
    }


#: Georeference of the demo scene: UTM 54N (Tokyo Bay), 10 m pixels.
DEMO_EPSG = 32654
DEMO_ORIGIN = (380000.0, 3950000.0)
DEMO_PIXEL_M = 10.0


def write_pair(
    paths: Mapping[str, str], rows: int = 512, cols: int = 512, *, looks: float = 1.0, seed: int = 0
) -> Dict[str, str]:
    """Simulate a pair and write it as GeoTIFFs.

    Parameters
    ----------
    paths : mapping
        Output path for each of ``before``, ``after`` and ``truth`` (any subset);
        :func:`folder_paths` builds them for a folder.
    rows, cols, looks, seed
        As in :func:`simulate_pair`.

    Returns
    -------
    dict
        The paths written, by name. The rasters are georeferenced in
        EPSG:32654 with 10 m pixels; ``truth`` has nodata 255.
    """
    from ..common.deps import require
    from ..io.outputs import write_array

    unknown = set(paths) - {"before", "after", "truth"}
    if unknown:
        raise ValueError(f"paths keys must be before, after, truth; got unknown keys {sorted(unknown)}")
    osr = require("osgeo.osr")
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(DEMO_EPSG)
    geotransform = (DEMO_ORIGIN[0], DEMO_PIXEL_M, 0.0, DEMO_ORIGIN[1], 0.0, -DEMO_PIXEL_M)
    scene = simulate_pair(rows, cols, looks=looks, seed=seed)
    for name, path in paths.items():
        nodata = 255 if name == "truth" else None
        write_array(path, scene[name], geotransform=geotransform, crs_wkt=srs.ExportToWkt(), nodata=nodata)
    return dict(paths)


def folder_paths(folder: str) -> Dict[str, str]:
    """``before.tif``, ``after.tif`` and ``truth.tif`` in ``folder``, by name."""
    return {name: os.path.join(folder, f"{name}.tif") for name in ("before", "after", "truth")}
