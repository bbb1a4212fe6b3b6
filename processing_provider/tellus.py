"""Tellus algorithms: the common account and endpoint parameters, scene search, candidate pairs.

The algorithms that fetch data are in :mod:`.tellus_download`.
"""

import json
import os

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterAuthConfig,
    QgsProcessingParameterFeatureSource,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ..algorithms.readers import tellus
from .base import SarAlgorithm

WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")


class TellusAlgorithm(SarAlgorithm):
    """Common parameters of every Tellus algorithm (a contract: scripts depend on these names)."""

    AUTH_CONFIG = "AUTH_CONFIG"
    API_URL = "API_URL"
    TILE_URL = "TILE_URL"
    FILE_API_URL = "FILE_API_URL"

    def group(self):
        return self.tr("Tellus")

    def groupId(self):  # noqa: N802
        return "tellus"

    # No FlagNoThreading: the network runs in the Processing task's thread, so a slow or unreachable
    # server never freezes QGIS; the token is read from the auth database in prepareAlgorithm(), on the
    # main thread, where QGIS may ask for the master password.

    COMMON_HELP = (
        "\n\nAccess: <b>AUTH_CONFIG</b> (a QGIS authentication configuration whose password, or 'token' "
        "field, holds the Tellus API token; the one saved with <i>Plugins > SAR Change Toolkit > Tellus "
        "account</i> is pre-selected) or, when it is empty, the TELLUS_TOKEN environment variable, then the "
        "saved account. The network runs in the background: QGIS stays responsive and Cancel stops it. "
        "There is no plain token parameter: a parameter value is echoed by qgis_process and kept in the "
        "Processing history. Advanced: <b>API_URL</b>, <b>TILE_URL</b>, "
        "<b>FILE_API_URL</b> (or TELLUS_API_URL, TELLUS_TILE_URL, TELLUS_FILE_API_URL), HTTPS only. "
        "The token never appears in messages or outputs."
    )

    def add_common_parameters(self):
        from . import settings as plugin_settings

        saved = plugin_settings.get("tellus_authcfg")  # the account dialog's configuration, pre-selected
        self.addParameter(
            QgsProcessingParameterAuthConfig(
                self.AUTH_CONFIG, self.tr("Tellus authentication"), saved or None, optional=True
            )
        )
        self.add_text(self.API_URL, "Traveler API URL", optional=True, advanced=True)
        self.add_text(self.TILE_URL, "Tile URL template", optional=True, advanced=True)
        self.add_text(self.FILE_API_URL, "Legacy file API URL", optional=True, advanced=True)

    def prepareAlgorithm(self, parameters, context, feedback):  # noqa: N802
        """Read the token on the main thread (the auth database may prompt for the master password)."""
        try:
            self._token = self.token(parameters, context, feedback)
        except QgsProcessingException:
            self._token = None  # raised again, with its message, when the run starts
        return super().prepareAlgorithm(parameters, context, feedback)

    def token(self, parameters, context, feedback):
        """The Tellus token from AUTH_CONFIG, else TELLUS_TOKEN (read later), else the saved configuration."""
        from . import settings as plugin_settings

        if "TOKEN" in parameters:
            raise QgsProcessingException(
                self.tr(
                    "TOKEN is no longer a parameter (qgis_process echoes parameters and the history keeps "
                    "them): store the token with AUTH_CONFIG or set TELLUS_TOKEN"
                )
            )
        token = ""
        saved = plugin_settings.get("tellus_authcfg")  # saved by the Tellus account dialog
        # the value given (the dialog pre-selects the saved one); a script that leaves it out keeps the
        # order AUTH_CONFIG, TELLUS_TOKEN, saved account
        auth_id = parameters.get(self.AUTH_CONFIG) or ""
        auth_id = self.parameterAsString(parameters, self.AUTH_CONFIG, context) if auth_id else ""
        if auth_id and auth_id != saved:
            config = plugin_settings.load_auth_config(auth_id)
            if config is None:
                raise QgsProcessingException(self.tr("AUTH_CONFIG {} could not be loaded").format(auth_id))
            token = config.config("token") or config.config("password")
        elif auth_id or not os.environ.get("TELLUS_TOKEN"):
            config = plugin_settings.load_auth_config(saved)
            if config is not None:
                token = config.config("token") or config.config("password")
            elif saved:
                feedback.pushWarning(
                    self.tr(
                        "The Tellus token saved with the account dialog ({}) is no longer in the QGIS "
                        "authentication database; enter it again"
                    ).format(saved)
                )
        return token

    def client(self, parameters, context, feedback):
        from . import settings as plugin_settings

        token = getattr(self, "_token", None)
        if token is None:  # run without prepareAlgorithm (processAlgorithm called directly)
            token = self.token(parameters, context, feedback)
        try:
            settings = tellus.Settings.resolve(
                token=token,
                api_url=self.parameterAsString(parameters, self.API_URL, context),
                tile_url=self.parameterAsString(parameters, self.TILE_URL, context),
                file_api_url=self.parameterAsString(parameters, self.FILE_API_URL, context),
            )
        except tellus.TellusError as exc:
            raise QgsProcessingException(str(exc)) from None
        if not settings.token:
            feedback.pushWarning(self.tr("No Tellus token given (AUTH_CONFIG or TELLUS_TOKEN)"))
        client = tellus.Client(settings, is_cancelled=feedback.isCanceled)
        client.session.proxies.update(plugin_settings.qgis_proxies())  # QGIS network settings first
        return client

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        try:
            return super().processAlgorithm(parameters, context, feedback)
        except tellus.TellusError as exc:
            raise QgsProcessingException(f"{self.displayName()}: {exc}") from None


def _field_type(values):
    if all(isinstance(v, bool) for v in values):
        return QVariant.Bool
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return QVariant.LongLong
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return QVariant.Double
    return QVariant.String


def _value(value, kind):
    if value is None:
        return None
    if kind == QVariant.String and not isinstance(value, str):
        return json.dumps(value)
    return value


class TellusSearchAlgorithm(TellusAlgorithm):
    EXTENT = "EXTENT"
    START_DATE = "START_DATE"
    END_DATE = "END_DATE"
    DATASET = "DATASET"
    FILTER_NAMES = {
        "ORBIT_DIRECTION": "orbit_direction",
        "RELATIVE_ORBIT": "relative_orbit",
        "FRAME": "frame",
        "MODE": "mode",
        "POLARISATIONS": "polarisations",
        "BEAM": "beam",
    }
    OUTPUT = "OUTPUT"

    def name(self):
        return "tellussearch"

    def displayName(self):  # noqa: N802
        return self.tr("Search PALSAR-2 scenes (Tellus)")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Searches the Tellus Satellite Data Traveler for scenes over an extent and a date range, and "
            "returns their footprints (EPSG:4326) with every scene property as an attribute.\n\n"
            "<b>EXTENT</b> (any CRS), <b>START_DATE</b>, <b>END_DATE</b> (YYYY-MM-DD), <b>DATASET</b> (default "
            "PALSAR-2 L1.1), optional filters <b>ORBIT_DIRECTION</b> (ascending/descending), "
            "<b>RELATIVE_ORBIT</b>, <b>FRAME</b>, <b>MODE</b>, <b>POLARISATIONS</b> (e.g. HH+HV), <b>BEAM</b>. "
            "All result pages are fetched."
        ) + self.tr(self.COMMON_HELP)

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_extent(self.EXTENT, "Extent")
        self.add_text(self.START_DATE, "Start date (YYYY-MM-DD)", optional=True)
        self.add_text(self.END_DATE, "End date (YYYY-MM-DD)", optional=True)
        self.add_text(self.DATASET, "Dataset id", tellus.PALSAR2_L11_DATASET)
        for name in self.FILTER_NAMES:
            self.add_text(name, name.replace("_", " ").capitalize(), optional=True)
        self.add_common_parameters()
        self.add_polygons_output(self.OUTPUT, "Scenes")

    def compute(self, parameters, context, feedback):
        client = self.client(parameters, context, feedback)
        extent = self.parameterAsExtent(parameters, self.EXTENT, context, WGS84)
        filters = {}
        for name, key in self.FILTER_NAMES.items():
            value = self.parameterAsString(parameters, name, context).strip()
            filters[key] = int(value) if key in ("relative_orbit", "frame") and value.isdigit() else value
        query = tellus.build_query(
            self.parameterAsString(parameters, self.START_DATE, context).strip(),
            self.parameterAsString(parameters, self.END_DATE, context).strip(),
            **filters,
        )
        scenes = list(
            client.search(
                datasets=[self.parameterAsString(parameters, self.DATASET, context)],
                intersects=tellus.bbox_polygon(
                    extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()
                ),
                query=query,
            )
        )
        feedback.pushInfo(self.tr("{} scenes").format(len(scenes)))
        keys = sorted({k for s in scenes for k in (s.get("properties") or {})})
        kinds = {
            k: _field_type([s["properties"][k] for s in scenes if s["properties"].get(k) is not None]) for k in keys
        }
        fields = QgsFields()
        fields.append(QgsField("scene_id", QVariant.String))
        for key in keys:
            fields.append(QgsField(key, kinds[key]))
        sink, dest_id = self.parameterAsSink(parameters, self.OUTPUT, context, fields, QgsWkbTypes.MultiPolygon, WGS84)
        for item in scenes:
            feature = QgsFeature(fields)
            geometry = item.get("geometry")
            wkt = _geojson_to_wkt(geometry) if geometry else ""
            if wkt:
                g = QgsGeometry.fromWkt(wkt)
                g.convertToMultiType()
                feature.setGeometry(g)
            elif geometry:
                feedback.pushWarning(self.tr("Scene {} has an unreadable footprint").format(item.get("id")))
            props = item.get("properties") or {}
            feature.setAttributes([str(item.get("id", ""))] + [_value(props.get(k), kinds[k]) for k in keys])
            sink.addFeature(feature, QgsFeatureSink.FastInsert)
        del sink
        return {self.OUTPUT: dest_id}


def _geojson_to_wkt(geometry):
    from osgeo import ogr

    try:
        geometry = ogr.CreateGeometryFromJson(json.dumps(geometry))
    except (RuntimeError, TypeError, ValueError):
        return ""
    return geometry.ExportToWkt() if geometry is not None else ""


class TellusPairsAlgorithm(TellusAlgorithm):
    INPUT = "INPUT"
    MAX_DAYS = "MAX_DAYS"
    EXTENT = "EXTENT"
    OUTPUT = "OUTPUT"

    def name(self):
        return "telluspairs"

    def displayName(self):  # noqa: N802
        return self.tr("Find interferometric / change pairs (Tellus)")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "From scene footprints (the output of tellussearch), lists candidate pairs for interferometry "
            "or change detection: same relative orbit (path), frame, beam, mode, orbit direction and "
            "polarisations, at most <b>MAX_DAYS</b> apart, with overlapping footprints (overlapping "
            "<b>EXTENT</b> too, when given). <b>OUTPUT</b>: one polygon per pair (the footprints' "
            "intersection) with scene_a, scene_b, date_a, date_b and baseline_days. Works offline."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.INPUT, self.tr("Scene footprints"), [QgsProcessing.TypeVectorPolygon]
            )
        )
        self.add_number(self.MAX_DAYS, "Maximum days apart", 100.0, 0.0)
        self.add_extent(self.EXTENT, "Must overlap extent", optional=True)
        self.add_polygons_output(self.OUTPUT, "Pairs")

    def compute(self, parameters, context, feedback):
        source = self.parameterAsSource(parameters, self.INPUT, context)
        names = source.fields().names()
        scenes, geometries = [], {}
        for feature in source.getFeatures():
            props = dict(zip(names, feature.attributes()))
            scene_id = str(props.get("scene_id") or props.get("tellus:name") or feature.id())
            scenes.append({"id": scene_id, "properties": props})
            geometries[scene_id] = feature.geometry()
        extent = None
        if parameters.get(self.EXTENT):
            extent = QgsGeometry.fromRect(self.parameterAsExtent(parameters, self.EXTENT, context, source.sourceCrs()))

        def overlaps(a, b):
            both = geometries[a["id"]].intersection(geometries[b["id"]])
            return not both.isEmpty() and both.area() > 0 and (extent is None or both.intersects(extent))

        pairs = tellus.find_pairs(scenes, self.parameterAsDouble(parameters, self.MAX_DAYS, context), overlaps)
        fields = QgsFields()
        for name, kind in (
            ("scene_a", QVariant.String),
            ("scene_b", QVariant.String),
            ("date_a", QVariant.String),
            ("date_b", QVariant.String),
            ("baseline_days", QVariant.Double),
        ):
            fields.append(QgsField(name, kind))
        sink, dest_id = self.parameterAsSink(
            parameters, self.OUTPUT, context, fields, QgsWkbTypes.MultiPolygon, source.sourceCrs()
        )
        for pair in pairs:
            a, b = pair["a"], pair["b"]
            geometry = geometries[a["id"]].intersection(geometries[b["id"]])
            geometry.convertToMultiType()
            feature = QgsFeature(fields)
            feature.setGeometry(geometry)
            feature.setAttributes(
                [
                    a["id"],
                    b["id"],
                    str(a["properties"]["start_datetime"]),
                    str(b["properties"]["start_datetime"]),
                    float(pair["baseline_days"]),
                ]
            )
            sink.addFeature(feature, QgsFeatureSink.FastInsert)
        del sink
        feedback.pushInfo(self.tr("{} pairs").format(len(pairs)))
        return {self.OUTPUT: dest_id}
