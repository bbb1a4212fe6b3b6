"""The shipped graphical model, and a model chaining our algorithms built in Python."""

import os
import subprocess
import sys

import numpy as np
from helpers import REPO_ROOT

from sar_change.algorithms.io.raster import read_band
from sar_change.algorithms.simulation import pair as simulate

MODEL = os.path.join(REPO_ROOT, "processing_provider", "models", "change_detection_pipeline.model3")


def test_committed_model_is_what_the_builder_writes(tmp_path):
    target = str(tmp_path / "model.model3")
    subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "scripts", "build_model.py"), target],
        check=True,
        capture_output=True,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        timeout=120,
    )
    from xml.etree.ElementTree import canonicalize  # Qt writes attributes in a random order

    with open(target, encoding="utf-8") as built, open(MODEL, encoding="utf-8") as committed:
        assert canonicalize(built.read().split("\n", 1)[1]) == canonicalize(committed.read().split("\n", 1)[1])


def test_shipped_model_opens_valid_and_laid_out_in_the_modeler(plugin):
    """The modeler said "Model is invalid" (34 items) and stacked every box at (0, 0)."""
    from qgis.core import QgsProcessingModelAlgorithm

    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(MODEL)
    valid, issues = model.validate()
    assert valid, issues
    positions = [(c.position().x(), c.position().y()) for c in model.childAlgorithms().values()]
    positions += [(p.position().x(), p.position().y()) for p in model.parameterComponents().values()]
    assert len(set(positions)) == len(positions) == 7 and (0.0, 0.0) not in positions
    rows = {child_id: c.position().y() for child_id, c in model.childAlgorithms().items()}
    assert rows["despeckle_before"] < rows["overlay"] and rows["despeckle_after"] < rows["change"]


def test_the_change_dialog_creates_the_class_raster_and_the_report_by_default(plugin):
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().algorithmById("sarchange:changedetection")
    for name in ("OUTPUT_RASTER", "OUTPUT_HTML"):
        assert alg.parameterDefinition(name).createByDefault(), name


def test_each_toolbox_group_has_its_own_icon(plugin):
    icons = {}
    for alg in plugin.provider.algorithms():
        if alg.id() == "sarchange:Change detection pipeline":
            continue
        path = alg.svgIconPath()
        assert os.path.isfile(path) and path.endswith(f"{alg.groupId()}.svg"), (alg.id(), path)
        icons.setdefault(alg.groupId(), set()).add(path)
    assert len({frozenset(paths) for paths in icons.values()}) == len(icons) >= 6


def test_model_is_registered_in_the_provider_in_the_change_detection_group(plugin):
    names = [alg.displayName() for alg in plugin.provider.algorithms()]
    assert "Change detection pipeline" in names
    groups = {(alg.group(), alg.groupId()) for alg in plugin.provider.algorithms()}
    assert len({name for name, _ in groups}) == len(groups)  # one toolbox group per name


def test_qgis_process_runs_the_model_file_to_change_polygons(qgis_process, tmp_path):
    from qgis.core import QgsVectorLayer

    paths = simulate.write_pair(simulate.folder_paths(str(tmp_path)), 512, 512, seed=0)
    polygons, overlay = str(tmp_path / "change.gpkg"), str(tmp_path / "overlay.tif")
    qgis_process(
        "run",
        MODEL,
        "--",
        f"BEFORE={paths['before']}",
        f"AFTER={paths['after']}",
        "MIN_AREA=2000",
        f"change:Change polygons={polygons}",
        f"overlay:Overlay={overlay}",
    )
    layer = QgsVectorLayer(polygons, "c", "ogr")
    assert layer.isValid() and layer.featureCount() > 5
    assert {f["change"] for f in layer.getFeatures()} == {"loss", "gain"}
    assert read_band(overlay, 1).shape == (512, 512)


def test_python_model_chains_three_algorithms(plugin, tmp_path):
    import processing
    from qgis.core import (
        QgsProcessingContext,
        QgsProcessingFeedback,
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterNumber,
    )
    from qgis.core import (
        QgsProcessingModelChildParameterSource as Source,
    )

    model = QgsProcessingModelAlgorithm("chain", "test", "test")
    model.addModelParameter(
        QgsProcessingParameterNumber("SEED", "seed", QgsProcessingParameterNumber.Integer, 0),
        QgsProcessingModelParameter("SEED"),
    )
    steps = [
        (
            "sarchange:simulatepair",
            "simulate",
            {
                "ROWS": Source.fromStaticValue(256),
                "COLS": Source.fromStaticValue(256),
                "SEED": Source.fromModelParameter("SEED"),
            },
        ),
        (
            "sarchange:despeckle",
            "despeckle",
            {"INPUT": Source.fromChildOutput("simulate", "OUTPUT_BEFORE"), "METHOD": Source.fromStaticValue("lee")},
        ),
        (
            "sarchange:todb",
            "todb",
            {"INPUT": Source.fromChildOutput("despeckle", "OUTPUT"), "DIRECTION": Source.fromStaticValue("to_db")},
        ),
    ]
    for alg_id, child_id, sources in steps:
        child = QgsProcessingModelChildAlgorithm(alg_id)
        child.setChildId(child_id)
        for name, source in sources.items():
            child.addParameterSources(name, [source])
        model.addChildAlgorithm(child)
    output = QgsProcessingModelOutput("DB")
    output.setChildOutputName("OUTPUT")
    output.setChildId("todb")
    model.childAlgorithm("todb").setModelOutputs({"DB": output})
    result = processing.run(
        model,
        {"SEED": 1, "todb:DB": str(tmp_path / "db.tif")},
        context=QgsProcessingContext(),
        feedback=QgsProcessingFeedback(),
    )
    db = read_band(result["todb:DB"])
    expected = simulate.simulate_pair(256, 256, seed=1)["before"]
    assert db.shape == (256, 256)
    assert abs(np.nanmean(db) - np.mean(10 * np.log10(expected))) < 3  # despeckled dB, same scene


def test_the_change_form_lists_what_the_default_method_uses_and_labels_the_rest_by_method(plugin):
    from qgis.core import QgsApplication, QgsProcessingParameterDefinition

    alg = QgsApplication.processingRegistry().algorithmById("sarchange:changedetection")
    methods = ("threshold", "likelihood ratio", "k-means", "superpixel")
    for name in ("DESPECKLE", "UNIT", "STATISTIC", "THRESHOLD_LOSS", "THRESHOLD_GAIN", "CLASSES"):
        definition = alg.parameterDefinition(name)
        assert definition.flags() & QgsProcessingParameterDefinition.FlagAdvanced, name
        assert any(m in definition.description() for m in methods), definition.description()
    for name in ("BEFORE", "AFTER", "METHOD", "ALPHA", "MIN_CHANGE_DB", "LOOKS", "MIN_AREA", "NORMALISE"):
        assert not alg.parameterDefinition(name).flags() & QgsProcessingParameterDefinition.FlagAdvanced, name


def test_the_help_names_parameters_by_their_labels_as_the_form_shows_them(plugin):
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().algorithmById("sarchange:changedetection")
    text = alg.shortHelpString()
    assert "<b>Minimum area (m²)</b> (MIN_AREA)" in text
    assert "<b>MIN_AREA</b>" not in text
    despeckle = QgsApplication.processingRegistry().algorithmById("sarchange:despeckle").shortHelpString()
    assert "(METHOD)" in despeckle
