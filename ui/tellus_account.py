"""The Tellus account dialog: keeps the API token in the QGIS authentication database."""

from qgis.core import QgsApplication, QgsAuthMethodConfig
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QMessageBox

from ..processing_provider import settings


def tr(text):
    return QCoreApplication.translate("SarChange", text)


def store_token(token: str, name: str = "Tellus") -> str:
    """Create or update a "Basic" auth configuration holding the token as its password; returns its id.

    The id is remembered in the plugin settings, so Tellus algorithms use it when AUTH_CONFIG is empty.
    """
    if not token.strip():
        raise ValueError("the Tellus token is empty")
    manager = QgsApplication.authManager()
    existing = settings.get("tellus_authcfg")
    config = settings.load_auth_config(existing)
    if config is not None:
        config.setConfig("password", token.strip())
        if not manager.updateAuthenticationConfig(config):
            raise RuntimeError(
                "the QGIS authentication database did not take the new token (was the master password prompt "
                "cancelled?)"
            )
        return existing
    config = QgsAuthMethodConfig("Basic")
    config.setName(name)
    config.setConfig("username", "tellus")
    config.setConfig("password", token.strip())
    if not manager.storeAuthenticationConfig(config):
        raise RuntimeError(
            "the QGIS authentication database refused the configuration (was the master password prompt "
            "cancelled, or is no master password set?)"
        )
    settings.set_value("tellus_authcfg", config.id())
    return config.id()


class TellusAccountDialog(QDialog):
    """Enter the Tellus API token once; it is stored encrypted by QGIS, never in plain settings."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle(tr("Tellus account"))
        layout = QFormLayout(self)
        layout.addRow(QLabel(tr("API token from the Tellus portal (stored in the QGIS authentication database):")))
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.Password)
        layout.addRow(tr("Token"), self.token)
        saved = settings.get("tellus_authcfg")
        self.status = QLabel(
            tr("A token is saved (authentication configuration {}); enter one to replace it.").format(saved)
            if settings.load_auth_config(saved) is not None
            else tr("No token is saved yet.")
        )
        layout.addRow(self.status)
        self.api_url = QLineEdit(settings.get("tellus_api_url"))
        layout.addRow(tr("Traveler API URL"), self.api_url)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)

    def save(self):
        """Store the token; say what happened. The dialog stays open when nothing was stored."""
        if self.token.text().strip():
            try:
                auth_id = store_token(self.token.text())
            except (RuntimeError, ValueError) as exc:
                QMessageBox.warning(self, tr("Tellus account"), tr("The token was not saved: {}").format(exc))
                return
            QMessageBox.information(
                self,
                tr("Tellus account"),
                tr(
                    "The token is saved in the QGIS authentication database (configuration {}); the Tellus "
                    "algorithms select it by default."
                ).format(auth_id),
            )
        settings.set_value("tellus_api_url", self.api_url.text().strip())
        self.accept()
