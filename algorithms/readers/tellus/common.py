"""Tellus endpoints, settings and the checks every request passes: HTTPS, safe names, no token in errors."""

import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import List
from urllib.parse import urlparse

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
