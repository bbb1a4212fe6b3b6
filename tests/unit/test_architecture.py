"""The science core stays QGIS-free; metadata parses."""

import configparser
import os
import re
import subprocess
import sys

from helpers import REPO_ROOT

ALGORITHMS = os.path.join(REPO_ROOT, "algorithms")


def core_modules():
    """Dotted names (below ``algorithms``) and paths of every module of the science core."""
    found = []
    for folder, subfolders, names in os.walk(ALGORITHMS):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                dotted = os.path.relpath(path, ALGORITHMS)[:-3].replace(os.sep, ".")
                found.append((dotted.removesuffix("__init__").rstrip("."), path))
    return found


def test_algorithms_source_never_imports_qgis():
    offenders = []
    for name, path in core_modules():
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if re.match(r"\s*(from|import)\s+qgis\b", line):
                    offenders.append(f"{name}:{number}")
    assert len(core_modules()) > 40 and offenders == []


def test_every_algorithms_module_imports_with_qgis_blocked():
    modules = [name for name, _ in core_modules() if name]
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

    from sar_change.algorithms.common.deps import MissingDependencyError, require

    with pytest.raises(MissingDependencyError, match="python3-skimage|scikit-image") as info:
        require("skimage.this_module_does_not_exist")
    assert "scikit-image" in str(info.value) and "apt-get install python3-skimage" in str(info.value)


#: The layers of the core and the layers each may import (docs/ARCHITECTURE.md).
LAYERS = {
    "common": set(),
    "sar": {"common"},
    "io": {"common", "sar"},
    "reports": {"common", "sar"},
    "readers": {"common", "io"},
    "simulation": {"common", "sar", "io"},
    "workflows": {"common", "sar", "io", "reports", "readers"},
    "api": {"common", "sar", "io", "workflows"},
}


def core_imports():
    """(importing layer, imported layer, where) of every relative import inside the core."""
    import ast

    found = []
    for name, path in core_modules():
        parts = name.split(".") if name else []
        package = parts if path.endswith("__init__.py") else parts[:-1]
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - (node.level - 1)]
                target = base + (node.module.split(".") if node.module else [node.names[0].name])
                found.append((parts[0] if parts else "", target[0] if target else "", f"{name}:{node.lineno}"))
    return found


def test_each_layer_of_the_core_imports_only_the_layers_below_it():
    imports = core_imports()
    layers = {source for source, _, _ in imports}
    assert layers <= set(LAYERS) | {""}, f"a new layer needs a rule: {layers - set(LAYERS)}"
    wrong = [where for source, target, where in imports if target != source and target not in LAYERS.get(source, ())]
    assert len(imports) > 100 and wrong == []


def test_the_maths_layer_never_touches_gdal_or_files():
    offenders = []
    for name, path in core_modules():
        if name.startswith("sar"):
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            if re.search(r"\bosgeo\b|\bgdal\b|\bopen\(", text):
                offenders.append(name)
    assert offenders == []


def test_every_package_says_what_it_holds_and_what_it_may_import():
    packages = [(name, path) for name, path in core_modules() if path.endswith("__init__.py") and name.count(".") == 0]
    assert len(packages) == len(LAYERS)  # the root, and one per layer except the api module
    for name, path in packages:
        with open(path, encoding="utf-8") as handle:
            doc = handle.read().split('"""')[1]
        assert len(doc.split()) > 25, name
        assert "May import" in doc or name == "", name


def test_no_module_is_longer_than_about_400_lines():
    roots = [ALGORITHMS, os.path.join(REPO_ROOT, "processing_provider"), os.path.join(REPO_ROOT, "ui")]
    long = []
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                if name.endswith(".py"):
                    with open(os.path.join(folder, name), encoding="utf-8") as handle:
                        if sum(1 for _ in handle) > 420:
                            long.append(os.path.relpath(os.path.join(folder, name), REPO_ROOT))
    assert long == []


def plugin_import_graph():
    """{module: modules it imports} over the QGIS side (provider, shells, ui, plugin.py), relative
    imports anywhere in a file (a lazy import inside a function closes a circle too)."""
    import ast

    graph = {}
    for folder in ("processing_provider", "ui"):
        for name in sorted(os.listdir(os.path.join(REPO_ROOT, folder))):
            if name.endswith(".py"):
                graph[f"{folder}.{name[:-3]}".removesuffix(".__init__")] = os.path.join(REPO_ROOT, folder, name)
    graph["plugin"] = os.path.join(REPO_ROOT, "plugin.py")
    edges = {}
    for module, path in graph.items():
        package = module.rsplit(".", 1)[0] if "." in module else ""
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)] if package else []
                stem = ".".join(base + ([node.module] if node.module else []))
                for alias in node.names:
                    for candidate in (f"{stem}.{alias.name}", stem):
                        if candidate in graph:
                            targets.add(candidate)
                            break
        edges[module] = targets - {module}
    return edges


def test_the_qgis_side_has_no_import_circle_and_never_climbs_into_the_ui():
    edges = plugin_import_graph()
    assert not [
        m
        for m, targets in edges.items()
        if m.startswith("processing_provider") and any(t.startswith("ui") or t == "plugin" for t in targets)
    ]
    state = {}

    def visit(module, path):
        if state.get(module) == "open":
            raise AssertionError(" -> ".join(path + [module]))
        if state.get(module) != "done":
            state[module] = "open"
            for target in sorted(edges[module]):
                visit(target, path + [module])
            state[module] = "done"

    for module in sorted(edges):
        visit(module, [])
    assert len(edges) > 20 and "processing_provider.styles" in edges["processing_provider.outputs"]
