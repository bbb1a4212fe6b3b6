"""The bad-input audit: every algorithm on degenerate rasters, each run classified.

Used by ``tests/qgis/test_bad_inputs.py`` (every case must be ``ok`` or ``clear``) and by
``benchmarks/audit.py`` (prints the counts for the README). A case is run as the toolbox runs
it, in process: ``checkParameterValues`` first, then ``processAlgorithm``.

Outcomes
--------
ok
    The run succeeded and every raster output has valid pixels.
clear
    A ``QgsProcessingException`` (or a refused parameter) whose message names no Python
    exception class, and no output file left behind.
silent
    The run succeeded but a raster output is all nodata, or NaN/inf figures in the log.
traceback
    Any other exception, or a clear error that left a file behind.
"""

import glob
import os
import re
from dataclasses import dataclass

import numpy as np
from helpers import GEOTRANSFORM, utm54_wkt

#: Python exception names that must never reach a user's message.
PYTHON_ERRORS = re.compile(
    r"\b(Traceback|IndexError|KeyError|ZeroDivisionError|AttributeError|TypeError|struct\.error|"
    r"OverflowError|MemoryError|UnboundLocalError|NameError|RuntimeWarning)\b"
)
NON_FINITE = re.compile(r"(?<![A-Za-z_])(nan|inf)(?![A-Za-z_])", re.IGNORECASE)


@dataclass
class Case:
    name: str
    algorithm: str
    parameters: dict


def _write(folder, name, array, *, nodata=None, geotransform=GEOTRANSFORM):
    from sar_change.algorithms.io.outputs import write_array

    path = os.path.join(folder, name)
    write_array(path, np.asarray(array), geotransform=geotransform, crs_wkt=utm54_wkt(), nodata=nodata)
    return path


def _speckle(shape, seed=0, looks=1.0, mean=0.1):
    rng = np.random.default_rng(seed)
    return (mean * rng.gamma(looks, 1.0 / looks, shape)).astype(np.float32)


def inputs(folder):
    """Degenerate rasters, by name (float32 intensity unless the name says otherwise)."""
    shape = (64, 64)
    far = (GEOTRANSFORM[0] + 1e6,) + GEOTRANSFORM[1:]
    good = _speckle(shape)
    constant_patch = good.copy()
    constant_patch[10:40, 10:40] = 0.05
    saturated = np.full(shape, 255, np.uint8)
    slc = (np.random.default_rng(1).normal(size=shape) + 1j * np.random.default_rng(2).normal(size=shape)).astype(
        np.complex64
    )
    made = {
        "good": _write(folder, "good.tif", good),
        "good2": _write(folder, "good2.tif", _speckle(shape, seed=5)),
        "constant": _write(folder, "constant.tif", np.full(shape, 0.1, np.float32)),
        "constant_patch": _write(folder, "constant_patch.tif", constant_patch),
        "zeros": _write(folder, "zeros.tif", np.zeros(shape, np.float32)),
        "all_nodata": _write(folder, "all_nodata.tif", np.full(shape, -9999, np.float32), nodata=-9999),
        "all_nan": _write(folder, "all_nan.tif", np.full(shape, np.nan, np.float32)),
        "one_pixel": _write(folder, "one_pixel.tif", np.full((1, 1), 0.1, np.float32)),
        "two_by_three": _write(folder, "two_by_three.tif", _speckle((2, 3))),
        "far_away": _write(folder, "far_away.tif", good, geotransform=far),
        "db_values": _write(folder, "db_values.tif", (10 * np.log10(good)).astype(np.float32)),
        "saturated_byte": _write(folder, "saturated_byte.tif", saturated),
        "slc": _write(folder, "slc.tif", slc),
        "slc2": _write(folder, "slc2.tif", (slc * np.exp(0.3j)).astype(np.complex64)),
        "slc_constant": _write(folder, "slc_constant.tif", np.full(shape, 1 + 1j, np.complex64)),
        "slc_zeros": _write(folder, "slc_zeros.tif", np.zeros(shape, np.complex64)),
        "slc_far": _write(folder, "slc_far.tif", slc, geotransform=far),
        "slc_one_pixel": _write(folder, "slc_one_pixel.tif", np.full((1, 1), 1 + 1j, np.complex64)),
        "phase": _write(folder, "phase.tif", np.angle(slc).astype(np.float32)),
        "phase_nan": _write(folder, "phase_nan.tif", np.full(shape, np.nan, np.float32)),
        "phase_far": _write(folder, "phase_far.tif", np.angle(slc).astype(np.float32), geotransform=far),
        "zero_pixel_size": _write(
            folder, "zero_pixel_size.tif", good, geotransform=(380000.0, 0.0, 0.0, 3950000.0, 0.0, 0.0)
        ),
        "zero_pixel_size2": _write(
            folder,
            "zero_pixel_size2.tif",
            _speckle(shape, seed=5),
            geotransform=(380000.0, 0.0, 0.0, 3950000.0, 0.0, 0.0),
        ),
    }
    return made


def cases(folder):
    """Every audit case; ``folder`` receives the input rasters and the outputs."""
    src = inputs(folder)
    out = os.path.join(folder, "out")
    os.makedirs(out, exist_ok=True)
    made = []

    def add(name, algorithm, parameters):
        made.append(Case(name, algorithm, parameters))

    intensity_bad = ["constant", "zeros", "all_nodata", "all_nan", "one_pixel", "two_by_three", "saturated_byte"]
    from sar_change.algorithms.sar import despeckle

    for method in despeckle.METHODS:
        for bad in intensity_bad + ["db_values"]:
            scale = "linear" if bad == "db_values" else "auto"
            add(
                f"despeckle {method} {bad}",
                "sarchange:despeckle",
                {
                    "INPUT": src[bad],
                    "METHOD": method,
                    "INPUT_SCALE": scale,
                    "OUTPUT": os.path.join(out, f"despeckle_{method}_{bad}.tif"),
                },
            )
    pairs = [
        ("constant", "constant"),
        ("zeros", "zeros"),
        ("all_nodata", "good"),
        ("all_nan", "all_nan"),
        ("one_pixel", "one_pixel"),
        ("two_by_three", "two_by_three"),
        ("good", "far_away"),
        ("saturated_byte", "saturated_byte"),
        ("constant_patch", "good2"),
    ]
    from sar_change.algorithms.sar import change, interferometry

    for method in ("automatic",) + change.METHODS:
        for before, after in pairs:
            add(
                f"changedetection method{method} {before}/{after}",
                "sarchange:changedetection",
                {
                    "BEFORE": src[before],
                    "AFTER": src[after],
                    "METHOD": method,
                    "OUTPUT": os.path.join(out, f"change_{method}_{before}_{after}.gpkg"),
                    "OUTPUT_RASTER": os.path.join(out, f"change_{method}_{before}_{after}.tif"),
                },
            )
    add(
        "changedetection MIN_AREA zero pixel size",
        "sarchange:changedetection",
        {
            "BEFORE": src["zero_pixel_size"],
            "AFTER": src["zero_pixel_size2"],
            "MIN_AREA": 100.0,
            "OUTPUT": os.path.join(out, "change_zero_px.gpkg"),
        },
    )
    stacks = {
        "constant": ["constant"] * 3,
        "zeros": ["zeros"] * 3,
        "all_nan": ["all_nan"] * 3,
        "all_nodata": ["all_nodata", "good", "good2"],
        "one_pixel": ["one_pixel"] * 3,
        "far_away": ["good", "good2", "far_away"],
        "constant_patch": ["constant_patch", "good", "good2"],
    }
    for name, layers in stacks.items():
        add(
            f"omnibus LOOKS=0 {name}",
            "sarchange:omnibus",
            {
                "INPUTS": [src[layer] for layer in layers],
                "LOOKS": 0.0,
                "OUTPUT_CHANGES": os.path.join(out, f"omnibus_{name}_n.tif"),
                "OUTPUT_FIRST": os.path.join(out, f"omnibus_{name}_f.tif"),
                "OUTPUT_LAST": os.path.join(out, f"omnibus_{name}_l.tif"),
                "OUTPUT": os.path.join(out, f"omnibus_{name}.gpkg"),
            },
        )
    elevation_stacks = {  # (amplitudes, DEM): degenerate images, a DEM without relief or data, no overlap
        "constant": (["constant"] * 2, "good"),
        "zeros": (["zeros"] * 2, "good"),
        "all_nan": (["all_nan"] * 2, "good"),
        "one_pixel": (["one_pixel"] * 2, "one_pixel"),
        "flat_dem": (["good", "good2"], "constant"),
        "nan_dem": (["good", "good2"], "all_nan"),
        "far_dem": (["good", "good2"], "far_away"),
        "saturated": (["saturated_byte"] * 2, "good"),
    }
    for model in ("surface", "seed_lines"):
        for name, (layers, dem) in elevation_stacks.items():
            add(
                f"elevationchange {model} {name}",
                "sarchange:elevationchange",
                {
                    "AMPLITUDES": [src[layer] for layer in layers],
                    "DEM": src[dem],
                    "MODEL": model,
                    "INCIDENCE_DEG": 35.0,
                    "OUTPUT_DEMS": os.path.join(out, f"elevation_{model}_{name}_dems.tif"),
                    "OUTPUT_CHANGE": os.path.join(out, f"elevation_{model}_{name}_change.tif"),
                    "OUTPUT_STDERR": os.path.join(out, f"elevation_{model}_{name}_se.tif"),
                },
            )
    slc_pairs = [
        ("slc_constant", "slc_constant"),
        ("slc_zeros", "slc_zeros"),
        ("slc", "slc_far"),
        ("slc_one_pixel", "slc_one_pixel"),
        ("good", "good2"),
        ("all_nan", "all_nan"),
    ]
    for coregister in interferometry.COREGISTRATION:
        for reference, secondary in slc_pairs:
            add(
                f"interferogram {coregister} {reference}/{secondary}",
                "sarchange:interferogram",
                {
                    "REFERENCE": src[reference],
                    "SECONDARY": src[secondary],
                    "COREGISTER": coregister,
                    "WAVELENGTH_M": 0.2424,
                    "OUTPUT_PHASE": os.path.join(out, f"ifg_{coregister}_{reference}_{secondary}_p.tif"),
                    "OUTPUT_COHERENCE": os.path.join(out, f"ifg_{coregister}_{reference}_{secondary}_c.tif"),
                    "OUTPUT_DISPLACEMENT": os.path.join(out, f"ifg_{coregister}_{reference}_{secondary}_d.tif"),
                },
            )
    for a, b in (("phase_nan", "phase_nan"), ("phase", "phase_far"), ("phase", "phase_nan")):
        add(
            f"differentialinterferogram {a}/{b}",
            "sarchange:differentialinterferogram",
            {"INTERFEROGRAM_A": src[a], "INTERFEROGRAM_B": src[b], "OUTPUT": os.path.join(out, f"diff_{a}_{b}.tif")},
        )
    for before, after in (("all_nan", "all_nan"), ("good", "far_away"), ("constant", "constant"), ("zeros", "zeros")):
        add(
            f"overlay {before}/{after}",
            "sarchange:overlay",
            {"BEFORE": src[before], "AFTER": src[after], "OUTPUT": os.path.join(out, f"overlay_{before}_{after}.tif")},
        )
    for bad in ("constant", "all_nan", "one_pixel", "zeros"):
        add(
            f"superpixels {bad}",
            "sarchange:superpixels",
            {
                "INPUTS": [src[bad]],
                "OUTPUT_LABELS": os.path.join(out, f"sp_{bad}.tif"),
                "OUTPUT_POLYGONS": os.path.join(out, f"sp_{bad}.gpkg"),
            },
        )
        add(
            f"kmeans {bad}",
            "sarchange:kmeans",
            {"BACKSCATTER": [src[bad]], "OUTPUT": os.path.join(out, f"km_{bad}.tif")},
        )
    for bad in ("all_nan", "all_nodata", "constant", "zeros"):
        add(
            f"speckleqa filtered {bad}",
            "sarchange:speckleqa",
            {
                "INPUT": src["good"],
                "FILTERED": [src[bad]],
                "OUTPUT_HTML": os.path.join(out, f"qa_{bad}.html"),
                "OUTPUT_TABLE": os.path.join(out, f"qa_{bad}.gpkg"),
            },
        )
        add(
            f"speckleqa input {bad}",
            "sarchange:speckleqa",
            {
                "INPUT": src[bad],
                "FILTERED": [src["good"]],
                "OUTPUT_HTML": os.path.join(out, f"qai_{bad}.html"),
                "OUTPUT_TABLE": os.path.join(out, f"qai_{bad}.gpkg"),
            },
        )
    for alg_id, extra in (
        ("sarchange:superpixels", {"INPUTS": [src["good"]], "OUTPUT_LABELS": os.path.join(out, "sp_sigma.tif")}),
        (
            "sarchange:changedetection",
            {"BEFORE": src["good"], "AFTER": src["good2"], "METHOD": "superpixel_kmeans"},
        ),
    ):
        add(  # a huge smoothing once ran for more than 300 s
            f"{alg_id.split(':')[1]} SIGMA=1e6",
            alg_id,
            dict(extra, SIGMA=1e6, OUTPUT=os.path.join(out, f"sigma_{alg_id.split(':')[1]}.gpkg")),
        )
    # Tellus: no network is reached in these cases (refused addresses, bad templates, too many tiles)
    world, tellus_env = "-180,180,-85,85 [EPSG:4326]", {"AUTH_CONFIG": ""}
    for name, url_key, url in (
        ("plain http elsewhere", "API_URL", "http://127.evil.example/api"),
        ("not a URL", "API_URL", "::::"),
    ):
        add(
            f"tellussearch {name}",
            "sarchange:tellussearch",
            dict(
                tellus_env, EXTENT=world, START_DATE="2020-01-01", **{url_key: url}, OUTPUT=os.path.join(out, "ts.gpkg")
            ),
        )
    for name, extra in (
        ("world at zoom 20", {"ZOOM": 20}),
        ("template without {z}", {"TILE_URL": "https://127.0.0.1:9/tiles/{x}/{y}.png"}),
        ("template with an unknown key", {"TILE_URL": "https://127.0.0.1:9/{scene}/{z}/{x}/{y}/{bad}.png"}),
    ):
        add(
            f"tellustiles {name}",
            "sarchange:tellustiles",
            dict(tellus_env, SCENE_ID="x", EXTENT=world, OUTPUT=os.path.join(out, "tt.tif"), **extra),
        )
    for before, after in (("all_nan", "all_nan"), ("good", "far_away"), ("zeros", "zeros")):
        add(
            f"rgbcomposite {before}/{after}",
            "sarchange:rgbcomposite",
            {"HH": src[before], "HV": src[after], "OUTPUT": os.path.join(out, f"rgb_{before}_{after}.tif")},
        )
    for bad in ("zeros", "all_nan", "db_values"):
        add(f"todb {bad}", "sarchange:todb", {"INPUT": src[bad], "OUTPUT": os.path.join(out, f"todb_{bad}.tif")})
    for i, product in enumerate(ceos_products(folder, CEOS_CASES)):
        add(
            f"readceos mutated product {i}",
            "sarchange:readceos",
            {
                "INPUT": product,
                "LOOKS_AZIMUTH": 2 if i % 3 == 0 else 1,
                "OUTPUT_INTENSITY": os.path.join(out, f"ceos_{i}_i.tif"),
                "OUTPUT_COMPLEX": os.path.join(out, f"ceos_{i}_c.tif"),
            },
        )
    return made


#: Mutated CEOS products run through ``sarchange:readceos`` by the audit.
CEOS_CASES = 60


def ceos_products(folder, count, seed=20):
    """``count`` damaged copies of a small Level 1.1 product (see :func:`fuzz_cases.mutate_ceos`);
    returns the IMG path (or folder) of each."""
    import random

    import fuzz_cases

    source = os.path.join(folder, "ceos_source")
    os.makedirs(source, exist_ok=True)
    fuzz_cases.ceos_product(source)
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        target = os.path.join(folder, f"ceos_{i}")
        fuzz_cases.mutate_ceos(source, target, rng)
        images = sorted(n for n in os.listdir(target) if n.startswith("IMG"))
        paths.append(os.path.join(target, images[0]) if images else target)
    return paths


def make_feedback():
    from qgis.core import QgsProcessingFeedback

    class Feedback(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.log = []

        def pushInfo(self, info):  # noqa: N802
            self.log.append(info)

        def reportError(self, error, fatalError=False):  # noqa: N802, N803
            self.log.append(error)

        def pushWarning(self, warning):  # noqa: N802
            self.log.append(warning)

        def pushCommandInfo(self, info):  # noqa: N802
            self.log.append(info)

        def pushDebugInfo(self, info):  # noqa: N802
            self.log.append(info)

    return Feedback()


def _raster_outputs(results):
    return [v for v in results.values() if isinstance(v, str) and v.lower().endswith(".tif") and os.path.exists(v)]


def _all_nodata(path):
    from osgeo import gdal

    gdal.UseExceptions()
    dataset = gdal.Open(path)
    for i in range(1, dataset.RasterCount + 1):
        band = dataset.GetRasterBand(i)
        array = band.ReadAsArray()
        array = np.abs(array) if np.iscomplexobj(array) else array.astype(np.float64)
        nodata = band.GetNoDataValue()
        valid = np.isfinite(array) if nodata is None else np.isfinite(array) & (array != nodata)
        if valid.any():
            return False
    return True


def _outputs_of(parameters):
    return [v for k, v in parameters.items() if k.startswith("OUTPUT") and isinstance(v, str) and os.path.dirname(v)]


def run_case(case):
    """``(outcome, message)`` of one case."""
    from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingException

    alg = QgsApplication.processingRegistry().createAlgorithmById(case.algorithm)
    context = QgsProcessingContext()
    feedback = make_feedback()
    ok, message = alg.checkParameterValues(case.parameters, context)
    if not ok:
        return "clear", f"refused: {message}"
    outputs = _outputs_of(case.parameters)
    try:
        results = alg.processAlgorithm(case.parameters, context, feedback)
    except QgsProcessingException as exc:
        text = str(exc)
        left = [p for p in outputs if os.path.exists(p)]
        left += [p for p in outputs for p in glob.glob(os.path.join(os.path.dirname(p), ".*part*"))]
        if PYTHON_ERRORS.search(text):
            return "traceback", text
        if left:
            return "traceback", f"{text} (left behind: {', '.join(sorted(set(left)))})"
        return "clear", text
    except Exception as exc:  # noqa: BLE001 - the audit classifies it
        return "traceback", f"{type(exc).__name__}: {exc}"
    empty = [p for p in _raster_outputs(results) if _all_nodata(p)]
    if empty:
        return "silent", f"all-nodata output: {', '.join(os.path.basename(p) for p in empty)}"
    bad_log = [line for line in feedback.log if NON_FINITE.search(line)]
    if bad_log:
        return "silent", f"non-finite figure in the log: {bad_log[0][:200]}"
    return "ok", "; ".join(feedback.log[-2:])[:200]
