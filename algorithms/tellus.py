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
"""

import math
import os
import re
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional
from urllib.parse import urlparse

from .deps import require

TRAVELER_URL = "https://www.tellusxdp.com/api/traveler/v1"
TILE_URL = "https://gisapi.tellusxdp.com/PALSAR-2/{scene_id}/{z}/{x}/{y}.png"
FILE_API_URL = "https://file.tellusxdp.com/api/v1/origin"
PALSAR2_L11_DATASET = "1a41a4b1-4594-431f-95fb-82f9bdc35d6b"
ENV = {
    "token": "TELLUS_TOKEN",
    "api_url": "TELLUS_API_URL",
    "tile_url": "TELLUS_TILE_URL",
    "file_api_url": "TELLUS_FILE_API_URL",
}
DEFAULTS = {"api_url": TRAVELER_URL, "tile_url": TILE_URL, "file_api_url": FILE_API_URL}
LOOPBACK = ("127.", "localhost", "::1", "[::1]")


class TellusError(RuntimeError):
    """A Tellus request failed; the message says why and never contains the token."""


@dataclass
class Settings:
    """Where to reach Tellus and with which token (parameters first, then environment, then defaults)."""

    token: str = field(default="", repr=False)  # never printed
    api_url: str = TRAVELER_URL
    tile_url: str = TILE_URL
    file_api_url: str = FILE_API_URL
    timeout_s: float = 30.0
    retries: int = 4
    backoff_s: float = 1.0

    @classmethod
    def resolve(cls, **given) -> "Settings":
        values = {}
        for key in ("token", "api_url", "tile_url", "file_api_url"):
            values[key] = (given.get(key) or os.environ.get(ENV[key]) or DEFAULTS.get(key, "")).strip()
        for key in ("timeout_s", "retries", "backoff_s"):
            if given.get(key) is not None:
                values[key] = given[key]
        settings = cls(**values)
        for key in ("api_url", "tile_url", "file_api_url"):
            check_url(getattr(settings, key), key)
        return settings


def check_url(url: str, name: str = "url") -> str:
    """Accept https URLs, and http only to loopback; raise :class:`TellusError` otherwise."""
    parsed = urlparse(url.replace("{", "").replace("}", ""))
    host = parsed.hostname or ""
    if parsed.scheme == "https" or (parsed.scheme == "http" and host.startswith(LOOPBACK)):
        return url
    raise TellusError(f"{name} must be an https URL (http only to loopback), got {parsed.scheme}://{host}")


def safe_filename(name: str) -> str:
    """A server-given file name reduced to a safe base name; raises on names that cannot be made safe."""
    base = os.path.basename(str(name).replace("\\", "/"))
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")
    if not base or base in (".", ".."):
        raise TellusError(f"unsafe file name from the server: {name!r}")
    return base


def tile_bounds_3857(z: int, x: int, y: int):
    """(xmin, ymin, xmax, ymax) in EPSG:3857 metres of XYZ tile z/x/y."""
    extent = 20037508.342789244
    size = 2 * extent / 2**z
    return (-extent + x * size, extent - (y + 1) * size, -extent + (x + 1) * size, extent - y * size)


def tiles_for_bbox(lon_min, lat_min, lon_max, lat_max, z):
    """The (x, y) XYZ tiles at zoom ``z`` covering a lon/lat box (degrees)."""

    def tile(lon, lat):
        lat = max(min(lat, 85.05112878), -85.05112878)
        n = 2**z
        x = int((lon + 180.0) / 360.0 * n)
        y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
        return min(max(x, 0), n - 1), min(max(y, 0), n - 1)

    x0, y0 = tile(lon_min, lat_max)
    x1, y1 = tile(lon_max, lat_min)
    return [(x, y) for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)]


class Client:
    """HTTP access to Tellus with retries and redacted errors (``requests`` imported lazily)."""

    def __init__(self, settings: Settings, *, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.sleep = sleep
        self.requests = require("requests")
        self.session = self.requests.Session()
        self.session.trust_env = True  # proxies from the environment (QGIS sets them from its settings)

    # -- plumbing ------------------------------------------------------------------------------
    def _redact(self, text: str) -> str:
        token = self.settings.token
        return text.replace(token, "***") if token else text

    def request(self, method: str, url: str, *, auth: bool = True, **kwargs):
        check_url(url)
        headers = dict(kwargs.pop("headers", {}) or {})
        if auth and self.settings.token:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        attempt = 0
        while True:
            try:
                response = self.session.request(method, url, headers=headers, timeout=self.settings.timeout_s, **kwargs)
            except self.requests.RequestException as exc:
                if attempt >= self.settings.retries:
                    raise TellusError(
                        self._redact(f"cannot reach {urlparse(url).netloc}: {type(exc).__name__}")
                    ) from None
                self.sleep(self.settings.backoff_s * 2**attempt)
                attempt += 1
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if attempt >= self.settings.retries:
                    raise TellusError(f"Tellus answered {response.status_code} after {attempt + 1} attempts")
                self.sleep(self._retry_after(response, attempt))
                attempt += 1
                continue
            if response.status_code in (401, 403):
                raise TellusError(
                    self._redact(
                        f"Tellus refused the token ({response.status_code}): "
                        f"{self._detail(response)}; check AUTH_CONFIG, TOKEN or TELLUS_TOKEN"
                    )
                )
            if response.status_code == 404:
                raise TellusError(self._redact(f"not found on Tellus: {urlparse(url).path}"))
            if response.status_code >= 400:
                raise TellusError(self._redact(f"Tellus answered {response.status_code}: {self._detail(response)}"))
            return response

    def _retry_after(self, response, attempt: int) -> float:
        value = response.headers.get("Retry-After")
        try:
            return min(float(value), 120.0)
        except (TypeError, ValueError):
            return self.settings.backoff_s * 2**attempt

    @staticmethod
    def _detail(response) -> str:
        try:
            body = response.json()
            return str(body.get("detail") or body.get("code") or body)[:200]
        except ValueError:
            return (response.text or "")[:80].replace("\n", " ")

    def json(self, method: str, url: str, **kwargs):
        response = self.request(method, url, **kwargs)
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "unknown type")
            raise TellusError(f"Tellus sent a malformed JSON answer ({kind}) for {urlparse(url).path}") from None

    # -- Traveler API ----------------------------------------------------------------------------
    def search(
        self,
        *,
        datasets: List[str],
        intersects: Optional[dict] = None,
        query: Optional[dict] = None,
        page_size: int = 100,
        max_pages: int = 100,
    ) -> Iterator[dict]:
        """Yield scene features of a Traveler data search, following its pages."""
        body = {
            "datasets": datasets,
            "paginate": {"size": page_size, "cursor": None},
            "sortby": [{"field": "properties.end_datetime", "direction": "desc"}],
        }
        if intersects:
            body["intersects"] = intersects
        if query:
            body["query"] = query
        url = self.settings.api_url.rstrip("/") + "/data-search/"
        for _ in range(max_pages):
            answer = self.json("POST", url, json=body)
            features = answer.get("features")
            if not isinstance(features, list):
                raise TellusError("Tellus search answer has no feature list")
            yield from features
            condition = (answer.get("meta") or {}).get("search-condition")
            cursor = ((condition or {}).get("paginate") or {}).get("cursor")
            if not features or not condition or not cursor:
                return
            body = condition

    def files(self, dataset: str, scene: str) -> List[dict]:
        url = f"{self.settings.api_url.rstrip('/')}/datasets/{dataset}/data/{scene}/files/"
        return self.json("GET", url).get("results", [])

    def download_url(self, dataset: str, scene: str, file_id) -> str:
        url = f"{self.settings.api_url.rstrip('/')}/datasets/{dataset}/data/{scene}/files/{file_id}/download-url/"
        value = self.json("POST", url).get("download_url")
        if not value:
            raise TellusError("Tellus gave no download_url")
        return check_url(value, "download_url")

    # -- legacy file API -------------------------------------------------------------------------
    def legacy_search(self, params: Dict[str, str], max_pages: int = 100) -> Iterator[dict]:
        url = self.settings.file_api_url.rstrip("/") + "/search/palsar2-l11"
        for _ in range(max_pages):
            answer = self.json("GET", url, params=params)
            yield from answer.get("items", [])
            url, params = answer.get("next"), None
            if not url:
                return

    # -- files -----------------------------------------------------------------------------------
    def download(
        self,
        url: str,
        folder: str,
        name: str,
        *,
        size: Optional[int] = None,
        auth: bool = False,
        progress: Optional[Callable[[float], None]] = None,
        chunk: int = 1 << 20,
    ) -> str:
        """Download ``url`` to ``folder/name`` (name sanitised), resuming ``name.part``; returns the path."""
        target = os.path.join(folder, safe_filename(name))
        if os.path.exists(target) and (size is None or os.path.getsize(target) == size):
            return target
        part = target + ".part"
        have = os.path.getsize(part) if os.path.exists(part) else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        response = self.request("GET", url, auth=auth, headers=headers, stream=True)
        mode = "ab" if have and response.status_code == 206 else "wb"
        done = have if mode == "ab" else 0
        os.makedirs(folder, exist_ok=True)
        with open(part, mode) as handle:
            for block in response.iter_content(chunk):
                handle.write(block)
                done += len(block)
                if progress and size:
                    progress(min(done / size, 1.0))
        if size is not None and os.path.getsize(part) != size:
            raise TellusError(
                f"{os.path.basename(target)}: got {os.path.getsize(part)} bytes of {size}; run again to resume"
            )
        os.replace(part, target)
        return target


# -- search helpers ------------------------------------------------------------------------------
FILTERS = {
    "orbit_direction": "sat:orbit_state",
    "relative_orbit": "sat:relative_orbit",
    "frame": "tellus:sat_frame",
    "mode": "sar:instrument_mode",
    "polarisations": "sar:polarizations",
    "beam": "palsar2:beam",
}
PAIR_KEYS = (
    "sat:relative_orbit",
    "tellus:sat_frame",
    "palsar2:beam",
    "sar:instrument_mode",
    "sat:orbit_state",
    "sar:polarizations",
)


def build_query(start_date: str = "", end_date: str = "", **filters) -> dict:
    """A Traveler ``query`` from a date range (ISO dates) and the :data:`FILTERS` given (empty ones skipped)."""
    query = {}
    for value, name in ((start_date, "start_date"), (end_date, "end_date")):
        if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}(T[\d:.Z+-]+)?", value):
            raise ValueError(f"{name} must be an ISO date YYYY-MM-DD, got {name}={value!r}")
    if start_date:
        query["start_datetime"] = {"gte": start_date if "T" in start_date else start_date + "T00:00:00Z"}
    if end_date:
        query["end_datetime"] = {"lte": end_date if "T" in end_date else end_date + "T23:59:59Z"}
    for key, value in filters.items():
        if key not in FILTERS:
            raise ValueError(f"unknown filter {key!r}; use one of {sorted(FILTERS)}")
        if value in (None, ""):
            continue
        query[FILTERS[key]] = {"eq": value}
    return query


def bbox_polygon(lon_min, lat_min, lon_max, lat_max) -> dict:
    """A GeoJSON polygon (EPSG:4326) of a lon/lat box."""
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon_min, lat_min], [lon_max, lat_min], [lon_max, lat_max], [lon_min, lat_max], [lon_min, lat_min]]
        ],
    }


def _day(text: str):
    from datetime import datetime

    return datetime.fromisoformat(str(text).replace("Z", "+00:00")[:19])


def find_pairs(scenes: List[dict], max_days: float, overlaps: Callable[[dict, dict], bool]) -> List[dict]:
    """Interferometric / change pairs: same path, frame, beam, mode, direction and polarisation,
    at most ``max_days`` apart, whose footprints ``overlaps(a, b)``. Each pair is
    ``{"a": scene, "b": scene, "baseline_days": float}`` with ``a`` the earlier."""
    if max_days < 0:
        raise ValueError(f"max_days must be >= 0, got max_days={max_days!r}")
    pairs = []
    ordered = sorted(scenes, key=lambda s: _day(s["properties"].get("start_datetime", "1970-01-01")))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            pa, pb = a["properties"], b["properties"]
            if any(pa.get(k) != pb.get(k) for k in PAIR_KEYS):
                continue
            days = (_day(pb["start_datetime"]) - _day(pa["start_datetime"])).total_seconds() / 86400
            if 0 < days <= max_days and overlaps(a, b):
                pairs.append({"a": a, "b": b, "baseline_days": days})
    return pairs


# -- tiles ---------------------------------------------------------------------------------------
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TILE_SIZE = 256


def tile_cache_dir() -> str:
    """Where tiles are cached: ``$SARCHANGE_TILE_CACHE`` or ``~/.cache/sar_change/tiles``."""
    return os.environ.get("SARCHANGE_TILE_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "sar_change", "tiles"
    )


def decode_png(data: bytes, what: str = "tile"):
    """Decode PNG bytes to a ``(bands, rows, cols)`` uint8 array; a clear error for anything else."""
    import uuid

    import numpy as np

    if not data.startswith(PNG_MAGIC):
        start = data[:40].decode("ascii", errors="replace").strip()
        raise TellusError(
            f"{what} is not a PNG image (it starts with {start!r}); the server may have sent an error page"
        )
    from .raster_io import gdal

    gdal_ = gdal()
    path = f"/vsimem/sarchange_tile_{uuid.uuid4().hex}.png"
    gdal_.FileFromMemBuffer(path, data)
    try:
        dataset = gdal_.Open(path)
        array = dataset.ReadAsArray()
        dataset = None
    except RuntimeError as exc:
        raise TellusError(f"{what} is a damaged PNG ({exc})") from None
    finally:
        gdal_.Unlink(path)
    array = np.asarray(array)
    return array[None] if array.ndim == 2 else array


def fetch_tiles(
    client: Client, scene_id: str, z: int, tiles, *, cache: str = None, is_cancelled=None, progress=None
) -> dict:
    """``{(x, y): (bands, 256, 256) uint8}`` for the given tiles, through a local cache."""
    cache = tile_cache_dir() if cache is None else cache
    out = {}
    for i, (x, y) in enumerate(tiles):
        if is_cancelled is not None and is_cancelled():
            break
        path = os.path.join(cache, safe_filename(scene_id), str(z), str(x), f"{y}.png")
        data = None
        if os.path.exists(path):
            with open(path, "rb") as handle:
                data = handle.read()
        if not data or not data.startswith(PNG_MAGIC):
            url = client.settings.tile_url.format(scene_id=scene_id, z=z, x=x, y=y)
            data = client.request("GET", url).content
            out[(x, y)] = decode_png(data, f"tile {z}/{x}/{y}")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path + ".part", "wb") as handle:
                handle.write(data)
            os.replace(path + ".part", path)
        else:
            out[(x, y)] = decode_png(data, f"cached tile {z}/{x}/{y}")
        if progress is not None:
            progress((i + 1) / len(tiles))
    return out


def mosaic(tiles: dict, z: int, crop_3857=None):
    """Mosaic tiles into ``(array (bands, rows, cols), geotransform)`` in EPSG:3857 on the tile grid,
    optionally cropped to the pixels covering ``crop_3857`` = (xmin, ymin, xmax, ymax)."""
    import numpy as np

    xs = [x for x, _ in tiles]
    ys = [y for _, y in tiles]
    x0, y0 = min(xs), min(ys)
    bands = max(a.shape[0] for a in tiles.values())
    rows, cols = (max(ys) - y0 + 1) * TILE_SIZE, (max(xs) - x0 + 1) * TILE_SIZE
    canvas = np.zeros((bands, rows, cols), np.uint8)
    for (x, y), array in tiles.items():
        if array.shape[1:] != (TILE_SIZE, TILE_SIZE):
            raise TellusError(f"tile {z}/{x}/{y} is {array.shape[2]}x{array.shape[1]} pixels, not 256x256")
        stack = np.repeat(array, bands, axis=0) if array.shape[0] == 1 and bands > 1 else array
        canvas[:, (y - y0) * TILE_SIZE : (y - y0 + 1) * TILE_SIZE, (x - x0) * TILE_SIZE : (x - x0 + 1) * TILE_SIZE] = (
            stack
        )
    left, _, _, top = tile_bounds_3857(z, x0, y0)
    pixel = (tile_bounds_3857(z, x0, y0)[2] - left) / TILE_SIZE
    if crop_3857 is not None:
        xmin, ymin, xmax, ymax = crop_3857
        c0 = max(0, int(math.floor((xmin - left) / pixel)))
        c1 = min(cols, int(math.ceil((xmax - left) / pixel)))
        r0 = max(0, int(math.floor((top - ymax) / pixel)))
        r1 = min(rows, int(math.ceil((top - ymin) / pixel)))
        canvas = canvas[:, r0:r1, c0:c1]
        left, top = left + c0 * pixel, top - r0 * pixel
    return canvas, (left, pixel, 0.0, top, 0.0, -pixel)
