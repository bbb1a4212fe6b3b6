"""Elevation change from SAR amplitude by shape from shading.

Arrays are ``(rows, cols)`` = (azimuth, range) with range increasing along columns (flip the
columns of a scene whose range runs right to left before calling, and flip the results back).
Slopes are dimensionless (metres per metre); elevations and changes are metres.

Two models:

``seed_lines`` (:func:`seed_line_dems`), the seed notebook's MoSARt method: along each range
line, the elevation is ``a * cumsum(amplitude) + b * x + c``, with ``a, b, c`` fitted by weighted
least squares to the reference DEM on the same line. It assumes the brightness linear in the
range slope and uses no neighbouring line.

``surface`` (:func:`change_surface`), the default: the elevation change of each date is one
2-D surface fitted to the log-ratio of that date's intensity to the reference date's. The
brightness is a non-linear function of the local incidence angle, fitted on the reference date
against the reference DEM (:class:`BackscatterCurve`), so the change of each pixel's slope in
range *and* azimuth moves its brightness along that curve; the albedo of the ground, unknown,
cancels in the ratio; a smoothness prior couples neighbouring lines; layover, shadow and water
carry no weight; Gauss-Newton iterations follow the non-linear curve. Being a linear least
squares problem at each iteration, it also gives the standard error of every pixel's change
(:func:`change_surface`, ``standard_error``).

- :mod:`.geometry`: slopes, local incidence, layover/shadow and flat-ground masks.
- :mod:`.seed`: the seed notebook's line model.
- :mod:`.curve`: the backscatter curve (binned medians or neighbouring pixels) and the choice.
- :mod:`.surface`: the default 2-D model and its standard errors.
"""

from .curve import (
    CURVE_MIN_SPAN_RATIO,
    BackscatterCurve,
    CurveChoice,
    choose_curve,
    fit_curve,
    fit_curve_pairs,
)
from .geometry import (
    FLAT_SLOPE_DEG,
    check_angle,
    check_spacing,
    flat_ground,
    layover_shadow,
    local_incidence_cos,
    slope_deg,
    slopes,
)
from .seed import seed_change, seed_line_dems, seed_weights
from .surface import (
    DETREND_PX,
    ITERATIONS,
    MODELS,
    MULTILOOK,
    MULTILOOK_UNDER_LOOKS,
    SE_DRAWS,
    SMOOTHNESS,
    SurfaceModel,
    change_surface,
    fit_surface_model,
    gains_and_looks,
    surface_multilook,
    valid_pixels,
)

__all__ = [
    "BackscatterCurve",
    "CURVE_MIN_SPAN_RATIO",
    "CurveChoice",
    "DETREND_PX",
    "FLAT_SLOPE_DEG",
    "ITERATIONS",
    "MODELS",
    "MULTILOOK",
    "MULTILOOK_UNDER_LOOKS",
    "SE_DRAWS",
    "SMOOTHNESS",
    "SurfaceModel",
    "change_surface",
    "check_angle",
    "check_spacing",
    "choose_curve",
    "fit_curve",
    "fit_curve_pairs",
    "fit_surface_model",
    "flat_ground",
    "gains_and_looks",
    "layover_shadow",
    "local_incidence_cos",
    "seed_change",
    "seed_line_dems",
    "seed_weights",
    "slope_deg",
    "slopes",
    "surface_multilook",
    "valid_pixels",
]
