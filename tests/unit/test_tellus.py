"""Tellus client against a fake loopback server: pagination, errors, retries, resume, token safety."""

import pytest
from fake_tellus import FakeTellus

from sar_change.algorithms import tellus

TOKEN = "s3cr3t-t0ken-value"


@pytest.fixture
def server():
    with FakeTellus() as fake:
        yield fake


def client_for(server, sleeps=None):
    settings = tellus.Settings.resolve(
        token=TOKEN,
        api_url=server.url + "/api/traveler/v1",
        file_api_url=server.url + "/api/v1/origin",
        backoff_s=0.01,
        retries=2,
    )
    return tellus.Client(settings, sleep=(sleeps.append if sleeps is not None else lambda s: None))


def feature(i):
    return {"type": "Feature", "id": f"scene-{i}", "properties": {"tellus:name": f"S{i}", "sar:polarizations": "HH+HV"}}


def test_traveler_search_follows_search_condition_pages(server):
    condition = {"datasets": ["d"], "paginate": {"size": 2, "cursor": "page2"}}
    server.add(
        "POST",
        "/api/traveler/v1/data-search/",
        (
            200,
            {},
            {
                "type": "FeatureCollection",
                "features": [feature(1), feature(2)],
                "meta": {"total": 3, "search-condition": condition},
            },
        ),
        (
            200,
            {},
            {
                "type": "FeatureCollection",
                "features": [feature(3)],
                "meta": {"total": 3, "search-condition": {"paginate": {"cursor": None}}},
            },
        ),
    )
    scenes = list(client_for(server).search(datasets=["d"], page_size=2))
    assert [s["id"] for s in scenes] == ["scene-1", "scene-2", "scene-3"]
    assert server.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert b'"cursor": "page2"' in server.requests[1]["body"]


def test_legacy_search_follows_next(server):
    server.add(
        "GET",
        "/api/v1/origin/search/palsar2-l11",
        (
            200,
            {},
            {
                "count": 3,
                "items": [{"dataset_id": "a"}, {"dataset_id": "b"}],
                "next": server.url + "/api/v1/origin/search/palsar2-l11?page=2",
            },
        ),
        (200, {}, {"count": 3, "items": [{"dataset_id": "c"}], "next": None}),
    )
    items = list(client_for(server).legacy_search({"after": "2019-01-01"}))
    assert [i["dataset_id"] for i in items] == ["a", "b", "c"]


def test_bad_token_is_a_clear_error_without_the_token(server):
    server.add(
        "POST",
        "/api/traveler/v1/data-search/",
        (401, {}, {"code": "authentication_failed", "detail": f"Invalid token {TOKEN}"}),
    )
    with pytest.raises(tellus.TellusError) as info:
        list(client_for(server).search(datasets=["d"]))
    assert "refused the token" in str(info.value) and "Invalid token" in str(info.value)
    assert TOKEN not in str(info.value)


def test_429_is_retried_after_retry_after_then_succeeds(server):
    sleeps = []
    server.add(
        "GET",
        "/api/traveler/v1/datasets/d/data/s/files/",
        (429, {"Retry-After": "3"}, {"detail": "slow down"}),
        (200, {}, {"results": [{"id": 1, "name": "IMG-HH-x", "size_bytes": 4}]}),
    )
    assert client_for(server, sleeps).files("d", "s")[0]["id"] == 1
    assert sleeps == [3.0]


def test_5xx_retries_are_bounded(server):
    sleeps = []
    server.add("GET", "/api/traveler/v1/datasets/d/data/s/files/", (503, {}, b"busy"))
    with pytest.raises(tellus.TellusError, match="503 after 3 attempts"):
        client_for(server, sleeps).files("d", "s")
    assert len(sleeps) == 2


def test_malformed_json_and_html_error_page_are_clear_errors(server):
    server.add(
        "GET",
        "/api/traveler/v1/datasets/d/data/s/files/",
        (200, {"Content-Type": "text/html"}, b"<html>maintenance</html>"),
    )
    with pytest.raises(tellus.TellusError, match="malformed JSON"):
        client_for(server).files("d", "s")


def test_download_resumes_a_partial_file_and_checks_size(server, tmp_path):
    data = bytes(range(256)) * 40

    def ranged(handler):
        start = int(handler.headers.get("Range", "bytes=0-")[6:].rstrip("-") or 0)
        return (206 if start else 200), {}, data[start:]

    server.add("GET", "/files/IMG-HH-x", (200, {}, ranged))
    (tmp_path / "IMG-HH-x.part").write_bytes(data[:1000])
    path = client_for(server).download(server.url + "/files/IMG-HH-x", str(tmp_path), "IMG-HH-x", size=len(data))
    with open(path, "rb") as handle:
        assert handle.read() == data
    assert server.requests[-1]["headers"]["Range"] == "bytes=1000-"
    assert "Authorization" not in server.requests[-1]["headers"]  # signed URLs are fetched without the token
    assert not (tmp_path / "IMG-HH-x.part").exists()


def test_short_download_keeps_the_part_file_and_says_so(server, tmp_path):
    server.add("GET", "/files/f", (200, {}, b"abc"))
    with pytest.raises(tellus.TellusError, match="3 bytes of 10"):
        client_for(server).download(server.url + "/files/f", str(tmp_path), "f", size=10)
    assert (tmp_path / "f.part").exists() and not (tmp_path / "f").exists()


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "a/b/../../c", "x\\..\\y"])
def test_server_file_names_never_escape_the_folder(name):
    safe = tellus.safe_filename(name)
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".")


@pytest.mark.parametrize("name", ["..", "", "/"])
def test_hopeless_file_names_are_refused(name):
    with pytest.raises(tellus.TellusError):
        tellus.safe_filename(name)


def test_plain_http_is_refused_except_on_loopback():
    with pytest.raises(tellus.TellusError, match="https"):
        tellus.Settings.resolve(api_url="http://example.org/api")
    assert tellus.Settings.resolve(api_url="http://127.0.0.1:9/api").api_url.startswith("http://127.")


def test_environment_variables_fill_empty_parameters(monkeypatch):
    monkeypatch.setenv("TELLUS_TOKEN", "from-env")
    monkeypatch.setenv("TELLUS_API_URL", "https://mirror.example/api")
    settings = tellus.Settings.resolve(token="", api_url="")
    assert settings.token == "from-env" and settings.api_url == "https://mirror.example/api"
    assert tellus.Settings.resolve(token="given").token == "given"
    assert "from-env" not in repr(settings)  # the token never reaches a log through repr


def test_tile_bounds_follow_the_xyz_formula():
    xmin, ymin, xmax, ymax = tellus.tile_bounds_3857(0, 0, 0)
    assert xmin == pytest.approx(-20037508.342789244) and ymax == pytest.approx(20037508.342789244)
    xmin, ymin, xmax, ymax = tellus.tile_bounds_3857(12, 3638, 1612)  # Tokyo
    assert xmax - xmin == pytest.approx(2 * 20037508.342789244 / 4096)
    assert tellus.tiles_for_bbox(139.7, 35.6, 139.8, 35.7, 12)[0] == (3637, 1612)


def test_query_has_dates_and_filters_and_refuses_bad_dates():
    query = tellus.build_query("2020-01-01", "2020-12-31", orbit_direction="ascending", beam="U2-6", frame="")
    assert query["start_datetime"] == {"gte": "2020-01-01T00:00:00Z"}
    assert query["end_datetime"] == {"lte": "2020-12-31T23:59:59Z"}
    assert query["sat:orbit_state"] == {"eq": "ascending"} and "tellus:sat_frame" not in query
    with pytest.raises(ValueError, match="start_date"):
        tellus.build_query("01/02/2020")


def scene(name, day, **extra):
    props = {
        "tellus:name": name,
        "start_datetime": f"{day}T02:00:00Z",
        "sat:relative_orbit": 18,
        "tellus:sat_frame": 2900,
        "palsar2:beam": "U2-6",
        "sar:instrument_mode": "SM1",
        "sat:orbit_state": "ascending",
        "sar:polarizations": "HH+HV",
    }
    props.update(extra)
    return {"id": name, "properties": props}


def test_pairs_share_geometry_of_acquisition_and_respect_max_days():
    scenes = [
        scene("a", "2020-01-01"),
        scene("b", "2020-01-15"),
        scene("c", "2020-03-01"),
        scene("d", "2020-01-10", **{"sat:orbit_state": "descending"}),
    ]
    pairs = tellus.find_pairs(scenes, 30, lambda a, b: True)
    assert [(p["a"]["id"], p["b"]["id"], p["baseline_days"]) for p in pairs] == [("a", "b", 14.0)]
    assert tellus.find_pairs(scenes, 30, lambda a, b: False) == []
    assert len(tellus.find_pairs(scenes, 100, lambda a, b: True)) == 3


@pytest.mark.parametrize("status, message", [(403, "refused the token"), (404, "not found")])
def test_forbidden_and_missing_are_clear_errors(server, status, message):
    server.add("GET", "/api/traveler/v1/datasets/d/data/s/files/", (status, {}, {"detail": "nope"}))
    with pytest.raises(tellus.TellusError, match=message) as info:
        client_for(server).files("d", "s")
    assert TOKEN not in str(info.value)


def test_unreachable_server_is_retried_then_a_clear_error():
    sleeps = []
    settings = tellus.Settings.resolve(token=TOKEN, api_url="http://127.0.0.1:9/api", retries=1, timeout_s=1)
    client = tellus.Client(settings, sleep=sleeps.append)
    with pytest.raises(tellus.TellusError, match="cannot reach"):
        client.files("d", "s")
    assert len(sleeps) == 1
