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

import ipaddress
import math
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional
from urllib.parse import urljoin, urlparse

from .deps import require
from .raster_io import Cancelled  # noqa: F401  (re-exported: a cancel while waiting or downloading)

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
MAX_WAIT_S = 60.0  # the longest Retry-After honoured; longer, NaN or negative values fall back to backoff
MAX_REDIRECTS = 5
MAX_NAME_BYTES = 200  # server file names are cut to this many bytes (most file systems allow 255)
TILE_FIELDS = {"scene_id", "z", "x", "y"}


class TellusError(RuntimeError):
    """A Tellus request failed; the message says why and never contains the token."""


BEARER = re.compile(r"(?i)(bearer|token|authorization)([\s:=\"']+)[A-Za-z0-9._~+/=-]{6,}")


def redact(text: str, token: str = "") -> str:
    """``text`` without ``token`` and without anything that looks like a bearer credential."""
    text = str(text)
    if token:
        text = text.replace(token, "***")
    return BEARER.sub(lambda m: m.group(1) + m.group(2) + "***", text)


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
        check_tile_template(settings.tile_url, "tile_url")
        return settings


def _list_of_objects(value, what: str) -> list:
    """``value`` if it is a list of JSON objects, else a :class:`TellusError` naming ``what``."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise TellusError(f"Tellus sent a malformed {what} ({type(value).__name__}, not a list of objects)")
    return value


def is_loopback(host: str) -> bool:
    """True only for ``localhost`` and literal loopback addresses (``127.0.0.0/8``, ``::1``).

    The host is parsed, not prefix-matched: ``127.evil.example`` or ``localhost.evil.example``
    are ordinary remote names."""
    host = (host or "").strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, name: str = "url") -> str:
    """Accept https URLs, and http only to loopback; raise :class:`TellusError` otherwise."""
    try:
        parsed = urlparse(str(url).replace("{", "").replace("}", ""))
        host = parsed.hostname or ""
    except ValueError as exc:  # e.g. an unbalanced "[" in the host
        raise TellusError(f"{name} is not a valid URL ({exc})") from None
    if not host:
        raise TellusError(f"{name} must be an https URL with a host name, got {str(url)[:80]!r}")
    if parsed.scheme == "https" or (parsed.scheme == "http" and is_loopback(host)):
        return url
    raise TellusError(f"{name} must be an https URL (http only to loopback), got {parsed.scheme}://{host}")


def check_tile_template(template: str, name: str = "tile_url") -> str:
    """A tile URL template may use only ``{scene_id}``, ``{z}``, ``{x}`` and ``{y}``; it needs z, x, y."""
    import string

    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as exc:
        raise TellusError(f"{name} is not a valid template ({exc}): {template[:80]!r}") from None
    unknown = fields - TILE_FIELDS
    if unknown:
        raise TellusError(f"{name} may only use {{scene_id}}, {{z}}, {{x}}, {{y}}; it has {{{sorted(unknown)[0]}}}")
    if not {"z", "x", "y"} <= fields:
        raise TellusError(f"{name} must contain {{z}}, {{x}} and {{y}}, got {template[:80]!r}")
    return template


def safe_filename(name: str) -> str:
    """A server-given file name reduced to a safe base name; raises on names that cannot be made safe.

    Only ``A-Z a-z 0-9 . _ -`` are kept, a leading dot is dropped (so no hidden or ``..`` names,
    and no clash with this client's own ``.<name>.part`` temporaries), and the name is cut to
    :data:`MAX_NAME_BYTES` keeping its extension."""
    base = os.path.basename(str(name).replace("\\", "/"))
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")
    if not base.strip("_") or base in (".", ".."):
        raise TellusError(f"unsafe file name from the server: {str(name)[:80]!r}")
    if len(base) > MAX_NAME_BYTES:
        stem, ext = os.path.splitext(base)
        ext = ext if len(ext) <= 16 else ""
        base = stem[: MAX_NAME_BYTES - len(ext)] + ext
    return base


def unique_filenames(names: List[str]) -> List[str]:
    """Safe, distinct file names for one download: a repeated base name gets ``_2``, ``_3``... before
    its extension (case-insensitively, for file systems that ignore case)."""
    out, seen = [], set()
    for name in names:
        base = safe_filename(name)
        candidate, n = base, 1
        while candidate.lower() in seen:
            n += 1
            stem, ext = os.path.splitext(base)
            candidate = f"{stem[: MAX_NAME_BYTES - len(ext) - 8]}_{n}{ext}"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def tile_bounds_3857(z: int, x: int, y: int):
    """(xmin, ymin, xmax, ymax) in EPSG:3857 metres of XYZ tile z/x/y."""
    extent = 20037508.342789244
    size = 2 * extent / 2**z
    return (-extent + x * size, extent - (y + 1) * size, -extent + (x + 1) * size, extent - y * size)


def tile_range(lon_min, lat_min, lon_max, lat_max, z):
    """``(x0, y0, x1, y1)``, inclusive, of the XYZ tiles at zoom ``z`` covering a lon/lat box (degrees)."""
    values = (lon_min, lat_min, lon_max, lat_max)
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"the extent must be finite degrees, got {values}")
    if not 0 <= int(z) <= 30:
        raise ValueError(f"zoom must be 0 to 30, got z={z!r}")

    def tile(lon, lat):
        lat = max(min(lat, 85.05112878), -85.05112878)
        n = 2**z
        x = int((lon + 180.0) / 360.0 * n)
        y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
        return min(max(x, 0), n - 1), min(max(y, 0), n - 1)

    x0, y0 = tile(lon_min, lat_max)
    x1, y1 = tile(lon_max, lat_min)
    return x0, y0, x1, y1


def tile_count(lon_min, lat_min, lon_max, lat_max, z) -> int:
    """How many tiles :func:`tiles_for_bbox` would list, without listing them."""
    x0, y0, x1, y1 = tile_range(lon_min, lat_min, lon_max, lat_max, z)
    return (x1 - x0 + 1) * (y1 - y0 + 1)


def tiles_for_bbox(lon_min, lat_min, lon_max, lat_max, z, max_tiles: Optional[int] = None):
    """The (x, y) XYZ tiles at zoom ``z`` covering a lon/lat box (degrees).

    With ``max_tiles``, a box needing more tiles raises ``ValueError`` before any list is built."""
    x0, y0, x1, y1 = tile_range(lon_min, lat_min, lon_max, lat_max, z)
    count = (x1 - x0 + 1) * (y1 - y0 + 1)
    if max_tiles is not None and count > max_tiles:
        raise ValueError(
            f"the extent needs {count} tiles at zoom {z}, more than MAX_TILES={max_tiles}: "
            "lower ZOOM, shrink the extent or raise MAX_TILES"
        )
    return [(x, y) for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)]


class Client:
    """HTTP access to Tellus with retries and redacted errors (``requests`` imported lazily).

    ``is_cancelled`` (a callable) is polled while waiting between retries and while downloading:
    a cancel stops within about ``poll_s`` seconds with :class:`Cancelled`."""

    poll_s = 0.2

    def __init__(
        self,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        is_cancelled: Optional[Callable[[], bool]] = None,
    ):
        self.settings = settings
        self.sleep = sleep
        self.is_cancelled = is_cancelled
        self.requests = require("requests")
        self.session = self.requests.Session()
        self.session.trust_env = True  # proxies from the environment (QGIS sets them from its settings)

    # -- plumbing ------------------------------------------------------------------------------
    def _redact(self, text: str) -> str:
        return redact(text, self.settings.token)

    def _check_cancel(self):
        if self.is_cancelled is not None and self.is_cancelled():
            raise Cancelled("cancelled by the user")

    def wait(self, seconds: float):
        """Sleep ``seconds`` in slices of :attr:`poll_s`, stopping at once on cancel."""
        left = float(seconds)
        while left > 1e-6:
            self._check_cancel()
            step = min(left, self.poll_s)
            self.sleep(step)
            left -= step
        self._check_cancel()

    def request(self, method: str, url: str, *, auth: bool = True, **kwargs):
        """One request with retries; redirects are followed here, each hop checked by :func:`check_url`,
        and the ``Authorization`` header is dropped as soon as a hop leaves the first host or scheme."""
        check_url(url)
        headers = dict(kwargs.pop("headers", {}) or {})
        if auth and self.settings.token:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        origin = urlparse(url)
        attempt = redirects = 0
        while True:
            self._check_cancel()
            try:
                response = self.session.request(
                    method, url, headers=headers, timeout=self.settings.timeout_s, allow_redirects=False, **kwargs
                )
            except self.requests.RequestException as exc:
                if attempt >= self.settings.retries:
                    raise TellusError(
                        self._redact(f"cannot reach {urlparse(url).netloc}: {type(exc).__name__}")
                    ) from None
                self.wait(self.settings.backoff_s * 2**attempt)
                attempt += 1
                continue
            if response.is_redirect:
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise TellusError(f"more than {MAX_REDIRECTS} redirects from {origin.netloc}")
                target = urljoin(url, response.headers.get("Location", ""))
                try:
                    check_url(target, "redirect")
                except TellusError as exc:
                    raise TellusError(f"{origin.netloc} redirected to a refused address: {exc}") from None
                hop = urlparse(target)
                if (hop.scheme, hop.hostname, hop.port) != (origin.scheme, origin.hostname, origin.port):
                    headers.pop("Authorization", None)  # the token is for the first host only
                if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                    method = "GET"
                    kwargs.pop("json", None)
                    kwargs.pop("data", None)
                response.close()
                url = target
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if attempt >= self.settings.retries:
                    raise TellusError(f"Tellus answered {response.status_code} after {attempt + 1} attempts")
                self.wait(self._retry_after(response, attempt))
                attempt += 1
                continue
            if response.status_code in (401, 403):
                raise TellusError(
                    self._redact(
                        f"Tellus refused the token ({response.status_code}): "
                        f"{self._detail(response)}; check AUTH_CONFIG or TELLUS_TOKEN"
                    )
                )
            if response.status_code == 404:
                raise TellusError(self._redact(f"not found on Tellus: {urlparse(url).path}"))
            if response.status_code >= 400:
                raise TellusError(self._redact(f"Tellus answered {response.status_code}: {self._detail(response)}"))
            return response

    def _retry_after(self, response, attempt: int) -> float:
        """Seconds to wait: a finite, non-negative ``Retry-After`` up to :data:`MAX_WAIT_S`, else backoff."""
        backoff = min(self.settings.backoff_s * 2**attempt, MAX_WAIT_S)
        try:
            value = float(response.headers.get("Retry-After"))
        except (TypeError, ValueError):
            return backoff
        return min(value, MAX_WAIT_S) if math.isfinite(value) and value >= 0 else backoff

    @staticmethod
    def _detail(response) -> str:
        try:
            body = response.json()
        except ValueError:
            return (response.text or "")[:80].replace("\n", " ")
        if isinstance(body, dict):
            return str(body.get("detail") or body.get("code") or body)[:200]
        return str(body)[:200]

    def json(self, method: str, url: str, **kwargs):
        response = self.request(method, url, **kwargs)
        try:
            answer = response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "unknown type")
            raise TellusError(f"Tellus sent a malformed JSON answer ({kind}) for {urlparse(url).path}") from None
        if not isinstance(answer, dict):
            raise TellusError(
                f"Tellus sent a JSON {type(answer).__name__} where an object was expected, for {urlparse(url).path}"
            )
        return answer

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
            features = _list_of_objects(answer.get("features"), "search answer's features")
            for feature in features:
                if feature.get("properties") is None:
                    feature["properties"] = {}
                if not isinstance(feature["properties"], dict):
                    raise TellusError("Tellus sent a scene whose properties are not an object")
                if feature.get("geometry") is not None and not isinstance(feature["geometry"], dict):
                    raise TellusError("Tellus sent a scene whose geometry is not a GeoJSON object")
            yield from features
            condition = answer.get("meta") if isinstance(answer.get("meta"), dict) else {}
            condition = condition.get("search-condition")
            if not isinstance(condition, dict):
                return
            paginate = condition.get("paginate")
            cursor = paginate.get("cursor") if isinstance(paginate, dict) else None
            if not features or not cursor:
                return
            body = condition

    def files(self, dataset: str, scene: str) -> List[dict]:
        url = f"{self.settings.api_url.rstrip('/')}/datasets/{dataset}/data/{scene}/files/"
        files = _list_of_objects(self.json("GET", url).get("results", []), "file list")
        for item in files:
            if item.get("id") is None or isinstance(item.get("id"), (dict, list)):
                raise TellusError(f"Tellus listed a file without a usable id: {str(item)[:80]}")
            size = item.get("size_bytes")
            if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
                raise TellusError(f"Tellus listed {str(item.get('name'))[:80]!r} with an invalid size {size!r}")
        return files

    def download_url(self, dataset: str, scene: str, file_id) -> str:
        url = f"{self.settings.api_url.rstrip('/')}/datasets/{dataset}/data/{scene}/files/{file_id}/download-url/"
        value = self.json("POST", url).get("download_url")
        if not value or not isinstance(value, str):
            raise TellusError("Tellus gave no download_url")
        return check_url(value, "download_url")

    # -- legacy file API -------------------------------------------------------------------------
    def legacy_search(self, params: Dict[str, str], max_pages: int = 100) -> Iterator[dict]:
        url = self.settings.file_api_url.rstrip("/") + "/search/palsar2-l11"
        for _ in range(max_pages):
            answer = self.json("GET", url, params=params)
            yield from _list_of_objects(answer.get("items", []), "legacy search items")
            url, params = answer.get("next"), None
            if not url:
                return
            if not isinstance(url, str):
                raise TellusError(f"Tellus gave a next page that is not a URL: {str(url)[:80]!r}")
            check_url(url, "next page")

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
        chunk: int = 1 << 16,
    ) -> str:
        """Download ``url`` to ``folder/name`` (name sanitised) and return the path.

        The bytes go to ``folder/.name.part`` (a name no server file can take, see
        :func:`safe_filename`), resumed with a Range request, and are renamed when complete
        and of the announced ``size``; a cancel keeps the ``.part`` for the next run."""
        base = safe_filename(name)
        target = os.path.join(folder, base)
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            raise TellusError(f"{base}: the server announced an invalid size {size!r}")
        if os.path.isfile(target) and (size is None or os.path.getsize(target) == size):
            return target
        if os.path.exists(target) and not os.path.isfile(target):
            raise TellusError(f"{base}: {target} exists and is not a file")
        part = os.path.join(folder, f".{base}.part")
        have = os.path.getsize(part) if os.path.isfile(part) else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        response = self.request("GET", url, auth=auth, headers=headers, stream=True)
        mode = "ab" if have and response.status_code == 206 else "wb"
        done = have if mode == "ab" else 0
        try:
            os.makedirs(folder, exist_ok=True)
            with open(part, mode) as handle:
                for block in response.iter_content(chunk):
                    self._check_cancel()
                    handle.write(block)
                    done += len(block)
                    if size is not None and done > size:
                        break
                    if progress and size:
                        progress(min(done / size, 1.0))
        except OSError as exc:
            raise TellusError(f"{base}: cannot write in {folder}: {exc.strerror or exc}") from None
        finally:
            response.close()
        if size is not None and os.path.getsize(part) != size:
            got = os.path.getsize(part)
            if got > size:
                os.remove(part)
                raise TellusError(f"{base}: the server sent {got} bytes or more, {size} announced; nothing kept")
            raise TellusError(f"{base}: got {got} bytes of {size}; run again to resume")
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
    import numpy as np

    if not data.startswith(PNG_MAGIC):
        start = data[:40].decode("ascii", errors="replace").strip()
        raise TellusError(
            redact(f"{what} is not a PNG image (it starts with {start!r}); the server may have sent an error page")
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
            try:
                out[(x, y)] = decode_png(data, f"tile {z}/{x}/{y}")
            except TellusError as exc:  # the quoted body may echo the request, token included
                raise TellusError(client._redact(str(exc))) from None
            os.makedirs(os.path.dirname(path), exist_ok=True)
            temporary = f"{path}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part"  # concurrent runs share the cache
            with open(temporary, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
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
