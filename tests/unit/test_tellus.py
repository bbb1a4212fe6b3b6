"""Tellus client against a fake loopback server: pagination, errors, retries, resume, token safety."""

import os

import pytest
from fake_tellus import FakeTellus

from sar_change.algorithms.readers import tellus

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
    assert sum(sleeps) == pytest.approx(3.0) and max(sleeps) <= tellus.Client.poll_s


def test_5xx_retries_are_bounded(server):
    sleeps = []
    server.add("GET", "/api/traveler/v1/datasets/d/data/s/files/", (503, {}, b"busy"))
    with pytest.raises(tellus.TellusError, match="503 after 3 attempts"):
        client_for(server, sleeps).files("d", "s")
    assert sum(sleeps) == pytest.approx(0.01 + 0.02)  # two waits, doubling


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
    (tmp_path / ".IMG-HH-x.part").write_bytes(data[:1000])
    path = client_for(server).download(server.url + "/files/IMG-HH-x", str(tmp_path), "IMG-HH-x", size=len(data))
    with open(path, "rb") as handle:
        assert handle.read() == data
    assert server.requests[-1]["headers"]["Range"] == "bytes=1000-"
    assert "Authorization" not in server.requests[-1]["headers"]  # signed URLs are fetched without the token
    assert not (tmp_path / ".IMG-HH-x.part").exists()


def test_cancel_stops_a_slow_download_within_a_second_and_the_next_run_resumes(server, tmp_path):
    import time

    from fake_tellus import Trickle

    data = bytes(range(256)) * 8192  # 2 MiB sent 32 KiB every 50 ms: ~3 s

    def ranged(handler):
        start = int(handler.headers.get("Range", "bytes=0-")[6:].rstrip("-") or 0)
        return (206 if start else 200), {}, Trickle(data[start:])

    server.add("GET", "/files/IMG-slow", (200, {}, ranged))
    client = client_for(server)
    begin = time.monotonic()
    client.is_cancelled = lambda: time.monotonic() - begin > 0.5
    with pytest.raises(tellus.Cancelled):
        client.download(server.url + "/files/IMG-slow", str(tmp_path), "IMG-slow", size=len(data))
    assert time.monotonic() - begin < 1.5
    assert [p.name for p in tmp_path.iterdir()] == [".IMG-slow.part"]  # hidden, resumed by the next run
    kept = (tmp_path / ".IMG-slow.part").stat().st_size
    assert 0 < kept < len(data)
    client.is_cancelled = None
    path = client.download(server.url + "/files/IMG-slow", str(tmp_path), "IMG-slow", size=len(data))
    with open(path, "rb") as handle:
        assert handle.read() == data
    assert server.requests[-1]["headers"]["Range"] == f"bytes={kept}-"


def test_short_download_keeps_the_part_file_and_says_so(server, tmp_path):
    server.add("GET", "/files/f", (200, {}, b"abc"))
    with pytest.raises(tellus.TellusError, match="3 bytes of 10"):
        client_for(server).download(server.url + "/files/f", str(tmp_path), "f", size=10)
    assert (tmp_path / ".f.part").exists() and not (tmp_path / "f").exists()


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
    assert sum(sleeps) == pytest.approx(settings.backoff_s)  # one retry, after one backoff


# -- defects of the bad-input audit (issue 20) and network hygiene (issue 17) -------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.evil.example/api",
        "http://localhost.evil.example/api",
        "http://127.0.0.1.nip.io/api",
        "http://[::2]/",
    ],
)
def test_loopback_is_an_address_not_a_name_prefix(url):
    with pytest.raises(tellus.TellusError, match="https"):
        tellus.check_url(url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/a", "http://127.8.9.10/a", "http://localhost/a", "http://[::1]:8/a"]
)
def test_real_loopback_addresses_may_use_http(url):
    assert tellus.check_url(url) == url


@pytest.mark.parametrize("value", ["inf", "nan", "-5", "1e308", "soon"])
def test_retry_after_that_is_not_a_sane_delay_waits_a_bounded_backoff(server, value):
    sleeps = []
    server.add(
        "GET",
        "/api/traveler/v1/datasets/d/data/s/files/",
        (429, {"Retry-After": value}, {"detail": "slow down"}),
        (200, {}, {"results": []}),
    )
    client_for(server, sleeps).files("d", "s")
    assert 0 < sum(sleeps) <= tellus.MAX_WAIT_S


def test_cancel_stops_a_long_retry_wait_within_a_poll(server):
    slept = []
    server.add(
        "GET",
        "/api/traveler/v1/datasets/d/data/s/files/",
        (429, {"Retry-After": "60"}, {"detail": "slow down"}),
        (200, {}, {"results": []}),
    )
    client = client_for(server, slept)
    client.is_cancelled = lambda: len(slept) >= 3
    with pytest.raises(tellus.Cancelled):
        client.files("d", "s")
    assert sum(slept) <= 3 * tellus.Client.poll_s + 1e-9


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"null", b"{", b"\xff\xfe"])
def test_json_that_is_not_an_object_is_a_clear_error(server, body):
    server.add("GET", "/api/traveler/v1/datasets/d/data/s/files/", (200, {}, body))
    with pytest.raises(tellus.TellusError, match="JSON"):
        client_for(server).files("d", "s")


@pytest.mark.parametrize(
    ("template", "match"),
    [
        ("https://t.example/{scene}/{z}/{x}/{y}.png", "only use"),
        ("https://t.example/{z}/{x}.png", "must contain"),
        ("https://t.example/{z/{x}/{y}", "valid template|only use"),
        ("https://t.example/{0}/{z}/{x}/{y}", "only use"),
    ],
)
def test_bad_tile_url_templates_are_refused_when_settings_are_read(template, match):
    with pytest.raises(tellus.TellusError, match=match):
        tellus.Settings.resolve(tile_url=template)


def test_redirect_to_plain_http_elsewhere_is_refused_and_never_carries_the_token(server):
    server.add("GET", "/api/traveler/v1/datasets/d/data/s/files/", (302, {"Location": "http://evil.example/x"}, b""))
    with pytest.raises(tellus.TellusError, match="redirected to a refused address"):
        client_for(server).files("d", "s")


def test_redirect_to_another_host_drops_the_authorization_header(server):
    with FakeTellus() as other:
        other.add("GET", "/files/", (200, {}, {"results": [{"id": 7}]}))
        location = other.url.replace("127.0.0.1", "localhost") + "/files/"
        server.add("GET", "/api/traveler/v1/datasets/d/data/s/files/", (307, {"Location": location}, b""))
        assert client_for(server).files("d", "s") == [{"id": 7}]
        assert server.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
        assert "Authorization" not in other.requests[0]["headers"]


def test_redirect_loops_end_in_a_clear_error(server):
    server.add("GET", "/loop", (302, {"Location": "/loop"}, b""))
    with pytest.raises(tellus.TellusError, match="redirects"):
        client_for(server).request("GET", server.url + "/loop")


def test_a_tile_error_page_echoing_the_request_never_shows_the_token(server, tmp_path):
    server.add("GET", "/t/s/3/1/2.png", (200, {}, f"Authorization: Bearer {TOKEN}".encode()))
    client = client_for(server)
    client.settings.tile_url = server.url + "/t/{scene_id}/{z}/{x}/{y}.png"
    with pytest.raises(tellus.TellusError, match="not a PNG") as info:
        tellus.fetch_tiles(client, "s", 3, [(1, 2)], cache=str(tmp_path))
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize("text", [f"Bearer {TOKEN}", f"token={TOKEN}", f"Authorization: {TOKEN}"])
def test_redact_removes_credentials_even_when_the_token_is_not_known(text):
    assert TOKEN not in tellus.redact(text)


def test_a_world_extent_at_high_zoom_is_refused_before_any_tile_list_is_built():
    assert tellus.tile_count(-180, -85, 180, 85, 20) > 10**11
    with pytest.raises(ValueError, match="MAX_TILES=256"):
        tellus.tiles_for_bbox(-180, -85, 180, 85, 20, max_tiles=256)
    assert len(tellus.tiles_for_bbox(139.0, 35.0, 139.1, 35.1, 10, max_tiles=256)) == tellus.tile_count(
        139.0, 35.0, 139.1, 35.1, 10
    )


def test_server_names_that_collide_are_made_distinct_before_any_download():
    names = tellus.unique_filenames(["a/x", "b/x", "x.part", "X", "y"])
    assert names == ["x", "x_2", "x.part", "X_3", "y"]
    assert len({n.lower() for n in names}) == len(names)


def test_a_file_named_like_another_files_part_does_not_clash(server, tmp_path):
    server.add("GET", "/f/x", (200, {}, b"1234"))
    server.add("GET", "/f/xpart", (200, {}, b"abcdefgh"))
    client = client_for(server)
    client.download(server.url + "/f/xpart", str(tmp_path), "x.part", size=8)
    client.download(server.url + "/f/x", str(tmp_path), "x", size=4)
    assert (tmp_path / "x").read_bytes() == b"1234" and (tmp_path / "x.part").read_bytes() == b"abcdefgh"


def test_very_long_server_names_are_cut_keeping_the_extension():
    name = tellus.safe_filename("IMG-" + "a" * 400 + ".tif")
    assert len(name.encode()) <= tellus.MAX_NAME_BYTES and name.endswith(".tif") and name.startswith("IMG-")


@pytest.mark.parametrize("name", ["\x00", "...", "___", "\x00/..", "CON/.."])
def test_names_with_nothing_usable_are_refused(name):
    with pytest.raises(tellus.TellusError, match="unsafe"):
        tellus.safe_filename(name)


def test_a_body_longer_than_announced_is_not_kept(server, tmp_path):
    server.add("GET", "/f/big", (200, {}, b"x" * 5000))
    with pytest.raises(tellus.TellusError, match="announced"):
        client_for(server).download(server.url + "/f/big", str(tmp_path), "big", size=10, chunk=64)
    assert os.listdir(tmp_path) == []
