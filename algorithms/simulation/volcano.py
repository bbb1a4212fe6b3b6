"""A simulated volcano seen by a side-looking radar, for the elevation-change benchmark and tests.

A cone with a summit crater that deepens between dates, a rough surface, a crater lake of
open water at its foot and an albedo that varies. The brightness of a pixel is its albedo
times a non-linear function of the local incidence angle (Muhleman's law), plus a noise floor,
times gamma speckle of ``looks`` looks; each date has its own gain. Arrays are
``(rows, cols)`` = (azimuth, ground range), range increasing along columns.
"""

from dataclasses import dataclass
from typing import Dict, Sequence

import numpy as np

from ..sar.elevation.geometry import local_incidence_cos, slopes
from .pair import smooth_field, speckle


def muhleman(cos_local: np.ndarray) -> np.ndarray:
    """Muhleman's backscatter law ``0.0133 cos t / (sin t + 0.1 cos t)^3`` (linear power).

    Zero where the local incidence angle ``t`` reaches 90 degrees (shadow).
    """
    c = np.clip(cos_local, 0.0, 1.0)
    s = np.sqrt(1.0 - c**2)
    return 0.0133 * c / (s + 0.1 * c) ** 3


@dataclass(frozen=True)
class Volcano:
    """Geometry of the simulated volcano (metres, pixels and degrees)."""

    rows: int = 256
    cols: int = 256
    spacing_m: float = 10.0
    incidence_deg: float = 35.0
    height_m: float = 600.0
    radius_m: float = 1100.0
    crater_sigma_m: float = 80.0
    roughness_m: float = 6.0
    albedo_db: float = 1.5
    noise_floor_db: float = -25.0

    @property
    def centre(self):
        """``(row, col)`` of the summit."""
        return (self.rows - 1) / 2.0, (self.cols - 1) / 2.0

    def distance_m(self) -> np.ndarray:
        """Horizontal distance of each pixel from the summit, metres."""
        r, c = np.ogrid[: self.rows, : self.cols]
        cy, cx = self.centre
        return self.spacing_m * np.hypot(r - cy, c - cx)

    def dem(self, crater_depth_m: float, seed: int = 0) -> np.ndarray:
        """Elevation (m) with a Gaussian crater of ``crater_depth_m`` at the summit."""
        d = self.distance_m()
        cone = self.height_m * np.clip(1 - d / self.radius_m, 0, None)
        # a rounded summit and foot: the cone smoothed over ~50 m
        cone = _gaussian(cone, 50.0 / self.spacing_m)
        rough = self.roughness_m * smooth_field((self.rows, self.cols), 4.0, np.random.default_rng(seed + 10))
        crater = crater_depth_m * np.exp(-0.5 * (d / self.crater_sigma_m) ** 2)
        dem = cone + rough - crater
        lake = self.lake()
        dem[lake] = dem[lake].min()
        return dem

    def lake(self) -> np.ndarray:
        """Open water: a lake near the near-range corner of the scene."""
        r, c = np.ogrid[: self.rows, : self.cols]
        return ((r - 0.85 * self.rows) / (0.1 * self.rows)) ** 2 + (
            (c - 0.12 * self.cols) / (0.08 * self.cols)
        ) ** 2 <= 1


def _ndimage():
    from ..common.deps import require

    return require("scipy.ndimage")


def _gaussian(image, sigma):
    return _ndimage().gaussian_filter(image, sigma, mode="nearest")


def simulate_volcano(
    crater_depths_m: Sequence[float] = (20.0, 20.0, 50.0),
    *,
    looks: float = 2.0,
    gains_db: Sequence[float] = None,
    volcano: Volcano = Volcano(),
    seed: int = 0,
    albedo: np.ndarray = None,
) -> Dict[str, np.ndarray]:
    """Amplitude images of the volcano at each date, and the truth.

    Parameters
    ----------
    crater_depths_m : sequence of float
        Depth of the summit crater at each date, metres (the default: a reference date, a
        no-change date, then a deepening by 30 m).
    looks : float
        Looks of the gamma speckle.
    gains_db : sequence of float, optional
        Calibration gain of each date, dB (default 0, +1, -0.5: dates differ).
    volcano : Volcano
        The geometry.
    seed : int
        The same arguments always give the same arrays.
    albedo : (rows, cols) ndarray, optional
        Albedo (linear factor, e.g. a real despeckled backscatter image over its median) instead
        of the simulated one.

    Returns
    -------
    dict
        ``amplitudes`` (dates, rows, cols) float32 linear amplitude; ``dems`` (dates, rows,
        cols) true elevation, metres; ``water`` bool mask; ``albedo`` linear factor.
    """
    depths = list(crater_depths_m)
    gains = [0.0, 1.0, -0.5][: len(depths)] if gains_db is None else list(gains_db)
    if len(gains) < len(depths):
        gains += [0.0] * (len(depths) - len(gains))
    rng = np.random.default_rng(seed)
    shape = (volcano.rows, volcano.cols)
    simulated = 10 ** (volcano.albedo_db * smooth_field(shape, 6.0, rng) / 10)
    if albedo is None:
        albedo = simulated
    elif np.shape(albedo) != shape:
        raise ValueError(f"albedo must be {shape} like the volcano, got shape {np.shape(albedo)}")
    water = volcano.lake()
    floor = 10 ** (volcano.noise_floor_db / 10)
    amplitudes, dems = [], []
    for depth, gain in zip(depths, gains):
        dem = volcano.dem(depth, seed)
        p, q = slopes(dem, volcano.spacing_m, volcano.spacing_m)
        sigma0 = albedo * muhleman(local_incidence_cos(p, q, volcano.incidence_deg))
        sigma0[water] = 0.0
        power = (sigma0 + floor) * 10 ** (gain / 10) * speckle(shape, looks, rng)
        amplitudes.append(np.sqrt(power))
        dems.append(dem)
    return {
        "amplitudes": np.stack(amplitudes).astype(np.float32),
        "dems": np.stack(dems),
        "water": water,
        "albedo": albedo,
    }


def coarse_noisy_dem(dem: np.ndarray, *, factor: int = 3, noise_m: float = 2.0, seed: int = 0) -> np.ndarray:
    """A reference DEM as users have one: coarser and noisier than the image.

    The means of ``factor`` x ``factor`` blocks of ``dem`` (metres), each with Gaussian noise of
    ``noise_m`` metres, interpolated back (bilinear) to the image's pixels: e.g. a 30 m DEM with
    2 m of noise under 10 m pixels. Rows and columns past the last whole block keep ``dem``.
    """
    ndimage = _ndimage()
    rows, cols = (n // factor * factor for n in np.shape(dem))
    blocks = dem[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor).mean(axis=(1, 3))
    blocks = blocks + np.random.default_rng(seed).normal(0.0, noise_m, blocks.shape)
    out = np.array(dem, np.float64)
    out[:rows, :cols] = ndimage.zoom(blocks, factor, order=1, mode="nearest", grid_mode=True)
    return out
