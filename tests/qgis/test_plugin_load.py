"""The plugin loads through classFactory with a stub iface, registers its provider and unloads cleanly."""

from qgis_helpers import StubIface

EXPECTED_ALGORITHMS = {"todb", "simulatepair", "overlay", "rgbcomposite"}


def test_classfactory_init_gui_registers_provider_menu_and_unload_removes_them(plugin):
    from qgis.core import QgsApplication

    import sar_change

    registry = QgsApplication.processingRegistry()
    plugin.unload()  # the session's instance steps aside while a fresh one loads and unloads
    iface = StubIface()
    fresh = sar_change.classFactory(iface)
    fresh.initGui()
    try:
        provider = registry.providerById("sarchange")
        assert provider is not None and provider.name() == "SAR Change Toolkit"
        assert {a.name() for a in provider.algorithms()} >= EXPECTED_ALGORITHMS
        assert [menu for menu, _ in iface.menu_actions] == ["SAR Change Toolkit"] * 4
        assert [a.text() for _, a in iface.menu_actions][2] == "Settings…"
        from sar_change.ui.about import about_html

        assert "sarchange" in about_html() and "0." in about_html()
        assert len(iface.toolbar_actions) == 1
    finally:
        fresh.unload()
    assert registry.providerById("sarchange") is None
    assert iface.menu_actions == [] and iface.toolbar_actions == []
    plugin.initProcessing()


def test_every_algorithm_has_help_group_and_creates_instances(plugin):
    provider = plugin.provider
    groups = {"tellus", "preprocessing", "classification", "changedetection", "interferometry", "terrain", "utilities"}
    from qgis.core import QgsProcessingModelAlgorithm

    for alg in provider.algorithms():
        if isinstance(alg, QgsProcessingModelAlgorithm):
            continue  # shipped models: tests/qgis/test_model.py
        assert alg.groupId() in groups, alg.id()
        assert len(alg.shortHelpString()) > 100, alg.id()
        assert type(alg.createInstance()) is type(alg)
        assert alg.name() == alg.name().lower()
