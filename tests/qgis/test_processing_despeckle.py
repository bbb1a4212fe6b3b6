"""sarchange:despeckle and sarchange:speckleqa through Processing and qgis_process.bin."""

import numpy as np
import pytest

from sar_change.algorithms.io.raster import raster_info, read_band
from sar_change.algorithms.sar import despeckle
from sar_change.algorithms.simulation import pair as simulate


@pytest.fixture
def noisy(write_raster):
    image = simulate.simulate_pair(160, 140, looks=1, seed=8)["before"]
    image[10:14, 10:20] = np.nan
    return write_raster("noisy.tif", image), image


def test_qgis_process_despeckle_method_by_name(qgis_process, noisy, tmp_path):
    path, image = noisy
    out = str(tmp_path / "lee.tif")
    qgis_process(
        "run", "sarchange:despeckle", "--", f"INPUT={path}", "METHOD=lee", "WINDOW=5", "LOOKS=1", f"OUTPUT={out}"
    )
    np.testing.assert_array_equal(read_band(out), despeckle.lee(image, 5, 1))
    assert raster_info(out).geotransform == raster_info(path).geotransform


@pytest.mark.parametrize("method", despeckle.METHODS)
def test_every_method_runs_in_processing_and_keeps_nodata(run_alg, noisy, tmp_path, method):
    path, image = noisy
    result = run_alg("sarchange:despeckle", {"INPUT": path, "METHOD": method, "OUTPUT": str(tmp_path / "o.tif")})
    out = read_band(result["OUTPUT"])
    assert np.isnan(out[10:14, 10:20]).all()
    assert np.isfinite(out[20:, 20:]).all()


def test_even_window_is_a_clear_error(run_alg, noisy, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="window must be an odd integer"):
        run_alg("sarchange:despeckle", {"INPUT": noisy[0], "WINDOW": 6, "OUTPUT": str(tmp_path / "o.tif")})
    assert not (tmp_path / "o.tif").exists()


def test_speckleqa_writes_report_and_table(run_alg, noisy, tmp_path):
    path, image = noisy
    filtered = []
    for method in ("boxcar", "lee"):
        result = run_alg(
            "sarchange:despeckle", {"INPUT": path, "METHOD": method, "OUTPUT": str(tmp_path / f"{method}.tif")}
        )
        filtered.append(result["OUTPUT"])
    result = run_alg(
        "sarchange:speckleqa",
        {
            "INPUT": path,
            "FILTERED": filtered,
            "LOOKS": 1,
            "BLOCK": 16,
            "BLOCKS": 5,
            "OUTPUT_HTML": str(tmp_path / "qa.html"),
            "OUTPUT_TABLE": str(tmp_path / "qa.gpkg"),
        },
    )
    html = (tmp_path / "qa.html").read_text()
    assert "<table>" in html and "boxcar" in html and "<svg" in html
    from qgis.core import QgsVectorLayer

    table = QgsVectorLayer(result["OUTPUT_TABLE"], "qa", "ogr")
    rows = {f["filter"]: f for f in table.getFeatures()}
    assert set(rows) == {"boxcar", "lee"}
    assert rows["boxcar"]["enl"] > 3
