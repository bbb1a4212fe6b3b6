"""Helpers for the QGIS tests."""


class StubIface:
    """The part of QgisInterface the plugin uses, recording what it is asked."""

    def __init__(self):
        from qgis.PyQt.QtWidgets import QMainWindow

        self.window = QMainWindow()
        self.menu_actions = []
        self.toolbar_actions = []

    def mainWindow(self):
        return self.window

    def addPluginToMenu(self, menu, action):
        self.menu_actions.append((menu, action))

    def removePluginMenu(self, menu, action):
        self.menu_actions.remove((menu, action))

    def addToolBarIcon(self, action):
        self.toolbar_actions.append(action)

    def removeToolBarIcon(self, action):
        self.toolbar_actions.remove(action)
