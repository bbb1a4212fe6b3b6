"""Despeckle a raster file blockwise (the file-level side of :mod:`.despeckle`)."""

from ..io.pipeline import process_blockwise
from ..io.raster import resolve_raster_scale, sample_band
from ..sar.convert import FROM_POWER, TO_POWER
from ..sar.despeckle import METHODS, despeckle, halo
from ..sar.despeckle.refined import default_point_threshold


def despeckle_raster(
    src_path: str,
    dst_path: str,
    method: str,
    *,
    band: int = 1,
    window: int = 7,
    looks: float = 1.0,
    input_scale: str = "auto",
    block_size: int = 1024,
    progress=None,
    is_cancelled=None,
    **params,
) -> str:
    """Despeckle one band of a raster into a Float32 GeoTIFF on the same grid.

    The input is brought to linear power from ``input_scale`` (a scale of
    :data:`..sar.convert.TO_POWER`, or ``auto``: see :func:`..io.raster.resolve_raster_scale`),
    filtered with ``method`` (see :func:`..sar.despeckle.despeckle`; ``params`` are its method
    parameters), and
    written back in the input's scale. Blocks carry the method's halo.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got method={method!r}")
    input_scale = resolve_raster_scale(src_path, band, input_scale)
    to_power, from_power = TO_POWER[input_scale], FROM_POWER[input_scale]
    if method == "lee_sigma" and params.get("point_threshold") is None:
        # The 98th percentile is a property of the whole image, not of a block.
        # A million pixels fix it to a fraction of a percent and keep the peak memory low.
        params["point_threshold"] = default_point_threshold(to_power(sample_band(src_path, band, max_pixels=1_000_000)))
    # 512 x 512 blocks keep the local filters' float64 window sums in the CPU cache, and the TV and
    # NL-means solvers' work arrays (a dozen float64 per pixel) within the 600 MB budget on two
    # workers; the halo costs 2 % for a 7 x 7 window. TV is not strictly local: its 32-pixel halo
    # leaves seams of at most 0.02 dB.
    block_size = min(block_size, 512)

    def filter_block(values):
        return from_power(despeckle(to_power(values), method, window=window, looks=looks, **params))

    return process_blockwise(
        src_path,
        dst_path,
        filter_block,
        band=band,
        halo=halo(method, window, **params),
        block_size=block_size,
        progress=progress,
        is_cancelled=is_cancelled,
    )
