"""Elevation change on raster files, blockwise (the file-level side of :mod:`.elevation`).

The scene model (the backscatter curve, the gain of each date, the looks, the water level) is
fitted once on windows spread over the scene; then blocks are processed with a halo: square
blocks for the surface model, strips of whole range lines for the seed's line method.
"""

import contextlib
import os
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from ..common.blocks import even_windows
from ..common.deps import require
from ..io.align import aligned
from ..io.pipeline import process_blocks
from ..io.raster import open_raster, raster_info, read_window
from ..sar import elevation
from ..sar.change.auto import box_mean
from ..sar.convert import TO_POWER, power_to_db
from ..sar.despeckle import halo as despeckle_halo
from ..sar.despeckle.db import nlmeans_db

FILTERS = ("auto", "nlmeans", "none")
DIRECTIONS = ("left_to_right", "right_to_left")
#: ``intensity`` (the issue's word) and ``linear`` (the other algorithms') both name linear power.
INPUT_SCALES = ("amplitude", "intensity", "linear", "db", "display", "palsar_dn")
#: Block side of the surface model (pixels; each block is a sparse solve of (side + 2 halo)^2
#: unknowns) and rows per strip of the line method.
SURFACE_BLOCK, SEED_STRIP = 256, 64
#: Windows (side, per axis) read to fit the scene model.
FIT_WINDOW, FIT_PER_AXIS = 256, 4
#: Side of the local mean (pixels) whose level decides the automatic water mask; the DEM's slope
#: is judged on its mean over the same window.
WATER_WINDOW = 5
#: Automatic water: a dark pixel is water where the DEM, averaged over the water window, slopes by
#: less than this (degrees). Land under the noise floor is a slope turned away from the radar at a
#: grazing angle (27-36 degrees on the simulated volcano; a local incidence of 43 degrees or less,
#: which an 8-degree slope gives at 35, leaves land well above the floor), while a DEM's own noise
#: tilts a lake from pixel to pixel: 2-3 m of noise in a 30 m DEM under 10 m pixels gave 4-5
#: degrees, so a plain 2-degree test kept 4-16 % of a lake as water; this keeps 95-99 %.
WATER_SLOPE_DEG = 8.0


@dataclass(frozen=True)
class ElevationSummary:
    """What a run fitted and used: reported to the user and written as metadata."""

    model: str
    filter: str
    looks: float
    gains_db: tuple
    water_floor_db: float
    water_fraction: float
    range_spacing_m: float
    azimuth_spacing_m: float
    multilook: int
    curve_source: str = ""
    curve_span_ratio: float = float("nan")


def _water_levels(intensities: np.ndarray) -> np.ndarray:
    """Local mean level (dB) of the mean of the dates: dark where open water or noise floor."""
    positive = np.where(intensities > 0, intensities, np.nan)
    count = np.sum(np.isfinite(positive), axis=0)
    mean = np.where(count > 0, np.nansum(positive, axis=0) / np.maximum(count, 1), np.nan)
    return power_to_db(box_mean(mean, WATER_WINDOW))


def _dem_slope_deg(dem: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Slope (degrees) of the DEM's mean over :data:`WATER_WINDOW` pixels (of its valid pixels;
    NaN where the window has none)."""
    ndimage = require("scipy.ndimage")
    valid = np.isfinite(dem)
    total = ndimage.uniform_filter(np.where(valid, dem, 0.0), WATER_WINDOW, mode="nearest")
    count = ndimage.uniform_filter(valid.astype(np.float64), WATER_WINDOW, mode="nearest")
    with np.errstate(invalid="ignore", divide="ignore"):
        return elevation.slope_deg(np.where(count > 1e-9, total / count, np.nan), dx, dy)


def _dark_and_flat(intensities, dem, floor_db, dx, dy):
    """Automatic water: under the noise floor *and* gently sloping in the DEM (a dark steep slope
    turned away from the radar is not water, and its change is still measured)."""
    with np.errstate(invalid="ignore"):
        return (_water_levels(intensities) < floor_db) & (_dem_slope_deg(dem, dx, dy) < WATER_SLOPE_DEG)


def _check(paths, reference, model, filter_, range_direction, input_scale):
    if len(paths) < 2:
        raise ValueError(f"elevation change needs at least 2 dates, got {len(paths)}")
    if not 0 <= reference < len(paths):
        raise ValueError(f"reference must be a date of the stack (1..{len(paths)}), got reference={reference + 1}")
    for name, value, allowed in (
        ("model", model, elevation.MODELS),
        ("filter", filter_, FILTERS),
        ("range_direction", range_direction, DIRECTIONS),
        ("input_scale", input_scale, INPUT_SCALES),
    ):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {name}={value!r}")


def _check_sample(windows, paths, dem_path, model, dx, dy):
    """``ValueError`` naming the input when the sampled windows leave nothing to fit."""
    for k, path in enumerate(paths):
        if not any(np.any(np.isfinite(i[k]) & (i[k] > 0)) for i, _, _ in windows):
            raise ValueError(f"{os.path.basename(path)} has no valid pixel (all no data, NaN or <= 0)")
    if not any(np.isfinite(d).any() for _, d, _ in windows):
        raise ValueError(f"the DEM {os.path.basename(dem_path)} has no data over the images")
    if model == "seed_lines":
        usable = sum(float(elevation.seed_weights(d, w, dx, dy).sum()) for _, d, w in windows)
        if usable == 0:
            raise ValueError(
                f"the DEM {os.path.basename(dem_path)} is flat (slopes under {elevation.FLAT_SLOPE_DEG} degrees) or "
                "water everywhere: the seed's line fit has no pixel to fit"
            )


def elevation_change_rasters(
    paths: Sequence[str],
    dem_path: str,
    *,
    dems_path: str,
    change_path: str,
    stderr_path: Optional[str] = None,
    band: int = 1,
    reference: int = 0,
    input_scale: str = "amplitude",
    model: str = "surface",
    filter: str = "auto",
    water_path: Optional[str] = None,
    auto_water: bool = True,
    looks: float = 0.0,
    incidence_deg: Optional[float] = None,
    range_spacing_m: float,
    azimuth_spacing_m: float,
    range_direction: str = "left_to_right",
    smoothness: float = elevation.SMOOTHNESS,
    detrend_px: float = elevation.DETREND_PX,
    block_size: int = SURFACE_BLOCK,
    progress=None,
    is_cancelled=None,
) -> ElevationSummary:
    """Write the DEM of every date, the change against the reference date and its standard error.

    Parameters
    ----------
    paths : sequence of str
        Amplitude (or ``input_scale``) rasters in time order; aligned onto the first's grid.
    dem_path : str
        Reference elevation (metres), aligned onto the same grid (bilinear).
    dems_path, change_path, stderr_path : str
        Outputs, one float32 band per date, metres (NaN: water, no data).
    reference : int
        0-based index of the reference date (its change band is 0).
    model : {'surface', 'seed_lines'}
        See :mod:`.elevation`.
    filter : {'auto', 'nlmeans', 'none'}
        Speckle filter before the fit: ``auto`` is non-local means (in dB, strength from the
        looks) for the seed's line method, as the seed, and none for the surface model, whose
        weights are those of raw speckle and whose smoothness prior is its filter.
    water_path : str, optional
        Raster whose non-zero pixels are water (aligned with nearest neighbour).
    auto_water : bool
        Also mask pixels whose local mean level is under the scene's noise floor
        (:func:`..sar.change.auto.noise_floor` of the levels) and whose DEM, averaged over
        :data:`WATER_WINDOW` pixels, slopes by under :data:`WATER_SLOPE_DEG` (water is flat, also
        in a noisy DEM; dark slopes turned away from the radar are steep and are not water).
    looks : float
        Equivalent number of looks; <= 0 estimates it from the date-to-reference log-ratios.
    incidence_deg : float
        Incidence angle at the scene (degrees from the vertical); needed by the surface model.
    range_spacing_m, azimuth_spacing_m : float
        Ground pixel spacing along columns (range) and rows (azimuth), metres.
    range_direction : {'left_to_right', 'right_to_left'}
        Whether range (distance from the radar) increases along columns or against them.
    smoothness, detrend_px
        The surface model's prior and detrending scale, see :func:`..sar.elevation.surface.change_surface`.
    """
    from ..sar.change.auto import noise_floor

    reference = int(reference)
    _check(paths, reference, model, filter, range_direction, input_scale)
    if filter == "auto":
        filter = "nlmeans" if model == "seed_lines" else "none"
    dx = elevation.check_spacing("range_spacing_m", range_spacing_m)
    dy = elevation.check_spacing("azimuth_spacing_m", azimuth_spacing_m)
    if model == "surface":
        if incidence_deg is None:
            raise ValueError("incidence_deg: the surface model needs the incidence angle of the scene (degrees)")
        incidence_deg = elevation.check_angle(incidence_deg)
    to_power = TO_POWER["linear" if input_scale == "intensity" else input_scale]
    grid = raster_info(paths[0])
    flip = range_direction == "right_to_left"
    dates = len(paths)

    def oriented(array):
        return array[..., ::-1] if flip else array

    def scene(arrays):
        """Windows of the sources (dates, DEM, water mask) as intensities, DEM and water, range along +cols."""
        intensities = np.stack([to_power(a) for a in arrays[:dates]]).astype(np.float64)
        water = np.zeros(arrays[dates].shape, bool)
        if water_path:
            water = np.isfinite(arrays[dates + 1]) & (arrays[dates + 1] != 0)
        return oriented(intensities), oriented(arrays[dates].astype(np.float64)), oriented(water)

    with contextlib.ExitStack() as stack:
        sources = [(stack.enter_context(aligned(p, grid)), band) for p in paths]
        sources.append((stack.enter_context(aligned(dem_path, grid)), 1))
        if water_path:
            sources.append((stack.enter_context(aligned(water_path, grid, resampling="nearest")), 1))

        # -- the scene model, on windows spread over the scene --------------------------------
        datasets = [open_raster(path) for path, _ in sources]
        windows = []
        for window in even_windows(grid.rows, grid.cols, FIT_WINDOW, FIT_PER_AXIS):
            windows.append(scene([read_window(ds, b, window) for ds, (_, b) in zip(datasets, sources)]))
        datasets = None
        _check_sample(windows, paths, dem_path, model, dx, dy)
        floor_db = -np.inf
        if auto_water:
            levels = np.concatenate([_water_levels(images).ravel() for images, _, _ in windows])
            floor_db = noise_floor(levels[np.isfinite(levels)])
            windows = [(i, d, w | _dark_and_flat(i, d, floor_db, dx, dy)) for i, d, w in windows]
        if model == "surface":
            fitted = elevation.fit_surface_model(
                windows,
                reference=reference,
                incidence_deg=incidence_deg,
                range_spacing_m=dx,
                azimuth_spacing_m=dy,
                looks=looks,
            )
            looks, gains = fitted.looks, np.asarray(fitted.gains)
        else:
            fitted = None
            ratios = []
            for images, dem, water in windows:
                log = np.log(images[:, elevation.valid_pixels(images, dem, water)])
                ratios.append(log - log[reference])
            gains, looks = elevation.gains_and_looks(np.concatenate(ratios, axis=1), reference, looks)
        water_fraction = float(np.mean(np.concatenate([w.ravel() for _, _, w in windows])))

        # -- the blocks ---------------------------------------------------------------------
        def block_change(*arrays):
            intensities, dem, water = scene(arrays)
            if auto_water:
                water |= _dark_and_flat(intensities, dem, floor_db, dx, dy)
            if filter == "nlmeans":
                intensities = np.stack([nlmeans_db(i, looks=looks) for i in intensities])
            if model == "surface":
                change, stderr = elevation.change_surface(
                    intensities,
                    dem,
                    water,
                    fitted,
                    reference=reference,
                    incidence_deg=incidence_deg,
                    range_spacing_m=dx,
                    azimuth_spacing_m=dy,
                    smoothness=smoothness,
                    detrend_px=detrend_px,
                    draws=elevation.SE_DRAWS if stderr_path else 0,
                )
                dems = dem[None] + change
            else:
                dems, change, stderr = elevation.seed_change(
                    np.sqrt(intensities), dem, water, reference=reference, range_spacing_m=dx, azimuth_spacing_m=dy
                )
            bands = [dems, change] + ([stderr] if stderr_path else [])
            return oriented(np.concatenate(bands))

        outputs = [dems_path, change_path, stderr_path]
        if model == "surface":
            halo = max(16, int(2 * detrend_px))
            side, cols = min(int(block_size), SURFACE_BLOCK), None
        else:
            halo = despeckle_halo("nlmeans") if filter == "nlmeans" else 0
            side, cols = SEED_STRIP, grid.cols

        process_blocks(
            sources,
            [p for p in outputs if p],
            block_change,
            halo=halo,
            block_size=side,
            block_cols=cols,
            out_bands=dates,
            out_dtype=np.float32,
            progress=progress,
            is_cancelled=is_cancelled,
        )
    return ElevationSummary(
        model=model,
        filter=filter,
        looks=float(looks),
        gains_db=tuple(float(g) * 10 / np.log(10) for g in gains),
        water_floor_db=float(floor_db),
        water_fraction=water_fraction,
        range_spacing_m=dx,
        azimuth_spacing_m=dy,
        multilook=elevation.surface_multilook(looks) if model == "surface" else 1,
        curve_source=fitted.curve_source if fitted else "",
        curve_span_ratio=fitted.curve_span_ratio if fitted else float("nan"),
    )
