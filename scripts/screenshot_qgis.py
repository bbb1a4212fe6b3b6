"""Run inside QGIS (qgis --code): load the demo outputs styled, show our toolbox, save screenshots.

Started by scripts/screenshots.sh under Xvfb; writes docs/screenshots/*.png and quits QGIS.
"""

import os

from qgis.core import QgsProject, QgsRasterLayer, QgsVectorLayer
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QApplication, QDockWidget
from qgis.utils import iface, plugins

OUT = os.environ["SARCHANGE_SCREENSHOTS"]
DEMO = os.environ["SARCHANGE_DEMO"]


def load():
    styles = __import__(
        type(plugins["sar_change"]).__module__.rsplit(".", 1)[0] + ".processing_provider.styles", fromlist=["x"]
    )
    overlay = QgsRasterLayer(os.path.join(DEMO, "overlay.tif"), "Overlay (before blue, after red)")
    styles.style_rgb(overlay)
    change = QgsVectorLayer(os.path.join(DEMO, "change.gpkg"), "Change polygons")
    styles.style_change_polygons(change)
    QgsProject.instance().addMapLayer(overlay)
    QgsProject.instance().addMapLayer(change)
    iface.mapCanvas().setExtent(overlay.extent())
    iface.mainWindow().resize(1400, 850)
    dock = iface.mainWindow().findChild(QDockWidget, "ProcessingToolbox")
    if dock is not None:
        dock.setVisible(True)
        search = getattr(dock, "searchBox", None)
        if search is not None:
            search.setText("sarchange")
    iface.mapCanvas().refresh()
    QTimer.singleShot(4000, shoot)


def shoot():
    QApplication.processEvents()
    iface.mainWindow().grab().save(os.path.join(OUT, "qgis_change_polygons.png"))
    iface.mapCanvas().grab().save(os.path.join(OUT, "map_change_over_overlay.png"))
    QTimer.singleShot(200, dialogs)


def dialogs():
    """The dialogs a user meets, opened as the menus open them: a desktop check that they build."""
    import processing

    package = type(plugins["sar_change"]).__module__.rsplit(".", 1)[0]
    account = __import__(package + ".ui.tellus_account", fromlist=["x"]).TellusAccountDialog(iface.mainWindow())
    change = processing.createAlgorithmDialog("sarchange:changedetection")
    for dialog, name in ((account, "dialog_tellus_account.png"), (change, "dialog_changedetection.png")):
        dialog.show()
        QApplication.processEvents()
        dialog.grab().save(os.path.join(OUT, name))
        dialog.close()
    QTimer.singleShot(500, QApplication.instance().exit)


QTimer.singleShot(3000, load)
