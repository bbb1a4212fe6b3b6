"""Two-date change overlay and dual-polarisation RGB composites.

The maths (first half) works on arrays; the file functions (second half)
run it blockwise over rasters of any size, aligning the second input onto the
grid of the first.
"""

from typing import Callable, Optional, Sequence, Tuple

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


def channel_limits(
    sources: Sequence[Tuple[str, int]],
    channels: ChannelFn,
    scaling: str,
    *,
    percentiles: Tuple[float, float] = PERCENTILES,
    db_limits: Optional[Tuple[float, float]] = None,
    n_channels: int = 1,
) -> list:
    """(low, high) of each channel computed from rasters, for scaling.

    ``minmax`` is exact (a blockwise pass); ``percentile`` uses the whole
    raster up to 4 Mpixel and a regular decimation beyond; ``db_range``
    returns ``db_limits`` for every channel.
    """
    from .blocks import iter_blocks
    from .raster_io import open_raster, raster_info, read_window, sample_band

    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of {SCALINGS}, got scaling={scaling!r}")
    if scaling == "db_range":
        if db_limits is None or not db_limits[0] < db_limits[1]:
            raise ValueError(f"db_range scaling needs limits low < high in dB, got db_limits={db_limits!r}")
        return [tuple(map(float, db_limits))] * n_channels
    if scaling == "percentile":
        low, high = percentiles
        if not 0 <= low < high <= 100:
            raise ValueError(f"percentiles must satisfy 0 <= low < high <= 100, got percentiles={percentiles!r}")
        stack = np.asarray(channels(*[sample_band(path, band) for path, band in sources]))
        stack = stack[None] if stack.ndim == 2 else stack
        limits = []
        for channel in stack:
            finite = channel[np.isfinite(channel)]
            if finite.size == 0:
                raise ValueError("the input has no valid pixel to scale")
            limits.append(tuple(float(v) for v in np.percentile(finite, [low, high])))
        return limits
    info = raster_info(sources[0][0])
    datasets = [open_raster(path) for path, _ in sources]
    lows = np.full(n_channels, np.inf)
    highs = np.full(n_channels, -np.inf)
    for block in iter_blocks(info.rows, info.cols):
        stack = np.asarray(channels(*[read_window(ds, band, block.window) for ds, (_, band) in zip(datasets, sources)]))
        stack = stack[None] if stack.ndim == 2 else stack
        for i, channel in enumerate(stack):
            finite = channel[np.isfinite(channel)]
            if finite.size:
                lows[i] = min(lows[i], finite.min())
                highs[i] = max(highs[i], finite.max())
    if not np.all(np.isfinite(lows)):
        raise ValueError("the input has no valid pixel to scale")
    return list(zip(lows.tolist(), highs.tolist()))


def overlay_rasters(
    before: Tuple[str, int],
    after: Tuple[str, int],
    output: str,
    *,
    tolerance: int = 30,
    scaling: str = "percentile",
    input_scale: str = "auto",
    db_limits: Optional[Tuple[float, float]] = None,
    resampling: str = "bilinear",
    progress=None,
    is_cancelled=None,
) -> str:
    """Write the two-date overlay of ``before`` and ``after`` (each ``(path, band)``) to ``output``.

    ``after`` is aligned onto the grid of ``before``. Each date is brought to
    levels 0-255 with its own limits (``scaling``) from values in dB
    (``input_scale='linear'`` converts linear power, ``'db'`` takes them as
    they are) or as given (``'display'``, e.g. 8-bit PNG tiles); ``'auto'`` chooses one of
    these from ``before`` (:func:`.raster_io.resolve_raster_scale`). The output is a
    3-band Byte GeoTIFF (R, G, B) on the grid of ``before``.
    """
    from .align import aligned
    from .raster_io import process_blocks, raster_info, resolve_raster_scale

    if input_scale == "auto":  # decided on before: Byte = display, negatives = db, else linear
        input_scale = resolve_raster_scale(before[0], before[1], "auto")
    if scaling == "db_range" and input_scale == "display":
        raise ValueError("scaling='db_range' needs input_scale 'linear' or 'db', got input_scale='display'")
    to_values = lambda x: to_display_values(x, input_scale)  # noqa: E731
    reference = raster_info(before[0])
    with aligned(after[0], reference, resampling=resampling) as after_path:
        after = (after_path, after[1])
        ((lo_b, hi_b),) = channel_limits([before], to_values, scaling, db_limits=db_limits)
        ((lo_a, hi_a),) = channel_limits([after], to_values, scaling, db_limits=db_limits)

        def compose(b, a):
            return overlay_levels(
                scale_levels(to_values(b), lo_b, hi_b), scale_levels(to_values(a), lo_a, hi_a), tolerance
            )

        return process_blocks(
            [before, after],
            output,
            compose,
            out_bands=3,
            out_dtype=np.uint8,
            band_descriptions=["red: after", "green: unchanged", "blue: before"],
            progress=progress,
            is_cancelled=is_cancelled,
        )


def rgb_composite_rasters(
    hh: Tuple[str, int],
    hv: Tuple[str, int],
    output: str,
    *,
    scaling: str = "minmax",
    output_type: str = "float",
    resampling: str = "bilinear",
    progress=None,
    is_cancelled=None,
) -> str:
    """Write the dual-pol composite R = HH, G = HV, B = HH/(HV + 1e-5), each channel scaled.

    ``output_type='float'`` gives Float32 0-1 (NaN nodata), ``'byte'`` gives
    0-255 (nodata 0 is not set: black is a valid level). ``hv`` is aligned onto
    the grid of ``hh``. Channels are scaled in the inputs' units (linear power
    as the reference composite does).
    """
    from .align import aligned
    from .raster_io import process_blocks, raster_info, resolve_raster_scale

    if output_type not in ("float", "byte"):
        raise ValueError(f"output_type must be 'float' or 'byte', got output_type={output_type!r}")
    if scaling not in ("minmax", "percentile"):
        raise ValueError(f"scaling must be 'minmax' or 'percentile', got scaling={scaling!r}")
    for path, band in (hh, hv):
        # linear power: no valid or no positive pixel, or dB values, are a clear error, not a black image
        resolve_raster_scale(path, band, "linear")
    reference = raster_info(hh[0])
    with aligned(hv[0], reference, resampling=resampling) as hv_path:
        hv = (hv_path, hv[1])
        limits = channel_limits([hh, hv], dual_pol_channels, scaling, n_channels=3)

        def compose(h, v):
            channels = dual_pol_channels(h, v)
            if output_type == "float":
                unit = np.stack([scale_unit(c, lo, hi) for c, (lo, hi) in zip(channels, limits)])
                return np.clip(unit, 0, 1) if scaling == "percentile" else unit
            levels = np.stack([scale_levels(c, lo, hi) for c, (lo, hi) in zip(channels, limits)])
            return np.clip(levels, 0, 255).astype(np.uint8)

        return process_blocks(
            [hh, hv],
            output,
            compose,
            out_bands=3,
            out_dtype=np.float32 if output_type == "float" else np.uint8,
            band_descriptions=["red: HH", "green: HV", "blue: HH/HV"],
            progress=progress,
            is_cancelled=is_cancelled,
        )
