"""QGIS fixtures: an in-process QgsApplication with the plugin loaded, and qgis_process.bin."""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest
from helpers import REPO_ROOT
from qgis_helpers import StubIface

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
qgis_core = pytest.importorskip("qgis.core", reason="PyQGIS is not installed (make test installs it)")
PROCESSING_PLUGINS = "/usr/share/qgis/python/plugins"


@pytest.fixture(scope="session")
def qgis_app():
    """A running QgsApplication with Processing initialised (GUI enabled for dialogs, offscreen)."""
    from qgis.core import QgsApplication

    profile = tempfile.mkdtemp(prefix="sarchange-profile-")
    app = QgsApplication([], True, profile)
    app.initQgis()
    if PROCESSING_PLUGINS not in sys.path:
        sys.path.append(PROCESSING_PLUGINS)
    from processing.core.Processing import Processing

    Processing.initialize()
    yield app
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def plugin(qgis_app):
    """The plugin loaded through classFactory with a stub iface, its provider registered."""
    import sar_change

    instance = sar_change.classFactory(StubIface())
    instance.initProcessing()
    yield instance
    instance.unload()


@pytest.fixture
def run_alg(plugin):
    """Run a ``sarchange:`` algorithm in process; returns its results dict."""
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback

    def run(alg_id, parameters, feedback=None):
        context = QgsProcessingContext()
        return processing.run(alg_id, parameters, context=context, feedback=feedback or QgsProcessingFeedback())

    return run


@pytest.fixture(scope="session")
def qgis_process():
    """Run ``qgis_process.bin`` with the checkout linked in as plugin ``sar_change`` in a throwaway profile."""
    exe = shutil.which("qgis_process.bin")
    if exe is None:
        pytest.skip("qgis_process.bin not found (Debian package qgis; make test installs it)")
    home = tempfile.mkdtemp(prefix="sarchange-qp-")
    os.makedirs(os.path.join(home, "plugins"))
    os.symlink(REPO_ROOT, os.path.join(home, "plugins", "sar_change"))
    runtime = os.path.join(home, "runtime")
    os.makedirs(runtime, mode=0o700)
    env = dict(
        os.environ,
        QGIS_PLUGINPATH=os.path.join(home, "plugins"),
        QGIS_CUSTOM_CONFIG_PATH=os.path.join(home, "profile"),
        QT_QPA_PLATFORM="offscreen",
        XDG_RUNTIME_DIR=runtime,
    )

    def run(*args, check=True, extra_env=None, timeout=600, background=False, capture=False):
        if background:  # a Popen the test waits for, signals or kills; with capture, its output in stdout
            return subprocess.Popen(
                [exe, *args],
                env=dict(env, **(extra_env or {})),
                stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                stderr=subprocess.STDOUT if capture else subprocess.DEVNULL,
                text=True,
            )
        result = subprocess.run(
            [exe, *args], env=dict(env, **(extra_env or {})), capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(f"qgis_process.bin {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    run("plugins", "enable", "sar_change")
    yield run
    shutil.rmtree(home, ignore_errors=True)
