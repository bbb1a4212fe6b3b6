"""Base class shared by every ``sarchange`` algorithm: errors, progress, raster inputs."""

import contextlib
import os

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransformContext,
    QgsDistanceArea,
    QgsFeature,
    QgsFeatureSink,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterBand,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterRasterDestination,
    QgsProcessingUtils,
    QgsProperty,
    QgsRasterLayer,
    QgsUnitTypes,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..algorithms.common.cancel import Cancelled, cancel_scope, progress_scope, report, wait_for_abandoned
from ..algorithms.common.deps import MissingDependencyError
from ..algorithms.io.cluster import current_scheduler, scheduler_scope
from ..algorithms.io.outputs import (
    check_writable,
    output_transaction,
    place_file,
    remove_stale_temporaries,
    temporary_path,
)
from ..algorithms.io.raster import raster_info, resolve_raster_scale
from ..algorithms.io.vectorize import polygonize
from ..algorithms.sar.convert import INPUT_SCALES
from . import settings
from .provider import group_icon


def tr(text):
    """Translate a message of the ``SarChange`` context."""
    return QCoreApplication.translate("SarChange", text)


def _stamp(path):
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns)


#: Marks an output folder that the run created (removed on failure when empty).
_FOLDER = "folder"
#: Vector formats of one file each, written under a temporary name and renamed into place on success
#: (a shapefile's sidecars are written in place, like any format not listed).
ATOMIC_VECTOR_EXTENSIONS = (".gpkg", ".geojson", ".geojsonl", ".fgb", ".sqlite", ".kml")


def _remove_new_files(files):
    """Remove the non-raster outputs that a failed run created or changed (a half-written GeoPackage),
    then the output folders it created, when they are empty."""
    for path, before in files.items():
        if before != _FOLDER and os.path.exists(path) and _stamp(path) != before:
            try:
                os.remove(path)
            except OSError:
                pass
    for folder in sorted((p for p, v in files.items() if v == _FOLDER), key=len, reverse=True):
        try:
            os.rmdir(folder)  # only when empty
        except OSError:
            pass


def _in_m2(measure, area):
    """An area measured by ``measure`` (QgsDistanceArea), in m²."""
    return area * QgsUnitTypes.fromUnitToUnitFactor(measure.areaUnits(), QgsUnitTypes.AreaSquareMeters)


def _centre_corner(info, dx, dy):
    """Map coordinates of the corner ``(dx, dy)`` pixels from the top-left corner of the centre pixel."""
    gt = info.geotransform
    x, y = info.cols // 2 + dx, info.rows // 2 + dy
    return QgsPointXY(gt[0] + gt[1] * x + gt[2] * y, gt[3] + gt[4] * x + gt[5] * y)


def _message(exc):
    """An error's text for the user: an OSError says what and where, not its errno tuple."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return str(exc)


@contextlib.contextmanager
def _signals_cancel(feedback):
    """In ``qgis_process``, make SIGINT (Ctrl+C) and SIGTERM cancel the run like the toolbox's Cancel
    button: the outputs are rolled back and the process exits with an error. qgis_process alone
    only notices Ctrl+C while an algorithm reports progress, and SIGTERM not at all."""
    import signal
    import threading

    if (
        feedback is None
        or QgsApplication.platform() != "qgis_process"
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    previous = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[number] = signal.signal(number, lambda *_: feedback.cancel())
        except (ValueError, OSError):  # not the main interpreter
            pass
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


class SarAlgorithm(QgsProcessingAlgorithm):
    """Base of our algorithms.

    Subclasses declare ``name``, ``displayName``, ``group``, ``groupId``,
    ``shortHelpString``, ``initAlgorithm`` and implement :meth:`compute` instead of
    ``processAlgorithm``: errors from the science core (``ValueError``, a
    missing dependency, a cancel) become ``QgsProcessingException`` with the
    core's message, and outputs are never left half-written (the core writes
    through temporary files).
    """

    def __init_subclass__(cls, **kwargs):
        """A subclass's help names each parameter by its label as the form shows it, then its name."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("shortHelpString")
        if own is not None:

            def shortHelpString(self, _own=own):  # noqa: N802
                return self.help_with_labels(_own(self))

            cls.shortHelpString = shortHelpString

    def help_with_labels(self, text):
        """``<b>NAME</b>`` in a help text as ``<b>Label</b> (NAME)``, for every parameter of the form."""
        for definition in self.parameterDefinitions():
            name = definition.name()
            text = text.replace(f"<b>{name}</b>", f"<b>{definition.description()}</b> ({name})")
        return text

    def createInstance(self):  # noqa: N802
        return type(self)()

    def tr(self, text):
        return QCoreApplication.translate("SarChange", text)

    def icon(self):
        """The icon of the algorithm's group (``ui/icons/<groupId>.svg``), else the plugin's."""
        return QIcon(group_icon(self.groupId()))

    def svgIconPath(self):  # noqa: N802
        return group_icon(self.groupId())

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        files, sinks = self._check_destinations(parameters, context)
        self._sinks = sinks
        parameters = self._redirect_sinks(parameters, sinks)
        try:
            with (
                output_transaction(),
                cancel_scope(feedback.isCanceled if feedback is not None else None),
                progress_scope((lambda fraction: feedback.setProgress(100.0 * fraction)) if feedback else None),
                _signals_cancel(feedback),
                scheduler_scope(settings.get("dask_scheduler")),
            ):
                address = current_scheduler()
                if address is not None and feedback is not None:
                    feedback.pushInfo(self.tr("Blockwise steps run on the dask scheduler at {}.").format(address))
                results = self.compute(parameters, context, feedback)
                if feedback is not None and feedback.isCanceled():  # a cancel is never a success
                    raise Cancelled("cancelled by the user")
                results = self._place_sinks(results, context, sinks)
            if feedback is not None:
                feedback.setProgress(100)
            return results
        except BaseException as exc:
            _remove_new_files(files)
            if isinstance(exc, QgsProcessingException):
                raise
            if isinstance(exc, MissingDependencyError):
                raise QgsProcessingException(str(exc)) from exc
            if isinstance(exc, Cancelled):
                if QgsApplication.platform() == "qgis_process":
                    # the process ends next: let the work the cancel left running finish first
                    wait_for_abandoned()
                raise QgsProcessingException(self.tr("Cancelled by the user; no output was written.")) from exc
            if isinstance(exc, (ValueError, OSError)):
                raise QgsProcessingException(f"{self.displayName()}: {_message(exc)}") from exc
            raise

    def _check_destinations(self, parameters, context):
        """Check every file output can be written before any work; return ``{path: (size, mtime)}``
        of the vector and other non-raster file outputs (None when absent), to remove on failure."""
        files, folders, sinks = {}, [], {}
        for definition in self.destinationParameterDefinitions():
            name = definition.name()
            if not parameters.get(name) and definition.flags() & definition.FlagOptional:
                continue
            if isinstance(definition, QgsProcessingParameterFolderDestination):
                continue  # created by the algorithm, checked there
            try:
                path = self.parameterAsOutputLayer(parameters, name, context)
            except Exception:  # noqa: BLE001 - not a file destination
                continue
            path = (path or "").split("|")[0]
            if not path or path.startswith(("memory:", "postgres:", "ogr:", "/vsimem/")) or "://" in path:
                continue
            try:
                check_writable(path, name)
            except ValueError as exc:
                raise QgsProcessingException(f"{self.displayName()}: {exc}") from None
            if not isinstance(definition, QgsProcessingParameterRasterDestination):
                files[path] = _stamp(path)
            extension = os.path.splitext(path)[1].lower()
            if isinstance(definition, QgsProcessingParameterFeatureSink) and extension in ATOMIC_VECTOR_EXTENSIONS:
                remove_stale_temporaries(path)
                sinks[name] = (temporary_path(path, extension), os.path.abspath(path))
                files[sinks[name][0]] = None  # removed on failure
                files[sinks[name][0] + "-journal"] = None
            folders.append((os.path.dirname(os.path.abspath(path)), name))
        try:
            for folder, name in folders:  # only once every destination is known to be writable
                self._make_folder(folder, name, files)
        except QgsProcessingException:
            _remove_new_files(files)
            raise
        return files, sinks

    def _redirect_sinks(self, parameters, sinks):
        """``parameters`` with each file sink of ``sinks`` ({name: (temporary, final)}) aimed at its
        temporary file, keeping the layer name the final file would have given.

        Processing would register the temporary file to load on completion: the redirected sink has
        no destination project, and :meth:`_place_sinks` registers the final file instead."""
        self._sink_loads, self._sink_styles = {}, {}
        if not sinks:
            return parameters
        redirected = dict(parameters)
        for name, (temporary, final) in sinks.items():
            value = parameters[name]
            if isinstance(value, QgsProcessingOutputLayerDefinition):
                definition = QgsProcessingOutputLayerDefinition(value)
                title = value.destinationName or self.parameterDefinition(name).description()
                self._sink_loads[name] = (value.destinationProject, title)
            else:
                definition = QgsProcessingOutputLayerDefinition(temporary)
            definition.destinationProject = None
            definition.sink = QgsProperty.fromValue(temporary)
            options = dict(definition.createOptions or {})
            options.setdefault("layerName", os.path.splitext(os.path.basename(final))[0])
            definition.createOptions = options
            redirected[name] = definition
        return redirected

    def _place_sinks(self, results, context, sinks):
        """Rename each finished temporary sink to its final name (inside the run's output transaction)
        and make the results and the layers to load name the final file."""
        if not sinks:
            return results
        swaps = []
        for temporary, final in sinks.values():
            if os.path.exists(temporary):
                place_file(temporary, final)
            swaps.append((temporary, final))

        def swap(value):
            if not isinstance(value, str):
                return value
            for temporary, final in swaps:
                if value.startswith(temporary):
                    rest = value[len(temporary) :]
                    default = "|layername=" + os.path.splitext(os.path.basename(final))[0]
                    return final + ("" if rest == default else rest)
            return value

        results = {key: swap(value) for key, value in results.items()}
        for name, (project, title) in self._sink_loads.items():
            # what parameterAsSink would have registered, under the final name (see _redirect_sinks)
            dest_id = results.get(name)
            if dest_id and project is not None:
                details = QgsProcessingContext.LayerDetails(title, project, name, QgsProcessingUtils.LayerHint.Vector)
                style = self._sink_styles.get(name)
                if style:
                    from ..ui.styles import StylePostProcessor

                    details.setPostProcessor(StylePostProcessor.create(*style))
                context.addLayerToLoadOnCompletion(dest_id, details)
        return results

    def _make_folder(self, folder, name, files):
        """Create a missing output folder (OGR does not); it is removed again, when empty, on failure."""
        missing = []
        while folder and not os.path.exists(folder):
            missing.append(folder)
            folder = os.path.dirname(folder)
        try:
            if missing:
                os.makedirs(missing[0], exist_ok=True)
        except OSError as exc:
            raise QgsProcessingException(f"{self.displayName()}: {name}: {_message(exc)}") from None
        for made in missing:
            files[made] = _FOLDER

    def compute(self, parameters, context, feedback):
        """Do the work; return the results dict. Subclasses override this."""
        raise NotImplementedError

    def error(self, message, *values):
        """A QgsProcessingException with a translated ``message`` formatted with ``values`` ({} fields)."""
        return QgsProcessingException(f"{self.displayName()}: " + self.tr(message).format(*values))

    # -- helpers -----------------------------------------------------------
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

    def enum_parameter(self, name, description, options, default):
        """A choice among ``options`` passed and returned as strings (``METHOD=lee`` in qgis_process)."""
        return QgsProcessingParameterEnum(
            name, self.tr(description), options=list(options), defaultValue=default, usesStaticStrings=True
        )

    def input_scale_parameter(self, name="INPUT_SCALE", options=INPUT_SCALES, default="auto"):
        """The scale of the input values: ``auto`` (default) or one of :data:`.convert.TO_POWER`."""
        return self.enum_parameter(name, "Input scale", options, default)

    def input_scale_of(self, parameters, name, context, feedback, path, band):
        """The scale chosen for ``path`` (``auto`` resolved, see :func:`resolve_raster_scale`), logged."""
        chosen = self.parameterAsEnumString(parameters, name, context)
        scale = resolve_raster_scale(path, band, chosen)
        if chosen == "auto":
            feedback.pushInfo(self.tr("Input scale of {}: {} (auto)").format(os.path.basename(path), scale))
        return scale

    @staticmethod
    def band_parameter(name, description, parent):
        """A band parameter defaulting to band 1 (optional, so scripts may leave it out)."""
        return QgsProcessingParameterBand(name, description, 1, parent, optional=True)

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

    @staticmethod
    def distance_area(info):
        """A ``QgsDistanceArea`` measuring on the ellipsoid of the raster's CRS (m, m²), or None
        for a raster without CRS (its units are unknown)."""
        if not info.crs_wkt:
            return None
        crs = QgsCoordinateReferenceSystem.fromWkt(info.crs_wkt)
        measure = QgsDistanceArea()
        measure.setSourceCrs(crs, QgsCoordinateTransformContext())
        if not measure.setEllipsoid(crs.ellipsoidAcronym() or "EPSG:7030"):
            measure.setEllipsoid("EPSG:7030")  # WGS 84
        return measure

    def pixel_area_m2(self, info, feedback=None):
        """Ground area of one pixel (m², on the CRS's ellipsoid) at the raster's centre, whatever the
        CRS (degrees included); a raster without CRS gives its map units squared, with a warning."""
        measure = self.distance_area(info)
        if measure is None:
            if feedback is not None:
                feedback.pushWarning(
                    self.tr("{} has no CRS: areas are in its own units squared, not m²").format(
                        os.path.basename(info.path)
                    )
                )
            return abs(info.pixel_area)
        corners = [_centre_corner(info, dx, dy) for dx, dy in ((0, 0), (1, 0), (1, 1), (0, 1), (0, 0))]
        return _in_m2(measure, measure.measureArea(QgsGeometry.fromPolygonXY([corners])))

    def pixel_spacing_m(self, info):
        """Ground length (m, on the CRS's ellipsoid) of one pixel step along columns and along rows
        at the raster's centre, or None for a raster without CRS."""
        measure = self.distance_area(info)
        if measure is None:
            return None
        centre, metres = _centre_corner(info, 0, 0), QgsUnitTypes.DistanceMeters
        return tuple(
            measure.convertLengthMeasurement(measure.measureLine(centre, _centre_corner(info, dx, dy)), metres)
            for dx, dy in ((1, 0), (0, 1))
        )

    def write_regions(self, parameters, name, context, feedback, fields, labels, info, attributes, area_field=None):
        """Polygonise ``labels`` (> 0) of a raster on the grid of ``info`` into the sink ``name``.

        ``attributes(label)`` returns the feature's attribute list. ``area_field``, when given, is
        set to the polygon's ellipsoidal area in m² (see :meth:`pixel_area_m2`). Closes the sink
        before returning (a lingering reference would leave a GeoPackage unreadable) and returns
        its id.
        """
        measure = self.distance_area(info) if area_field else None
        area_index = fields.indexOf(area_field) if area_field else -1
        crs = QgsCoordinateReferenceSystem.fromWkt(info.crs_wkt) if info.crs_wkt else QgsCoordinateReferenceSystem()
        sink, dest_id = self.parameterAsSink(parameters, name, context, fields, QgsWkbTypes.MultiPolygon, crs)
        count = max(int(labels.max()), 1) if labels.size else 1
        for done, (label, wkb) in enumerate(polygonize(labels, info.geotransform, info.crs_wkt)):
            if feedback.isCanceled():
                raise Cancelled("cancelled by the user")
            if done % 256 == 0:
                report(done / count)
            geometry = QgsGeometry()
            geometry.fromWkb(wkb)
            geometry.convertToMultiType()
            feature = QgsFeature(fields)
            feature.setGeometry(geometry)
            feature.setAttributes(attributes(label))
            if area_index >= 0:
                area = geometry.area() if measure is None else _in_m2(measure, measure.measureArea(geometry))
                feature.setAttribute(area_index, float(area))
            sink.addFeature(feature, QgsFeatureSink.FastInsert)
        del sink
        return dest_id

    def style_output(self, context, dest_id, style, **options):
        """Style an output when Processing loads it (see :mod:`..ui.styles`): ``change_polygons``,
        ``rgb``, ``coherence``, ``db``, ``phase``, ``dates`` (``codes``, ``labels``) or
        ``change_count`` (``dates``)."""
        for name, (temporary, _) in getattr(self, "_sinks", {}).items():
            if dest_id and dest_id.startswith(temporary):  # registered once the file has its final name
                self._sink_styles[name] = (style, options)
                return
        if dest_id and context.willLoadLayerOnCompletion(dest_id):
            from ..ui.styles import StylePostProcessor

            context.layerToLoadOnCompletionDetails(dest_id).setPostProcessor(StylePostProcessor.create(style, options))

    @staticmethod
    def progress_fn(feedback, start=0.0, end=100.0):
        """A callable taking a fraction 0-1 and setting ``feedback`` progress between ``start`` and ``end`` %."""
        return lambda fraction: feedback.setProgress(start + (end - start) * fraction)

    @staticmethod
    def cancel_fn(feedback):
        """A callable telling whether the user cancelled."""
        return feedback.isCanceled
