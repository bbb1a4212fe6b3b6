"""The "About / help" dialog."""

import configparser
import os

from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import QMessageBox

ROOT = os.path.dirname(os.path.dirname(__file__))


def metadata():
    """The ``[general]`` section of metadata.txt as a dict."""
    parser = configparser.ConfigParser()
    parser.read(os.path.join(ROOT, "metadata.txt"), encoding="utf-8")
    return dict(parser["general"])


def about_html():
    meta = metadata()
    tr = lambda text: QCoreApplication.translate("SarChange", text)  # noqa: E731
    return (
        f"<h3>{meta['name']} {meta['version']}</h3><p>{meta['about']}</p>"
        f"<p>{tr('Algorithms are in the Processing toolbox under')} <b>{meta['name']}</b> "
        f"({tr('provider id')} <code>sarchange</code>); "
        f"{tr('each has a help panel with its parameters, units and references.')}</p>"
        f'<p><a href="{meta["homepage"]}">{tr("Home page")}</a> · '
        f'<a href="{meta["tracker"]}">{tr("Report a problem")}</a></p>'
    )


def show_about(parent=None):
    box = QMessageBox(parent)
    box.setWindowTitle(QCoreApplication.translate("SarChange", "About SAR Change Toolkit"))
    box.setTextFormat(1)  # Qt.RichText
    box.setText(about_html())
    box.exec_()
