"""Tellus search bodies: filters, bounding-box polygons and before/after pairs of scenes."""

import re
from typing import Callable, List

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
