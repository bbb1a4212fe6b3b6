"""QGIS entry point: registers the Processing provider and the plugin menu."""

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from .processing_provider.icons import ICON
from .processing_provider.provider import SarChangeProvider

MENU = "SAR Change Toolkit"


class SarChangePlugin:
    """The plugin object QGIS keeps while the plugin is loaded."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.actions = []

    @staticmethod
    def tr(text):
        return QCoreApplication.translate("SarChange", text)

    def initProcessing(self):  # noqa: N802 (QGIS API name)
        """Register the provider; QGIS calls this also headless (``qgis_process``)."""
        if self.provider is None:
            self.provider = SarChangeProvider()  # kept referenced, or Python would free it
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()
        action = QAction(QIcon(ICON), self.tr("SAR Change Toolkit algorithms…"), self.iface.mainWindow())
        action.triggered.connect(self.open_toolbox)
        self.iface.addPluginToMenu(self.tr(MENU), action)
        self.iface.addToolBarIcon(action)
        self.actions.append(action)
        account = QAction(self.tr("Tellus account…"), self.iface.mainWindow())
        account.triggered.connect(self.show_tellus_account)
        self.iface.addPluginToMenu(self.tr(MENU), account)
        self.actions.append(account)
        options = QAction(self.tr("Settings…"), self.iface.mainWindow())
        options.triggered.connect(self.show_settings)
        self.iface.addPluginToMenu(self.tr(MENU), options)
        self.actions.append(options)
        about = QAction(self.tr("About / help…"), self.iface.mainWindow())
        about.triggered.connect(self.show_about)
        self.iface.addPluginToMenu(self.tr(MENU), about)
        self.actions.append(about)

    def show_tellus_account(self):
        from .ui.tellus_account import TellusAccountDialog

        TellusAccountDialog(self.iface.mainWindow()).exec_()

    def show_settings(self):
        from .ui.settings_dialog import SettingsDialog

        SettingsDialog(self.iface.mainWindow()).exec_()

    def show_about(self):
        from .ui.about import show_about

        show_about(self.iface.mainWindow())

    def open_toolbox(self):
        """Show the Processing toolbox, searching for our algorithms."""
        from qgis.PyQt.QtWidgets import QDockWidget

        dock = self.iface.mainWindow().findChild(QDockWidget, "ProcessingToolbox")
        if dock is None:
            return
        dock.setVisible(True)
        dock.raise_()
        search = getattr(dock, "searchBox", None)
        if search is not None:
            search.setText("sarchange")

    def unload(self):
        for action in self.actions:
            self.iface.removePluginMenu(self.tr(MENU), action)
        if self.actions:
            self.iface.removeToolBarIcon(self.actions[0])
        self.actions = []
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        from .algorithms.io.cluster import close_clients

        close_clients()
