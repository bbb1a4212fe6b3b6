"""Conversions between linear power, amplitude and decibels."""

import numpy as np


def _float_like(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype in (np.float32, np.float64):
        return values
    return values.astype(np.float32)


def power_to_db(power: np.ndarray) -> np.ndarray:
    """Convert linear power to decibels, ``10 * log10(power)``.

    Parameters
    ----------
    power : ndarray
        Linear power (e.g. sigma0 or gamma0, not amplitude). NaN marks no data.

    Returns
    -------
    ndarray
        Power in dB, float32 unless the input is float64. Zero, negative and
        NaN powers have no logarithm: they become NaN (no data), never -inf.
    """
    power = _float_like(power)
    out = np.full(power.shape, np.nan, dtype=power.dtype)
    valid = power > 0  # False for NaN too
    np.log10(power, out=out, where=valid)
    out *= 10
    return out


def db_to_power(db: np.ndarray) -> np.ndarray:
    """Convert decibels to linear power, ``10 ** (db / 10)``.

    Parameters
    ----------
    db : ndarray
        Values in dB. NaN marks no data and is passed through.

    Returns
    -------
    ndarray
        Linear power, float32 unless the input is float64.
    """
    db = _float_like(db)
    return np.power(db.dtype.type(10), db / 10, dtype=db.dtype)


def amplitude_to_power(amplitude: np.ndarray) -> np.ndarray:
    """Convert amplitude (magnitude, ``|s|``) to linear power ``|s|**2``."""
    amplitude = _float_like(amplitude)
    return amplitude * amplitude


def palsar_dn_to_power(dn: np.ndarray) -> np.ndarray:
    """JAXA PALSAR/PALSAR-2 mosaic digital numbers to linear gamma0: ``10 ** ((10 log10(DN**2) - 83) / 10)``.

    DN 0 is no data (NaN).
    """
    dn = _float_like(dn)
    power = dn * dn * dn.dtype.type(10.0**-8.3)
    return np.where(dn > 0, power, np.nan).astype(dn.dtype, copy=False)


def display_to_power(levels: np.ndarray) -> np.ndarray:
    """Display-scaled amplitude (8-bit grey levels, as distributed images are) to relative power.

    A grey level is taken as proportional to amplitude, so power is its square; level 0 (the
    darkest bin, not "no signal") becomes half a level, ``0.25``, so that a dark pixel keeps a
    finite log-ratio. The absolute scale is unknown (a gain between dates is removed by
    normalisation). No data is what the raster declares.
    """
    levels = _float_like(levels)
    half = levels.dtype.type(0.5)
    clipped = np.maximum(levels, half)
    return np.where(np.isfinite(levels), clipped * clipped, np.nan).astype(levels.dtype, copy=False)


#: Input scales an algorithm can accept, each with its conversion to linear power.
TO_POWER = {
    "linear": lambda x: _float_like(x),
    "db": db_to_power,
    "amplitude": amplitude_to_power,
    "display": display_to_power,
    "palsar_dn": palsar_dn_to_power,
}
#: Above this share of negative values an image is not linear power or amplitude (a few negatives
#: come from noise subtraction; dB images are mostly negative).
MAX_NEGATIVE_FRACTION = 0.05
#: The input scales offered to users: ``auto`` first (see :func:`resolve_scale`).
INPUT_SCALES = ("auto",) + tuple(TO_POWER)


def resolve_scale(scale: str, dtype, sample: np.ndarray, name: str = "the raster") -> str:
    """The input scale ``auto`` stands for, from the raster's data type and a sample of its values.

    Rule: a Byte raster is display-scaled amplitude
    (``display``); values with negatives are ``db``; anything else is ``linear`` power.
    Another ``scale`` is returned after checking it against the sample.

    Raises
    ------
    ValueError
        When the sample has no valid pixel, when a non-dB scale has no positive pixel (an all-zero
        image has no backscatter to work on), or when ``linear``/``amplitude`` is given for values
        of which more than :data:`MAX_NEGATIVE_FRACTION` are negative (dB taken for linear).
    """
    if scale != "auto" and scale not in TO_POWER:
        raise ValueError(f"input scale must be one of {INPUT_SCALES}, got input_scale={scale!r}")
    values = np.asarray(sample)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError(f"{name} has no valid pixel (all nodata or NaN): nothing to work on")
    chosen = scale
    if scale == "auto":
        if np.dtype(dtype) == np.uint8:
            chosen = "display"
        else:
            chosen = "db" if (finite < 0).any() else "linear"
    if chosen != "db":
        if not (finite > 0).any():
            raise ValueError(
                f"{name} has no positive pixel (all zero or negative), so no backscatter on "
                f"input_scale={chosen!r}; is it a mask, or dB (input_scale='db')?"
            )
        negative = float(np.mean(finite < 0))
        if negative > MAX_NEGATIVE_FRACTION:
            raise ValueError(
                f"{name}: {100 * negative:.0f} % of the pixels are negative, which linear power and amplitude "
                f"never are; the values look like dB: use input_scale='db' or 'auto', not {chosen!r}"
            )
    return chosen


def to_power(values: np.ndarray, scale: str) -> np.ndarray:
    """Bring ``values`` given on ``scale`` (``linear``, ``db``, ``amplitude``) to linear power."""
    if scale not in TO_POWER:
        raise ValueError(f"scale must be one of {sorted(TO_POWER)}, got scale={scale!r}")
    return TO_POWER[scale](values)


#: From linear power back to each input scale of :data:`TO_POWER`.
FROM_POWER = {
    "linear": lambda p: p,
    "display": lambda p: np.sqrt(np.maximum(p, 0)),
    "db": power_to_db,
    "amplitude": lambda p: np.sqrt(np.maximum(p, 0)),
    "palsar_dn": lambda p: np.sqrt(np.maximum(p, 0) / 10.0**-8.3),
}
