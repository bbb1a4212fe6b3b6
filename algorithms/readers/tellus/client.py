"""The Tellus HTTP client: search, file lists and downloads with retries, resume and cancel."""

import math
import os
import time
from typing import Callable, Dict, Iterator, List, Optional
from urllib.parse import urljoin, urlparse

from ...common.cancel import Cancelled
from ...common.deps import require
from .common import Settings, TellusError, _list_of_objects, check_url, redact, safe_filename

MAX_WAIT_S = 60.0  # the longest Retry-After honoured; longer, NaN or negative values fall back to backoff
MAX_REDIRECTS = 5


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
