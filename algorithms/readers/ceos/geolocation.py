"""Geolocation of CEOS products: per-line corner points, GCPs, and the window of a lon/lat extent."""

import os
import struct
from typing import List, Optional, Tuple

import numpy as np

from .leader import PixelLinePolynomial
from .records import DESCRIPTOR_BYTES, CeosError, ImageDescriptor


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
