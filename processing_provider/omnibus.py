"""``sarchange:omnibus``: when did each pixel change, over three or more dates."""

import math
import os
import re

from qgis.core import (
    QgsField,
    QgsFields,
    QgsProcessingException,
    QgsProcessingUtils,
)
from qgis.PyQt.QtCore import QVariant

from ..algorithms.common.cancel import phase
from ..algorithms.io.outputs import set_metadata, write_text
from ..algorithms.io.raster import raster_info
from ..algorithms.reports.omnibus import html_report as omnibus_report
from ..algorithms.reports.omnibus import years_between
from ..algorithms.workflows.omnibus import omnibus_rasters, region_steps_db, regions_from_rasters
from . import settings
from .base import SarAlgorithm, tr


def parse_dates(text, count):
    """Parse ``count`` comma-separated dates (YYYY, YYYY-MM or YYYY-MM-DD); returns (labels, int codes)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) != count:
        raise QgsProcessingException(
            tr("DATES must list one date per input ({}), got {}: {}").format(count, len(parts), text)
        )
    codes = []
    for part in parts:
        match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", part)
        if not match:
            raise QgsProcessingException(tr("DATES: {} is not YYYY, YYYY-MM or YYYY-MM-DD").format(part))
        year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
        codes.append(int(year + month + day))
    if codes != sorted(codes):
        raise QgsProcessingException(tr("DATES must be in time order, got {}").format(text))
    return parts, codes


class OmnibusAlgorithm(SarAlgorithm):
    INPUTS = "INPUTS"
    SECOND_POL = "SECOND_POL"
    BAND = "BAND"
    DATES = "DATES"
    INPUT_SCALE = "INPUT_SCALE"
    LOOKS = "LOOKS"
    ALPHA = "ALPHA"
    MIN_AREA = "MIN_AREA"
    NORMALISE = "NORMALISE"
    MIN_CHANGE_DB = "MIN_CHANGE_DB"
    NOISE_FLOOR_DB = "NOISE_FLOOR_DB"
    WINDOW = "WINDOW"
    SHIFT_TOLERANCE = "SHIFT_TOLERANCE"
    OUTPUT_CHANGES = "OUTPUT_CHANGES"
    OUTPUT_FIRST = "OUTPUT_FIRST"
    OUTPUT_LAST = "OUTPUT_LAST"
    OUTPUT = "OUTPUT"
    OUTPUT_HTML = "OUTPUT_HTML"

    def name(self):
        return "omnibus"

    def displayName(self):  # noqa: N802
        return self.tr("Multi-date change (omnibus test)")

    def group(self):
        return self.tr("Change detection")

    def groupId(self):  # noqa: N802
        return "changedetection"

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Finds whether, when and how often each pixel changed in a series of three or more co-registered "
            "SAR intensity images.\n\n"
            "The omnibus likelihood-ratio test of Conradsen et al. (2016) tests 'no change over the whole "
            "series' (-2 ln Q ~ chi-square with k-1 degrees of freedom, with the second-order correction); "
            "its sequential factorisation R_j then finds the first date that differs, the series restarts "
            "there and the test repeats.\n"
            "<b>SECOND_POL</b> (optional): the same dates in a second polarisation (HV beside HH, in the same "
            "order): one joint test, whose statistics and degrees of freedom add; gains and noise floor are "
            "fitted per polarisation. A change seen in one polarisation only is found less often than by "
            "testing that one alone; one seen in both, more often.\n"
            "<b>INPUTS</b>: the rasters, in time order (or give DATES); all are aligned onto the grid of the "
            "first. BAND (default 1) is read from each.\n"
            "<b>DATES</b>: optional, comma-separated YYYY, YYYY-MM or YYYY-MM-DD, one per input; without "
            "them dates are numbered 1..k.\n"
            "<b>INPUT_SCALE</b>: auto (default: Byte = 8-bit display amplitude, values with negatives = dB, "
            "else linear power; decided on the first date, logged), linear, db, amplitude, display, or palsar_dn "
            "(JAXA 25 m mosaic digital numbers: 10 log10(DN^2) - 83 dB; name it, auto takes UInt16 as power).\n"
            "<b>LOOKS</b>: equivalent number of looks; 0 (default) estimates it from the spread of the "
            "log-ratio of consecutive dates (robust: the date-to-date variation of real mosaics, not the "
            "ENL of one date), then shares it out among the dates by the ENL of each date on the same "
            "homogeneous blocks, so that dates of two sensors (ALOS and ALOS-2 mosaics) are each weighed by "
            "their own looks; a value > 0 weighs every date alike.\n"
            "<b>WINDOW</b>: 0 (default) takes the smallest window holding about 45 looks (5 x 5 for "
            "4-5-look data); an odd WINDOW compares the dates' means over WINDOW x WINDOW pixels, whose looks "
            "are estimated from their own date-to-date spread (speckle correlation included); 1 tests single "
            "pixels. Window means find and date changes of fields that single pixels of few looks miss (a "
            "simulated 4-look stack: 88 % of changed pixels found, 96 % dated right, against 18 % and 48 % per "
            "pixel) and move boundaries by up to half a window; a pixel whose own level is at the noise floor "
            "before and after is never a change, whatever its window says (water along a shore). On the real "
            "JAXA HV mosaics windows flag 15 % of a scene over 11 years, mostly whole fields, single pixels "
            "4 %; part of it at the ALOS to ALOS-2 switch may be how the two sensors see the ground: check the "
            "map.\n"
            "<b>SHIFT_TOLERANCE</b> (pixels, default 1): the misregistration tolerated between dates. A "
            "change must be MIN_CHANGE_DB large against the earlier level of every pixel within this "
            "distance, so an edge (coast, river bank, road) that moved by a pixel between two mosaics is not "
            "a line of change, while a changed field, whose neighbours changed too, is. On the JAXA HV "
            "mosaics 1 removes a quarter of the changed pixels, mostly such lines; 2 removes most of the "
            "rest (mosaics of two sensors); 0 compares each pixel with itself only.\n"
            "<b>ALPHA</b>: significance level of each test (default 0.01).\n"
            "<b>NORMALISE</b>: auto (default) removes a gain per date, fitted against the stack on the pixels "
            "of every date (a sensor switch, ALOS to ALOS-2, is not a change of the ground); logged.\n"
            "<b>MIN_CHANGE_DB</b> (default 2): a change must also move the mean level by this much (the "
            "dates from the change on against the dates since the last one): significant and large.\n"
            "<b>NOISE_FLOOR_DB</b>: empty (default) estimates the top of the dark population of the "
            "pixels' mean level (open water, shadow); a change with neither side significantly above it "
            "(at ALPHA) is not a change.\n"
            "Outputs: OUTPUT_CHANGES (Byte: number of changes), OUTPUT_FIRST and OUTPUT_LAST (Int32 date "
            "YYYYMMDD, or date number, of the first and last change; 0 none), and OUTPUT: polygons of "
            "regions sharing a first-change date, with first_date, last_date (most frequent in the "
            "region), changes (most frequent), change_db (the region's mean level in INPUTS at its first change over "
            "its mean level before, gains removed; measured on the region's interior, past the half window that "
            "window means carry a region beyond its change, when it has one), pixels and area_m2 (m², "
            "ellipsoidal); regions under MIN_AREA "
            "(m² on the ground, whatever the CRS) are dropped. OUTPUT_HTML (optional): a report with the "
            "changed area by date of first change (bar chart), split into losses and gains, and per year "
            "since the previous date (with "
            "DATES), the gain removed per date, the looks and the noise floor used.\n"
            "Reference: Conradsen, Nielsen & Skriver, IEEE TGRS 54(5), 2016."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_rasters(self.INPUTS, "Images in time order")
        self.add_rasters(self.SECOND_POL, "Second polarisation, same dates (optional, e.g. HV)", optional=True)
        self.add_band(self.BAND, "Band")
        self.add_text(self.DATES, "Dates (comma-separated)", optional=True)
        self.add_input_scale()
        self.add_looks()
        self.add_number(self.ALPHA, "Significance level", 0.01, 0.0, 1.0)
        self.add_number(self.MIN_AREA, "Minimum area (m²; default 1 ha)", 10000.0, 0.0)
        self.add_enum(self.NORMALISE, "Radiometric normalisation", ("auto", "none"), "auto")
        self.add_number(self.MIN_CHANGE_DB, "Minimum change (dB)", 2.0, 0.0, 60.0)
        self.add_number(self.NOISE_FLOOR_DB, "Noise floor (dB; empty = estimated)", optional=True)
        self.add_number(
            self.WINDOW, "Test window (pixels, odd; 0 = about 45 looks, 1 = per pixel)", 0, 0, 51, integer=True
        )
        self.add_number(
            self.SHIFT_TOLERANCE, "Misregistration tolerated (pixels; 0 = none)", 1, 0, 5, integer=True, advanced=True
        )
        self.add_raster_output(self.OUTPUT_CHANGES, "Number of changes")
        self.add_raster_output(self.OUTPUT_FIRST, "Date of first change")
        self.add_raster_output(self.OUTPUT_LAST, "Date of last change")
        self.add_polygons_output(self.OUTPUT, "Changed regions")
        self.add_html_output(self.OUTPUT_HTML, "Report")

    def compute(self, parameters, context, feedback):
        paths = self.layer_paths(parameters, self.INPUTS, context)
        second = self.layer_paths(parameters, self.SECOND_POL, context)
        if second and len(second) != len(paths):
            raise self.error("SECOND_POL needs one image per date of INPUTS ({}), got {}", len(paths), len(second))
        if len(paths) < 3:
            raise QgsProcessingException(
                self.tr("INPUTS: the omnibus test needs at least 3 dates, got {}").format(len(paths))
            )
        alpha = self.parameterAsDouble(parameters, self.ALPHA, context)
        if not 0 < alpha < 1:
            raise self.error("ALPHA must be in (0, 1), got ALPHA={}", alpha)
        dates_text = self.parameterAsString(parameters, self.DATES, context)
        if dates_text.strip():
            labels, codes = parse_dates(dates_text, len(paths))
        else:
            labels, codes = [str(i + 1) for i in range(len(paths))], list(range(1, len(paths) + 1))
        band = self.parameterAsInt(parameters, self.BAND, context) or 1
        reference = raster_info(paths[0])
        for path in paths:
            info = raster_info(path)
            if band > info.bands:
                raise self.error("BAND {} does not exist in {} ({} band(s))", band, path, info.bands)
        keys = (self.OUTPUT_CHANGES, self.OUTPUT_FIRST, self.OUTPUT_LAST)
        rasters = {key: self.parameterAsOutputLayer(parameters, key, context) for key in keys}
        given_looks = self.parameterAsDouble(parameters, self.LOOKS, context)
        shift = self.parameterAsInt(parameters, self.SHIFT_TOLERANCE, context)
        floor = parameters.get(self.NOISE_FLOOR_DB)
        floor = None if floor in (None, "") else self.parameterAsDouble(parameters, self.NOISE_FLOOR_DB, context)
        input_scale = self.input_scale_of(parameters, self.INPUT_SCALE, context, feedback, paths[0], band)
        model = omnibus_rasters(
            paths,
            band=band,
            input_scale=input_scale,
            looks=given_looks,
            normalise=self.parameterAsEnumString(parameters, self.NORMALISE, context) == "auto",
            min_change_db=self.parameterAsDouble(parameters, self.MIN_CHANGE_DB, context),
            noise_floor_db=floor,
            alpha=alpha,
            codes=codes,
            window=self.parameterAsInt(parameters, self.WINDOW, context),
            shift=shift,
            second_paths=second or None,
            changes_path=rasters[self.OUTPUT_CHANGES],
            first_path=rasters[self.OUTPUT_FIRST],
            last_path=rasters[self.OUTPUT_LAST],
            block_size=settings.block_size(),
            progress=self.progress_fn(feedback, 0, 80),
            is_cancelled=self.cancel_fn(feedback),
        )
        looks = model.looks
        if model.window > 1:
            feedback.pushInfo(
                self.tr("Test on {0} x {0} window means: {1:.1f} looks (their date-to-date log-ratio spread)").format(
                    model.window, looks
                )
            )
        elif given_looks <= 0:
            feedback.pushInfo(
                self.tr("Estimated equivalent number of looks: {:.2f} (date-to-date log-ratio spread)").format(looks)
            )
        if model.date_looks:
            feedback.pushInfo(
                self.tr("Looks of each date (their speckle, the test's weights): {}").format(
                    ", ".join(f"{label} {value:.1f}" for label, value in zip(labels, model.date_looks))
                )
            )
        for name, channel in zip(("INPUTS", "SECOND_POL"), model.channels or (model,)):
            feedback.pushInfo(
                self.tr("Gain of each date removed (dB){}: {}").format(
                    f" ({name})" if model.channels else "",
                    ", ".join(f"{label} {gain:+.2f}" for label, gain in zip(labels, channel.gains_db)),
                )
            )
            if channel.floor is not None:
                feedback.pushInfo(
                    self.tr("Noise floor{}: {:.2f} dB").format(f" ({name})" if model.channels else "", channel.floor_db)
                )
        if model.channels:
            feedback.pushInfo(self.tr("INPUTS and SECOND_POL tested jointly (their statistics add)"))
        if shift:
            feedback.pushInfo(self.tr("Misregistration tolerated: {} pixel(s) (SHIFT_TOLERANCE)").format(shift))
        for path in rasters.values():
            set_metadata(path, {"dates": ",".join(labels), "looks": f"{looks:.3f}", "alpha": str(alpha)})
        for key in (self.OUTPUT_FIRST, self.OUTPUT_LAST):  # a legend of dates, not a white image
            self.style_output(context, rasters[key], "dates", codes=list(codes), labels=list(labels))
        self.style_output(context, rasters[self.OUTPUT_CHANGES], "change_count", dates=len(labels))
        outputs = dict(rasters)

        min_area = self.parameterAsDouble(parameters, self.MIN_AREA, context)
        pixel_m2 = self.pixel_area_m2(reference, feedback) if reference.pixel_area > 0 else 1.0
        min_pixels = max(1, int(math.ceil(min_area / pixel_m2))) if min_area > 0 else 1
        regions = QgsProcessingUtils.generateTempFilename("omnibus_regions.tif")
        try:
            with phase(0.80, 0.85):
                attributes = regions_from_rasters(
                    rasters[self.OUTPUT_CHANGES],
                    rasters[self.OUTPUT_FIRST],
                    rasters[self.OUTPUT_LAST],
                    codes,
                    min_pixels,
                    regions,
                )
            with phase(0.85, 0.88):
                steps_db = region_steps_db(
                    paths,
                    regions,
                    rasters[self.OUTPUT_FIRST],
                    codes,
                    model.gains_db,
                    band=band,
                    input_scale=input_scale,
                    edge_px=model.window // 2,
                )
            label_of = dict(zip(codes, labels))
            fields = QgsFields()
            for name, kind in (
                ("first_date", QVariant.String),
                ("last_date", QVariant.String),
                ("changes", QVariant.Int),
                ("change_db", QVariant.Double),
                ("pixels", QVariant.Int),
                ("area_m2", QVariant.Double),
            ):
                fields.append(QgsField(name, kind))

            def feature_attributes(region):
                first, last, changes, pixels = attributes[region]
                return [
                    label_of[codes[first]],
                    label_of[codes[last]],
                    int(changes),
                    round(float(steps_db[region]), 2) if math.isfinite(steps_db[region]) else None,
                    int(pixels),
                    None,  # area_m2: measured on the ellipsoid by write_regions
                ]

            with phase(0.88, 1.0):
                dest_id = self.write_regions(
                    parameters,
                    self.OUTPUT,
                    context,
                    feedback,
                    fields,
                    regions,
                    reference,
                    feature_attributes,
                    "area_m2",
                    count=len(attributes),
                )
        finally:  # the labels are a temporary file, whatever happens
            if os.path.exists(regions):
                os.remove(regions)
        outputs[self.OUTPUT] = dest_id
        html_out = self.parameterAsFileOutput(parameters, self.OUTPUT_HTML, context)
        if html_out:
            first_area, loss_area = [0.0] * len(codes), [0.0] * len(codes)
            for label, (first, _, _, pixels) in attributes.items():
                first_area[first] += pixels * pixel_m2
                if steps_db[label] < 0:  # NaN (no valid level) is neither
                    loss_area[first] += pixels * pixel_m2
            html = omnibus_report(
                model,
                labels,
                first_area,
                alpha=alpha,
                min_change_db=self.parameterAsDouble(parameters, self.MIN_CHANGE_DB, context),
                regions=len(attributes),
                shift_px=shift,
                years=years_between(codes) if dates_text.strip() else None,
                loss_area_m2=loss_area,
            )
            write_text(html_out, html)
            outputs[self.OUTPUT_HTML] = html_out
        return outputs
