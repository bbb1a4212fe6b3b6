"""Declaring and reading the parameters the ``sarchange`` algorithms share.

A shell's ``initAlgorithm`` is a list of ``self.add_*`` calls, one per parameter, saying only what
is special about it: the helpers translate the label, build the QGIS parameter with the
conventions every algorithm keeps (bands optional and 1 by default, choices passed as strings,
HTML reports created by default), add it, and return it. Outputs may name a style (see
:mod:`.styles`), applied when Processing loads the result.
"""

import os

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterBand,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsRasterLayer,
)

from ..algorithms.io.raster import raster_info, resolve_raster_scale
from ..algorithms.sar.convert import INPUT_SCALES


class ParameterHelpers:
    """Mixin of :class:`.base.SarAlgorithm`: ``add_*`` declare parameters, the others read them."""

    def _add(self, parameter, advanced=False, style=None):
        if advanced:
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(parameter)
        if style is not None:
            self._declared_styles()[parameter.name()] = style
        return parameter

    def _declared_styles(self):
        """``{output name: style}`` of the outputs declared with a style (per instance)."""
        return self.__dict__.setdefault("_output_styles", {})

    # -- inputs ----------------------------------------------------------------------------------
    def add_raster(self, name, description, *, band=None, band_description="Band", optional=False):
        """A raster layer, and with ``band`` (a parameter name) its band, 1 by default."""
        layer = self._add(QgsProcessingParameterRasterLayer(name, self.tr(description), optional=optional))
        if band is not None:
            self.add_band(band, band_description, name)
        return layer

    def add_band(self, name, description, parent=None):
        """A band of the raster parameter ``parent``, defaulting to band 1 (optional, so scripts may
        leave it out)."""
        return self._add(self.band_parameter(name, self.tr(description), parent))

    def add_extent(self, name, description, *, optional=False):
        """A map extent, in any CRS."""
        return self._add(QgsProcessingParameterExtent(name, self.tr(description), optional=optional))

    def add_rasters(self, name, description, *, optional=False):
        """Several raster layers (repeat the parameter in ``qgis_process``: ``INPUTS=a INPUTS=b``)."""
        return self._add(
            QgsProcessingParameterMultipleLayers(
                name, self.tr(description), QgsProcessing.TypeRaster, optional=optional
            )
        )

    def add_input_scale(self, name="INPUT_SCALE", options=INPUT_SCALES, default="auto", *, advanced=False):
        """The scale of the input values: ``auto`` (default) or one of :data:`..algorithms.sar.convert.TO_POWER`."""
        return self._add(self.input_scale_parameter(name, options, default), advanced)

    def add_enum(self, name, description, options, default, *, advanced=False):
        """A choice among ``options``, passed and returned as strings (``METHOD=lee``)."""
        return self._add(self.enum_parameter(name, description, options, default), advanced)

    def add_number(
        self,
        name,
        description,
        default=None,
        minimum=None,
        maximum=None,
        *,
        integer=False,
        optional=False,
        advanced=False,
    ):
        """A number (a double unless ``integer``), with its bounds when given."""
        kind = QgsProcessingParameterNumber.Integer if integer else QgsProcessingParameterNumber.Double
        parameter = QgsProcessingParameterNumber(name, self.tr(description), kind, default, optional)
        if minimum is not None:
            parameter.setMinimum(minimum)
        if maximum is not None:
            parameter.setMaximum(maximum)
        return self._add(parameter, advanced)

    def add_looks(
        self, name="LOOKS", description="Number of looks (0 = estimate)", default=0.0, minimum=0.0, maximum=None
    ):
        """The equivalent number of looks; 0 (the default) has the algorithm estimate them."""
        return self.add_number(name, description, default, minimum, maximum)

    def add_flag(self, name, description, default, *, advanced=False):
        """A yes/no choice."""
        return self._add(QgsProcessingParameterBoolean(name, self.tr(description), default), advanced)

    def add_text(self, name, description, default=None, *, optional=False, advanced=False):
        """A free text (dates, identifiers, URLs)."""
        return self._add(QgsProcessingParameterString(name, self.tr(description), default, optional=optional), advanced)

    # -- outputs ---------------------------------------------------------------------------------
    def add_raster_output(self, name, description, *, optional=False, style=None):
        """A GeoTIFF output; an optional one is still created by default. ``style`` names a style of
        :mod:`.styles` applied when Processing loads it (options that depend on the run go through
        :meth:`.SarAlgorithm.style_output` instead)."""
        parameter = QgsProcessingParameterRasterDestination(
            name, self.tr(description), optional=optional, createByDefault=True
        )
        return self._add(parameter, style=style)

    def add_polygons_output(self, name, description, *, optional=False, style=None):
        """A polygon layer output (GeoPackage by default)."""
        parameter = QgsProcessingParameterFeatureSink(
            name, self.tr(description), QgsProcessing.TypeVectorPolygon, optional=optional
        )
        return self._add(parameter, style=style)

    def add_table_output(self, name, description, *, geometry=QgsProcessing.TypeVector, optional=False):
        """A table (or any vector) output."""
        return self._add(QgsProcessingParameterFeatureSink(name, self.tr(description), geometry, optional=optional))

    def add_html_output(self, name, description, *, optional=True):
        """An HTML report, created by default: the report says what the run decided."""
        parameter = QgsProcessingParameterFileDestination(
            name, self.tr(description), self.tr("HTML files (*.html)"), optional=optional, createByDefault=True
        )
        return self._add(parameter)

    # -- parameter objects (for the few shells that build one to adjust it) ----------------------
    def enum_parameter(self, name, description, options, default):
        """A choice among ``options`` passed and returned as strings (``METHOD=lee`` in qgis_process)."""
        return QgsProcessingParameterEnum(
            name, self.tr(description), options=list(options), defaultValue=default, usesStaticStrings=True
        )

    def input_scale_parameter(self, name="INPUT_SCALE", options=INPUT_SCALES, default="auto"):
        """The scale of the input values: ``auto`` (default) or one of :data:`..algorithms.sar.convert.TO_POWER`."""
        return self.enum_parameter(name, "Input scale", options, default)

    @staticmethod
    def band_parameter(name, description, parent):
        """A band parameter defaulting to band 1 (optional, so scripts may leave it out)."""
        return QgsProcessingParameterBand(name, description, 1, parent, optional=True)

    # -- reading ---------------------------------------------------------------------------------
    def raster_source(self, parameters, name, context):
        """Return (path, RasterInfo) of a raster parameter, checked to be a GDAL file."""
        layer = self.parameterAsRasterLayer(parameters, name, context)
        if layer is None or not isinstance(layer, QgsRasterLayer) or not layer.isValid():
            raise QgsProcessingException(self.invalidRasterError(parameters, name))
        if layer.providerType() != "gdal":
            raise QgsProcessingException(
                self.tr("{}: the layer must be a raster file read by GDAL, not a '{}' layer").format(
                    name, layer.providerType()
                )
            )
        path = layer.source().split("|")[0]
        if not os.path.exists(path) and not path.startswith("/vsi"):
            raise QgsProcessingException(self.tr("{}: raster file not found: {}").format(name, path))
        return path, raster_info(path)

    def layer_paths(self, parameters, name, context):
        """File paths of the layers of a multiple-layers parameter (without ``|layername=`` suffixes)."""
        return [layer.source().split("|")[0] for layer in self.parameterAsLayerList(parameters, name, context)]

    def input_scale_of(self, parameters, name, context, feedback, path, band):
        """The scale chosen for ``path`` (``auto`` resolved, see :func:`resolve_raster_scale`), logged."""
        chosen = self.parameterAsEnumString(parameters, name, context)
        scale = resolve_raster_scale(path, band, chosen)
        if chosen == "auto":
            feedback.pushInfo(self.tr("Input scale of {}: {} (auto)").format(os.path.basename(path), scale))
        return scale

    def band_number(self, parameters, name, context, info):
        """Return a 1-based band parameter checked against the raster's band count."""
        band = self.parameterAsInt(parameters, name, context)
        if not 1 <= band <= info.bands:
            raise QgsProcessingException(
                self.tr("{}: band {} does not exist; {} has {} band(s)").format(
                    name, band, os.path.basename(info.path), info.bands
                )
            )
        return band
