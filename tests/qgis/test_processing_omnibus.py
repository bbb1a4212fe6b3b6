"""sarchange:omnibus through Processing: dates of change, polygons, errors, real 8-year stack."""

import os
import re

import numpy as np
import pytest

from sar_change.algorithms.io.raster import read_band


@pytest.fixture
def series(write_raster):
    rng = np.random.default_rng(0)
    means = np.ones((5, 60, 60))
    means[3:, 10:30, 10:30] = 0.25  # -6 dB from date 4 (2021)
    means[1:, 40:55, 40:55] = 4.0  # +6 dB from date 2 (2019)
    return [
        write_raster(f"d{i}.tif", (m * rng.gamma(16, 1 / 16, m.shape)).astype(np.float32)) for i, m in enumerate(means)
    ]


def test_dates_of_change_and_polygons(run_alg, series, tmp_path):
    from qgis.core import QgsVectorLayer

    result = run_alg(
        "sarchange:omnibus",
        {
            "INPUTS": series,
            "DATES": "2018,2019,2020,2021,2022",
            "LOOKS": 16,
            "ALPHA": 0.01,
            "MIN_AREA": 5000,
            "OUTPUT_CHANGES": str(tmp_path / "n.tif"),
            "OUTPUT_FIRST": str(tmp_path / "f.tif"),
            "OUTPUT_LAST": str(tmp_path / "l.tif"),
            "OUTPUT": str(tmp_path / "r.gpkg"),
        },
    )
    first = read_band(result["OUTPUT_FIRST"], dtype=np.float64)  # YYYYMMDD exceeds float32
    assert (first[12:28, 12:28] == 20210101).mean() > 0.95
    assert (first[42:53, 42:53] == 20190101).mean() > 0.8  # a 2-date R test has less power
    assert (first[:8, :] == 0).mean() > 0.9
    layer = QgsVectorLayer(result["OUTPUT"], "r", "ogr")
    firsts = sorted(f["first_date"] for f in layer.getFeatures())
    assert firsts == ["2019", "2021"]
    step = {f["first_date"]: f["change_db"] for f in layer.getFeatures()}  # +6 dB in 2019, -6 dB in 2021
    assert 4.5 < step["2019"] < 6.5 and -6.5 < step["2021"] < -4.0
    assert all(f.geometry().isGeosValid() for f in layer.getFeatures())


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"INPUTS_COUNT": 2}, "at least 3 dates"),
        ({"DATES": "2018,2019"}, "one date per input"),
        ({"DATES": "2020,2019,2018,2017,2016"}, "time order"),
        ({"ALPHA": 0}, "ALPHA"),
    ],
)
def test_bad_input_is_a_clear_error(run_alg, series, tmp_path, bad, message):
    from qgis.core import QgsProcessingException

    params = {
        "INPUTS": series[: bad.pop("INPUTS_COUNT", 5)],
        "OUTPUT_CHANGES": str(tmp_path / "n.tif"),
        "OUTPUT_FIRST": str(tmp_path / "f.tif"),
        "OUTPUT_LAST": str(tmp_path / "l.tif"),
        "OUTPUT": str(tmp_path / "r.gpkg"),
        **bad,
    }
    with pytest.raises(QgsProcessingException, match=message):
        run_alg("sarchange:omnibus", params)
    assert not (tmp_path / "n.tif").exists()


def test_malaysia_eight_years_of_palsar_mosaics(run_alg, shared_data, tmp_path):
    folder = os.path.join(shared_data, "malaysia_jaxa_mosaics", "hh")
    years = ["07", "08", "09", "10", "15", "16", "17", "18"]
    result = run_alg(
        "sarchange:omnibus",
        {
            "INPUTS": [os.path.join(folder, f"N05E100_{y}_sl_HH.tif") for y in years],
            "DATES": ",".join(f"20{y}" for y in years),
            "INPUT_SCALE": "palsar_dn",
            "ALPHA": 0.01,
            "OUTPUT_CHANGES": str(tmp_path / "n.tif"),
            "OUTPUT_FIRST": str(tmp_path / "f.tif"),
            "OUTPUT_LAST": str(tmp_path / "l.tif"),
            "OUTPUT": "TEMPORARY_OUTPUT",
        },
    )
    changes = read_band(result["OUTPUT_CHANGES"])
    first = read_band(result["OUTPUT_FIRST"], dtype=np.float64)  # YYYYMMDD exceeds float32
    valid = np.isfinite(changes)
    assert valid.mean() > 0.99
    dates = set(np.unique(first[valid & (changes > 0)]).astype(int))
    assert dates <= {20080101, 20090101, 20100101, 20150101, 20160101, 20170101, 20180101}
    share = (changes[valid] > 0).mean()
    print(f"Malaysia HH 2007-2018: {share:.1%} of pixels changed at least once")
    assert 0.05 < share < 0.95


def test_malaysia_hv_with_defaults_leaves_open_water_and_reports_by_date(run_alg, shared_data, tmp_path):
    """Issue 14 with defaults: the pure test flagged 88 % of persistent water and wrote 258,121 polygons."""
    from osgeo import ogr

    folder = os.path.join(shared_data, "malaysia_jaxa_mosaics", "hv")
    years = ["07", "08", "09", "10", "15", "16", "17", "18"]
    paths = [os.path.join(folder, f"N05E100_{y}_sl_HV.tif") for y in years]
    result = run_alg(
        "sarchange:omnibus",
        {
            "INPUTS": paths,
            "DATES": ",".join(f"20{y}" for y in years),
            "INPUT_SCALE": "palsar_dn",
            "OUTPUT_CHANGES": str(tmp_path / "n.tif"),
            "OUTPUT_FIRST": str(tmp_path / "f.tif"),
            "OUTPUT_LAST": str(tmp_path / "l.tif"),
            "OUTPUT": str(tmp_path / "o.gpkg"),
            "OUTPUT_HTML": str(tmp_path / "r.html"),
        },
    )
    dn = np.stack([read_band(p, dtype=np.float64) for p in paths])
    water = np.all((dn > 0) & (dn**2 < 10 ** ((-22 + 83.0) / 10)), axis=0)  # below -22 dB every year
    changes = read_band(result["OUTPUT_CHANGES"])
    assert water.sum() > 50_000 and (changes[water] > 0).mean() < 0.02
    assert 0.005 < (changes[np.isfinite(changes)] > 0).mean() < 0.2
    vector = ogr.Open(result["OUTPUT"])
    assert 10 < vector.GetLayer(0).GetFeatureCount() < 5000
    with open(result["OUTPUT_HTML"], encoding="utf-8") as handle:
        report = handle.read()
    assert "Changed area by date of first change" in report and "<rect" in report
    assert "gain removed (dB)" in report and "2015" in report and "None" not in report
    assert "per year (ha/yr)" in report and "<td>5.00</td>" in report  # 2010 -> 2015: five years
    assert "of which losses: level fell (ha)" in report


def test_a_second_polarisation_is_tested_jointly_and_must_match_the_dates(run_alg, series, write_raster, tmp_path):
    from qgis.core import QgsProcessingException

    rng = np.random.default_rng(1)
    hv = [write_raster(f"hv{i}.tif", (0.1 * rng.gamma(16, 1 / 16, (60, 60))).astype(np.float32)) for i in range(5)]
    outputs = {k: str(tmp_path / f"{k}.tif") for k in ("OUTPUT_CHANGES", "OUTPUT_FIRST", "OUTPUT_LAST")}
    parameters = dict(INPUTS=series, SECOND_POL=hv, DATES="2018,2019,2020,2021,2022", LOOKS=16, **outputs)
    result = run_alg("sarchange:omnibus", dict(parameters, OUTPUT=str(tmp_path / "r.gpkg")))
    first = read_band(result["OUTPUT_FIRST"], dtype=np.float64)
    assert (first[12:28, 12:28] == 20210101).mean() > 0.9  # the HH change, HV unchanged
    assert (first[:8, :] == 0).mean() > 0.9
    with pytest.raises(QgsProcessingException, match="SECOND_POL needs one image per date"):
        run_alg("sarchange:omnibus", dict(parameters, SECOND_POL=hv[:4], OUTPUT=str(tmp_path / "s.gpkg")))


@pytest.mark.parametrize("tolerance, line_at_most", [(0, 1.0), (1, 0.1)])
def test_shift_tolerance_leaves_an_edge_moved_by_a_pixel_and_finds_the_field(
    run_alg, write_raster, tmp_path, tolerance, line_at_most
):
    means = np.ones((6, 60, 60))
    means[:, :, :30] = 0.01  # water
    means[3:, :, 30] = 0.01  # the coast moves by a pixel from date 4: misregistration
    means[4:, 20:40, 45:55] = 0.1  # a field loses 10 dB into date 5
    rng = np.random.default_rng(2)
    paths = [
        write_raster(f"e{i}.tif", (m * rng.gamma(16, 1 / 16, m.shape)).astype(np.float32)) for i, m in enumerate(means)
    ]
    result = run_alg(
        "sarchange:omnibus",
        {
            "INPUTS": paths,
            "LOOKS": 16,
            "NOISE_FLOOR_DB": -60,
            "SHIFT_TOLERANCE": tolerance,
            "OUTPUT_HTML": str(tmp_path / "report.html"),
            "OUTPUT_CHANGES": str(tmp_path / "n.tif"),
            "OUTPUT_FIRST": str(tmp_path / "f.tif"),
            "OUTPUT_LAST": str(tmp_path / "l.tif"),
            "OUTPUT": str(tmp_path / "r.gpkg"),
        },
    )
    changes = read_band(result["OUTPUT_CHANGES"])
    line = (changes[:, 30] > 0).mean()
    assert line <= line_at_most and (tolerance or line > 0.9)
    assert (changes[20:40, 45:55] > 0).mean() > 0.95
    with open(tmp_path / "report.html", encoding="utf-8") as handle:
        report = handle.read()
    assert ("within 1 pixel too (misregistration tolerated)" in report) == bool(tolerance)
    # date 5: the field that lost 10 dB, all of its area a loss
    row = re.search(r"<tr><td>5</td><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", report)
    area, loss, gain = (float(v) for v in row.groups())
    assert "of which losses: level fell (ha)" in report and area > 0 and loss == area and gain == 0
