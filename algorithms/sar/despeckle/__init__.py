"""Speckle filters for SAR intensity images.

All filters take linear intensity (power, not amplitude or dB), return the
same shape and float dtype, and pass no data (NaN) through: NaN pixels stay
NaN and are left out of their neighbours' statistics. Windows are square,
``window`` pixels on a side (odd); at the image edge the nearest pixel is
repeated, as Orfeo ToolBox (ITK's zero-flux Neumann condition) does, so the
block-local filters give the same result blockwise (with a halo of
:func:`halo` pixels) as on the whole array.

References
----------
- Lee, Frost, Gamma MAP, Kuan: the formulas of Orfeo ToolBox 8.1
  (``otb::LeeImageFilter``, ``FrostImageFilter``, ``GammaMAPImageFilter``,
  ``KuanImageFilter``), which this module reproduces (tests compare with
  ``otbcli_Despeckle``). Local variance is unbiased (``n - 1``).
- Refined Lee: J.-S. Lee, "Refined filtering of image noise using local
  statistics", CGIP 15 (1981) 380-389, with the 3 x 3 sub-window layout of
  ESA SNAP's Refined Lee operator for a 7 x 7 window.
- Lee sigma: J.-S. Lee, J.-H. Wen, T. Ainsworth et al., "Improved sigma
  filter for speckle filtering of SAR imagery", IEEE TGRS 47 (2009) 202-213,
  as in SNAP's "Lee Sigma" (point-target detection at the 98th percentile, a
  3 x 3 MMSE prior, the bias-free sigma range).
- TV: 10**(TV(10*log10(x))/10) with scikit-image's ``denoise_tv_bregman``.
- Non-local means: scikit-image's ``denoise_nl_means`` on dB.
"""

import numpy as np

from ...common.blocks import iter_blocks
from ...common.cancel import checkpoint, report
from .adaptive import boxcar, frost, gamma_map, kuan, lee, median
from .db import nlmeans_db, speckle_std_db, tv_db
from .moments import _as_float, check_looks, check_window, local_moments
from .refined import default_point_threshold, lee_sigma, refined_lee, sigma_range

#: Methods of :func:`despeckle`.
METHODS = (
    "boxcar",
    "median",
    "lee",
    "frost",
    "gamma_map",
    "kuan",
    "refined_lee",
    "lee_sigma",
    "tv",
    "nlmeans",
)


# -- dispatch ----------------------------------------------------------------------------------
def halo(method: str, window: int = 7, **params) -> int:
    """Pixels of context ``method`` needs on each side for blockwise == whole-array results.

    TV and non-local means are not strictly local: their halo (32 pixels,
    and the patch reach) makes block seams invisible in practice but not
    bit-identical.
    """
    if method in ("boxcar", "median", "lee", "kuan", "gamma_map", "frost", "refined_lee"):
        return window // 2
    if method == "lee_sigma":
        return window // 2 + params.get("target_window", 3) // 2
    if method == "tv":
        return 32
    if method == "nlmeans":
        return params.get("patch_distance", 6) + params.get("patch_size", 5) // 2 + 8
    raise ValueError(f"method must be one of {METHODS}, got method={method!r}")


def despeckle(intensity: np.ndarray, method: str, *, window: int = 7, looks: float = 1.0, **params) -> np.ndarray:
    """Filter ``intensity`` (linear power) with ``method``; see :data:`METHODS`.

    Extra keyword parameters: ``damping`` (frost), ``sigma``,
    ``point_threshold`` (lee_sigma), ``weight`` (tv), ``h``, ``patch_size``,
    ``patch_distance`` (nlmeans). Unused ones are ignored.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got method={method!r}")
    if method == "boxcar":
        return boxcar(intensity, window)
    if method == "median":
        return median(intensity, window)
    if method in ("lee", "kuan", "gamma_map", "refined_lee"):
        return {"lee": lee, "kuan": kuan, "gamma_map": gamma_map, "refined_lee": refined_lee}[method](
            intensity, window, looks
        )
    if method == "frost":
        return frost(intensity, window, params.get("damping", 0.1))
    if method == "lee_sigma":
        return lee_sigma(
            intensity, window, looks, sigma=params.get("sigma", 0.9), point_threshold=params.get("point_threshold")
        )
    if method == "tv":
        return tv_db(intensity, params.get("weight", 0.5))
    return nlmeans_db(
        intensity,
        params.get("h"),
        looks=looks,
        patch_size=params.get("patch_size", 5),
        patch_distance=params.get("patch_distance", 6),
    )


def despeckle_in_blocks(
    intensity: np.ndarray, method: str, *, window: int = 7, looks: float = 1.0, block: int = 512, **params
) -> np.ndarray:
    """:func:`despeckle` of an in-memory image, ``block`` x ``block`` pixels at a time with the
    method's :func:`halo`: the same result (bit for bit for the local filters) with the
    temporaries of one block instead of a dozen float64 copies of the whole image.
    """
    intensity = _as_float(intensity)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got method={method!r}")
    if method == "lee_sigma" and params.get("point_threshold") is None:
        params["point_threshold"] = default_point_threshold(intensity)  # of the whole image, not of a block
    rows, cols = intensity.shape
    out = np.empty_like(intensity)
    margin = halo(method, window, **params)
    blocks = list(iter_blocks(rows, cols, block_rows=block, block_cols=block, halo=margin))
    for done, b in enumerate(blocks):
        checkpoint()
        report(done / len(blocks))
        filtered = despeckle(intensity[b.read_window], method, window=window, looks=looks, **params)
        out[b.window] = filtered[b.inner]
    return out


__all__ = [
    "METHODS",
    "boxcar",
    "check_looks",
    "check_window",
    "default_point_threshold",
    "despeckle",
    "despeckle_in_blocks",
    "frost",
    "gamma_map",
    "halo",
    "kuan",
    "lee",
    "lee_sigma",
    "local_moments",
    "median",
    "nlmeans_db",
    "refined_lee",
    "sigma_range",
    "speckle_std_db",
    "tv_db",
]
