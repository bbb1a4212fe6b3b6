"""The ``sarchange`` Processing provider."""

import os

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from .icons import ICON


def algorithm_classes():
    """Every algorithm class the provider offers, in toolbox order."""
    from .ceos import ReadCeosAlgorithm
    from .change import ChangeDetectionAlgorithm
    from .classify import KMeansAlgorithm, SuperpixelsAlgorithm
    from .despeckle import DespeckleAlgorithm
    from .elevation import ElevationChangeAlgorithm
    from .interferometry import DifferentialInterferogramAlgorithm, InterferogramAlgorithm
    from .omnibus import OmnibusAlgorithm
    from .overlay import OverlayAlgorithm, RgbCompositeAlgorithm
    from .simulate import SimulatePairAlgorithm
    from .speckleqa import SpeckleQaAlgorithm
    from .tellus import TellusPairsAlgorithm, TellusSearchAlgorithm
    from .tellus_download import TellusDownloadAlgorithm, TellusTilesAlgorithm
    from .todb import ToDbAlgorithm

    return [
        ToDbAlgorithm,
        DespeckleAlgorithm,
        SpeckleQaAlgorithm,
        SimulatePairAlgorithm,
        OverlayAlgorithm,
        RgbCompositeAlgorithm,
        ChangeDetectionAlgorithm,
        OmnibusAlgorithm,
        SuperpixelsAlgorithm,
        KMeansAlgorithm,
        ReadCeosAlgorithm,
        InterferogramAlgorithm,
        DifferentialInterferogramAlgorithm,
        ElevationChangeAlgorithm,
        TellusSearchAlgorithm,
        TellusPairsAlgorithm,
        TellusDownloadAlgorithm,
        TellusTilesAlgorithm,
    ]


MODELS = os.path.join(os.path.dirname(__file__), "models")
#: The ids of the algorithms' groups, by group name (see :func:`shipped_models`).
GROUP_IDS = {"Change detection": "changedetection", "Classification": "classification"}


def shipped_models():
    """The graphical models shipped in ``processing_provider/models`` (``*.model3``).

    A model file stores its group's name, not its id, so the toolbox showed a second "Change
    detection" group for it; the registered model answers the id of the group it names."""
    from qgis.core import QgsProcessingModelAlgorithm

    class ShippedModel(QgsProcessingModelAlgorithm):
        def groupId(self):  # noqa: N802
            return GROUP_IDS.get(self.group(), super().groupId())

    models = []
    for name in sorted(os.listdir(MODELS)) if os.path.isdir(MODELS) else []:
        if name.endswith(".model3"):
            model = ShippedModel()
            if model.fromFile(os.path.join(MODELS, name)):
                models.append(model)
    return models


class SarChangeProvider(QgsProcessingProvider):
    """Processing provider ``sarchange`` ("SAR Change Toolkit")."""

    def id(self):  # noqa: A003 (QGIS API name)
        return "sarchange"

    def name(self):
        return QCoreApplication.translate("SarChange", "SAR Change Toolkit")

    def longName(self):  # noqa: N802
        return self.name()

    def icon(self):
        return QIcon(ICON)

    def svgIconPath(self):  # noqa: N802
        return ICON

    def loadAlgorithms(self):  # noqa: N802
        for cls in algorithm_classes():
            self.addAlgorithm(cls())
        for model in shipped_models():
            self.addAlgorithm(model)

    def supportedOutputRasterLayerExtensions(self):  # noqa: N802
        # Outputs are written by GDAL's GTiff driver through a temporary file.
        return ["tif"]

    def supportedOutputVectorLayerExtensions(self):  # noqa: N802
        return ["gpkg", "shp", "geojson"]
