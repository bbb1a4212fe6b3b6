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

    from sar_change.processing_provider import styles

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

    from sar_change.algorithms.simulation import pair as simulate

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


def test_one_colour_code_gain_red_loss_blue_in_polygons_class_raster_report_and_overlay(plugin, tmp_path):
    """The overlay puts the after date in red: a gain is red, a loss blue, everywhere."""
    import processing
    from osgeo import gdal

    from sar_change.algorithms.io.raster import read_band
    from sar_change.algorithms.sar import change
    from sar_change.algorithms.simulation import pair as simulate
    from sar_change.processing_provider import styles

    red, blue = "#d7191c", "#2b83ba"
    assert (styles.GAIN_COLOUR.name(), styles.LOSS_COLOUR.name()) == (red, blue)
    paths = simulate.write_pair(simulate.folder_paths(str(tmp_path)), 256, 256, seed=0)
    run = processing.run(
        "sarchange:changedetection",
        {
            "BEFORE": paths["before"],
            "AFTER": paths["after"],
            "METHOD": "threshold",
            "OUTPUT": str(tmp_path / "c.gpkg"),
            "OUTPUT_RASTER": str(tmp_path / "c.tif"),
            "OUTPUT_HTML": str(tmp_path / "r.html"),
        },
    )
    dataset = gdal.Open(run["OUTPUT_RASTER"])
    table = dataset.GetRasterBand(1).GetColorTable()
    hex_of = "#{:02x}{:02x}{:02x}".format
    assert hex_of(*table.GetColorEntry(change.GAIN)[:3]) == red
    assert hex_of(*table.GetColorEntry(change.LOSS)[:3]) == blue
    with open(run["OUTPUT_HTML"], encoding="utf-8") as handle:
        report = handle.read()
    assert f'fill="{red}" font-size="13">gain' in report and f'fill="{blue}" font-size="13">loss' in report
    overlay = processing.run(
        "sarchange:overlay", {"BEFORE": paths["before"], "AFTER": paths["after"], "OUTPUT": str(tmp_path / "o.tif")}
    )["OUTPUT"]
    classes = read_band(run["OUTPUT_RASTER"])
    red_minus_blue = read_band(overlay, 1).astype(float) - read_band(overlay, 3)
    assert np.mean(red_minus_blue[classes == change.GAIN]) > 20  # gains show red in the overlay too
    assert np.mean(red_minus_blue[classes == change.LOSS]) < -20


def test_omnibus_outputs_load_with_a_date_legend_and_a_count_legend(plugin, tmp_path):
    import processing
    from qgis.core import QgsPalettedRasterRenderer, QgsProject

    rng = np.random.default_rng(0)
    stack = rng.gamma(4.0, 0.025, (4, 96, 96)).astype(np.float32)
    stack[2:, 20:60, 20:60] *= 10.0  # a change at the third date
    paths = []
    for i, image in enumerate(stack):
        from helpers import GEOTRANSFORM, utm54_wkt

        from sar_change.algorithms.io.outputs import write_array

        paths.append(str(tmp_path / f"d{i}.tif"))
        write_array(paths[-1], image, geotransform=GEOTRANSFORM, crs_wkt=utm54_wkt())
    result = processing.runAndLoadResults(
        "sarchange:omnibus",
        {
            "INPUTS": paths,
            "LOOKS": 4.0,
            "DATES": "2015-01-01,2016-01-01,2017-01-01,2018-01-01",
            "OUTPUT_CHANGES": str(tmp_path / "n.tif"),
            "OUTPUT_FIRST": str(tmp_path / "f.tif"),
            "OUTPUT_LAST": str(tmp_path / "l.tif"),
            "OUTPUT": str(tmp_path / "o.gpkg"),
        },
    )
    project = QgsProject.instance()
    try:
        layers = {layer.source().split("|")[0]: layer for layer in project.mapLayers().values()}
        first = layers[result["OUTPUT_FIRST"]].renderer()
        assert isinstance(first, QgsPalettedRasterRenderer)
        assert [c.label for c in first.classes()] == ["2015-01-01", "2016-01-01", "2017-01-01", "2018-01-01"]
        assert [c.value for c in first.classes()] == [20150101, 20160101, 20170101, 20180101]
        count = layers[result["OUTPUT_CHANGES"]].renderer()
        assert isinstance(count, QgsPalettedRasterRenderer) and [c.value for c in count.classes()] == [1, 2, 3]
    finally:
        project.removeAllMapLayers()


def test_class_rasters_load_with_only_their_classes_named(plugin, tmp_path):
    """A GeoTIFF colour table has 256 entries: the legend listed 3-255 in black, without names."""
    import processing
    from qgis.core import QgsPalettedRasterRenderer, QgsProject

    from sar_change.algorithms.simulation import pair as simulate

    paths = simulate.write_pair(simulate.folder_paths(str(tmp_path)), 256, 256, seed=0)
    change = processing.runAndLoadResults(
        "sarchange:changedetection",
        {
            "BEFORE": paths["before"],
            "AFTER": paths["after"],
            "OUTPUT": str(tmp_path / "c.gpkg"),
            "OUTPUT_RASTER": str(tmp_path / "c.tif"),
        },
    )
    kmeans = processing.runAndLoadResults(
        "sarchange:kmeans", {"BACKSCATTER": [paths["before"]], "CLASSES": 3, "OUTPUT": str(tmp_path / "k.tif")}
    )
    project = QgsProject.instance()
    try:
        layers = {layer.source().split("|")[0]: layer for layer in project.mapLayers().values()}
        renderer = layers[change["OUTPUT_RASTER"]].renderer()
        assert isinstance(renderer, QgsPalettedRasterRenderer)
        assert [(c.value, c.label) for c in renderer.classes()] == [
            (0, "No change"),
            (1, "Loss of backscatter"),
            (2, "Gain of backscatter"),
        ]
        classes = layers[kmeans["OUTPUT"]].renderer().classes()
        assert [c.value for c in classes] == [0, 1, 2]
        assert all(c.label.startswith(f"class {int(c.value)}: ") and " dB" in c.label for c in classes), [
            c.label for c in classes
        ]
    finally:
        project.removeAllMapLayers()
