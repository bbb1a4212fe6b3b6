"""make screenshots works headless (Xvfb)."""

import os
import shutil
import subprocess

import pytest
from helpers import REPO_ROOT


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="Xvfb not installed (apt-get install xvfb)")
@pytest.mark.skipif(shutil.which("qgis") is None, reason="the QGIS desktop program is not installed")
def test_screenshot_script_writes_pngs_of_qgis(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    result = subprocess.run(
        ["bash", os.path.join(REPO_ROOT, "scripts", "screenshots.sh"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    names = ("qgis_change_polygons.png", "map_change_over_overlay.png")
    for name in names + ("dialog_tellus_account.png", "dialog_changedetection.png"):  # the dialogs build
        with open(tmp_path / name, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / name).stat().st_size > (20_000 if name in names else 5_000)  # not an empty window
