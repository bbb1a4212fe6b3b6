"""Radar geometry of a DEM: slopes, cosine of the local incidence angle, layover, shadow, flat ground.

Arrays are (azimuth, range); slopes are metres per metre, angles degrees, spacings metres.
"""

import numpy as np

#: Slope (degrees) under which the reference DEM is "flat" for the seed method's weights.
FLAT_SLOPE_DEG = 2.0


def check_angle(incidence_deg: float) -> float:
    """``incidence_deg`` as a float in (0, 90), else ``ValueError`` naming it."""
    try:
        value = float(incidence_deg)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0 < value < 90:
        raise ValueError(f"incidence_deg must be an angle in (0, 90) degrees, got incidence_deg={incidence_deg!r}")
    return value


def check_spacing(name: str, value: float) -> float:
    """A pixel spacing (metres) as a float > 0, else ``ValueError`` naming it."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = float("nan")
    if not (np.isfinite(out) and out > 0):
        raise ValueError(f"{name} must be a pixel spacing > 0 metres, got {name}={value!r}")
    return out


# -- geometry ------------------------------------------------------------------------------------
def slopes(dem_m: np.ndarray, range_spacing_m: float, azimuth_spacing_m: float):
    """Range slope ``p = dz/dx`` and azimuth slope ``q = dz/dy`` (m/m) of a DEM (central differences)."""
    dem = np.asarray(dem_m, np.float64)
    if dem.ndim != 2 or min(dem.shape) < 2:
        raise ValueError(f"dem must be a 2-D array of at least 2 x 2 pixels, got shape {dem.shape}")
    q, p = np.gradient(
        dem, check_spacing("azimuth_spacing_m", azimuth_spacing_m), check_spacing("range_spacing_m", range_spacing_m)
    )
    return p, q


def local_incidence_cos(p: np.ndarray, q: np.ndarray, incidence_deg: float) -> np.ndarray:
    """Cosine of the local incidence angle of a surface of slopes ``p`` (range) and ``q`` (azimuth).

    The radar looks along increasing range at ``incidence_deg`` from the vertical:
    ``cos t = (cos t0 + p sin t0) / sqrt(1 + p^2 + q^2)``; a slope facing the radar (p > 0) is
    brighter, a negative value is a slope turned away beyond grazing (shadow).
    """
    t0 = np.radians(check_angle(incidence_deg))
    return (np.cos(t0) + p * np.sin(t0)) / np.sqrt(1.0 + p * p + q * q)


def _cos_derivatives(p, q, incidence_deg):
    """``d cos t / dp`` and ``d cos t / dq`` of :func:`local_incidence_cos`."""
    t0 = np.radians(incidence_deg)
    n2 = 1.0 + p * p + q * q
    n = np.sqrt(n2)
    top = np.cos(t0) + p * np.sin(t0)
    return np.sin(t0) / n - top * p / (n2 * n), -top * q / (n2 * n)


def layover_shadow(dem_m: np.ndarray, range_spacing_m: float, incidence_deg: float, *, tolerance_m: float = 0.5):
    """Masks of layover and radar shadow of a DEM seen along increasing range.

    Layover: the range slope faces the radar more steeply than the incidence angle
    (``p >= tan t0``; the top of the slope is nearer the radar than its foot). Shadow: the line of
    sight to a pixel is blocked by terrain at nearer range (``z + x cot t0`` under its running
    maximum by more than ``tolerance_m``), which includes slopes turned away beyond grazing.
    """
    dem = np.asarray(dem_m, np.float64)
    dx = check_spacing("range_spacing_m", range_spacing_m)
    t0 = np.radians(check_angle(incidence_deg))
    p = np.gradient(dem, dx, axis=1)
    layover = p >= np.tan(t0)
    sight = dem + np.arange(dem.shape[1]) * dx / np.tan(t0)
    sight = np.where(np.isfinite(sight), sight, -np.inf)
    shadow = sight < np.maximum.accumulate(sight, axis=1) - tolerance_m
    return layover, shadow


# -- the seed's line method ----------------------------------------------------------------------
def slope_deg(dem_m: np.ndarray, range_spacing_m: float, azimuth_spacing_m: float) -> np.ndarray:
    """Slope of the DEM from the horizontal (degrees; NaN where it is no data)."""
    p, q = slopes(dem_m, range_spacing_m, azimuth_spacing_m)
    return np.degrees(np.arctan(np.hypot(p, q)))


def flat_ground(dem_m: np.ndarray, range_spacing_m: float, azimuth_spacing_m: float) -> np.ndarray:
    """Where the DEM's slope is under :data:`FLAT_SLOPE_DEG` (False where it is no data)."""
    with np.errstate(invalid="ignore"):
        return slope_deg(dem_m, range_spacing_m, azimuth_spacing_m) < FLAT_SLOPE_DEG
