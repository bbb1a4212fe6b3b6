"""The Python API of SAR Change Toolkit, for notebooks and pipelines outside QGIS.

::

    from sar_change.algorithms import api

    filtered = api.despeckle(intensity, "lee", window=7)          # numpy in, numpy out
    classes = api.change_classes(before, after)                     # dask in, dask out
    api.despeckle_file("scene.tif", "filtered.tif", "lee", scheduler="tcp://10.0.0.5:8786")

Stable: the names in ``__all__`` keep their signatures across minor versions.

**Arrays** (linear intensity, ``float32``; NaN is no data) may be numpy arrays or dask arrays.
A dask array is processed chunk by chunk with ``dask.array.map_overlap``, over the same
block functions and with the same halos as the QGIS algorithms, and the result is a lazy dask
array with the input's chunks. What depends on the whole image (the gain between dates, the
looks, the noise floor, Lee sigma's point threshold) is fitted first on a strided sample of at
most :data:`SAMPLE_PIXELS` pixels (this computes that sample); ``omnibus`` reads the windows
``sarchange:omnibus`` reads, so both give the same rasters.

**Files** (``*_file``): the same blockwise pipelines as the Processing algorithms, GeoTIFF in,
GeoTIFF out. With ``scheduler`` (a dask.distributed address) the blocks run on that cluster;
the workers read the inputs themselves, so the paths must be reachable from them.
"""

import contextlib
from typing import Optional, Sequence

import numpy as np

from .io.cluster import scheduler_scope
from .sar import convert, interferometry
from .sar import despeckle as _despeckle
from .sar.change import auto as change_auto
from .sar.change import omnibus as _omnibus
from .sar.change.shift import halo as shift_halo

#: Most pixels read to fit what depends on the whole image.
SAMPLE_PIXELS = 1_000_000


def _is_dask(array) -> bool:
    return type(array).__module__.startswith("dask.")


def _sample(array, max_pixels: int = SAMPLE_PIXELS) -> np.ndarray:
    """A strided sample of the last two axes (computed when ``array`` is a dask array)."""
    rows, cols = array.shape[-2:]
    step = max(1, int(np.ceil(np.sqrt(rows * cols / max_pixels))))
    sample = array[..., ::step, ::step]
    return np.asarray(sample.compute() if _is_dask(sample) else sample, dtype=np.float32)


def _overlap(func, array, halo: int, dtype, drop_axis0: bool = False):
    """``func`` over ``array`` (2-D, or bands-first 3-D whose first axis is one chunk)."""
    if not _is_dask(array):
        return func(array)
    da = _dask_array()
    if array.ndim == 3 and array.numblocks[0] != 1:
        array = array.rechunk({0: -1})
    depth = {array.ndim - 2: halo, array.ndim - 1: halo}
    depth.update({axis: 0 for axis in range(array.ndim - 2)})
    options = {"drop_axis": 0} if drop_axis0 else {}
    return da.map_overlap(func, array, depth=depth, boundary="none", trim=True, dtype=dtype, **options)


def _dask_array():
    from .common.deps import require

    return require("dask.array")


def to_db(power):
    """Linear power to dB (``10 log10``; NaN where power <= 0). Elementwise: any array."""
    return power.map_blocks(convert.power_to_db, dtype=np.float32) if _is_dask(power) else convert.power_to_db(power)


def to_power(values, scale: str):
    """Values in ``scale`` (``linear``, ``db``, ``amplitude``, ``display``...) to linear power."""
    func = convert.TO_POWER[scale]
    return values.map_blocks(func, dtype=np.float32) if _is_dask(values) else func(values)


def despeckle(intensity, method: str = "lee", *, window: int = 7, looks: float = 1.0, **params):
    """Despeckle a 2-D linear intensity with ``method`` (see :data:`.sar.despeckle.METHODS`).

    Parameters are those of :func:`.sar.despeckle.despeckle`. A dask array is filtered chunk by
    chunk with the method's halo (:func:`.sar.despeckle.halo`): the local filters then equal the
    whole-array result exactly; ``tv``'s 32-pixel halo leaves seams of at most 0.02 dB.
    """
    if method not in _despeckle.METHODS:
        raise ValueError(f"method must be one of {_despeckle.METHODS}, got method={method!r}")
    if method == "lee_sigma" and params.get("point_threshold") is None:
        params["point_threshold"] = _despeckle.default_point_threshold(_sample(intensity))

    def block(values):
        return _despeckle.despeckle(values, method, window=window, looks=looks, **params)

    return _overlap(block, intensity, _despeckle.halo(method, window, **params), np.float32)


def change_classes(
    before,
    after,
    *,
    looks: float = 0.0,
    alpha: float = 0.01,
    min_change_db: float = 2.0,
    noise_floor_db: Optional[float] = None,
    normalise: bool = True,
):
    """Change classes of a pair of linear intensities: 0 none, 1 loss, 2 gain, 255 no data (uint8).

    ``before`` and ``after`` are 2-D, or ``(channels, rows, cols)`` for a joint test (HH and HV),
    on one grid. The model (gain, looks, noise floor, class densities) is fitted on a sample as
    in the QGIS algorithm (:func:`.sar.change.auto.fit_pair_model`), then applied blockwise.
    """
    model = change_auto.fit_pair_model(
        _sample(before),  # fit_pair_model takes 2-D or (channels, rows, cols)
        _sample(after),
        looks=looks,
        alpha=alpha,
        min_change_db=min_change_db,
        noise_floor_db=noise_floor_db,
        normalise=normalise,
    )
    channels = model.channels

    def block(pair):
        return change_auto.classify_pair(model, pair[:channels], pair[channels:], with_pvalue=False)[0]

    if _is_dask(before) or _is_dask(after):
        da = _dask_array()
        pair = da.concatenate([_as_dask_stack(before), _as_dask_stack(after)], axis=0)
    else:
        pair = np.concatenate([change_auto.as_stack(before), change_auto.as_stack(after)])
    return _overlap(block, pair, model.halo, np.uint8, drop_axis0=True)


def _as_dask_stack(values):
    da = _dask_array()
    values = da.asarray(values)
    return values[None] if values.ndim == 2 else values


def _window_sample(array) -> np.ndarray:
    """The stack model's sample of a ``(channels, dates, rows, cols)`` array: whole when small, else
    the windows ``sarchange:omnibus`` reads (stacked vertically; computed when ``array`` is dask)."""
    from .common.blocks import sample_windows
    from .workflows.omnibus import FIT_PIXELS, FIT_WINDOW

    windows = sample_windows(*array.shape[-2:], max_pixels=FIT_PIXELS, side=FIT_WINDOW)
    if windows is None:
        sample, window_rows = array, None
    else:
        join = _dask_array().concatenate if _is_dask(array) else np.concatenate
        sample, window_rows = join([array[..., r, c] for r, c in windows], axis=-2), FIT_WINDOW
    return np.asarray(sample.compute() if _is_dask(sample) else sample, dtype=np.float32), window_rows


def omnibus(
    stack,
    *,
    looks: float = 0.0,
    alpha: float = 0.01,
    min_change_db: float = 2.0,
    noise_floor_db: Optional[float] = None,
    normalise: bool = True,
    shift: int = 1,
    window: int = 0,
):
    """Multi-date change of a ``(dates, rows, cols)`` linear-intensity stack (the omnibus test).

    Returns ``(changes, first, last)``: the number of changes (uint8) and the 0-based index of
    the date of the first and last change (int16, -1 where none). As ``sarchange:omnibus`` does,
    the gains, looks and noise floor are fitted on a sample first, and ``window`` (0, the default:
    means of ~45 looks, 5 x 5 for 4-5-look mosaics; an odd side; 1: single pixels) sets what is
    tested (:func:`.sar.change.omnibus.fit_stack_model`, :func:`.sar.change.omnibus.stack_changes`).
    A ``(channels, dates, rows, cols)`` stack (HH and HV of the same dates), as for
    :func:`change_classes`, is tested jointly, with gains and floor fitted per polarisation.
    ``shift`` (pixels, default 1, as ``SHIFT_TOLERANCE``) is the misregistration tolerated between
    dates (:mod:`.sar.change.shift`). Dask chunks get a halo of ``window // 2`` plus that.
    """
    if stack.ndim not in (3, 4):
        raise ValueError(f"stack must be (dates, rows, cols) or (channels, dates, rows, cols), got shape {stack.shape}")
    if not (isinstance(window, (int, np.integer)) and window >= 0 and (window == 0 or window % 2 == 1)):
        raise ValueError(f"window must be 0 (automatic) or an odd number of pixels, got window={window!r}")
    joint = stack if stack.ndim == 4 else stack[None]
    samples, window_rows = _window_sample(joint)
    model = _omnibus.fit_stack_model(
        samples, normalise=normalise, looks=looks, floor_db=noise_floor_db, window=window, window_rows=window_rows
    )

    def block(values, trim=0):
        result = _omnibus.stack_changes(values, model, alpha=alpha, min_change_db=min_change_db, shift=shift)
        out = np.stack([result.changes.astype(np.int16), result.first, result.last])
        return out[:, trim : out.shape[1] - trim, trim : out.shape[2] - trim]

    if not _is_dask(stack):
        out = block(np.asarray(joint, dtype=np.float32))
        return out[0].astype(np.uint8), out[1], out[2]
    joint = joint.rechunk({0: -1, 1: -1})
    chunks = ((3,),) + joint.chunks[2:]
    depth = model.window // 2 + shift_halo(shift)
    if depth:  # the scene's edges repeat, as the window means and shifted windows do at a block's edge
        joint = _dask_array().overlap.overlap(joint, depth={2: depth, 3: depth}, boundary="nearest")
    out = joint.map_blocks(block, trim=depth, dtype=np.int16, drop_axis=0, chunks=chunks)
    return out[0].astype(np.uint8), out[1], out[2]


def coherence(reference, secondary, window: Sequence[int] = (5, 5)):
    """Coherence (0-1, float32) of two co-registered complex images over a boxcar ``window``."""
    window = interferometry.check_window(window)
    halo = max(window) // 2

    def block(pair):
        return interferometry.coherence(pair[0], pair[1], window)

    if _is_dask(reference) or _is_dask(secondary):
        pair = _dask_array().stack([reference, secondary])
    else:
        pair = np.stack([np.asarray(reference), np.asarray(secondary)])
    return _overlap(block, pair, halo, np.float32, drop_axis0=True)


def interferogram(reference, secondary):
    """Wrapped phase (radians, float32) of ``reference x conj(secondary)``. Elementwise."""
    if _is_dask(reference) or _is_dask(secondary):
        return _dask_array().map_blocks(
            lambda r, s: np.angle(interferometry.interferogram(r, s)).astype(np.float32),
            reference,
            secondary,
            dtype=np.float32,
        )
    return np.angle(interferometry.interferogram(reference, secondary)).astype(np.float32)


@contextlib.contextmanager
def _on(scheduler: Optional[str]):
    if scheduler is None:
        yield
    else:
        with scheduler_scope(scheduler):
            yield


def despeckle_file(src: str, dst: str, method: str = "lee", *, scheduler: Optional[str] = None, **kwargs) -> str:
    """Despeckle a raster file (see :func:`.workflows.despeckle.despeckle_raster` for ``kwargs``)."""
    from .workflows.despeckle import despeckle_raster

    with _on(scheduler):
        return despeckle_raster(src, dst, method, **kwargs)


def change_file(before: str, after: str, dst: str, *, scheduler: Optional[str] = None, **kwargs):
    """Change classes of two raster files (see :func:`.workflows.change.detect_change_rasters`)."""
    from .workflows.change import detect_change_rasters

    with _on(scheduler):
        return detect_change_rasters(before, after, dst, **kwargs)


def omnibus_files(
    paths: Sequence[str], changes: str, first: str, last: str, *, scheduler: Optional[str] = None, **kwargs
):
    """Omnibus change of a stack of raster files (see :func:`.workflows.omnibus.omnibus_rasters`)."""
    from .workflows.omnibus import omnibus_rasters

    with _on(scheduler):
        return omnibus_rasters(paths, changes_path=changes, first_path=first, last_path=last, **kwargs)


def overlay_file(before: str, after: str, dst: str, *, scheduler: Optional[str] = None, **kwargs) -> str:
    """Two-date overlay (before blue, after red) of raster files (see :func:`.workflows.overlay.overlay_rasters`)."""
    from .workflows.overlay import overlay_rasters

    with _on(scheduler):
        return overlay_rasters((before, 1), (after, 1), dst, **kwargs)


__all__ = [
    "SAMPLE_PIXELS",
    "change_classes",
    "change_file",
    "coherence",
    "despeckle",
    "despeckle_file",
    "interferogram",
    "omnibus",
    "omnibus_files",
    "overlay_file",
    "scheduler_scope",
    "to_db",
    "to_power",
]
