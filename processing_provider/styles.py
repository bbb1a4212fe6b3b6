"""Styles for our outputs, applied by a Processing layer post-processor (never from the worker thread)."""

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsColorRampShader,
    QgsContrastEnhancement,
    QgsFillSymbol,
    QgsMultiBandColorRenderer,
    QgsPalettedRasterRenderer,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterBandStats,
    QgsRasterLayer,
    QgsRasterShader,
    QgsRendererCategory,
    QgsSingleBandGrayRenderer,
    QgsSingleBandPseudoColorRenderer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QColor

from ..algorithms.sar.change.pixel import CLASS_RGB, GAIN, LOSS

#: The product's one colour code (see ``algorithms.sar.change.CLASS_RGB``): gain red and loss blue, as
#: the two-date overlay shows them (before in blue, after in red).
LOSS_COLOUR = QColor(*CLASS_RGB[LOSS])
GAIN_COLOUR = QColor(*CLASS_RGB[GAIN])


def tr(text):
    return QCoreApplication.translate("SarChange", text)


def style_change_polygons(layer: QgsVectorLayer) -> None:
    """Categorised by ``change``: gain red, loss blue (the overlay's code), semi-transparent fill with a
    solid outline."""
    categories = []
    for value, colour, label in (
        ("loss", LOSS_COLOUR, tr("Loss of backscatter")),
        ("gain", GAIN_COLOUR, tr("Gain of backscatter")),
    ):
        symbol = QgsFillSymbol.createSimple(
            {
                "color": f"{colour.red()},{colour.green()},{colour.blue()},110",
                "outline_color": f"{colour.red()},{colour.green()},{colour.blue()},255",
                "outline_width": "0.4",
            }
        )
        categories.append(QgsRendererCategory(value, symbol, label))
    layer.setRenderer(QgsCategorizedSymbolRenderer("change", categories))
    layer.triggerRepaint()


def style_rgb(layer: QgsRasterLayer) -> None:
    """Bands 1, 2, 3 as red, green, blue, 0-255 without stretch."""
    renderer = QgsMultiBandColorRenderer(layer.dataProvider(), 1, 2, 3)
    for band, setter in (
        (1, renderer.setRedContrastEnhancement),
        (2, renderer.setGreenContrastEnhancement),
        (3, renderer.setBlueContrastEnhancement),
    ):
        enhancement = QgsContrastEnhancement(layer.dataProvider().dataType(band))
        enhancement.setMinimumValue(0)
        enhancement.setMaximumValue(255 if layer.dataProvider().dataType(band) == 1 else 1)
        enhancement.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
        setter(enhancement)
    layer.setRenderer(renderer)
    layer.triggerRepaint()


def style_grey_range(layer: QgsRasterLayer, minimum: float, maximum: float) -> None:
    """Single-band grey stretched between fixed values (coherence: 0-1)."""
    renderer = QgsSingleBandGrayRenderer(layer.dataProvider(), 1)
    enhancement = QgsContrastEnhancement(layer.dataProvider().dataType(1))
    enhancement.setMinimumValue(minimum)
    enhancement.setMaximumValue(maximum)
    enhancement.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
    renderer.setContrastEnhancement(enhancement)
    layer.setRenderer(renderer)
    layer.triggerRepaint()


def style_percent_stretch(layer: QgsRasterLayer, low: float = 2.0, high: float = 98.0) -> None:
    """Single-band grey with a cumulative-count cut (dB images: 2-98 %)."""
    provider = layer.dataProvider()
    lo, hi = provider.cumulativeCut(1, low / 100.0, high / 100.0, layer.extent(), 250000)
    if not lo < hi:
        stats = provider.bandStatistics(1, QgsRasterBandStats.Min | QgsRasterBandStats.Max)
        lo, hi = stats.minimumValue, stats.maximumValue
    style_grey_range(layer, lo, hi)


def style_cyclic_phase(layer: QgsRasterLayer) -> None:
    """Wrapped phase -pi..pi on a cyclic colour ramp (the same colour at both ends)."""
    import math

    colours = [
        QColor(255, 0, 0),
        QColor(255, 255, 0),
        QColor(0, 255, 0),
        QColor(0, 255, 255),
        QColor(0, 0, 255),
        QColor(255, 0, 255),
        QColor(255, 0, 0),
    ]
    items = [
        QgsColorRampShader.ColorRampItem(-math.pi + 2 * math.pi * i / 6, c, f"{-180 + 60 * i}°")
        for i, c in enumerate(colours)
    ]
    ramp = QgsColorRampShader(-math.pi, math.pi)
    ramp.setColorRampType(QgsColorRampShader.Interpolated)
    ramp.setColorRampItemList(items)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(ramp)
    renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)
    layer.setRenderer(renderer)
    layer.triggerRepaint()


#: Date classes from early (dark blue) to late (yellow), interpolated for any number of dates.
DATE_RAMP = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]


def _ramp(fraction: float) -> QColor:
    position = min(max(fraction, 0.0), 1.0) * (len(DATE_RAMP) - 1)
    i = min(int(position), len(DATE_RAMP) - 2)
    t = position - i
    return QColor(*[round(a + (b - a) * t) for a, b in zip(DATE_RAMP[i], DATE_RAMP[i + 1])])


def _paletted(layer: QgsRasterLayer, classes) -> None:
    renderer = QgsPalettedRasterRenderer(
        layer.dataProvider(),
        1,
        [QgsPalettedRasterRenderer.Class(value, colour, label) for value, colour, label in classes],
    )
    layer.setRenderer(renderer)
    layer.triggerRepaint()


def style_dates(layer: QgsRasterLayer, codes=(), labels=()) -> None:
    """A first- or last-change-date raster: one class per date (its value ``codes[i]``, its legend
    ``labels[i]``), early dark blue to late yellow; 0 (no change) is not drawn."""
    n = max(len(codes) - 1, 1)
    _paletted(layer, [(int(code), _ramp(i / n), str(label)) for i, (code, label) in enumerate(zip(codes, labels))])


def style_change_count(layer: QgsRasterLayer, dates: int = 3) -> None:
    """Number of changes 1 .. dates - 1, light yellow to dark red; 0 (no change) is not drawn."""
    top = max(dates - 1, 1)
    classes = []
    for count in range(1, top + 1):
        t = (count - 1) / max(top - 1, 1)
        colour = QColor(round(255 - 75 * t), round(220 - 200 * t), round(120 - 100 * t))
        classes.append((count, colour, tr("{} change(s)").format(count)))
    _paletted(layer, classes)


def style_classes(layer: QgsRasterLayer, classes=()) -> None:
    """A class raster with a legend of its classes only, named: ``classes`` lists ``(value, (r, g, b),
    label)``. A GeoTIFF colour table has 256 entries, so its own legend lists 3-255 in black."""
    _paletted(layer, [(int(value), QColor(*rgb), str(label)) for value, rgb, label in classes])


STYLES = {
    "classes": style_classes,
    "dates": style_dates,
    "change_count": style_change_count,
    "change_polygons": style_change_polygons,
    "rgb": style_rgb,
    "coherence": lambda layer: style_grey_range(layer, 0.0, 1.0),
    "db": style_percent_stretch,
    "phase": style_cyclic_phase,
}


class StylePostProcessor(QgsProcessingLayerPostProcessorInterface):
    """Applies one of :data:`STYLES` to an output once Processing has loaded it (on the main thread)."""

    _instances = []  # Processing keeps only a raw pointer: keep the Python objects alive

    def __init__(self, style, options=None):
        super().__init__()
        self.style = style
        self.options = dict(options or {})

    @classmethod
    def create(cls, style, options=None):
        instance = cls(style, options)
        cls._instances.append(instance)
        return instance

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802
        if layer is not None and layer.isValid():
            STYLES[self.style](layer, **self.options)
