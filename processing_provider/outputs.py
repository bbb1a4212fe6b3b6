"""Outputs of the ``sarchange`` algorithms: checked before any work, all or nothing, styled.

Every file output is checked writable before the run starts; vector outputs are written under a
temporary name and renamed on success; a failed or cancelled run removes what it created. Change
regions become polygons with their ground area in m², measured on the CRS's ellipsoid.
"""

import contextlib
import os

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransformContext,
    QgsDistanceArea,
    QgsFeature,
    QgsFeatureSink,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterRasterDestination,
    QgsProcessingUtils,
    QgsProperty,
    QgsUnitTypes,
    QgsWkbTypes,
)

from ..algorithms.common.cancel import Cancelled, report
from ..algorithms.io.outputs import check_writable, place_file, remove_stale_temporaries, temporary_path
from ..algorithms.io.vectorize import polygonize, polygonize_file
from .styles import StylePostProcessor


def message(exc):
    """An error's text for the user: an OSError says what and where, not its errno tuple."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return str(exc)


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


def remove_new_files(files):
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


class OutputHelpers:
    """Mixin of :class:`.base.SarAlgorithm`: destinations checked, sinks placed, regions written."""

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
            remove_new_files(files)
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
            raise QgsProcessingException(f"{self.displayName()}: {name}: {message(exc)}") from None
        for made in missing:
            files[made] = _FOLDER

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

    def write_regions(
        self, parameters, name, context, feedback, fields, labels, info, attributes, area_field=None, count=None
    ):
        """Polygonise ``labels`` (> 0) of a raster on the grid of ``info`` into the sink ``name``.

        ``labels`` is an array, or the path of an int32 label raster (traced a line at a time) with
        ``count`` regions.

        ``attributes(label)`` returns the feature's attribute list. ``area_field``, when given, is
        set to the polygon's ellipsoidal area in m² (see :meth:`pixel_area_m2`). Closes the sink
        before returning (a lingering reference would leave a GeoPackage unreadable) and returns
        its id.
        """
        measure = self.distance_area(info) if area_field else None
        area_index = fields.indexOf(area_field) if area_field else -1
        crs = QgsCoordinateReferenceSystem.fromWkt(info.crs_wkt) if info.crs_wkt else QgsCoordinateReferenceSystem()
        sink, dest_id = self.parameterAsSink(parameters, name, context, fields, QgsWkbTypes.MultiPolygon, crs)
        if isinstance(labels, str):
            count, regions = max(count or 1, 1), polygonize_file(labels)
        else:
            count = max(int(labels.max()), 1) if labels.size else 1
            regions = polygonize(labels, info.geotransform, info.crs_wkt)
        with contextlib.closing(regions):  # a cancel closes the tracing now: its temporary file goes
            for done, (label, wkb) in enumerate(regions):
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
        """Style an output when Processing loads it (see :mod:`.styles`): ``change_polygons``,
        ``rgb``, ``coherence``, ``db``, ``phase``, ``dates`` (``codes``, ``labels``) or
        ``change_count`` (``dates``)."""
        for name, (temporary, _) in getattr(self, "_sinks", {}).items():
            if dest_id and dest_id.startswith(temporary):  # registered once the file has its final name
                self._sink_styles[name] = (style, options)
                return
        if dest_id and context.willLoadLayerOnCompletion(dest_id):
            context.layerToLoadOnCompletionDetails(dest_id).setPostProcessor(StylePostProcessor.create(style, options))
