"""Multi-date change (omnibus) on the real 8-year Malaysia HV stack, defaults only (issue 14).

Usage: /usr/bin/python3 benchmarks/omnibus_real.py [DATA_DIR]
(default ../shared/data/malaysia_jaxa_mosaics/hv; 2007-2010 ALOS, 2015-2018 ALOS-2, 1000 x 1000 px)

Runs ``qgis_process.bin run sarchange:omnibus`` with INPUT_SCALE=palsar_dn, DATES and every other
parameter at its default, then the peer in the same run: the same test without the real-stack
model (the pure omnibus test: looks from the ENL of homogeneous blocks of the first date, no gain
per date, no effect size, no noise floor, MIN_AREA 0: the former defaults). Prints, for each:
whole-process time and peak memory, the share of pixels with a change, the share of persistent
open water (below -22 dB every year) flagged, first changes at the 2010 -> 2015 sensor switch
against the median of the other dates (and the same per year since the previous date: 2015 follows
2010 by five years, every other date its predecessor by one), and the number of polygons.
Targets: water <= 2 %, switch <= 2.5x, <= 5000 polygons, <= 5 s and <= 400 MB.
"""

import os
import sys
import tempfile

import numpy as np
from common import REPO_ROOT, register_package, run_measured

register_package()

YEARS = ("07", "08", "09", "10", "15", "16", "17", "18")
DEFAULT_DATA = os.path.join(os.path.dirname(REPO_ROOT), "shared", "data", "malaysia_jaxa_mosaics", "hv")


def qgis_env(home):
    plugins = os.path.join(home, "plugins")
    os.makedirs(plugins, exist_ok=True)
    link = os.path.join(plugins, "sar_change")
    if not os.path.exists(link):
        os.symlink(REPO_ROOT, link)
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        QGIS_CUSTOM_CONFIG_PATH=os.path.join(home, "profile"),
        QGIS_PLUGINPATH=plugins,
    )
    run_measured(["qgis_process.bin", "plugins", "enable", "sar_change"], env=env)
    return env


def evaluate(folder, data):
    from osgeo import gdal, ogr

    gdal.UseExceptions()
    levels = []
    for year in YEARS:
        dataset = gdal.Open(os.path.join(data, f"N05E100_{year}_sl_HV.tif"))
        dn = dataset.GetRasterBand(1).ReadAsArray().astype(np.float64)
        with np.errstate(divide="ignore"):
            levels.append(np.where(dn > 0, 10 * np.log10(dn**2) - 83.0, np.nan))
    water = np.all(np.stack(levels) < -22, axis=0)
    changes_ds, first_ds = (gdal.Open(os.path.join(folder, name)) for name in ("n.tif", "f.tif"))
    changes = changes_ds.GetRasterBand(1).ReadAsArray()  # the datasets stay referenced while read
    first = first_ds.GetRasterBand(1).ReadAsArray()
    valid = changes != 255
    counts = {year: int((first == int(f"20{year}0101")).sum()) for year in YEARS[1:]}
    others = [n for year, n in counts.items() if year != "15"]
    # 2015 follows 2010 by five years, every other date its predecessor by one
    per_year = {year: n / (5.0 if year == "15" else 1.0) for year, n in counts.items()}
    vector = ogr.Open(os.path.join(folder, "o.gpkg"))
    layer = vector.GetLayer(0)
    polygons = layer.GetFeatureCount()
    steps = {}  # per first date: (change_db, area_m2) of its polygons
    for feature in layer:
        year = str(feature.GetField("first_date"))[2:4]
        steps.setdefault(year, []).append((feature.GetField("change_db"), feature.GetField("area_m2")))
    layer = None
    return {
        "changed %": 100 * float(((changes > 0) & valid).sum()) / max(int(valid.sum()), 1),
        "water flagged %": 100 * float((changes[water] > 0).mean()) if water.any() else float("nan"),
        "switch x": counts["15"] / max(float(np.median(others)), 1.0),
        "switch per year x": per_year["15"] / max(float(np.median([per_year[y] for y in per_year if y != "15"])), 1.0),
        "polygons": polygons,
        "first changes": counts,
        "steps": {year: _step_summary(values) for year, values in sorted(steps.items())},
    }


def _step_summary(values):
    """Area-weighted share of losses and median |change_db| of one first date's polygons: a
    calibration step would be one-signed and near MIN_CHANGE_DB, land change of both signs."""
    db, area = (np.asarray(v, np.float64) for v in zip(*values))
    ok = np.isfinite(db)
    loss = float(area[ok & (db < 0)].sum() / max(area[ok].sum(), 1.0))
    size = float(np.median(np.abs(db[ok])))
    return f"{int(ok.sum())} polygons, {100 * loss:.0f} % of the area losses, median |change_db| {size:.1f}"


def run(env, data, folder, extra):
    os.makedirs(folder, exist_ok=True)
    inputs = [f"--INPUTS={os.path.join(data, f'N05E100_{year}_sl_HV.tif')}" for year in YEARS]
    dates = ",".join(f"20{year}" for year in YEARS)
    command = ["qgis_process.bin", "run", "sarchange:omnibus", *inputs, "--INPUT_SCALE=palsar_dn", f"--DATES={dates}"]
    command += [f"--OUTPUT_{k}={os.path.join(folder, v)}" for k, v in (("CHANGES", "n.tif"), ("FIRST", "f.tif"))]
    command += [f"--OUTPUT_LAST={os.path.join(folder, 'l.tif')}", f"--OUTPUT={os.path.join(folder, 'o.gpkg')}"]
    return run_measured(command + extra, env=env)


def hh_paths(data):
    """The HH mosaics beside the HV ones (``.../hh/`` next to ``.../hv/``), same dates."""
    folder = os.path.join(os.path.dirname(os.path.normpath(data)), "hh")
    return [os.path.join(folder, f"N05E100_{year}_sl_HH.tif") for year in YEARS]


def pure_test_looks(data):
    """The former LOOKS=0: the ENL of homogeneous blocks of the first date."""
    from sar_change.algorithms.io.raster import sample_band
    from sar_change.algorithms.sar.convert import palsar_dn_to_power
    from sar_change.algorithms.sar.speckle_qa import estimate_looks

    return estimate_looks(palsar_dn_to_power(sample_band(os.path.join(data, f"N05E100_{YEARS[0]}_sl_HV.tif"))))


def main(argv):
    data = argv[0] if argv else DEFAULT_DATA
    if not os.path.isdir(data):
        sys.exit(f"real data not found at {data} (see the project README)")
    with tempfile.TemporaryDirectory() as home:
        env = qgis_env(home)
        peer = [
            f"--LOOKS={pure_test_looks(data):.4f}",
            "--NORMALISE=none",
            "--MIN_CHANGE_DB=0",
            "--NOISE_FLOOR_DB=-1000",
            "--MIN_AREA=0",
            "--WINDOW=1",
        ]
        rows = []
        variants = (
            ("defaults (WINDOW=0)", []),
            ("WINDOW=1 (single pixels)", ["--WINDOW=1"]),
            ("HV + HH jointly (SECOND_POL)", [f"--SECOND_POL={hh}" for hh in hh_paths(data)]),
            ("pure test (former defaults)", peer),
        )
        for name, extra in variants:
            seconds, peak_mb = run(env, data, os.path.join(home, name.split()[0]), extra)
            rows.append((name, seconds, peak_mb, evaluate(os.path.join(home, name.split()[0]), data)))
    print("omnibus on the Malaysia HV stack, 8 dates x 1000 x 1000, whole qgis_process run:")
    for name, seconds, peak_mb, result in rows:
        print(
            f"  {name:29s} {seconds:6.1f} s {peak_mb:6.0f} MB  changed {result['changed %']:5.2f} %  "
            f"water flagged {result['water flagged %']:5.2f} %  2015 switch {result['switch x']:4.2f}x median  "
            f"{result['polygons']:7d} polygons"
        )
        print(f"  {'':29s} first changes by year: {result['first changes']}")
        print(f"  {'':29s} per year since the previous date: 2015 {result['switch per year x']:.2f}x the median")
        for year, summary in result["steps"].items():
            print(f"  {'':29s} first change 20{year}: {summary}")
    print("targets: water <= 2 %, switch <= 2.5x, <= 5000 polygons, <= 5 s, <= 400 MB")


if __name__ == "__main__":
    main(sys.argv[1:])
