"""Every blockwise algorithm gives the same outputs, bit for bit, when its blocks run on a
dask.distributed cluster (named by $SARCHANGE_DASK_SCHEDULER or the setting
``sar_change/dask_scheduler``) as on local threads."""

import numpy as np
import pytest
from osgeo import gdal

from sar_change.algorithms.io.cluster import SCHEDULER_ENV


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    from helpers import GEOTRANSFORM, utm54_wkt

    from sar_change.algorithms.io.outputs import write_array
    from sar_change.algorithms.simulation import volcano as elevation_sim

    folder = tmp_path_factory.mktemp("cluster")
    rng = np.random.default_rng(8)
    rows, cols = 600, 520
    base = np.exp(rng.normal(-2.5, 0.6, (rows, cols))).astype(np.float32)
    paths = {}
    for i in range(3):
        image = base * rng.gamma(4.0, 0.25, (rows, cols)).astype(np.float32)
        if i:
            image[150:350, 100:260] *= 6.0
        paths[f"d{i}"] = str(folder / f"d{i}.tif")
        write_array(paths[f"d{i}"], image, geotransform=GEOTRANSFORM, crs_wkt=utm54_wkt())
    y, x = np.mgrid[0:rows, 0:cols]
    phase = 0.02 * x + 0.01 * y
    noise = lambda: (rng.normal(size=(rows, cols)) + 1j * rng.normal(size=(rows, cols))) * 0.3  # noqa: E731
    reference = np.sqrt(base) * (1 + noise())
    secondary = np.sqrt(base) * (1 + noise()) * np.exp(1j * phase)
    for name, array in (("slc1", reference), ("slc2", secondary)):
        paths[name] = str(folder / f"{name}.tif")
        write_array(paths[name], array.astype(np.complex64), geotransform=GEOTRANSFORM, crs_wkt=utm54_wkt())
    for name, array in (("phase1", np.angle(secondary)), ("phase2", np.angle(reference * np.exp(0.5j * phase)))):
        paths[name] = str(folder / f"{name}.tif")
        write_array(paths[name], array.astype(np.float32), geotransform=GEOTRANSFORM, crs_wkt=utm54_wkt())
    volcano = elevation_sim.Volcano(rows=300, cols=300, spacing_m=10.0, radius_m=1200.0, height_m=500.0)
    sim = elevation_sim.simulate_volcano((20.0, 20.0, 50.0), looks=2, volcano=volcano, seed=5)
    paths["amps"] = []
    for k, amplitude in enumerate(sim["amplitudes"]):
        paths["amps"].append(str(folder / f"amp{k}.tif"))
        write_array(paths["amps"][-1], amplitude.astype(np.float32), geotransform=GEOTRANSFORM, crs_wkt=utm54_wkt())
    paths["dem"] = str(folder / "dem.tif")
    write_array(paths["dem"], sim["dems"][0].astype(np.float32), geotransform=GEOTRANSFORM, crs_wkt=utm54_wkt())
    return paths


def _raster(path):
    dataset = gdal.Open(path)
    return dataset.ReadAsArray()


def _features(path):
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(path, "v", "ogr")
    assert layer.isValid()
    return sorted(f.geometry().asWkt(3) for f in layer.getFeatures())


CASES = {
    "todb": ("sarchange:todb", lambda p: {"INPUT": p["d0"]}, ["OUTPUT"], []),
    "despeckle lee": ("sarchange:despeckle", lambda p: {"INPUT": p["d0"], "METHOD": "lee"}, ["OUTPUT"], []),
    "despeckle tv": ("sarchange:despeckle", lambda p: {"INPUT": p["d0"], "METHOD": "tv"}, ["OUTPUT"], []),
    "overlay": ("sarchange:overlay", lambda p: {"BEFORE": p["d0"], "AFTER": p["d1"]}, ["OUTPUT"], []),
    "rgbcomposite": ("sarchange:rgbcomposite", lambda p: {"HH": p["d0"], "HV": p["d1"]}, ["OUTPUT"], []),
    "kmeans pixel": (
        "sarchange:kmeans",
        lambda p: {"BACKSCATTER": [p["d0"], p["d1"]], "UNIT": "pixel", "CLASSES": 3},
        ["OUTPUT"],
        [],
    ),
    "omnibus": (
        "sarchange:omnibus",
        lambda p: {"INPUTS": [p["d0"], p["d1"], p["d2"]], "LOOKS": 4.0},
        ["OUTPUT_CHANGES", "OUTPUT_FIRST", "OUTPUT_LAST"],
        ["OUTPUT"],
    ),
    "interferogram": (
        "sarchange:interferogram",
        lambda p: {"REFERENCE": p["slc1"], "SECONDARY": p["slc2"], "COREGISTER": "none"},
        ["OUTPUT_PHASE", "OUTPUT_COHERENCE"],
        [],
    ),
    "differentialinterferogram": (
        "sarchange:differentialinterferogram",
        lambda p: {"INTERFEROGRAM_A": p["phase1"], "INTERFEROGRAM_B": p["phase2"]},
        ["OUTPUT"],
        [],
    ),
    "elevationchange surface": (
        "sarchange:elevationchange",
        lambda p: {"AMPLITUDES": p["amps"], "DEM": p["dem"], "INCIDENCE_DEG": 35},
        ["OUTPUT_DEMS", "OUTPUT_CHANGE"],
        [],
    ),
    "elevationchange seed_lines": (
        "sarchange:elevationchange",
        lambda p: {"AMPLITUDES": p["amps"], "DEM": p["dem"], "INCIDENCE_DEG": 35, "MODEL": "seed_lines"},
        ["OUTPUT_DEMS", "OUTPUT_CHANGE"],
        [],
    ),
    "changedetection": (
        "sarchange:changedetection",
        lambda p: {"BEFORE": p["d0"], "AFTER": p["d1"]},
        ["OUTPUT_RASTER"],
        ["OUTPUT"],
    ),
}


def _run(run_alg, case, scene, folder):
    alg, params, rasters, vectors = CASES[case]
    parameters = dict(params(scene))
    for name in rasters:
        parameters[name] = str(folder / f"{name}.tif")
    for name in vectors:
        parameters[name] = str(folder / f"{name}.gpkg")
    result = run_alg(alg, parameters)
    return [_raster(result[name]) for name in rasters], [_features(result[name]) for name in vectors]


@pytest.fixture
def small_blocks(plugin):
    """256-pixel blocks (the setting's least), so the 600 x 520 scene has several blocks with halos."""
    from sar_change.processing_provider import settings

    settings.set_value("block_size", "256")
    yield
    settings.set_value("block_size", settings.DEFAULTS["block_size"])


@pytest.mark.parametrize("case", sorted(CASES))
def test_cluster_outputs_equal_local_outputs_bit_for_bit(
    case, run_alg, scene, dask_cluster, small_blocks, tmp_path, monkeypatch
):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    (tmp_path / "local").mkdir()
    (tmp_path / "dask").mkdir()
    local_rasters, local_vectors = _run(run_alg, case, scene, tmp_path / "local")
    monkeypatch.setenv(SCHEDULER_ENV, dask_cluster.scheduler_address)
    submitted = _count_cluster_runs(monkeypatch)
    rasters, vectors = _run(run_alg, case, scene, tmp_path / "dask")
    assert submitted, "no block went to the cluster"
    for expected, got in zip(local_rasters, rasters):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert np.array_equal(expected, got, equal_nan=True)
        assert np.isfinite(got).any()
    assert vectors == local_vectors


def _count_cluster_runs(monkeypatch):
    """The scheduler addresses of the block pipelines that went to a cluster (filled as they run)."""
    from sar_change.algorithms.io import cluster

    calls = []

    def counted(address, *args, **kwargs):
        calls.append(address)
        return cluster.cluster_map(address, *args, **kwargs)

    monkeypatch.setattr("sar_change.algorithms.io.pipeline.cluster_map", counted)
    return calls


def test_setting_names_the_scheduler(run_alg, scene, dask_cluster, tmp_path, monkeypatch):
    from sar_change.processing_provider import settings

    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    calls = _count_cluster_runs(monkeypatch)
    settings.set_value("dask_scheduler", dask_cluster.scheduler_address)
    try:
        out = run_alg("sarchange:todb", {"INPUT": scene["d0"], "OUTPUT": str(tmp_path / "db.tif")})["OUTPUT"]
    finally:
        settings.set_value("dask_scheduler", "")
    assert calls == [dask_cluster.scheduler_address]
    assert np.nanmax(_raster(out)) < 30  # dB, not linear


def test_unreachable_scheduler_in_the_setting_fails_naming_it_and_writes_nothing(run_alg, scene, tmp_path, monkeypatch):
    pytest.importorskip("distributed", reason="dask.distributed not installed (python3-distributed)")
    from qgis.core import QgsProcessingException

    from sar_change.algorithms.io import cluster
    from sar_change.processing_provider import settings

    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    settings.set_value("dask_scheduler", "tcp://127.0.0.1:9")
    try:
        with pytest.raises(QgsProcessingException, match=r"tcp://127\.0\.0\.1:9"):
            run_alg("sarchange:despeckle", {"INPUT": scene["d0"], "OUTPUT": str(tmp_path / "o.tif")})
    finally:
        settings.set_value("dask_scheduler", "")
    assert not (tmp_path / "o.tif").exists()


def test_qgis_process_runs_on_the_scheduler_named_by_the_environment(qgis_process, scene, dask_cluster, tmp_path):
    local, remote = tmp_path / "local.tif", tmp_path / "dask.tif"
    qgis_process("run", "sarchange:despeckle", "--", f"INPUT={scene['d0']}", f"OUTPUT={local}")
    log = qgis_process(
        "run",
        "sarchange:despeckle",
        "--",
        f"INPUT={scene['d0']}",
        f"OUTPUT={remote}",
        extra_env={SCHEDULER_ENV: dask_cluster.scheduler_address},
    )
    assert f"run on the dask scheduler at {dask_cluster.scheduler_address}" in log.stdout
    assert np.array_equal(_raster(str(local)), _raster(str(remote)), equal_nan=True)
    unreachable = qgis_process(
        "run",
        "sarchange:todb",
        "--",
        f"INPUT={scene['d0']}",
        f"OUTPUT={tmp_path / 'never.tif'}",
        check=False,
        extra_env={SCHEDULER_ENV: "tcp://127.0.0.1:9"},
        timeout=120,
    )
    assert unreachable.returncode != 0
    assert "tcp://127.0.0.1:9" in unreachable.stdout + unreachable.stderr
    assert not (tmp_path / "never.tif").exists()


def test_settings_dialog_saves_the_scheduler_and_tests_the_connection(plugin, dask_cluster, monkeypatch):
    from sar_change.algorithms.io import cluster
    from sar_change.processing_provider import settings
    from sar_change.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog()
    assert dialog.scheduler.text() == ""
    dialog.test_connection()
    assert "this machine" in dialog.status.text()
    dialog.scheduler.setText(f" {dask_cluster.scheduler_address} ")
    dialog.test_connection()
    assert dialog.status.text() == "Connected: 2 workers, 2 threads."
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    dialog.scheduler.setText("tcp://127.0.0.1:9")
    dialog.test_connection()
    assert "cannot reach the dask scheduler at 'tcp://127.0.0.1:9'" in dialog.status.text()
    dialog.scheduler.setText(dask_cluster.scheduler_address)
    dialog.block_size.setValue(512)
    try:
        dialog.save()
        assert settings.get("dask_scheduler") == dask_cluster.scheduler_address
        assert settings.block_size() == 512
    finally:
        settings.set_value("dask_scheduler", "")
        settings.set_value("block_size", settings.DEFAULTS["block_size"])
