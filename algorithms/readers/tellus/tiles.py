"""XYZ tiles of Tellus scenes: tile arithmetic in Web Mercator, cached fetching, PNG decoding, mosaics."""

import math
import os
import uuid
from typing import Optional

from .client import Client
from .common import TellusError, redact, safe_filename


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
    from ...io.raster import gdal

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
