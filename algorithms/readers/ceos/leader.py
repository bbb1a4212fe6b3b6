"""The CEOS leader file: data set summary, calibration factor, pixel/line geolocation polynomial."""

import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from .records import DESCRIPTOR_BYTES, CeosError, _ascii, _number, _read_file, walk_records

LEADER_DESCRIPTOR_CODE = b"\x0b\xc0\x12\x12"
#: Facility-related data record 5: byte offsets of its 20-character coefficient fields.
_POLY_FORWARD, _POLY_ORIGIN, _POLY_INVERSE, _POLY_ORIGIN_LATLON = 1024, 2024, 2064, 3064


@dataclass
class PixelLinePolynomial:
    """The 4th-order polynomials of the LED facility-related data record 5 (JAXA).

    ``lat = sum_ij lat_coef[i, j] * (p - p0)**(4 - i) * (l - l0)**(4 - j)`` and the same for
    ``lon``, with ``(p, l)`` the 0-based pixel (column) and line (row) of a pixel centre and
    ``(p0, l0) = origin``; the inverse maps ``(lat - lat0, lon - lon0)`` to pixel and line with
    ``pixel_coef`` and ``line_coef``. Coefficients are 5 x 5, highest power first (the record's
    order of 25 values). Checked on a real product against its map projection record's corners
    (to 1e-7 degree) and by the inverse (to 1e-3 pixel).
    """

    lat_coef: np.ndarray
    lon_coef: np.ndarray
    origin: Tuple[float, float]  # (pixel, line)
    pixel_coef: np.ndarray
    line_coef: np.ndarray
    origin_latlon: Tuple[float, float]  # (lat, lon), degrees

    @staticmethod
    def _evaluate(coef, x, y):
        # polyval2d sums c[i, j] x**i y**j: the record's highest-power-first order, reversed.
        return np.polynomial.polynomial.polyval2d(np.asarray(x, float), np.asarray(y, float), coef[::-1, ::-1])

    def to_latlon(self, pixel, line):
        """(lat, lon) in degrees of 0-based pixel centres (``pixel`` column, ``line`` row)."""
        dp, dl = np.asarray(pixel, float) - self.origin[0], np.asarray(line, float) - self.origin[1]
        return self._evaluate(self.lat_coef, dp, dl), self._evaluate(self.lon_coef, dp, dl)

    def to_image(self, lat, lon):
        """(pixel, line), 0-based and fractional, of points given in degrees."""
        da, do = np.asarray(lat, float) - self.origin_latlon[0], np.asarray(lon, float) - self.origin_latlon[1]
        return self._evaluate(self.pixel_coef, da, do), self._evaluate(self.line_coef, da, do)


def read_pixel_line_polynomial(record: bytes) -> Optional[PixelLinePolynomial]:
    """Parse facility-related data record 5; None when its polynomial fields are blank or zero.

    Layout (JAXA format description, also used by sarpy): after the 16-byte record head, 2 x 10
    map-projection coefficients (Level 1.5), calibration and loss-line fields, then from byte
    1024: 25 latitude and 25 longitude coefficients, the origin pixel and line, 25 pixel and 25
    line coefficients of the inverse, and the origin latitude and longitude, each an ASCII
    number in 20 characters.
    """
    if len(record) < _POLY_ORIGIN_LATLON + 40:
        raise CeosError(f"facility record 5 has {len(record)} bytes, fewer than its polynomial fields need")

    def numbers(start, count):
        values = []
        for k in range(count):
            text = _ascii(record, start + 20 * k, start + 20 * (k + 1))
            try:
                values.append(float(text) if text else 0.0)
            except ValueError as exc:
                raise CeosError(f"facility record 5: not a number at byte {start + 20 * k}: {text!r}") from exc
        return np.asarray(values)

    forward = numbers(_POLY_FORWARD, 50)
    if not np.any(forward):
        return None
    inverse = numbers(_POLY_INVERSE, 50)
    origin = numbers(_POLY_ORIGIN, 2)
    origin_latlon = numbers(_POLY_ORIGIN_LATLON, 2)
    if not all(np.all(np.isfinite(v)) for v in (forward, inverse, origin, origin_latlon)):
        raise CeosError("facility record 5: the pixel/line polynomial has NaN or infinite coefficients")
    return PixelLinePolynomial(
        lat_coef=forward[:25].reshape(5, 5),
        lon_coef=forward[25:].reshape(5, 5),
        origin=(float(origin[0]), float(origin[1])),
        pixel_coef=inverse[:25].reshape(5, 5),
        line_coef=inverse[25:].reshape(5, 5),
        origin_latlon=(float(origin_latlon[0]), float(origin_latlon[1])),
    )


@dataclass
class LeaderInfo:
    """What the LED file says about the scene."""

    sensor: str
    scene_id: str
    centre_time: str
    wavelength_m: float
    orbit_direction: str
    pixel_spacing_m: Tuple[float, float]  # (range, azimuth)
    looks: Tuple[float, float]  # (range, azimuth)
    calibration_db: Optional[float]
    corners: Optional[Dict[str, float]] = None
    facility_records: List[bytes] = field(default_factory=list, repr=False)
    summary_lines: Optional[int] = None
    summary_pixels: Optional[int] = None
    polynomial: Optional[PixelLinePolynomial] = None  # from facility record 5, when present


def read_leader(path: str) -> LeaderInfo:
    """Walk the records of a ``LED-`` file and read the data set summary, map projection (Level
    1.5), radiometric and facility-related records."""
    data = _read_file(path, "leader file")
    records = walk_records(data)
    if not records:
        raise CeosError(f"{os.path.basename(path)} is empty, not an ALOS CEOS leader file")
    descriptor = records[0][1]
    if (
        len(descriptor) != DESCRIPTOR_BYTES
        or descriptor[4:8] != LEADER_DESCRIPTOR_CODE
        or descriptor[48:51]
        not in (
            b"AL1",
            b"AL2",
        )
    ):
        raise CeosError(f"{os.path.basename(path)} is not an ALOS CEOS leader file")
    counts = {}
    for name, start in (("dss", 180), ("mpd", 192), ("ppd", 204), ("adr", 216), ("rdr", 228), ("dqs", 252)):
        counts[name] = _number(descriptor, start, start + 6, int, f"{name} count")
        if counts[name] < 0:
            raise CeosError(f"{os.path.basename(path)}: negative {name} record count {counts[name]}")
    if 1 + sum(counts.values()) > len(records):
        raise CeosError(
            f"{os.path.basename(path)}: the descriptor counts {sum(counts.values())} records, "
            f"the file holds {len(records) - 1}"
        )
    index = 1
    found = {}
    for name in ("dss", "mpd", "ppd", "adr", "rdr", "dqs"):
        found[name] = [r for _, r in records[index : index + counts[name]]]
        index += counts[name]
    facility = [r for _, r in records[index:]]
    if not found["dss"]:
        raise CeosError(f"{os.path.basename(path)} has no data set summary record")
    dss = found["dss"][0]
    corners = None
    if found["mpd"]:
        mpd = found["mpd"][0]
        values = [_number(mpd, a, a + 16, float, "corner") for a in range(1072, 1200, 16)]
        lats, lons = values[0::2], values[1::2]
        corners = {"lon_min": min(lons), "lon_max": max(lons), "lat_min": min(lats), "lat_max": max(lats)}
    calibration = _number(found["rdr"][0], 20, 36, float, "calibration factor") if found["rdr"] else None
    if calibration is not None and not -200.0 < calibration < 100.0:
        raise CeosError(f"{os.path.basename(path)}: calibration factor {calibration} dB is not plausible")
    polynomial = None
    for record in facility:  # facility records carry their own sequence number, ASCII, bytes 12-16
        if _optional_int(record, 12, 16) == 5:
            polynomial = read_pixel_line_polynomial(record)
    direction = _ascii(dss, 1534, 1542)
    wavelength = _number(dss, 500, 516, float, "wavelength")
    if not 0.005 < wavelength < 2.0:
        raise CeosError(f"{os.path.basename(path)}: radar wavelength {wavelength} m is not plausible")
    looks = (_number(dss, 1190, 1206, float, "range looks"), _number(dss, 1174, 1190, float, "azimuth looks"))
    if not all(0 < v < 10000 for v in looks):
        raise CeosError(f"{os.path.basename(path)}: looks {looks} are not plausible")
    return LeaderInfo(
        sensor={b"AL1": "PALSAR", b"AL2": "PALSAR-2"}[descriptor[48:51]],
        scene_id=_ascii(dss, 20, 52),
        centre_time=_ascii(dss, 68, 100),
        wavelength_m=wavelength,
        orbit_direction={"A": "ascending", "D": "descending"}.get(direction[:1], direction),
        pixel_spacing_m=(
            _number(dss, 1702, 1718, float, "range spacing"),
            _number(dss, 1686, 1702, float, "azimuth spacing"),
        ),
        looks=looks,
        calibration_db=calibration,
        corners=corners,
        facility_records=facility,
        summary_lines=_optional_int(dss, 324, 332),
        summary_pixels=_optional_int(dss, 332, 340),
        polynomial=polynomial,
    )


def _optional_int(record, start, stop):
    try:
        return int(_ascii(record, start, stop))
    except ValueError:
        return None


def read_summary(path: str) -> Dict[str, str]:
    """The ``key="value"`` lines of a product's summary.txt."""
    out = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            match = re.match(r'\s*([^=\s]+)\s*=\s*"(.*)"\s*$', line)
            if match:
                out[match.group(1)] = match.group(2)
    return out
