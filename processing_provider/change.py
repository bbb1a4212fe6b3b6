"""``sarchange:changedetection``: two dates to change polygons with statistics."""

import math
import os

from qgis.core import (
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)
from qgis.PyQt.QtCore import QVariant

from ..algorithms import change, change_report
from ..algorithms.align import aligned
from ..algorithms.despeckle import METHODS as DESPECKLE_METHODS
from ..algorithms.raster_io import Cancelled, RasterWriter, read_band
from .base import SarAlgorithm

#: Class raster colours: no change (grey), loss (red), gain (blue), as the polygons' legend.
CLASS_COLOURS = [(200, 200, 200), (215, 25, 28), (43, 131, 186)]


class ChangeDetectionAlgorithm(SarAlgorithm):
    BEFORE = "BEFORE"
    AFTER = "AFTER"
    BAND_BEFORE = "BAND_BEFORE"
    BAND_AFTER = "BAND_AFTER"
    METHOD = "METHOD"
    DESPECKLE = "DESPECKLE"
    WINDOW = "WINDOW"
    LOOKS = "LOOKS"
    STATISTIC = "STATISTIC"
    THRESHOLD_LOSS = "THRESHOLD_LOSS"
    THRESHOLD_GAIN = "THRESHOLD_GAIN"
    CLASSES = "CLASSES"
    ALPHA = "ALPHA"
    UNIT = "UNIT"
    SCALE = "SCALE"
    SIGMA = "SIGMA"
    MIN_SIZE = "MIN_SIZE"
    SEED = "SEED"
    MIN_AREA = "MIN_AREA"
    OUTPUT = "OUTPUT"
    OUTPUT_RASTER = "OUTPUT_RASTER"
    OUTPUT_HTML = "OUTPUT_HTML"

    def name(self):
        return "changedetection"

    def displayName(self):  # noqa: N802
        return self.tr("Change detection (two dates)")

    def group(self):
        return self.tr("Change detection")

    def groupId(self):  # noqa: N802
        return "changedetection"

    def tags(self):
        return self.tr("change,loss,gain,log ratio,likelihood ratio,superpixel,felzenszwalb,kmeans,sar").split(",")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Finds what changed between two SAR intensity images and returns polygons of loss and gain.\n\n"
            "<b>BEFORE</b>, <b>AFTER</b>: linear power (not dB); AFTER is resampled onto the grid of BEFORE. "
            "BAND_BEFORE, BAND_AFTER default 1.\n"
            "<b>METHOD</b>:\n"
            "<i>likelihood_ratio</i> (default): the test of equal mean for gamma intensities with LOOKS looks; "
            "the ratio after/before follows F(2m, 2m) without change. Per <b>UNIT</b> <i>superpixel</i> "
            "(default; segments of the sum of both dates, looks growing with segment size and corrected for "
            "speckle correlation estimated on homogeneous blocks) or <i>pixel</i>. Change is declared at "
            "false-alarm rate <b>ALPHA</b> (default 0.01); loss or gain by the sign of the ratio.\n"
            "<i>threshold</i>: the pixel <b>STATISTIC</b> (<i>log_ratio</i> in dB, or <i>difference</i> in input "
            "units) against <b>THRESHOLD_LOSS</b> (default -3) and <b>THRESHOLD_GAIN</b> (default +3).\n"
            "<i>superpixel_kmeans</i>: Felzenszwalb segments of both dates, k-means (<b>CLASSES</b>, default 3) "
            "on the segments' log-ratios; the lowest centre is loss, the highest gain.\n"
            "<b>DESPECKLE</b>: none or a despeckle method (window WINDOW) run first; the likelihood-ratio test "
            "itself always uses the original intensities.\n"
            "<b>SCALE</b>, <b>SIGMA</b>, <b>MIN_SIZE</b>: Felzenszwalb parameters on features scaled to 0-1.\n"
            "<b>MIN_AREA</b>: regions smaller than this (map units squared) are dropped.\n"
            "<b>OUTPUT</b>: one valid polygon per 8-connected region, CRS of BEFORE, with change (loss/gain), "
            "mean_before_db, mean_after_db, change_db, area_m2 (map units squared), pixels, p_value (the "
            "region's own likelihood-ratio test) and method.\n"
            "<b>OUTPUT_RASTER</b> (optional): Byte classes 0 no change, 1 loss, 2 gain, 255 nodata.\n"
            "<b>OUTPUT_HTML</b> (optional): a report with the histogram of the change statistic, the "
            "threshold or test level, and counts and areas per class.\n"
            "Reference: Conradsen et al., IEEE TGRS 41(1), 2003; Felzenszwalb & Huttenlocher, IJCV 2004."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        double, integer = QgsProcessingParameterNumber.Double, QgsProcessingParameterNumber.Integer

        self.addParameter(QgsProcessingParameterRasterLayer(self.BEFORE, self.tr("Before (linear power)")))
        self.addParameter(self.band_parameter(self.BAND_BEFORE, self.tr("Band of before"), self.BEFORE))
        self.addParameter(QgsProcessingParameterRasterLayer(self.AFTER, self.tr("After (linear power)")))
        self.addParameter(self.band_parameter(self.BAND_AFTER, self.tr("Band of after"), self.AFTER))
        self.addParameter(self.enum_parameter(self.METHOD, "Method", change.METHODS, "likelihood_ratio"))
        self.addParameter(
            self.enum_parameter(self.DESPECKLE, "Despeckle first", ("none",) + DESPECKLE_METHODS, "refined_lee")
        )
        self.addParameter(
            QgsProcessingParameterNumber(self.LOOKS, self.tr("Number of looks"), double, 1.0, False, 0.01)
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.ALPHA, self.tr("False-alarm rate (likelihood ratio)"), double, 0.01, False, 0.0, 1.0
            )
        )
        self.addParameter(self.enum_parameter(self.UNIT, "Test unit (likelihood ratio)", change.UNITS, "superpixel"))
        self.addParameter(self.enum_parameter(self.STATISTIC, "Statistic (threshold)", change.STATISTICS, "log_ratio"))
        self.addParameter(
            QgsProcessingParameterNumber(
                self.THRESHOLD_LOSS, self.tr("Loss threshold (dB for log ratio)"), double, -3.0
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(self.THRESHOLD_GAIN, self.tr("Gain threshold (dB for log ratio)"), double, 3.0)
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.CLASSES, self.tr("Classes (superpixel k-means)"), integer, 3, False, 2, 20
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(self.MIN_AREA, self.tr("Minimum area (map units squared)"), double, 0.0)
        )
        advanced = [
            QgsProcessingParameterNumber(self.WINDOW, self.tr("Despeckle window (pixels)"), integer, 7, False, 3, 51),
            QgsProcessingParameterNumber(self.SCALE, self.tr("Superpixel scale"), double, 1.0, False, 1e-6),
            QgsProcessingParameterNumber(
                self.SIGMA, self.tr("Superpixel smoothing sigma (pixels)"), double, 0.8, False, 0.0
            ),
            QgsProcessingParameterNumber(
                self.MIN_SIZE, self.tr("Superpixel minimum size (pixels)"), integer, 20, False, 1
            ),
            QgsProcessingParameterNumber(self.SEED, self.tr("Random seed (k-means)"), integer, 0, False, 0),
        ]
        for parameter in advanced:
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(parameter)
        self.addParameter(
            QgsProcessingParameterFeatureSink(self.OUTPUT, self.tr("Change polygons"), QgsProcessing.TypeVectorPolygon)
        )
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                self.OUTPUT_RASTER, self.tr("Change classes"), optional=True, createByDefault=False
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.OUTPUT_HTML,
                self.tr("Change report"),
                self.tr("HTML files (*.html)"),
                optional=True,
                createByDefault=False,
            )
        )

    def checkParameterValues(self, parameters, context):  # noqa: N802
        min_area = self.parameterAsDouble(parameters, self.MIN_AREA, context)
        if min_area < 0:
            return False, self.tr("MIN_AREA must be >= 0, got {}").format(min_area)
        alpha = self.parameterAsDouble(parameters, self.ALPHA, context)
        if not 0 < alpha < 1:
            return False, self.tr("ALPHA must be between 0 and 1 (exclusive), got {}").format(alpha)
        return super().checkParameterValues(parameters, context)

    def compute(self, parameters, context, feedback):
        before_path, info = self.raster_source(parameters, self.BEFORE, context)
        after_path, after_info = self.raster_source(parameters, self.AFTER, context)
        band_before = self.band_number(parameters, self.BAND_BEFORE, context, info)
        band_after = self.band_number(parameters, self.BAND_AFTER, context, after_info)
        method = self.parameterAsEnumString(parameters, self.METHOD, context)
        looks = self.parameterAsDouble(parameters, self.LOOKS, context)
        min_area = self.parameterAsDouble(parameters, self.MIN_AREA, context)
        if min_area < 0:
            raise self.error("MIN_AREA must be >= 0, got MIN_AREA={}", min_area)
        before = read_band(before_path, band_before)
        with aligned(after_path, info) as path:
            after = read_band(path, band_after)
        feedback.setProgress(10)
        if feedback.isCanceled():
            raise Cancelled("cancelled by the user")
        result = change.detect_change(
            before,
            after,
            method,
            statistic=self.parameterAsEnumString(parameters, self.STATISTIC, context),
            loss_threshold=self.parameterAsDouble(parameters, self.THRESHOLD_LOSS, context),
            gain_threshold=self.parameterAsDouble(parameters, self.THRESHOLD_GAIN, context),
            looks=looks,
            alpha=self.parameterAsDouble(parameters, self.ALPHA, context),
            unit=self.parameterAsEnumString(parameters, self.UNIT, context),
            classes=self.parameterAsInt(parameters, self.CLASSES, context),
            scale=self.parameterAsDouble(parameters, self.SCALE, context),
            sigma=self.parameterAsDouble(parameters, self.SIGMA, context),
            min_size=self.parameterAsInt(parameters, self.MIN_SIZE, context),
            seed=self.parameterAsInt(parameters, self.SEED, context),
            despeckle=self.parameterAsEnumString(parameters, self.DESPECKLE, context),
            window=self.parameterAsInt(parameters, self.WINDOW, context),
        )
        feedback.setProgress(60)
        min_pixels = int(math.ceil(min_area / info.pixel_area)) if min_area > 0 else 1
        regions = change.change_regions(
            result.classes,
            before,
            after,
            min_pixels=min_pixels,
            looks=looks,
            looks_efficiency=result.looks_efficiency or 1.0,
        )
        feedback.pushInfo(
            self.tr("{} loss and {} gain regions").format(regions.change.count("loss"), regions.change.count("gain"))
        )
        if result.looks_efficiency is not None:
            feedback.pushInfo(self.tr("Speckle correlation efficiency eta = {:.3f}").format(result.looks_efficiency))

        fields = QgsFields()
        fields.append(QgsField("change", QVariant.String))
        for name in ("mean_before_db", "mean_after_db", "change_db", "area_m2"):
            fields.append(QgsField(name, QVariant.Double))
        fields.append(QgsField("pixels", QVariant.Int))
        fields.append(QgsField("p_value", QVariant.Double))
        fields.append(QgsField("method", QVariant.String))
        is_lr = method == "likelihood_ratio"

        def attributes(label):
            i = label - 1
            return [
                regions.change[i],
                float(regions.mean_before_db[i]),
                float(regions.mean_after_db[i]),
                float(regions.change_db[i]),
                float(regions.pixels[i] * info.pixel_area),
                int(regions.pixels[i]),
                float(regions.p_value[i]) if is_lr else None,
                method,
            ]

        dest_id = self.write_regions(
            parameters, self.OUTPUT, context, feedback, fields, regions.labels, info, attributes
        )
        self.style_output(context, dest_id, "change_polygons")
        results = {self.OUTPUT: dest_id}
        feedback.setProgress(85)

        raster_out = self.parameterAsOutputLayer(parameters, self.OUTPUT_RASTER, context)
        if raster_out:
            with RasterWriter.like(info, raster_out, dtype="uint8", nodata=change.NODATA) as writer:
                writer.write(regions.classes)
                writer.set_color_table(CLASS_COLOURS)
                writer.set_band_description(1, "change: 0 none, 1 loss, 2 gain")
            results[self.OUTPUT_RASTER] = raster_out
        html_out = self.parameterAsFileOutput(parameters, self.OUTPUT_HTML, context)
        if html_out:
            html = change_report.html_report(
                result,
                regions,
                method=method,
                parameters={
                    k: parameters.get(k)
                    for k in (
                        self.METHOD,
                        self.DESPECKLE,
                        self.LOOKS,
                        self.ALPHA,
                        self.UNIT,
                        self.THRESHOLD_LOSS,
                        self.THRESHOLD_GAIN,
                        self.MIN_AREA,
                    )
                },
                pixel_area=info.pixel_area,
            )
            with open(html_out + ".part", "w", encoding="utf-8") as handle:
                handle.write(html)
            os.replace(html_out + ".part", html_out)
            results[self.OUTPUT_HTML] = html_out
        return results
