"""Build the graphical model shipped with the plugin (processing_provider/models/*.model3).

Run with /usr/bin/python3 after changing it; the .model3 file is committed so that QGIS users can
open it in the graphical modeler. tests/qgis/test_model.py checks the committed file is what this
script builds.
"""

import os
import sys

from qgis.PyQt.QtCore import QPointF

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, "..", "processing_provider", "models", "change_detection_pipeline.model3")


def _at(component, x, y):
    component.setPosition(QPointF(x, y))
    return component


def build():
    from qgis.core import (
        QgsApplication,
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildDependency,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterNumber,
        QgsProcessingParameterRasterLayer,
    )
    from qgis.core import (
        QgsProcessingModelChildParameterSource as Source,
    )

    model = QgsProcessingModelAlgorithm("Change detection pipeline", "Change detection", "changedetection")
    model.setHelpContent(
        {
            "ALG_DESC": "Before/after intensities -> despeckle (refined Lee) -> two-date overlay, and the "
            "automatic change detection (the toolbox default) -> change polygons (gain red, loss blue, as in "
            "the overlay).",
            "BEFORE": "Earlier image, linear power.",
            "AFTER": "Later image, linear power (aligned onto the grid of BEFORE).",
            "MIN_AREA": "Smallest change region kept, m² on the ground.",
        }
    )
    # laid out top to bottom: inputs, despeckling, then the overlay and the change detection
    for (name, label), x in zip((("BEFORE", "Before (linear power)"), ("AFTER", "After (linear power)")), (120, 420)):
        component = QgsProcessingModelParameter(name)
        component.setPosition(QPointF(x, 60))
        model.addModelParameter(QgsProcessingParameterRasterLayer(name, label), component)
    model.addModelParameter(
        QgsProcessingParameterNumber(
            "MIN_AREA", "Minimum area (m²)", QgsProcessingParameterNumber.Double, 2000.0, False, 0.0
        ),
        _at(QgsProcessingModelParameter("MIN_AREA"), 720, 60),
    )

    def child(alg_id, child_id, description, sources, position, outputs=()):
        step = QgsProcessingModelChildAlgorithm(alg_id)
        step.setChildId(child_id)
        step.setDescription(description)
        step.setPosition(QPointF(*position))
        algorithm = QgsApplication.processingRegistry().algorithmById(alg_id)
        if algorithm is None:
            sys.exit(f"{alg_id} is not registered: the model is built against the plugin's provider")
        for definition in algorithm.parameterDefinitions():  # every value stated: the modeler validates it
            name = definition.name()
            if name not in sources and not definition.isDestination() and definition.defaultValue() is not None:
                sources[name] = Source.fromStaticValue(definition.defaultValue())
        for parameter, source in sources.items():
            step.addParameterSources(parameter, [source])
        model_outputs = {}
        for output_name, child_output in outputs:
            output = QgsProcessingModelOutput(output_name)
            output.setChildOutputName(child_output)
            output.setChildId(child_id)
            output.setPosition(QPointF(position[0] + 40, position[1] + 90))
            model_outputs[output_name] = output
        step.setModelOutputs(model_outputs)
        model.addChildAlgorithm(step)

    for date, x in (("BEFORE", 120), ("AFTER", 420)):
        child(
            "sarchange:despeckle",
            f"despeckle_{date.lower()}",
            f"Despeckle {date.lower()}",
            {
                "INPUT": Source.fromModelParameter(date),
                "METHOD": Source.fromStaticValue("refined_lee"),
                "WINDOW": Source.fromStaticValue(7),
            },
            (x, 190),
        )
    child(
        "sarchange:overlay",
        "overlay",
        "Two-date overlay",
        {
            "BEFORE": Source.fromChildOutput("despeckle_before", "OUTPUT"),
            "AFTER": Source.fromChildOutput("despeckle_after", "OUTPUT"),
        },
        (270, 330),
        outputs=[("Overlay", "OUTPUT")],
    )
    child(
        "sarchange:changedetection",
        "change",
        "Change detection",
        {
            "BEFORE": Source.fromModelParameter("BEFORE"),
            "AFTER": Source.fromModelParameter("AFTER"),
            "METHOD": Source.fromStaticValue("automatic"),
            "MIN_AREA": Source.fromModelParameter("MIN_AREA"),
        },
        (620, 330),
        outputs=[("Change polygons", "OUTPUT")],
    )
    # the change step reads the raw intensities but runs after the despeckling, so the model reads
    # top to bottom as before/after -> despeckle -> change detection
    model.childAlgorithm("change").setDependencies(
        [QgsProcessingModelChildDependency(c) for c in ("despeckle_before", "despeckle_after")]
    )
    return model


def main(target=TARGET):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import QgsApplication

    app = QgsApplication([], False)  # noqa: F841
    app.initQgis()
    sys.path.insert(0, os.path.join(HERE, "..", "benchmarks"))
    from common import register_package

    register_package()  # the checkout as sar_change, whatever its folder name
    from sar_change.processing_provider.provider import SarChangeProvider

    provider = SarChangeProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    model = build()
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if not model.toFile(target):
        sys.exit(f"could not write {target}")
    print(f"wrote {os.path.normpath(target)}")


if __name__ == "__main__":
    main(*sys.argv[1:])
