"""A client for the Tellus satellite data platform (JAXA PALSAR-2 scenes), both API generations.

- Current "Satellite Data Traveler" API: ``{api_url}/datasets/``, ``POST {api_url}/data-search/``
  (paged by re-posting ``meta["search-condition"]``), files and signed download URLs.
- Legacy (2019-2021) file API: ``{file_api_url}/search/palsar2-l11`` paged by ``next``, and
  ``{file_api_url}/publish/palsar2-l11/{dataset_id}``; XYZ tiles from ``tile_url``.

Safety: HTTPS only (plain HTTP is allowed to loopback addresses, for tests); timeouts; retries with
backoff on 429 and 5xx honouring ``Retry-After``; the token never appears in an exception message
(:class:`TellusError` texts are redacted); server file names are reduced to a safe base name;
downloads go to ``<name>.part`` and are renamed when complete and of the announced size, and a
partial file is resumed with an HTTP Range request.

- :mod:`.common`: endpoints, settings, errors with the token redacted, URL and file-name checks.
- :mod:`.client`: the HTTP client (search, files, downloads with resume).
- :mod:`.query`: search bodies, bounding boxes and date pairs of scenes.
- :mod:`.tiles`: XYZ tile arithmetic, tile fetching with a cache, mosaics.
"""

from ...common.cancel import Cancelled
from .client import MAX_REDIRECTS, MAX_WAIT_S, Client
from .common import (
    BEARER,
    DEFAULTS,
    ENV,
    FILE_API_URL,
    MAX_NAME_BYTES,
    PALSAR2_L11_DATASET,
    TILE_FIELDS,
    TILE_URL,
    TRAVELER_URL,
    Settings,
    TellusError,
    check_tile_template,
    check_url,
    is_loopback,
    redact,
    safe_filename,
    unique_filenames,
)
from .query import FILTERS, PAIR_KEYS, bbox_polygon, build_query, find_pairs
from .tiles import (
    PNG_MAGIC,
    TILE_SIZE,
    decode_png,
    fetch_tiles,
    mosaic,
    tile_bounds_3857,
    tile_cache_dir,
    tile_count,
    tile_range,
    tiles_for_bbox,
)

__all__ = [
    "Cancelled",
    "BEARER",
    "Client",
    "DEFAULTS",
    "ENV",
    "FILE_API_URL",
    "FILTERS",
    "MAX_NAME_BYTES",
    "MAX_REDIRECTS",
    "MAX_WAIT_S",
    "PAIR_KEYS",
    "PALSAR2_L11_DATASET",
    "PNG_MAGIC",
    "Settings",
    "TILE_FIELDS",
    "TILE_SIZE",
    "TILE_URL",
    "TRAVELER_URL",
    "TellusError",
    "bbox_polygon",
    "build_query",
    "check_tile_template",
    "check_url",
    "decode_png",
    "fetch_tiles",
    "find_pairs",
    "is_loopback",
    "mosaic",
    "redact",
    "safe_filename",
    "tile_bounds_3857",
    "tile_cache_dir",
    "tile_count",
    "tile_range",
    "tiles_for_bbox",
    "unique_filenames",
]
