"""Settings page of the plugin: block size, and the dask scheduler that runs the blocks."""

from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPushButton, QSpinBox

from ..algorithms.io import cluster
from ..processing_provider import settings


def tr(text):
    return QCoreApplication.translate("SarChange", text)


def describe_scheduler(address: str) -> str:
    """One line on the scheduler at ``address``: its workers and threads, or why it cannot be used."""
    address = address.strip()
    if address.lower() in cluster.LOCAL:
        return tr("Blocks run on this machine's threads.")
    try:
        workers = cluster.client(address).nthreads()
    except (ConnectionError, ImportError) as exc:
        return str(exc)
    return tr("Connected: {} workers, {} threads.").format(len(workers), sum(workers.values()))


class SettingsDialog(QDialog):
    """Edit the plugin settings kept in QgsSettings (section ``sar_change``)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle(tr("SAR Change Toolkit settings"))
        layout = QFormLayout(self)
        self.block_size = QSpinBox()
        self.block_size.setRange(256, 8192)
        self.block_size.setSingleStep(256)
        self.block_size.setValue(settings.block_size())
        self.block_size.setSuffix(tr(" px"))
        layout.addRow(tr("Block side"), self.block_size)
        self.scheduler = QLineEdit(settings.get("dask_scheduler"))
        self.scheduler.setPlaceholderText(tr("empty: this machine; e.g. tcp://10.0.0.5:8786"))
        self.scheduler.setToolTip(
            tr(
                "Address of a dask.distributed scheduler. The blockwise algorithms send their blocks to "
                "its workers, which read the inputs themselves: give inputs on a disk they reach. "
                "${} overrides this setting."
            ).format(cluster.SCHEDULER_ENV)
        )
        layout.addRow(tr("Dask scheduler"), self.scheduler)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        test = QPushButton(tr("Test connection"))
        test.clicked.connect(self.test_connection)
        layout.addRow(test, self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)

    def test_connection(self):
        self.status.setText(describe_scheduler(self.scheduler.text()))

    def save(self):
        settings.set_value("block_size", str(self.block_size.value()))
        settings.set_value("dask_scheduler", self.scheduler.text().strip())
        self.accept()
