"""Plugin settings kept in QgsSettings (section ``sar_change``), with sane defaults."""

from qgis.core import QgsSettings

from ..algorithms.readers import tellus

PREFIX = "sar_change/"
DEFAULTS = {
    "tellus_authcfg": "",
    "tellus_api_url": tellus.TRAVELER_URL,
    "tellus_tile_url": tellus.TILE_URL,
    "tellus_file_api_url": tellus.FILE_API_URL,
    "tile_cache": "",  # empty: $SARCHANGE_TILE_CACHE or ~/.cache/sar_change/tiles
    "block_size": "1024",  # pixels per block side for blockwise filters
    "dask_scheduler": "",  # empty: local threads (unless $SARCHANGE_DASK_SCHEDULER names a scheduler)
}


def block_size() -> int:
    """Block side in pixels for blockwise processing (setting ``block_size``, 256-8192, default 1024)."""
    try:
        return min(max(int(get("block_size")), 256), 8192)
    except ValueError:
        return int(DEFAULTS["block_size"])


def get(key: str) -> str:
    """A setting's value (its default when unset)."""
    return str(QgsSettings().value(PREFIX + key, DEFAULTS[key]) or DEFAULTS[key])


def set_value(key: str, value: str) -> None:
    if key not in DEFAULTS:
        raise KeyError(f"unknown setting {key!r}; known: {sorted(DEFAULTS)}")
    QgsSettings().setValue(PREFIX + key, value)


def qgis_proxies() -> dict:
    """The proxy QGIS is configured with (Settings > Options > Network), as a requests ``proxies`` dict."""
    settings = QgsSettings()
    enabled = str(settings.value("proxy/proxyEnabled", "false")).lower() in ("true", "1")
    host = settings.value("proxy/proxyHost", "")
    if not enabled or not host:
        return {}
    port = settings.value("proxy/proxyPort", "")
    user = settings.value("proxy/proxyUser", "")
    password = settings.value("proxy/proxyPassword", "")
    credentials = f"{user}:{password}@" if user else ""
    url = f"http://{credentials}{host}{':' + str(port) if port else ''}"
    return {"http": url, "https": url}


def load_auth_config(auth_id):
    """The QGIS auth configuration ``auth_id`` with its secrets, or ``None`` when it does not exist.

    ``loadAuthenticationConfig`` returns ``(ok, config)`` in PyQGIS 3.22 (a tuple, always true) and a
    bool elsewhere; a missing id gives an invalid config, so validity is what is checked."""
    from qgis.core import QgsApplication, QgsAuthMethodConfig

    if not auth_id:
        return None
    config = QgsAuthMethodConfig()
    answer = QgsApplication.authManager().loadAuthenticationConfig(auth_id, config, True)
    ok, loaded = answer if isinstance(answer, tuple) else (answer, config)
    return loaded if ok and loaded.isValid() else None
