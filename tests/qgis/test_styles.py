"""Outputs load styled through layer post-processors."""

import math

import numpy as np
import pytest


def test_style_functions_set_the_expected_renderers(write_raster, qgis_app):
    from qgis.core import (
        QgsCategorizedSymbolRenderer,
        QgsMultiBandColorRenderer,
        QgsRasterLayer,
        QgsSingleBandGrayRenderer,
        QgsSingleBandPseudoColorRenderer,
        QgsVectorLayer,
    )

    from sar_change.ui import styles

    rgb = QgsRasterLayer(write_raster("rgb.tif", np.zeros((3, 8, 8), np.uint8)), "rgb")
    styles.style_rgb(rgb)
    assert isinstance(rgb.renderer(), QgsMultiBandColorRenderer)
    db = QgsRasterLayer(write_raster("db.tif", np.arange(64, dtype=np.float32).reshape(8, 8)), "db")
    styles.style_percent_stretch(db)
    enhancement = db.renderer().contrastEnhancement()
    assert isinstance(db.renderer(), QgsSingleBandGrayRenderer)
    assert 0 <= enhancement.minimumValue() < 5 and 58 < enhancement.maximumValue() <= 63
    coherence = QgsRasterLayer(write_raster("coh.tif", np.full((8, 8), 0.5, np.float32)), "coh")
    styles.STYLES["coherence"](coherence)
    assert coherence.renderer().contrastEnhancement().maximumValue() == 1.0
    phase = QgsRasterLayer(write_raster("phase.tif", np.zeros((8, 8), np.float32)), "phase")
    styles.style_cyclic_phase(phase)
    shader = phase.renderer().shader().rasterShaderFunction()
    assert isinstance(phase.renderer(), QgsSingleBandPseudoColorRenderer)
    items = shader.colorRampItemList()
    assert items[0].value == pytest.approx(-math.pi) and items[-1].value == pytest.approx(math.pi)
    assert items[0].color == items[-1].color  # cyclic
    polygons = QgsVectorLayer("Polygon?field=change:string", "change", "memory")
    styles.style_change_polygons(polygons)
    renderer = polygons.renderer()
    assert isinstance(renderer, QgsCategorizedSymbolRenderer)
    colours = {c.value(): c.symbol().color().name() for c in renderer.categories()}
    assert colours == {"loss": styles.LOSS_COLOUR.name(), "gain": styles.GAIN_COLOUR.name()}


def test_run_and_load_results_styles_change_polygons_and_overlay(plugin, tmp_path):
    import processing
    from qgis.core import QgsCategorizedSymbolRenderer, QgsMultiBandColorRenderer, QgsProject

    from sar_change.algorithms import simulate

    paths = simulate.write_pair(simulate.folder_paths(str(tmp_path)), 256, 256, seed=0)
    change = processing.runAndLoadResults(
        "sarchange:changedetection",
        {
            "BEFORE": paths["before"],
            "AFTER": paths["after"],
            "METHOD": "threshold",
            "DESPECKLE": "boxcar",
            "OUTPUT": str(tmp_path / "c.gpkg"),
        },
    )
    overlay = processing.runAndLoadResults(
        "sarchange:overlay", {"BEFORE": paths["before"], "AFTER": paths["after"], "OUTPUT": str(tmp_path / "o.tif")}
    )
    project = QgsProject.instance()
    try:
        layers = {layer.source().split("|")[0]: layer for layer in project.mapLayers().values()}
        assert isinstance(layers[change["OUTPUT"]].renderer(), QgsCategorizedSymbolRenderer)
        assert isinstance(layers[overlay["OUTPUT"]].renderer(), QgsMultiBandColorRenderer)
    finally:
        project.removeAllMapLayers()
