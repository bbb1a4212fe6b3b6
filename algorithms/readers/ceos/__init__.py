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

- :mod:`.records`: records, fields and the image file descriptor.
- :mod:`.leader`: the leader file (summary, radiometry, the pixel/line polynomial).
- :mod:`.image`: product discovery, pixel windows and calibration to sigma nought.
- :mod:`.geolocation`: ground control points and windows for a geographic extent.
"""

from .geolocation import gcps, geolocation_model, line_geolocation, window_for_extent
from .image import CALIBRATION_OFFSET_DB, Product, calibrated_sigma0_db, find_product, read_slc_window
from .leader import (
    LEADER_DESCRIPTOR_CODE,
    LeaderInfo,
    PixelLinePolynomial,
    read_leader,
    read_pixel_line_polynomial,
    read_summary,
)
from .records import (
    DESCRIPTOR_BYTES,
    IMAGE_DESCRIPTOR_CODE,
    L11_PREFIX_BYTES,
    CeosError,
    ImageDescriptor,
    read_image_descriptor,
    walk_records,
)

__all__ = [
    "CALIBRATION_OFFSET_DB",
    "CeosError",
    "DESCRIPTOR_BYTES",
    "IMAGE_DESCRIPTOR_CODE",
    "ImageDescriptor",
    "L11_PREFIX_BYTES",
    "LEADER_DESCRIPTOR_CODE",
    "LeaderInfo",
    "PixelLinePolynomial",
    "Product",
    "calibrated_sigma0_db",
    "find_product",
    "gcps",
    "geolocation_model",
    "line_geolocation",
    "read_image_descriptor",
    "read_leader",
    "read_pixel_line_polynomial",
    "read_slc_window",
    "read_summary",
    "walk_records",
    "window_for_extent",
]
