"""Tellus algorithms against the fake loopback server: search to footprints, pairs, download; no token leaks."""

import os

import pytest
from fake_tellus import FakeTellus

TOKEN = "tok-9f8e7d6c5b4a"


def footprint(lon, lat):
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + 0.5, lat], [lon + 0.5, lat + 0.5], [lon, lat + 0.5], [lon, lat]]],
    }


def scene(i, day, lon=139.5, **extra):
    props = {
        "tellus:name": f"ALOS2{i:09d}",
        "start_datetime": f"{day}T02:00:00Z",
        "end_datetime": f"{day}T02:00:10Z",
        "sat:orbit_state": "ascending",
        "sat:relative_orbit": 18,
        "tellus:sat_frame": 700,
        "sar:instrument_mode": "SM1",
        "sar:polarizations": "HH+HV",
        "palsar2:beam": "U2-6",
        "sar:observation_direction": "right",
        "view:off_nadir": 32.5,
    }
    props.update(extra)
    return {"type": "Feature", "id": f"id-{i}", "geometry": footprint(lon, 35.3), "properties": props}


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("TELLUS_TOKEN", TOKEN)  # the token comes from the environment or AUTH_CONFIG only
    with FakeTellus() as fake:
        yield fake


def common(server):
    return {"API_URL": server.url + "/api/traveler/v1"}


def test_search_pages_to_footprints_and_pairs(run_alg, server, tmp_path):
    from qgis.core import QgsVectorLayer

    page2 = {"datasets": ["x"], "paginate": {"size": 2, "cursor": "c2"}}
    server.add(
        "POST",
        "/api/traveler/v1/data-search/",
        (
            200,
            {},
            {
                "type": "FeatureCollection",
                "features": [scene(1, "2021-01-01"), scene(2, "2021-01-15")],
                "meta": {"total": 3, "search-condition": page2},
            },
        ),
        (200, {}, {"type": "FeatureCollection", "features": [scene(3, "2021-06-01")], "meta": {"total": 3}}),
    )
    result = run_alg(
        "sarchange:tellussearch",
        {
            "EXTENT": "139.6,139.8,35.4,35.6 [EPSG:4326]",
            "START_DATE": "2021-01-01",
            "END_DATE": "2021-12-31",
            "ORBIT_DIRECTION": "ascending",
            "OUTPUT": str(tmp_path / "scenes.gpkg"),
            **common(server),
        },
    )
    layer = QgsVectorLayer(result["OUTPUT"], "s", "ogr")
    assert layer.featureCount() == 3 and layer.crs().authid() == "EPSG:4326"
    assert {"tellus:name", "sar:polarizations", "view:off_nadir", "palsar2:beam"} <= set(layer.fields().names())
    assert b'"sat:orbit_state": {"eq": "ascending"}' in server.requests[0]["body"]
    pairs = run_alg(
        "sarchange:telluspairs", {"INPUT": result["OUTPUT"], "MAX_DAYS": 30, "OUTPUT": str(tmp_path / "pairs.gpkg")}
    )
    rows = list(QgsVectorLayer(pairs["OUTPUT"], "p", "ogr").getFeatures())
    assert [(f["scene_a"], f["scene_b"], f["baseline_days"]) for f in rows] == [("id-1", "id-2", 14.0)]


def test_download_writes_files_and_reports_img_for_readceos(run_alg, server, tmp_path):
    base = "/api/traveler/v1/datasets/d/data/s1/files/"
    server.add(
        "GET",
        base,
        (
            200,
            {},
            {
                "results": [
                    {"id": 1, "name": "IMG-HH-ALOS2x-1.1__A", "size_bytes": 5},
                    {"id": 2, "name": "../LED-ALOS2x-1.1__A", "size_bytes": 3},
                ]
            },
        ),
    )
    server.add("POST", base + "1/download-url/", (200, {}, {"download_url": server.url + "/blob/1"}))
    server.add("POST", base + "2/download-url/", (200, {}, {"download_url": server.url + "/blob/2"}))
    server.add("GET", "/blob/1", (200, {}, b"12345"))
    server.add("GET", "/blob/2", (200, {}, b"abc"))
    result = run_alg(
        "sarchange:tellusdownload",
        {"DATASET": "d", "SCENE_ID": "s1", "FOLDER": str(tmp_path / "product"), **common(server)},
    )
    assert sorted(os.listdir(tmp_path / "product")) == ["IMG-HH-ALOS2x-1.1__A", "LED-ALOS2x-1.1__A"]
    assert result["IMAGE"].endswith("IMG-HH-ALOS2x-1.1__A")
    assert all("Authorization" not in r["headers"] for r in server.requests if r["path"].startswith("/blob"))


def test_bad_token_error_and_outputs_never_contain_the_token(run_alg, server, tmp_path):
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    class Recorder(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.text = []

        def pushInfo(self, info):  # noqa: N802
            self.text.append(info)

        def pushWarning(self, warning):  # noqa: N802
            self.text.append(warning)

        def reportError(self, error, fatalError=False):  # noqa: N802, N803
            self.text.append(error)

    server.add(
        "POST",
        "/api/traveler/v1/data-search/",
        (401, {}, {"code": "authentication_failed", "detail": f"Invalid token {TOKEN}"}),
    )
    feedback = Recorder()
    with pytest.raises(QgsProcessingException) as info:
        run_alg(
            "sarchange:tellussearch",
            {"EXTENT": "139,140,35,36 [EPSG:4326]", "OUTPUT": str(tmp_path / "s.gpkg"), **common(server)},
            feedback,
        )
    assert "refused the token" in str(info.value)
    assert TOKEN not in str(info.value) and all(TOKEN not in t for t in feedback.text)
    assert not (tmp_path / "s.gpkg").exists() or TOKEN.encode() not in (tmp_path / "s.gpkg").read_bytes()


def test_plain_http_to_a_remote_host_is_refused(run_alg, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="https"):
        run_alg(
            "sarchange:tellussearch",
            {
                "EXTENT": "139,140,35,36 [EPSG:4326]",
                "API_URL": "http://example.org/api",
                "OUTPUT": str(tmp_path / "s.gpkg"),
            },
        )


def png_tile(value, bands=3):
    from osgeo import gdal

    mem = gdal.GetDriverByName("MEM").Create("", 256, 256, bands, gdal.GDT_Byte)
    for b in range(bands):
        mem.GetRasterBand(b + 1).Fill(value)
    gdal.GetDriverByName("PNG").CreateCopy("/vsimem/t.png", mem)
    handle = gdal.VSIFOpenL("/vsimem/t.png", "rb")
    gdal.VSIFSeekL(handle, 0, 2)
    size = gdal.VSIFTellL(handle)
    gdal.VSIFSeekL(handle, 0, 0)
    data = gdal.VSIFReadL(1, size, handle)
    gdal.VSIFCloseL(handle)
    gdal.Unlink("/vsimem/t.png")
    return data


def test_tiles_mosaic_is_on_the_tile_grid_and_cropped(run_alg, server, tmp_path, monkeypatch):
    from sar_change.algorithms.io.raster import raster_info, read_band
    from sar_change.algorithms.readers import tellus

    monkeypatch.setenv("SARCHANGE_TILE_CACHE", str(tmp_path / "cache"))
    tiles = tellus.tiles_for_bbox(139.70, 35.60, 139.80, 35.70, 12)
    for i, (x, y) in enumerate(tiles):
        server.add("GET", f"/tiles/S1/12/{x}/{y}.png", (200, {"Content-Type": "image/png"}, png_tile(10 + i)))
    params = {
        "SCENE_ID": "S1",
        "EXTENT": "139.70,139.80,35.60,35.70 [EPSG:4326]",
        "ZOOM": 12,
        "TILE_URL": server.url + "/tiles/{scene_id}/{z}/{x}/{y}.png",
        **common(server),
    }
    result = run_alg("sarchange:tellustiles", {**params, "OUTPUT": str(tmp_path / "m.tif")})
    info = raster_info(result["OUTPUT"])
    assert "3857" in info.crs_wkt and info.bands == 3
    size = 2 * 20037508.342789244 / 2**12 / 256
    assert info.geotransform[1] == pytest.approx(size)
    x0, y0 = min(x for x, _ in tiles), min(y for _, y in tiles)
    left, _, _, top = tellus.tile_bounds_3857(12, x0, y0)
    # the origin sits on the tile grid: a whole number of pixels from the first tile's corner
    assert ((info.geotransform[0] - left) / size) == pytest.approx(round((info.geotransform[0] - left) / size))
    assert ((top - info.geotransform[3]) / size) == pytest.approx(round((top - info.geotransform[3]) / size))
    assert 0 < info.cols * size <= 0.1 / 360 * 2 * 20037508.342789244 + 2 * size  # cropped to ~0.1 degree
    assert set(read_band(result["OUTPUT"]).ravel().tolist()) <= {10 + i for i in range(len(tiles))}
    fetched = len([r for r in server.requests if r["path"].startswith("/tiles/")])
    run_alg("sarchange:tellustiles", {**params, "OUTPUT": str(tmp_path / "again.tif")})
    assert len([r for r in server.requests if r["path"].startswith("/tiles/")]) == fetched  # from the cache
    with pytest.raises(Exception, match="MAX_TILES"):
        run_alg("sarchange:tellustiles", {**params, "MAX_TILES": 1, "OUTPUT": str(tmp_path / "x.tif")})


@pytest.mark.parametrize("body, message", [(b"<html>502 Bad Gateway</html>", "not a PNG"), (None, "damaged PNG")])
def test_html_page_or_truncated_png_instead_of_a_tile_is_a_clear_error(
    run_alg, server, tmp_path, monkeypatch, body, message
):
    from qgis.core import QgsProcessingException

    monkeypatch.setenv("SARCHANGE_TILE_CACHE", str(tmp_path / "cache"))
    data = body if body is not None else png_tile(5)[:120]
    server.add("GET", "/tiles/S1/5/28/12.png", (200, {}, data))
    with pytest.raises(QgsProcessingException, match=message):
        run_alg(
            "sarchange:tellustiles",
            {
                "SCENE_ID": "S1",
                "EXTENT": "139.70,139.71,35.60,35.61 [EPSG:4326]",
                "ZOOM": 5,
                "TILE_URL": server.url + "/tiles/{scene_id}/{z}/{x}/{y}.png",
                "OUTPUT": str(tmp_path / "m.tif"),
                **common(server),
            },
        )
    assert not (tmp_path / "m.tif").exists()


def test_token_saved_by_the_account_dialog_is_used_from_the_auth_database(run_alg, server, tmp_path, monkeypatch):
    monkeypatch.delenv("TELLUS_TOKEN")
    from qgis.core import QgsApplication

    from sar_change.processing_provider import settings
    from sar_change.ui.tellus_account import TellusAccountDialog, store_token

    manager = QgsApplication.authManager()
    manager.setMasterPassword("test-master-password", True)
    auth_id = store_token(TOKEN)
    assert settings.get("tellus_authcfg") == auth_id
    assert store_token(TOKEN + "-renewed") == auth_id  # updated in place, not duplicated
    server.add(
        "POST",
        "/api/traveler/v1/data-search/",
        (200, {}, {"type": "FeatureCollection", "features": [], "meta": {"total": 0}}),
    )
    run_alg(
        "sarchange:tellussearch",
        {
            "EXTENT": "139,140,35,36 [EPSG:4326]",
            "API_URL": server.url + "/api/traveler/v1",
            "OUTPUT": str(tmp_path / "s.gpkg"),
        },
    )
    assert server.requests[-1]["headers"]["Authorization"] == f"Bearer {TOKEN}-renewed"
    dialog = TellusAccountDialog()
    assert dialog.token.echoMode() == dialog.token.Password  # never shown in clear
    settings.set_value("tellus_authcfg", "")


def test_qgis_proxy_settings_reach_the_client(qgis_app):
    from qgis.core import QgsSettings

    from sar_change.processing_provider import settings

    qs = QgsSettings()
    try:
        qs.setValue("proxy/proxyEnabled", "true")
        qs.setValue("proxy/proxyHost", "proxy.example")
        qs.setValue("proxy/proxyPort", "3128")
        assert settings.qgis_proxies() == {"http": "http://proxy.example:3128", "https": "http://proxy.example:3128"}
        qs.setValue("proxy/proxyEnabled", "false")
        assert settings.qgis_proxies() == {}
    finally:
        for key in ("proxy/proxyEnabled", "proxy/proxyHost", "proxy/proxyPort"):
            qs.remove(key)


def test_block_size_setting_is_read_with_bounds(qgis_app):
    from sar_change.processing_provider import settings

    try:
        settings.set_value("block_size", "512")
        assert settings.block_size() == 512
        settings.set_value("block_size", "5")
        assert settings.block_size() == 256
        settings.set_value("block_size", "lots")
        assert settings.block_size() == 1024
    finally:
        settings.set_value("block_size", "1024")


def test_a_token_parameter_is_refused_and_not_echoed(run_alg, server, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="TOKEN is no longer a parameter") as info:
        run_alg(
            "sarchange:tellussearch",
            {
                "EXTENT": "139,140,35,36 [EPSG:4326]",
                "TOKEN": "abc",
                "OUTPUT": str(tmp_path / "s.gpkg"),
                **common(server),
            },
        )
    assert "abc" not in str(info.value)


def test_tellus_algorithms_declare_no_token_parameter(plugin):
    from qgis.core import QgsApplication

    for name in ("tellussearch", "tellusdownload", "tellustiles"):
        alg = QgsApplication.processingRegistry().algorithmById(f"sarchange:{name}")
        assert "TOKEN" not in [p.name() for p in alg.parameterDefinitions()]
        assert "TELLUS_TOKEN" in alg.shortHelpString()


def test_a_random_token_never_reaches_qgis_process_output_logs_or_files(qgis_process, tmp_path):
    import secrets

    token = "tk-" + secrets.token_hex(12)
    with FakeTellus() as fake:
        fake.add(
            "POST",
            "/api/traveler/v1/data-search/",
            (200, {}, {"features": [scene(1, "2021-01-05")], "meta": {}}),
        )
        fake.add("GET", "/t/id-1/3/7/3.png", (200, {}, f"echo Authorization: Bearer {token}".encode()))
        env = {"TELLUS_TOKEN": token, "SARCHANGE_TILE_CACHE": str(tmp_path / "cache")}
        runs = [
            qgis_process(
                "run",
                "sarchange:tellussearch",
                "--json",
                "--",
                "EXTENT=139,140,35,36 [EPSG:4326]",
                f"API_URL={fake.url}/api/traveler/v1",
                f"OUTPUT={tmp_path / 's.gpkg'}",
                extra_env=env,
            ),
            qgis_process(
                "run",
                "sarchange:tellustiles",
                "--json",
                "--",
                "SCENE_ID=id-1",
                "ZOOM=3",
                "EXTENT=139,140,35,36 [EPSG:4326]",
                f"TILE_URL={fake.url}/t/{{scene_id}}/{{z}}/{{x}}/{{y}}.png",
                f"OUTPUT={tmp_path / 't.tif'}",
                extra_env=env,
                check=False,
            ),
        ]
        assert all(r["headers"].get("Authorization") == f"Bearer {token}" for r in fake.requests)
    assert runs[0].returncode == 0 and runs[1].returncode != 0 and "not a PNG" in runs[1].stdout + runs[1].stderr
    for run in runs:
        assert token not in run.stdout and token not in run.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path


def test_download_keeps_every_file_when_server_names_collide_or_are_long(run_alg, server, tmp_path):
    base = "/api/traveler/v1/datasets/d/data/s1/files/"
    long_name = "IMG-" + "b" * 300
    listing = [
        {"id": 1, "name": "a/x", "size_bytes": 1},
        {"id": 2, "name": "b/x", "size_bytes": 2},
        {"id": 3, "name": "x.part", "size_bytes": 3},
        {"id": 4, "name": long_name, "size_bytes": 4},
    ]
    server.add("GET", base, (200, {}, {"results": listing}))
    for item in listing:
        i = item["id"]
        server.add("POST", f"{base}{i}/download-url/", (200, {}, {"download_url": f"{server.url}/blob/{i}"}))
        server.add("GET", f"/blob/{i}", (200, {}, b"z" * i))
    result = run_alg(
        "sarchange:tellusdownload", {"DATASET": "d", "SCENE_ID": "s1", "FOLDER": str(tmp_path / "p"), **common(server)}
    )
    files = sorted(os.listdir(tmp_path / "p"))
    assert len(files) == 4 and {"x", "x_2", "x.part"} <= set(files)
    assert sorted(os.path.getsize(tmp_path / "p" / f) for f in files) == [1, 2, 3, 4]
    assert result["IMAGE"].startswith(str(tmp_path / "p" / "IMG-bbb")) and len(os.path.basename(result["IMAGE"])) <= 200


def test_a_world_extent_at_zoom_20_is_refused_at_once(run_alg, server, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="MAX_TILES=256"):
        run_alg(
            "sarchange:tellustiles",
            {"SCENE_ID": "s", "ZOOM": 20, "EXTENT": "-180,180,-85,85 [EPSG:4326]", "OUTPUT": str(tmp_path / "t.tif")},
        )
    assert not (tmp_path / "t.tif").exists() and server.requests == []


def test_tellus_algorithms_run_off_the_gui_thread_and_preselect_the_saved_account(plugin, monkeypatch):
    """A search against an unreachable host froze QGIS for ~15 s (FlagNoThreading), and the form
    showed 'No Authentication' after a save."""
    from qgis.core import QgsApplication, QgsProcessingAlgorithm

    from sar_change.processing_provider import settings

    monkeypatch.setattr(settings, "get", lambda key: "abc1234" if key == "tellus_authcfg" else "")
    for alg_id in ("tellussearch", "tellustiles", "tellusdownload"):  # telluspairs works on a layer
        alg = QgsApplication.processingRegistry().algorithmById(f"sarchange:{alg_id}").create()
        assert not alg.flags() & QgsProcessingAlgorithm.FlagNoThreading, alg_id
        assert alg.parameterDefinition("AUTH_CONFIG").defaultValue() == "abc1234", alg_id
        assert "pre-selected" in alg.shortHelpString()


def test_the_account_dialog_says_when_nothing_was_saved_and_stays_open(qgis_app, monkeypatch):
    """Cancelling QGIS's master-password prompt closed the dialog as if it had saved."""
    from qgis.PyQt.QtWidgets import QMessageBox

    from sar_change.ui import tellus_account

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(("warning", args[2])))
    monkeypatch.setattr(QMessageBox, "information", lambda *args: shown.append(("information", args[2])))

    def refused(token):
        raise RuntimeError("the QGIS authentication database refused the configuration")

    monkeypatch.setattr(tellus_account, "store_token", refused)
    dialog = tellus_account.TellusAccountDialog()
    dialog.token.setText("secret-token-1")
    dialog.save()
    assert shown and shown[0][0] == "warning" and "was not saved" in shown[0][1]
    assert "secret-token-1" not in shown[0][1]
    assert dialog.result() != dialog.Accepted
    monkeypatch.setattr(tellus_account, "store_token", lambda token: "cfg0001")
    monkeypatch.setattr(tellus_account.settings, "set_value", lambda *args: None)
    dialog.save()
    assert shown[-1][0] == "information" and "cfg0001" in shown[-1][1]
    assert dialog.result() == dialog.Accepted
