"""JAXA CEOS products of ALOS-2 PALSAR-2 (Level 1.1 SLC and Level 1.5 headers), read without GDAL.

File layout (big-endian): every record starts with a 12-byte header whose bytes 8-11 are the
record length. The IMG file is a 720-byte file descriptor followed by one record per line; a Level
1.1 line is a 544-byte prefix and ``pixels`` complex float32 samples (8 bytes, I then Q). The LED
file holds a file descriptor (record counts and lengths), the data set summary, the map projection
record (Level 1.5 only), platform position, attitude, radiometric, data quality and facility
records. Field offsets follow the JAXA "ALOS-2/PALSAR-2 Level 1.1/1.5/2.1/3.1 CEOS SAR Product
Format Description" (as also used by pyroSAR): bytes are counted from the record start, 0-based.

Pixels are read through a memory map: a window reads only its lines, so a 10 GB product crops
without being loaded.
"""

import os
import re
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

DESCRIPTOR_BYTES = 720
L11_PREFIX_BYTES = 544
CALIBRATION_OFFSET_DB = 32.0  # sigma0 = 10 log10(I^2 + Q^2) + CF - 32.0 (JAXA, Level 1.1)


#: Record type codes (bytes 4-7) of the IMG and LED file descriptors.
IMAGE_DESCRIPTOR_CODE = b"\x32\xc0\x12\x12"
LEADER_DESCRIPTOR_CODE = b"\x0b\xc0\x12\x12"


class CeosError(ValueError):
    """The file is not a readable CEOS product (wrong type, truncated, corrupt)."""


def _ascii(record: bytes, start: int, stop: int) -> str:
    return record[start:stop].decode("ascii", errors="replace").strip()


def _number(record: bytes, start: int, stop: int, kind=float, name="field"):
    """The ASCII number of ``record[start:stop]``; a :class:`CeosError` for text, NaN or infinity."""
    text = _ascii(record, start, stop)
    try:
        value = kind(text)
    except (ValueError, OverflowError) as exc:
        raise CeosError(f"{name} at bytes {start}-{stop} is not a number: {text!r}") from exc
    if kind is float and not np.isfinite(value):
        raise CeosError(f"{name} at bytes {start}-{stop} is not a finite number: {text!r}")
    return value


def _read_file(path: str, what: str) -> bytes:
    if not os.path.isfile(path):
        raise CeosError(f"{what} {os.path.basename(path)!r} is not a file")
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CeosError(f"cannot read {what} {os.path.basename(path)}: {exc.strerror or exc}") from None


def walk_records(data: bytes) -> List[Tuple[int, bytes]]:
    """Split a CEOS file into records by their length fields; returns (offset, record) pairs."""
    records = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < 12:
            raise CeosError(f"truncated record header at byte {offset}")
        length = struct.unpack(">I", data[offset + 8 : offset + 12])[0]
        if length < 12 or offset + length > len(data):
            raise CeosError(f"record at byte {offset} claims {length} bytes; the file has {len(data) - offset} left")
        records.append((offset, data[offset : offset + length]))
        offset += length
    return records


@dataclass
class ImageDescriptor:
    """The IMG file descriptor: lines, pixels per line, prefix bytes, sample type."""

    path: str
    lines: int
    pixels: int
    record_bytes: int
    prefix_bytes: int
    bits_per_sample: int
    sample_format: str  # e.g. 'C*8' (complex float32) or 'IU2' (uint16)

    @property
    def complex(self) -> bool:
        return self.sample_format.startswith("C")


def read_image_descriptor(path: str, *, check_size: bool = True) -> ImageDescriptor:
    """Parse the 720-byte file descriptor of an ``IMG-`` file.

    With ``check_size`` (the default) the file must be as long as its lines claim, so a corrupt
    header fails here, before any output is made; ``check_size=False`` reads the header of a
    headers-only extract."""
    if not os.path.isfile(path):
        raise CeosError(f"image file {os.path.basename(path)!r} is not a file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(DESCRIPTOR_BYTES)
    except OSError as exc:
        raise CeosError(f"cannot read {os.path.basename(path)}: {exc.strerror or exc}") from None
    if len(head) < DESCRIPTOR_BYTES:
        raise CeosError(f"{os.path.basename(path)}: {len(head)} bytes, shorter than a CEOS file descriptor (720)")
    if struct.unpack(">I", head[8:12])[0] != DESCRIPTOR_BYTES or head[4:8] != IMAGE_DESCRIPTOR_CODE:
        raise CeosError(f"{os.path.basename(path)} is not a CEOS image file (no 720-byte file descriptor)")
    sample_format = _ascii(head, 428, 432)
    descriptor = ImageDescriptor(
        path=path,
        lines=_number(head, 236, 244, int, "lines"),
        pixels=_number(head, 248, 256, int, "pixels"),
        record_bytes=_number(head, 186, 192, int, "record length"),
        prefix_bytes=_number(head, 276, 280, int, "prefix bytes"),
        bits_per_sample=_number(head, 216, 220, int, "bits per sample"),
        sample_format=sample_format,
    )
    name = os.path.basename(path)
    if descriptor.lines < 1 or descriptor.pixels < 1:
        raise CeosError(f"{name}: the descriptor claims {descriptor.lines} lines of {descriptor.pixels} pixels")
    if descriptor.prefix_bytes < 0 or descriptor.record_bytes < 12:
        raise CeosError(
            f"{name}: impossible line layout (prefix {descriptor.prefix_bytes} bytes, "
            f"record {descriptor.record_bytes} bytes)"
        )
    if not descriptor.complex and descriptor.bits_per_sample not in (8, 16, 32, 64):
        raise CeosError(f"{name}: {descriptor.bits_per_sample} bits per sample is not a CEOS sample size")
    sample_bytes = 8 if descriptor.complex else descriptor.bits_per_sample // 8
    if descriptor.prefix_bytes + descriptor.pixels * sample_bytes > descriptor.record_bytes:
        raise CeosError(f"{name}: {descriptor.pixels} pixels do not fit a {descriptor.record_bytes}-byte line")
    # every size is checked against the file before anything is read or written
    expected = DESCRIPTOR_BYTES + descriptor.lines * descriptor.record_bytes
    actual = os.path.getsize(path)
    if check_size and actual < expected:
        raise CeosError(
            f"{name} is truncated or its header is corrupt: {actual} bytes, but "
            f"{descriptor.lines} lines of {descriptor.record_bytes} bytes need {expected}"
        )
    return descriptor


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


#: Facility-related data record 5: byte offsets of its 20-character coefficient fields.
_POLY_FORWARD, _POLY_ORIGIN, _POLY_INVERSE, _POLY_ORIGIN_LATLON = 1024, 2024, 2064, 3064


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


@dataclass
class Product:
    """A CEOS product folder: its image files by polarisation, leader, summary and level."""

    folder: str
    images: Dict[str, str]
    leader: str
    summary: Optional[str]
    level: str

    @property
    def polarisations(self) -> List[str]:
        return sorted(self.images)


def find_product(path: str) -> Product:
    """Locate a product from its folder, an ``IMG-`` file or its ``LED-`` file."""
    if not os.path.exists(path):
        raise CeosError(f"CEOS product not found: {path!r}")
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    names = os.listdir(folder)
    leaders = sorted(n for n in names if n.startswith("LED-") and os.path.isfile(os.path.join(folder, n)))
    if not leaders:
        raise CeosError(f"no LED- leader file beside {path!r}: not a CEOS product folder")
    leader = leaders[0]
    suffix = leader[4:]
    images = {}
    for name in names:
        match = re.match(r"IMG-([HV]{2})-(.+)$", name)
        if match and match.group(2) == suffix and os.path.isfile(os.path.join(folder, name)):
            images[match.group(1)] = os.path.join(folder, name)
    if not images:
        raise CeosError(f"no IMG- file matching {leader} in {folder!r}")
    if os.path.isfile(path) and os.path.basename(path).startswith("IMG-"):
        match = re.match(r"IMG-([HV]{2})-", os.path.basename(path))
        if match is None:
            raise CeosError(f"{os.path.basename(path)}: an IMG- file name names its polarisation (IMG-HH-...)")
        images = {match.group(1): os.path.abspath(path)}
    level = re.search(r"(1\.0|1\.1|1\.5|2\.1|3\.1)", suffix)
    summary = os.path.join(folder, "summary.txt") if "summary.txt" in names else None
    return Product(folder, images, os.path.join(folder, leader), summary, level.group(1) if level else "")


# -- pixels ------------------------------------------------------------------------------------
def read_slc_window(descriptor: ImageDescriptor, rows: slice = slice(None), cols: slice = slice(None)) -> np.ndarray:
    """Read a window of a Level 1.1 (complex float32) image through a memory map, as complex64."""
    if not descriptor.complex:
        raise CeosError(
            f"{os.path.basename(descriptor.path)} is not a Level 1.1 complex image "
            f"(sample format {descriptor.sample_format!r})"
        )
    expected = DESCRIPTOR_BYTES + descriptor.lines * descriptor.record_bytes
    actual = os.path.getsize(descriptor.path)
    if actual < expected:
        raise CeosError(
            f"{os.path.basename(descriptor.path)} is truncated: {actual} bytes, "
            f"{descriptor.lines} lines need {expected}"
        )
    r0, r1, _ = rows.indices(descriptor.lines)
    c0, c1, _ = cols.indices(descriptor.pixels)
    if r1 <= r0 or c1 <= c0:
        raise CeosError(
            f"empty window rows {r0}:{r1}, cols {c0}:{c1} of a {descriptor.lines} x {descriptor.pixels} image"
        )
    lines = np.memmap(
        descriptor.path,
        dtype=np.uint8,
        mode="r",
        offset=DESCRIPTOR_BYTES,
        shape=(descriptor.lines, descriptor.record_bytes),
    )
    start = descriptor.prefix_bytes + 8 * c0
    block = np.ascontiguousarray(lines[r0:r1, start : start + 8 * (c1 - c0)])
    return block.view(">c8").astype(np.complex64)


def calibrated_sigma0_db(slc: np.ndarray, calibration_db: float, looks: Tuple[int, int] = (1, 1)) -> np.ndarray:
    """sigma0 in dB: ``10 log10(<I^2 + Q^2>) + CF - 32.0``, averaged over ``looks`` (azimuth, range)."""
    samples = np.asarray(slc)
    # float64 throughout: |3e38 + 3e38j|^2 overflows float32 on damaged samples
    power = samples.real.astype(np.float64) ** 2 + samples.imag.astype(np.float64) ** 2
    la, lr = looks
    if la < 1 or lr < 1:
        raise ValueError(f"looks must be >= 1, got looks={looks!r}")
    if la > 1 or lr > 1:
        rows, cols = power.shape[0] // la * la, power.shape[1] // lr * lr
        power = power[:rows, :cols].reshape(rows // la, la, cols // lr, lr).mean(axis=(1, 3))
    with np.errstate(divide="ignore", invalid="ignore"):
        db = 10 * np.log10(power) + calibration_db - CALIBRATION_OFFSET_DB
    return np.where(power > 0, db, np.nan).astype(np.float32)


def line_geolocation(descriptor: ImageDescriptor, line: int) -> List[Tuple[float, float, float]]:
    """(pixel, lat, lon) of the first, middle and last pixel of ``line``, from its record prefix.

    Level 1.1 signal data records carry these at bytes 192-216 (latitudes then longitudes, in
    millionths of a degree).
    """
    if not 0 <= line < descriptor.lines:
        raise CeosError(f"line {line} outside 0..{descriptor.lines - 1}")
    if descriptor.record_bytes < 216:
        return []  # lines too short to carry a geolocation
    with open(descriptor.path, "rb") as handle:
        handle.seek(DESCRIPTOR_BYTES + line * descriptor.record_bytes + 192)
        raw = handle.read(24)
    if len(raw) < 24:
        raise CeosError(f"{os.path.basename(descriptor.path)} is truncated at line {line}")
    values = struct.unpack(">6i", raw)
    lats, lons = [v / 1e6 for v in values[:3]], [v / 1e6 for v in values[3:]]
    pixels = [0.0, (descriptor.pixels - 1) / 2, descriptor.pixels - 1.0]
    return list(zip(pixels, lats, lons))


def gcps(
    descriptor: ImageDescriptor,
    count: int = 11,
    polynomial: Optional[PixelLinePolynomial] = None,
    window: Optional[Tuple[slice, slice]] = None,
) -> List[Tuple[float, float, float, float]]:
    """Ground control points ``(col, row, lon, lat)`` in full-image pixel coordinates (corner-based).

    With the LED ``polynomial``: a ``count`` x ``count`` grid over ``window`` (rows, cols; the
    whole image by default). Without it: the first, middle and last pixel of ``count`` evenly
    spaced lines, from their line records.
    """
    if polynomial is not None:
        rows, cols = window or (slice(0, descriptor.lines), slice(0, descriptor.pixels))
        r = np.linspace(rows.start, rows.stop - 1, min(count, rows.stop - rows.start))
        c = np.linspace(cols.start, cols.stop - 1, min(count, cols.stop - cols.start))
        cc, rr = np.meshgrid(c, r)
        lat, lon = polynomial.to_latlon(cc, rr)
        if not (np.all(np.isfinite(lat)) and np.all(np.abs(lat) <= 90) and np.all(np.isfinite(lon))):
            raise CeosError("the LED pixel/line polynomial gives positions off the Earth; the leader is corrupt")
        return [(x + 0.5, y + 0.5, o, a) for x, y, o, a in zip(cc.ravel(), rr.ravel(), lon.ravel(), lat.ravel())]
    points = []
    for line in np.linspace(0, descriptor.lines - 1, min(count, descriptor.lines)).astype(int):
        for pixel, lat, lon in line_geolocation(descriptor, int(line)):
            if (lat or lon) and abs(lat) <= 90 and abs(lon) <= 360:
                points.append((pixel + 0.5, float(line) + 0.5, lon, lat))
    return points


def geolocation_model(descriptor: ImageDescriptor, samples: int = 64, polynomial=None):
    """A map from (lon, lat) degrees to (row, col) of the image.

    With the LED facility record's ``polynomial`` (:class:`PixelLinePolynomial`) that is its
    inverse. Without it, a second-order polynomial in (lon, lat) per image coordinate is fitted
    by least squares to the first, middle and last pixel of ``samples`` line records, which
    locates a window to a few pixels.
    """
    if polynomial is not None:

        def from_polynomial(lon, lat):
            pixel, line = polynomial.to_image(lat, lon)
            return line, pixel

        return from_polynomial
    points = []
    for line in np.linspace(0, descriptor.lines - 1, min(samples, descriptor.lines)).astype(int):
        for pixel, lat, lon in line_geolocation(descriptor, int(line)):
            if (lat or lon) and abs(lat) <= 90 and abs(lon) <= 360:
                points.append((float(line), pixel, lon, lat))
    if len(points) < 6:
        raise CeosError(f"{os.path.basename(descriptor.path)} carries no line geolocation to crop with")
    points = np.asarray(points)
    lon0, lat0 = points[:, 2].mean(), points[:, 3].mean()

    def design(lon, lat):
        x, y = np.asarray(lon) - lon0, np.asarray(lat) - lat0
        return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)

    a = design(points[:, 2], points[:, 3])
    row_coef = np.linalg.lstsq(a, points[:, 0], rcond=None)[0]
    col_coef = np.linalg.lstsq(a, points[:, 1], rcond=None)[0]

    def to_image(lon, lat):
        d = design(lon, lat)
        return d @ row_coef, d @ col_coef

    return to_image


def window_for_extent(
    descriptor: ImageDescriptor, lon_min, lat_min, lon_max, lat_max, *, margin: int = 2, polynomial=None
):
    """(rows slice, cols slice) of the image covering a lon/lat box (degrees), clipped to the scene.

    The box's outline is mapped into the image through :func:`geolocation_model` (the LED
    ``polynomial`` when given). Raises :class:`CeosError` when the box misses the scene.
    """
    if not (lon_min < lon_max and lat_min < lat_max):
        raise CeosError(f"empty extent: lon {lon_min}..{lon_max}, lat {lat_min}..{lat_max}")
    to_image = geolocation_model(descriptor, polynomial=polynomial)
    t = np.linspace(0, 1, 9)
    lons = np.concatenate(
        [lon_min + (lon_max - lon_min) * t, np.full(9, lon_max), lon_max - (lon_max - lon_min) * t, np.full(9, lon_min)]
    )
    lats = np.concatenate(
        [np.full(9, lat_min), lat_min + (lat_max - lat_min) * t, np.full(9, lat_max), lat_max - (lat_max - lat_min) * t]
    )
    rows, cols = (np.round(v, 6) for v in to_image(lons, lats))  # a box edge on a pixel centre stays there
    r0, r1 = int(np.floor(rows.min())) - margin, int(np.ceil(rows.max())) + margin + 1
    c0, c1 = int(np.floor(cols.min())) - margin, int(np.ceil(cols.max())) + margin + 1
    r0, r1 = max(r0, 0), min(r1, descriptor.lines)
    c0, c1 = max(c0, 0), min(c1, descriptor.pixels)
    if r0 >= r1 or c0 >= c1:
        raise CeosError(
            f"the extent lon {lon_min:.4f}..{lon_max:.4f}, lat {lat_min:.4f}..{lat_max:.4f} is outside the scene"
        )
    return slice(r0, r1), slice(c0, c1)
