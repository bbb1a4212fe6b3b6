"""Two-date overlays and dual-polarisation composites of rasters of any size, blockwise.

The second input is aligned onto the grid of the first; channel limits come from a sample.
"""

from typing import Optional, Sequence, Tuple

import numpy as np

from ..sar.overlay import (
    PERCENTILES,
    SCALINGS,
    ChannelFn,
    dual_pol_channels,
    overlay_levels,
    scale_levels,
    scale_unit,
    to_display_values,
)


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
    from ..common.blocks import iter_blocks
    from ..io.raster import open_raster, raster_info, read_window, sample_band

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
    these from ``before`` (:func:`..io.raster.resolve_raster_scale`). The output is a
    3-band Byte GeoTIFF (R, G, B) on the grid of ``before``.
    """
    from ..io.align import aligned
    from ..io.pipeline import process_blocks
    from ..io.raster import raster_info, resolve_raster_scale

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
    from ..io.align import aligned
    from ..io.pipeline import process_blocks
    from ..io.raster import raster_info, resolve_raster_scale

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
