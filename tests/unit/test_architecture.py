"""The science core stays QGIS-free; metadata parses."""

import configparser
import os
import re
import subprocess
import sys

from helpers import REPO_ROOT

ALGORITHMS = os.path.join(REPO_ROOT, "algorithms")


def test_algorithms_source_never_imports_qgis():
    offenders = []
    for name in sorted(os.listdir(ALGORITHMS)):
        if name.endswith(".py"):
            with open(os.path.join(ALGORITHMS, name), encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    if re.match(r"\s*(from|import)\s+qgis\b", line):
                        offenders.append(f"{name}:{number}")
    assert offenders == []


def test_every_algorithms_module_imports_with_qgis_blocked():
    modules = [n[:-3] for n in os.listdir(ALGORITHMS) if n.endswith(".py") and n != "__init__.py"]
    code = (
        "import sys, importlib, importlib.util\n"
        "sys.modules['qgis'] = None\n"  # any 'import qgis' now raises ImportError
        f"spec = importlib.util.spec_from_file_location('sar_change', {os.path.join(REPO_ROOT, '__init__.py')!r},"
        f" submodule_search_locations=[{REPO_ROOT!r}])\n"
        "m = importlib.util.module_from_spec(spec); sys.modules['sar_change'] = m; spec.loader.exec_module(m)\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module('sar_change.algorithms.' + name)\n"
        "print('ok', len(sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_metadata_is_complete_and_parses():
    parser = configparser.ConfigParser()
    parser.read(os.path.join(REPO_ROOT, "metadata.txt"), encoding="utf-8")
    general = parser["general"]
    for key in (
        "name",
        "qgisMinimumVersion",
        "description",
        "about",
        "version",
        "author",
        "email",
        "tracker",
        "repository",
        "homepage",
        "tags",
        "hasProcessingProvider",
        "changelog",
        "icon",
    ):
        assert general.get(key, "").strip(), f"metadata.txt lacks {key}"
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["hasProcessingProvider"] == "yes"
    assert re.fullmatch(r"\d+\.\d+\.\d+", general["version"])
    assert os.path.exists(os.path.join(REPO_ROOT, general["icon"]))


def test_missing_dependency_message_names_the_package():
    import pytest

    from sar_change.algorithms.deps import MissingDependencyError, require

    with pytest.raises(MissingDependencyError, match="python3-skimage|scikit-image") as info:
        require("skimage.this_module_does_not_exist")
    assert "scikit-image" in str(info.value) and "apt-get install python3-skimage" in str(info.value)
