"""sarchange:todb in process and through qgis_process.bin: values, georeference, errors, cancel."""

import json
import os

import numpy as np
import pytest

from sar_change.algorithms.io.raster import raster_info, read_band


@pytest.fixture
def power_raster(write_raster):
    rng = np.random.default_rng(7)
    power = rng.gamma(1.0, 0.1, (300, 260)).astype(np.float32)
    power[0, 0] = 0.0  # no logarithm: must become nodata
    power[0, 1] = -1.0
    power[5, 5] = -9999.0  # the nodata value
    return write_raster("power.tif", power, nodata=-9999.0), power


def expected_db(power):
    valid = power > 0
    out = np.full(power.shape, np.nan, np.float32)
    out[valid] = 10 * np.log10(power[valid])
    return out


def test_todb_in_process_equals_ten_log10_with_input_grid(run_alg, power_raster, tmp_path):
    path, power = power_raster
    result = run_alg("sarchange:todb", {"INPUT": path, "OUTPUT": str(tmp_path / "db.tif")})
    out = result["OUTPUT"]
    np.testing.assert_allclose(read_band(out), expected_db(power), rtol=1e-6, equal_nan=True)
    info, src = raster_info(out), raster_info(path)
    assert info.geotransform == src.geotransform and info.crs_wkt == src.crs_wkt
    assert np.isnan(info.nodata[0])
    assert np.isnan(read_band(out)[[0, 0, 5], [0, 1, 5]]).all()


def test_to_linear_inverts_to_db(run_alg, power_raster, tmp_path):
    path, power = power_raster
    db = run_alg("sarchange:todb", {"INPUT": path, "OUTPUT": str(tmp_path / "db.tif")})["OUTPUT"]
    back = run_alg("sarchange:todb", {"INPUT": db, "DIRECTION": "to_linear", "OUTPUT": str(tmp_path / "lin.tif")})
    valid = power > 0
    np.testing.assert_allclose(read_band(back["OUTPUT"])[valid], power[valid], rtol=1e-5)


def test_band_out_of_range_is_a_clear_error_and_writes_nothing(run_alg, power_raster, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="band 2 does not exist"):
        run_alg("sarchange:todb", {"INPUT": power_raster[0], "BAND": 2, "OUTPUT": str(tmp_path / "x.tif")})
    assert not (tmp_path / "x.tif").exists()


@pytest.mark.parametrize("bad", ["missing.tif", "notes.txt"])
def test_missing_or_non_raster_input_is_a_clear_error(run_alg, tmp_path, bad):
    from qgis.core import QgsProcessingException

    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(QgsProcessingException, match="INPUT"):
        run_alg("sarchange:todb", {"INPUT": str(tmp_path / bad), "OUTPUT": str(tmp_path / "x.tif")})
    assert not (tmp_path / "x.tif").exists()


def test_cancelled_run_leaves_no_output(run_alg, power_raster, tmp_path):
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    feedback = QgsProcessingFeedback()
    feedback.cancel()
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run_alg("sarchange:todb", {"INPUT": power_raster[0], "OUTPUT": str(tmp_path / "x.tif")}, feedback)
    assert [p.name for p in tmp_path.iterdir()] == ["power.tif"]


def test_qgis_process_lists_every_sarchange_algorithm(qgis_process, plugin):
    listing = qgis_process("list").stdout
    for alg in plugin.provider.algorithms():
        assert alg.id() in listing


def test_qgis_process_runs_todb(qgis_process, power_raster, tmp_path):
    path, power = power_raster
    out = str(tmp_path / "db.tif")
    result = qgis_process("--json", "run", "sarchange:todb", "--", f"INPUT={path}", "DIRECTION=to_db", f"OUTPUT={out}")
    payload = json.loads(result.stdout[result.stdout.index("{") :])
    assert payload["results"]["OUTPUT"] == out
    np.testing.assert_allclose(read_band(out), expected_db(power), rtol=1e-6, equal_nan=True)
    assert raster_info(out).geotransform == raster_info(path).geotransform
    assert raster_info(out).crs_wkt == raster_info(path).crs_wkt


def test_qgis_process_reports_bad_band_and_fails(qgis_process, power_raster, tmp_path):
    out = str(tmp_path / "db.tif")
    result = qgis_process(
        "run", "sarchange:todb", "--", f"INPUT={power_raster[0]}", "BAND=3", f"OUTPUT={out}", check=False
    )
    assert result.returncode != 0
    assert "band 3 does not exist" in result.stdout + result.stderr
    assert not os.path.exists(out)
