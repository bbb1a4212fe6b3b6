"""Build the graphical model shipped with the plugin (processing_provider/models/*.model3).

Run with /usr/bin/python3 after changing it; the .model3 file is committed so that QGIS users can
open it in the graphical modeler. tests/qgis/test_model.py checks the committed file is what this
script builds.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, "..", "processing_provider", "models", "change_detection_pipeline.model3")


def build():
    from qgis.core import (
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
            "likelihood-ratio change detection -> change polygons (loss red, gain blue).",
            "BEFORE": "Earlier image, linear power.",
            "AFTER": "Later image, linear power (aligned onto the grid of BEFORE).",
            "MIN_AREA": "Smallest change region kept, map units squared.",
        }
    )
    for name, label in (("BEFORE", "Before (linear power)"), ("AFTER", "After (linear power)")):
        model.addModelParameter(QgsProcessingParameterRasterLayer(name, label), QgsProcessingModelParameter(name))
    model.addModelParameter(
        QgsProcessingParameterNumber(
            "MIN_AREA", "Minimum area (map units squared)", QgsProcessingParameterNumber.Double, 2000.0, False, 0.0
        ),
        QgsProcessingModelParameter("MIN_AREA"),
    )

    def child(alg_id, child_id, description, sources, outputs=()):
        step = QgsProcessingModelChildAlgorithm(alg_id)
        step.setChildId(child_id)
        step.setDescription(description)
        for parameter, source in sources.items():
            step.addParameterSources(parameter, [source])
        model_outputs = {}
        for output_name, child_output in outputs:
            output = QgsProcessingModelOutput(output_name)
            output.setChildOutputName(child_output)
            output.setChildId(child_id)
            model_outputs[output_name] = output
        step.setModelOutputs(model_outputs)
        model.addChildAlgorithm(step)

    for date in ("BEFORE", "AFTER"):
        child(
            "sarchange:despeckle",
            f"despeckle_{date.lower()}",
            f"Despeckle {date.lower()}",
            {
                "INPUT": Source.fromModelParameter(date),
                "METHOD": Source.fromStaticValue("refined_lee"),
                "WINDOW": Source.fromStaticValue(7),
            },
        )
    child(
        "sarchange:overlay",
        "overlay",
        "Two-date overlay",
        {
            "BEFORE": Source.fromChildOutput("despeckle_before", "OUTPUT"),
            "AFTER": Source.fromChildOutput("despeckle_after", "OUTPUT"),
        },
        outputs=[("Overlay", "OUTPUT")],
    )
    child(
        "sarchange:changedetection",
        "change",
        "Change detection",
        {
            "BEFORE": Source.fromModelParameter("BEFORE"),
            "AFTER": Source.fromModelParameter("AFTER"),
            "METHOD": Source.fromStaticValue("likelihood_ratio"),
            "DESPECKLE": Source.fromStaticValue("refined_lee"),
            "MIN_AREA": Source.fromModelParameter("MIN_AREA"),
        },
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
    model = build()
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if not model.toFile(target):
        sys.exit(f"could not write {target}")
    print(f"wrote {os.path.normpath(target)}")


if __name__ == "__main__":
    main(*sys.argv[1:])
