"""``sarchange:changedetection``: two dates to change polygons with statistics."""

import math
import shutil
import tempfile
from types import SimpleNamespace

from qgis.core import QgsProcessingUtils

from ..algorithms.io.outputs import write_text
from ..algorithms.reports import change as change_report
from ..algorithms.sar import change
from ..algorithms.sar.despeckle import METHODS as DESPECKLE_METHODS
from ..algorithms.sar.segmentation import MAX_SIGMA_PX
from .base import SarAlgorithm
from .change_methods import METHODS, ChangeMethods


class ChangeDetectionAlgorithm(ChangeMethods, SarAlgorithm):
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
        self.add_raster(self.BEFORE, "Before", band=self.BAND_BEFORE, band_description="Band of before")
        self.add_raster(self.AFTER, "After", band=self.BAND_AFTER, band_description="Band of after")
        self.add_input_scale()
        self.add_flag(self.JOINT_BANDS, "Joint test of every band (e.g. HH+HV)", False)
        self.add_enum(self.METHOD, "Method", METHODS, "automatic")
        self.add_enum(self.NORMALISE, "Radiometric normalisation", ("auto", "none"), "auto")
        self.add_number(self.MIN_CHANGE_DB, "Minimum change (dB; automatic, superpixel k-means)", 2.0, 0.0, 60.0)
        self.add_number(self.NOISE_FLOOR_DB, "Noise floor (dB; empty = estimated)", optional=True)
        # what only the other methods use goes under "Advanced parameters", labelled by method, so
        # the form of the default (automatic) method lists what it uses
        despeckle = ("none",) + DESPECKLE_METHODS
        self.add_enum(
            self.DESPECKLE,
            "Despeckle first (threshold, likelihood ratio, superpixel k-means)",
            despeckle,
            "refined_lee",
            advanced=True,
        )
        self.add_looks(description="Number of looks (0 = estimated)", maximum=1e5)
        self.add_number(self.ALPHA, "False-alarm rate (automatic, likelihood ratio)", 0.01, 0.0, 1.0)
        self.add_enum(self.UNIT, "Test unit (likelihood ratio)", change.UNITS, "superpixel", advanced=True)
        statistic = "Statistic (threshold, superpixel k-means)"
        self.add_enum(self.STATISTIC, statistic, change.STATISTICS, "log_ratio", advanced=True)
        self.add_number(self.THRESHOLD_LOSS, "Loss threshold (threshold; dB for log ratio)", -3.0, advanced=True)
        self.add_number(self.THRESHOLD_GAIN, "Gain threshold (threshold; dB for log ratio)", 3.0, advanced=True)
        self.add_number(self.CLASSES, "Classes (superpixel k-means)", 3, 2, 20, integer=True, advanced=True)
        self.add_number(self.MIN_AREA, "Minimum area (m²)", 0.0)
        window = "Despeckle window (pixels; with Despeckle first)"
        self.add_number(self.WINDOW, window, 7, 3, 51, integer=True, advanced=True)
        self.add_number(self.SCALE, "Superpixel scale (superpixel methods)", 1.0, 1e-6, advanced=True)
        sigma = "Superpixel smoothing sigma (pixels)"
        self.add_number(self.SIGMA, sigma, 0.8, 0.0, MAX_SIGMA_PX, advanced=True)
        self.add_number(self.MIN_SIZE, "Superpixel minimum size (pixels)", 20, 1, integer=True, advanced=True)
        self.add_number(self.SEED, "Random seed (k-means)", 0, 0, integer=True, advanced=True)
        self.add_polygons_output(self.OUTPUT, "Change polygons", style="change_polygons")
        self.add_raster_output(self.OUTPUT_RASTER, "Change classes", optional=True)
        self.add_html_output(self.OUTPUT_HTML, "Change report")

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
        # the automatic method's class and label rasters live here until the outputs are written
        job.folder = tempfile.mkdtemp(prefix="sarchange_", dir=QgsProcessingUtils.tempFolder())
        try:
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
                self.tr("{} loss and {} gain regions").format(
                    regions.change.count("loss"), regions.change.count("gain")
                )
            )
            results = self._write_outputs(parameters, context, feedback, info, method, regions)
            html_out = self.parameterAsFileOutput(parameters, self.OUTPUT_HTML, context)
            if html_out:
                if run is not None:
                    html = change_report.automatic_report(run, regions, parameters=used, pixel_area=pixel_m2)
                else:
                    html = change_report.html_report(
                        result, regions, method=method, parameters=used, pixel_area=pixel_m2
                    )
                write_text(html_out, html)
                results[self.OUTPUT_HTML] = html_out
            return results
        finally:
            shutil.rmtree(job.folder, ignore_errors=True)
