"""Two-date change overlay and dual-polarisation RGB composites, on arrays.

Before in blue, after in red: grey where they agree (:func:`overlay_levels`).
"""

from typing import Callable

import numpy as np

from .convert import power_to_db

#: Scaling names of :func:`scale_levels` / :func:`channel_limits`.
SCALINGS = ("minmax", "percentile", "db_range")


#: How values of an overlay input are read before scaling.
INPUT_SCALES = ("linear", "db", "display")


#: Default percentile limits of the ``percentile`` scaling, in %.
PERCENTILES = (2.0, 98.0)


def scale_unit(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Linearly map ``[low, high]`` to ``[0, 1]`` in the input's float precision (no clipping).

    NaN stays NaN. ``high == low`` maps everything valid to 0.
    """
    values = np.asarray(values)
    dtype = values.dtype if values.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    values = values.astype(dtype, copy=False)
    span = dtype.type(high) - dtype.type(low)
    if span == 0:
        return np.where(np.isnan(values), values, dtype.type(0))
    return (values - dtype.type(low)) / span


def scale_levels(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map ``[low, high]`` to display levels 0-255 (int16, clipped); NaN becomes -1.

    Levels are signed so that differences of levels never wrap around.
    """
    unit = scale_unit(values, low, high)
    levels = np.clip(np.rint(unit * 255), 0, 255)
    return np.where(np.isnan(unit), -1, levels).astype(np.int16)


def overlay_levels(before: np.ndarray, after: np.ndarray, tolerance: int = 30) -> np.ndarray:
    """The two-date overlay rule on display levels.

    Parameters
    ----------
    before, after : ndarray of int
        Display levels 0-255 of the earlier and later image (any signed or
        unsigned integer type; negative marks no data).
    tolerance : int
        Levels within which the two dates count as unchanged.

    Returns
    -------
    (3, rows, cols) uint8
        RGB: grey ``(a, a, a)`` where ``|a - b| < tolerance``; otherwise
        ``(a, 0, b)``: the later image in red, the earlier in blue. No data in
        either input gives black ``(0, 0, 0)``.
    """
    if not 0 <= tolerance <= 256:
        raise ValueError(f"tolerance must be between 0 and 256 display levels, got tolerance={tolerance!r}")
    b = np.asarray(before).astype(np.int16)  # signed: 8-bit wrap-around would colour dark pixels
    a = np.asarray(after).astype(np.int16)
    if a.shape != b.shape:
        raise ValueError(f"before and after must have one shape, got {b.shape} and {a.shape}")
    valid = (a >= 0) & (b >= 0)
    grey = np.abs(a - b) < tolerance
    rgb = np.zeros((3,) + a.shape, dtype=np.uint8)
    a8 = np.clip(a, 0, 255).astype(np.uint8)
    b8 = np.clip(b, 0, 255).astype(np.uint8)
    rgb[0] = np.where(valid, a8, 0)
    rgb[1] = np.where(valid & grey, a8, 0)
    rgb[2] = np.where(valid, np.where(grey, a8, b8), 0)
    return rgb


def dual_pol_channels(hh: np.ndarray, hv: np.ndarray, *, epsilon: float = 1e-5) -> np.ndarray:
    """The three channels of the dual-pol composite: HH, HV, HH / (HV + epsilon).

    Computed in the inputs' float precision (float32 for float32 inputs),
    returned as ``(3, rows, cols)``.
    """
    hh = np.asarray(hh)
    hv = np.asarray(hv)
    dtype = np.result_type(hh.dtype, hv.dtype, np.float32)
    hh = hh.astype(dtype, copy=False)
    hv = hv.astype(dtype, copy=False)
    return np.stack([hh, hv, hh / (hv + dtype.type(epsilon))])


def to_display_values(values: np.ndarray, input_scale: str) -> np.ndarray:
    """Values an overlay scales: dB for linear power, the values themselves otherwise."""
    if input_scale not in INPUT_SCALES:
        raise ValueError(f"input_scale must be one of {INPUT_SCALES}, got input_scale={input_scale!r}")
    return power_to_db(values) if input_scale == "linear" else values


# -- files ---------------------------------------------------------------------------------------
ChannelFn = Callable[..., np.ndarray]
