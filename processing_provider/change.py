"""``sarchange:changedetection``: two dates to change polygons with statistics."""

import math
import os
import shutil
import tempfile
from types import SimpleNamespace

from qgis.core import (
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingUtils,
)
from qgis.PyQt.QtCore import QVariant

from ..algorithms.common.cancel import Cancelled, interruptible, phase
from ..algorithms.io.align import aligned
from ..algorithms.io.outputs import RasterWriter, write_text
from ..algorithms.io.raster import raster_info, read_band
from ..algorithms.reports import change as change_report
from ..algorithms.sar import change
from ..algorithms.sar.change import stats as change_stats
from ..algorithms.sar.convert import TO_POWER, resolve_scale
from ..algorithms.sar.despeckle import METHODS as DESPECKLE_METHODS
from ..algorithms.sar.segmentation import MAX_SIGMA_PX
from ..algorithms.workflows import change as change_io
from .base import SarAlgorithm

#: METHOD choices: the automatic decision first (the default), then the methods of :mod:`change`.
METHODS = ("automatic",) + change.METHODS
#: Class raster colours: no change grey, loss blue, gain red (the product's code, ``change.CLASS_RGB``).
CLASS_COLOURS = [change.CLASS_RGB[value] for value in (change.NO_CHANGE, change.LOSS, change.GAIN)]


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
    INPUT_SCALE = "INPUT_SCALE"
    NORMALISE = "NORMALISE"
    MIN_CHANGE_DB = "MIN_CHANGE_DB"
    NOISE_FLOOR_DB = "NOISE_FLOOR_DB"
    JOINT_BANDS = "JOINT_BANDS"
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
            "Finds what changed between two SAR images and returns polygons of loss and gain.\n\n"
            "<b>BEFORE</b>, <b>AFTER</b>: intensities as you have them; AFTER is resampled onto the grid of "
            "BEFORE. BAND_BEFORE, BAND_AFTER default 1. <b>INPUT_SCALE</b>: <i>auto</i> (default: Byte = 8-bit "
            "display amplitude, values with negatives = dB, else linear power; the log says what was chosen), "
            "<i>linear</i>, <i>db</i>, <i>amplitude</i>, <i>display</i>, <i>palsar_dn</i>.\n"
            "<b>JOINT_BANDS</b>: use every band of both rasters (e.g. HH and HV) in one joint test.\n"
            "<b>METHOD</b>:\n"
            "<i>automatic</i> (default, nothing to tune): the log-ratio of local levels (3 x 3 median then boxcar, "
            "window from the estimated looks), the global gain between the dates removed (<b>NORMALISE</b>), "
            "Kittler-Illingworth thresholds with generalised-Gaussian classes on each side (a side gets no change "
            "class when the data show no separate population), a Potts (ICM) regularisation, and three gates: the "
            "likelihood-ratio test at <b>ALPHA</b> on the local means, a change of at least <b>MIN_CHANGE_DB</b>, "
            "and not below the noise floor on both dates (<b>NOISE_FLOOR_DB</b>, empty = estimated: the top of the "
            "dark population of open water or shadow when there is one, else the 2nd percentile of the local "
            "levels). Blockwise: any scene size.\n"
            "<i>likelihood_ratio</i>: the test of equal mean for gamma intensities with LOOKS looks; "
            "the ratio after/before follows F(2m, 2m) without change. Per <b>UNIT</b> <i>superpixel</i> "
            "(segments of the sum of both dates, looks growing with segment size and corrected for "
            "speckle correlation estimated on homogeneous blocks) or <i>pixel</i>, at false-alarm rate ALPHA.\n"
            "<i>threshold</i>: the pixel <b>STATISTIC</b> (<i>log_ratio</i> in dB, or <i>difference</i> in input "
            "units) against <b>THRESHOLD_LOSS</b> (default -3) and <b>THRESHOLD_GAIN</b> (default +3).\n"
            "<i>superpixel_kmeans</i>: Felzenszwalb segments of both dates, k-means (<b>CLASSES</b>, default 3) "
            "on the segments' mean <b>STATISTIC</b> (log-ratio in dB, or the linear difference); a cluster is loss or "
            "gain only when its centre is more than 2 robust standard deviations from the no-change cluster's "
            "and, for the log-ratio, at least MIN_CHANGE_DB from 0 dB.\n"
            "<b>LOOKS</b>: equivalent number of looks; 0 (default) estimates it from the spread of the pixel "
            "log-ratio (reported).\n"
            "<b>DESPECKLE</b> (not automatic): none or a despeckle method (window WINDOW) run first; the "
            "likelihood-ratio test itself always uses the original intensities.\n"
            "<b>SCALE</b>, <b>SIGMA</b>, <b>MIN_SIZE</b>: Felzenszwalb parameters on features scaled to 0-1.\n"
            "<b>MIN_AREA</b>: regions smaller than this (m² on the ground, whatever the CRS: degrees too) are "
            "dropped.\n"
            "<b>OUTPUT</b>: one valid polygon per 8-connected region, CRS of BEFORE, with change (loss/gain), "
            "mean_before_db, mean_after_db, change_db, area_m2 (m², ellipsoidal), pixels, p_value (the "
            "region's own likelihood-ratio test) and method.\n"
            "<b>OUTPUT_RASTER</b> (optional): Byte classes 0 no change, 1 loss, 2 gain, 255 nodata.\n"
            "<b>OUTPUT_HTML</b> (optional): a report with the histogram of the change statistic and the "
            "thresholds used, the estimated looks, gain and noise floor, and counts and areas per class.\n"
            "References: Bazi, Bruzzone & Melgani, IEEE TGRS 43(4), 2005; Bruzzone & Prieto, IEEE TGRS 38(3), "
            "2000; Conradsen et al., IEEE TGRS 41(1), 2003; Felzenszwalb & Huttenlocher, IJCV 2004."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        double, integer = QgsProcessingParameterNumber.Double, QgsProcessingParameterNumber.Integer

        self.addParameter(QgsProcessingParameterRasterLayer(self.BEFORE, self.tr("Before")))
        self.addParameter(self.band_parameter(self.BAND_BEFORE, self.tr("Band of before"), self.BEFORE))
        self.addParameter(QgsProcessingParameterRasterLayer(self.AFTER, self.tr("After")))
        self.addParameter(self.band_parameter(self.BAND_AFTER, self.tr("Band of after"), self.AFTER))
        self.addParameter(self.input_scale_parameter())
        self.addParameter(
            QgsProcessingParameterBoolean(self.JOINT_BANDS, self.tr("Joint test of every band (e.g. HH+HV)"), False)
        )
        self.addParameter(self.enum_parameter(self.METHOD, "Method", METHODS, "automatic"))
        self.addParameter(self.enum_parameter(self.NORMALISE, "Radiometric normalisation", ("auto", "none"), "auto"))
        self.addParameter(
            QgsProcessingParameterNumber(
                self.MIN_CHANGE_DB,
                self.tr("Minimum change (dB; automatic, superpixel k-means)"),
                double,
                2.0,
                False,
                0.0,
                60.0,
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.NOISE_FLOOR_DB, self.tr("Noise floor (dB; empty = estimated)"), double, None, True
            )
        )
        self.addParameter(
            self.enum_parameter(
                self.DESPECKLE,
                "Despeckle first (threshold, likelihood ratio, superpixel k-means)",
                ("none",) + DESPECKLE_METHODS,
                "refined_lee",
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.LOOKS, self.tr("Number of looks (0 = estimated)"), double, 0.0, False, 0.0, 1e5
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.ALPHA, self.tr("False-alarm rate (automatic, likelihood ratio)"), double, 0.01, False, 0.0, 1.0
            )
        )
        self.addParameter(self.enum_parameter(self.UNIT, "Test unit (likelihood ratio)", change.UNITS, "superpixel"))
        # what only the other methods use goes under "Advanced parameters", labelled by method, so
        # the form of the default (automatic) method lists what it uses
        self.addParameter(
            self.enum_parameter(
                self.STATISTIC, "Statistic (threshold, superpixel k-means)", change.STATISTICS, "log_ratio"
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.THRESHOLD_LOSS, self.tr("Loss threshold (threshold; dB for log ratio)"), double, -3.0
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.THRESHOLD_GAIN, self.tr("Gain threshold (threshold; dB for log ratio)"), double, 3.0
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.CLASSES, self.tr("Classes (superpixel k-means)"), integer, 3, False, 2, 20
            )
        )
        self.addParameter(QgsProcessingParameterNumber(self.MIN_AREA, self.tr("Minimum area (m²)"), double, 0.0))
        for name in (self.DESPECKLE, self.UNIT, self.STATISTIC, self.THRESHOLD_LOSS, self.THRESHOLD_GAIN, self.CLASSES):
            definition = self.parameterDefinition(name)
            definition.setFlags(definition.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        advanced = [
            QgsProcessingParameterNumber(
                self.WINDOW, self.tr("Despeckle window (pixels; with Despeckle first)"), integer, 7, False, 3, 51
            ),
            QgsProcessingParameterNumber(
                self.SCALE, self.tr("Superpixel scale (superpixel methods)"), double, 1.0, False, 1e-6
            ),
            QgsProcessingParameterNumber(
                self.SIGMA, self.tr("Superpixel smoothing sigma (pixels)"), double, 0.8, False, 0.0, MAX_SIGMA_PX
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
                self.OUTPUT_RASTER, self.tr("Change classes"), optional=True, createByDefault=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.OUTPUT_HTML,
                self.tr("Change report"),
                self.tr("HTML files (*.html)"),
                optional=True,
                createByDefault=True,  # the report is what says what was decided: on in the dialog
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
        if self.parameterAsBool(parameters, self.JOINT_BANDS, context):
            if info.bands != after_info.bands:
                raise self.error(
                    "JOINT_BANDS needs as many bands in AFTER as in BEFORE, got {} and {}", after_info.bands, info.bands
                )
            bands_before = bands_after = list(range(1, info.bands + 1))
        else:
            bands_before, bands_after = [band_before], [band_after]
        method = self.parameterAsEnumString(parameters, self.METHOD, context)
        looks = self.parameterAsDouble(parameters, self.LOOKS, context)
        min_area = self.parameterAsDouble(parameters, self.MIN_AREA, context)
        if min_area < 0:
            raise self.error("MIN_AREA must be >= 0, got MIN_AREA={}", min_area)
        if min_area > 0 and not info.pixel_area > 0:
            raise self.error(
                "MIN_AREA={} needs a pixel size, but BEFORE has a degenerate geotransform (pixel area {}); "
                "give MIN_AREA=0 or georeference BEFORE",
                min_area,
                info.pixel_area,
            )
        pixel_m2 = self.pixel_area_m2(info, feedback) if info.pixel_area > 0 else abs(info.pixel_area)
        min_pixels = int(math.ceil(min_area / pixel_m2)) if min_area > 0 else 1
        if min_area > 0:
            feedback.pushInfo(
                self.tr("MIN_AREA {:g} m² = {} pixels of {:.6g} m²").format(min_area, min_pixels, pixel_m2)
            )
        input_scale = self.parameterAsEnumString(parameters, self.INPUT_SCALE, context)
        normalise = self.parameterAsEnumString(parameters, self.NORMALISE, context) == "auto"
        floor = parameters.get(self.NOISE_FLOOR_DB)
        floor = None if floor in (None, "") else self.parameterAsDouble(parameters, self.NOISE_FLOOR_DB, context)
        used = {
            "METHOD": method,
            "INPUT_SCALE": input_scale,
            "NORMALISE": "auto" if normalise else "none",
            "MIN_AREA": min_area,
        }
        job = SimpleNamespace(
            before_path=before_path,
            after_path=after_path,
            info=info,
            bands_before=bands_before,
            bands_after=bands_after,
            method=method,
            input_scale=input_scale,
            normalise=normalise,
            floor=floor,
            min_pixels=min_pixels,
            looks=looks,
            used=used,
        )
        result = run = None
        if method == "automatic":
            used.update(
                ALPHA=self.parameterAsDouble(parameters, self.ALPHA, context),
                MIN_CHANGE_DB=self.parameterAsDouble(parameters, self.MIN_CHANGE_DB, context),
                LOOKS=looks or "estimated",
                NOISE_FLOOR_DB=floor if floor is not None else "estimated",
            )
            regions, run = self._automatic(parameters, context, feedback, job)
        else:
            result, regions = self._in_memory(parameters, context, feedback, job)
        feedback.setProgress(80)
        feedback.pushInfo(
            self.tr("{} loss and {} gain regions").format(regions.change.count("loss"), regions.change.count("gain"))
        )
        results = self._write_outputs(parameters, context, feedback, info, method, regions)
        html_out = self.parameterAsFileOutput(parameters, self.OUTPUT_HTML, context)
        if html_out:
            if run is not None:
                html = change_report.automatic_report(run, regions, parameters=used, pixel_area=pixel_m2)
            else:
                html = change_report.html_report(result, regions, method=method, parameters=used, pixel_area=pixel_m2)
            write_text(html_out, html)
            results[self.OUTPUT_HTML] = html_out
        return results

    def _automatic(self, parameters, context, feedback, job):
        used, bands_before, bands_after = job.used, job.bands_before, job.bands_after
        folder = tempfile.mkdtemp(prefix="sarchange_", dir=QgsProcessingUtils.tempFolder())
        try:
            classes_path = os.path.join(folder, "classes.tif")
            run = change_io.detect_change_rasters(
                job.before_path,
                job.after_path,
                classes_path,
                bands_before=bands_before,
                bands_after=bands_after,
                input_scale=used["INPUT_SCALE"],
                looks=job.looks,
                alpha=used["ALPHA"],
                min_change_db=used["MIN_CHANGE_DB"],
                noise_floor_db=job.floor,
                normalise=job.normalise,
                progress=self.progress_fn(feedback, 2, 60),
                is_cancelled=feedback.isCanceled,
            )
            model = run.model
            feedback.pushInfo(self.tr("Input scale: before {}, after {}").format(run.scale_before, run.scale_after))
            for c in range(model.channels):
                feedback.pushInfo(
                    self.tr(
                        "Channel {}: looks {:.2f} per pixel ({} with LOOKS=0), {:.1f} in the {} x {} window; "
                        "gain after/before {:+.2f} dB (removed: {}); noise floor {:.2f} dB"
                    ).format(
                        c + 1,
                        model.pixel_looks[c],
                        "given" if job.looks > 0 else "estimated",
                        model.window_looks[c],
                        model.window,
                        model.window,
                        model.gain_db[c],
                        "yes" if job.normalise else "no",
                        model.noise_floor_db[c],
                    )
                )
            feedback.pushInfo(
                self.tr(
                    "Thresholds (Kittler-Illingworth): loss {}, gain {}; boundaries at {} x {}: loss {}, gain {}"
                ).format(
                    _db(model.loss.threshold),
                    _db(model.gain.threshold),
                    model.fine_window or model.window,
                    model.fine_window or model.window,
                    _db(model.boundary_threshold(change.LOSS) if model.fine_window else None),
                    _db(model.boundary_threshold(change.GAIN) if model.fine_window else None),
                )
            )
            for note in model.notes:
                feedback.pushInfo(note)
            feedback.setProgress(62)
            regions = change_io.regions_from_class_raster(
                classes_path,
                job.before_path,
                job.after_path,
                band_before=bands_before[0],
                band_after=bands_after[0],
                scale_before=run.scale_before,
                scale_after=run.scale_after,
                gain_db=model.gain_db[0],
                looks_per_pixel=model.window_looks[0] / model.window**2,
                min_pixels=job.min_pixels,
                is_cancelled=feedback.isCanceled,
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return regions, run

    def _in_memory(self, parameters, context, feedback, job):
        info, method, used = job.info, job.method, job.used
        band_before, band_after = job.bands_before[0], job.bands_after[0]
        before = read_band(job.before_path, band_before)
        with aligned(job.after_path, info) as path:
            after = read_band(path, band_after)
            after_dtype = raster_info(path).dtypes[band_after - 1]
        scale_b = resolve_scale(job.input_scale, info.dtypes[band_before - 1], before, "BEFORE")
        scale_a = resolve_scale(job.input_scale, after_dtype, after, "AFTER (on the grid of BEFORE)")
        feedback.pushInfo(self.tr("Input scale: before {}, after {}").format(scale_b, scale_a))
        before, after = TO_POWER[scale_b](before), TO_POWER[scale_a](after)
        given = job.looks
        after, looks, gain_db = interruptible(
            change_stats.prepare_pair, before, after, normalise=job.normalise, looks=given
        )
        if job.normalise:
            feedback.pushInfo(self.tr("Gain after/before {:+.2f} dB removed").format(gain_db))
        if given <= 0:
            feedback.pushInfo(self.tr("Looks estimated from the log-ratio spread: {:.2f}").format(looks))
        used["LOOKS"] = round(looks, 3)
        feedback.setProgress(10)
        if feedback.isCanceled():
            raise Cancelled("cancelled by the user")
        options = dict(
            statistic=self.parameterAsEnumString(parameters, self.STATISTIC, context),
            loss_threshold=self.parameterAsDouble(parameters, self.THRESHOLD_LOSS, context),
            gain_threshold=self.parameterAsDouble(parameters, self.THRESHOLD_GAIN, context),
            alpha=self.parameterAsDouble(parameters, self.ALPHA, context),
            unit=self.parameterAsEnumString(parameters, self.UNIT, context),
            classes=self.parameterAsInt(parameters, self.CLASSES, context),
            despeckle=self.parameterAsEnumString(parameters, self.DESPECKLE, context),
            min_change_db=self.parameterAsDouble(parameters, self.MIN_CHANGE_DB, context),
        )
        used.update({name: options[option] for name, option in _PARAMETERS_OF[method]})
        with phase(0.10, 0.60):  # the method reports its own steps (despeckling, segmentation...)
            result = interruptible(  # the whole in-memory method: a cancel returns within a poll
                change.detect_change,
                before,
                after,
                method,
                looks=looks,
                scale=self.parameterAsDouble(parameters, self.SCALE, context),
                sigma=self.parameterAsDouble(parameters, self.SIGMA, context),
                min_size=self.parameterAsInt(parameters, self.MIN_SIZE, context),
                seed=self.parameterAsInt(parameters, self.SEED, context),
                window=self.parameterAsInt(parameters, self.WINDOW, context),
                **options,
            )
        if result.looks_efficiency is not None:
            feedback.pushInfo(self.tr("Speckle correlation efficiency eta = {:.3f}").format(result.looks_efficiency))
        feedback.setProgress(60)
        regions = interruptible(
            change.change_regions,
            result.classes,
            before,
            after,
            min_pixels=job.min_pixels,
            looks=looks,
            looks_efficiency=result.looks_efficiency or 1.0,
        )
        return result, regions

    def _write_outputs(self, parameters, context, feedback, info, method, regions):
        fields = QgsFields()
        fields.append(QgsField("change", QVariant.String))
        for name in ("mean_before_db", "mean_after_db", "change_db", "area_m2"):
            fields.append(QgsField(name, QVariant.Double))
        fields.append(QgsField("pixels", QVariant.Int))
        fields.append(QgsField("p_value", QVariant.Double))
        fields.append(QgsField("method", QVariant.String))
        has_p = method in ("likelihood_ratio", "automatic")

        def attributes(label):
            i = label - 1
            return [
                regions.change[i],
                float(regions.mean_before_db[i]),
                float(regions.mean_after_db[i]),
                float(regions.change_db[i]),
                None,  # area_m2: measured on the ellipsoid by write_regions
                int(regions.pixels[i]),
                float(regions.p_value[i]) if has_p else None,
                method,
            ]

        with phase(0.62, 0.90):
            dest_id = self.write_regions(
                parameters, self.OUTPUT, context, feedback, fields, regions.labels, info, attributes, "area_m2"
            )
        self.style_output(context, dest_id, "change_polygons")
        results = {self.OUTPUT: dest_id}
        feedback.setProgress(90)
        raster_out = self.parameterAsOutputLayer(parameters, self.OUTPUT_RASTER, context)
        if raster_out:
            with RasterWriter.like(info, raster_out, dtype="uint8", nodata=change.NODATA) as writer:
                writer.write(regions.classes)
                writer.set_color_table(CLASS_COLOURS)
                writer.set_band_description(1, "change: 0 none, 1 loss, 2 gain")
            named = [
                (change.NO_CHANGE, "No change"),
                (change.LOSS, "Loss of backscatter"),
                (change.GAIN, "Gain of backscatter"),
            ]
            self.style_output(
                context, raster_out, "classes", classes=[(v, change.CLASS_RGB[v], self.tr(label)) for v, label in named]
            )
            results[self.OUTPUT_RASTER] = raster_out
        return results


def _db(value):
    return "none" if value is None else f"{value:+.2f} dB"


#: The parameters each in-memory method uses (for the report), with the option of
#: :func:`change.detect_change` each one sets.
_PARAMETERS_OF = {
    "threshold": (
        ("STATISTIC", "statistic"),
        ("THRESHOLD_LOSS", "loss_threshold"),
        ("THRESHOLD_GAIN", "gain_threshold"),
        ("DESPECKLE", "despeckle"),
    ),
    "likelihood_ratio": (("ALPHA", "alpha"), ("UNIT", "unit"), ("DESPECKLE", "despeckle")),
    "superpixel_kmeans": (
        ("STATISTIC", "statistic"),
        ("CLASSES", "classes"),
        ("MIN_CHANGE_DB", "min_change_db"),
        ("DESPECKLE", "despeckle"),
    ),
}
