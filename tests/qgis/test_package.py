"""make package: the plugin zip holds the plugin folder, no tests or caches, and loads in qgis_process."""

import os
import shutil
import subprocess
import zipfile

import pytest
from helpers import REPO_ROOT


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    if not os.path.isdir(os.path.join(REPO_ROOT, ".git")) or shutil.which("git") is None:
        pytest.skip("not a git checkout: make package archives the last commit")
    target = str(tmp_path_factory.mktemp("dist") / "sar_change.zip")
    subprocess.run(
        ["git", "-C", REPO_ROOT, "archive", "--format=zip", "--prefix=sar_change/", "-o", target, "HEAD"],
        check=True,
        capture_output=True,
    )
    return target


def test_zip_holds_only_the_plugin(package):
    names = zipfile.ZipFile(package).namelist()
    assert all(n.startswith("sar_change/") for n in names)
    for needed in (
        "metadata.txt",
        "__init__.py",
        "plugin.py",
        "processing_provider/provider.py",
        "processing_provider/models/change_detection_pipeline.model3",
        "ui/icons/sarchange.svg",
    ):
        assert f"sar_change/{needed}" in names
    for excluded in ("tests/", "benchmarks/", "__pycache__", ".ci/", "docs/"):
        assert not any(excluded in n for n in names), excluded


def test_unzipped_plugin_loads_in_qgis_process(package, tmp_path):
    exe = shutil.which("qgis_process.bin")
    if exe is None:
        pytest.skip("qgis_process.bin not found")
    plugins = tmp_path / "plugins"
    zipfile.ZipFile(package).extractall(plugins)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = dict(
        os.environ,
        QGIS_PLUGINPATH=str(plugins),
        QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "profile"),
        QT_QPA_PLATFORM="offscreen",
        XDG_RUNTIME_DIR=str(runtime),
    )
    subprocess.run([exe, "plugins", "enable", "sar_change"], env=env, check=True, capture_output=True, timeout=300)
    listing = subprocess.run([exe, "list"], env=env, capture_output=True, text=True, timeout=300).stdout
    assert "sarchange:changedetection" in listing and "sarchange:tellussearch" in listing
