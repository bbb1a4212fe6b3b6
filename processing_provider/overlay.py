"""``sarchange:overlay`` and ``sarchange:rgbcomposite``: visual composites."""

from ..algorithms.io.align import RESAMPLING
from ..algorithms.sar import overlay as overlay_maths
from ..algorithms.workflows import overlay
from .base import SarAlgorithm


class OverlayAlgorithm(SarAlgorithm):
    BEFORE = "BEFORE"
    AFTER = "AFTER"
    BAND_BEFORE = "BAND_BEFORE"
    BAND_AFTER = "BAND_AFTER"
    TOLERANCE = "TOLERANCE"
    SCALING = "SCALING"
    INPUT_SCALE = "INPUT_SCALE"
    DB_MIN = "DB_MIN"
    DB_MAX = "DB_MAX"
    RESAMPLING = "RESAMPLING"
    OUTPUT = "OUTPUT"

    def name(self):
        return "overlay"

    def displayName(self):  # noqa: N802
        return self.tr("Two-date change overlay")

    def group(self):
        return self.tr("Change detection")

    def groupId(self):  # noqa: N802
        return "changedetection"

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "The visual change composite of two dates: the earlier image in blue, the later image in red; "
            "where the two agree within a tolerance the pixel is grey.\n\n"
            "Each date is brought to display levels 0-255 (b before, a after), then per pixel: if |a - b| < "
            "TOLERANCE the pixel is grey (a, a, a), otherwise (R, G, B) = (a, 0, b). So red means brighter "
            "after (gain of backscatter), blue means darker after (loss). Arithmetic is signed: dark "
            "unchanged pixels stay grey.\n\n"
            "<b>BEFORE</b>, <b>AFTER</b>: rasters of any CRS and resolution; AFTER is resampled onto the "
            "grid of BEFORE (RESAMPLING, default bilinear).\n"
            "<b>BAND_BEFORE</b>, <b>BAND_AFTER</b>: band used (default 1). For a PNG tile delivered by a "
            "tile server (RGB or grey), band 1 is used: red, or the grey level.\n"
            "<b>TOLERANCE</b>: in display levels (default 30).\n"
            "<b>INPUT_SCALE</b>: <i>auto</i> (default: Byte = <i>display</i>, values with negatives = <i>db</i>, "
            "else <i>linear</i>; decided on BEFORE, logged), <i>linear</i> power (converted to dB before "
            "scaling), <i>db</i>, or <i>display</i> (values used as they are, e.g. 8-bit tiles).\n"
            "<b>SCALING</b>: <i>percentile</i> 2-98 % of each date (default), <i>minmax</i>, or "
            "<i>db_range</i> between DB_MIN and DB_MAX (dB).\n"
            "<b>OUTPUT</b>: 3-band Byte RGB GeoTIFF on the grid of BEFORE; nodata in either date is black."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_raster(self.BEFORE, "Before (earlier date)", band=self.BAND_BEFORE, band_description="Band of before")
        self.add_raster(self.AFTER, "After (later date)", band=self.BAND_AFTER, band_description="Band of after")
        self.add_number(self.TOLERANCE, "Tolerance (display levels)", 30, 0, 255, integer=True)
        self.add_input_scale(options=("auto",) + overlay_maths.INPUT_SCALES)
        self.add_enum(self.SCALING, "Scaling to 0-255", overlay_maths.SCALINGS, "percentile")
        self.add_number(self.DB_MIN, "dB range: minimum (dB)", -25.0)
        self.add_number(self.DB_MAX, "dB range: maximum (dB)", 0.0)
        self.add_enum(self.RESAMPLING, "Resampling of AFTER", RESAMPLING, "bilinear")
        self.add_raster_output(self.OUTPUT, "Overlay (RGB)", style="rgb")

    def compute(self, parameters, context, feedback):
        before, before_info = self.raster_source(parameters, self.BEFORE, context)
        after, after_info = self.raster_source(parameters, self.AFTER, context)
        band_before = self.band_number(parameters, self.BAND_BEFORE, context, before_info)
        band_after = self.band_number(parameters, self.BAND_AFTER, context, after_info)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        overlay.overlay_rasters(
            (before, band_before),
            (after, band_after),
            output,
            tolerance=self.parameterAsInt(parameters, self.TOLERANCE, context),
            scaling=self.parameterAsEnumString(parameters, self.SCALING, context),
            input_scale=self.input_scale_of(parameters, self.INPUT_SCALE, context, feedback, before, band_before),
            db_limits=(
                self.parameterAsDouble(parameters, self.DB_MIN, context),
                self.parameterAsDouble(parameters, self.DB_MAX, context),
            ),
            resampling=self.parameterAsEnumString(parameters, self.RESAMPLING, context),
            progress=self.progress_fn(feedback),
            is_cancelled=self.cancel_fn(feedback),
        )
        return {self.OUTPUT: output}


class RgbCompositeAlgorithm(SarAlgorithm):
    HH = "HH"
    HV = "HV"
    BAND_HH = "BAND_HH"
    BAND_HV = "BAND_HV"
    SCALING = "SCALING"
    OUTPUT_TYPE = "OUTPUT_TYPE"
    RESAMPLING = "RESAMPLING"
    OUTPUT = "OUTPUT"

    def name(self):
        return "rgbcomposite"

    def displayName(self):  # noqa: N802
        return self.tr("Dual-polarisation RGB composite")

    def group(self):
        return self.tr("Preprocessing")

    def groupId(self):  # noqa: N802
        return "preprocessing"

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "The dual-polarisation colour composite R = HH, G = HV, B = HH/(HV + 1e-5), each channel "
            "scaled on its own.\n\n"
            "<b>HH</b>, <b>HV</b>: linear power rasters (HV is resampled onto the grid of HH if needed; "
            "BAND_HH, BAND_HV default 1).\n"
            "<b>SCALING</b>: <i>minmax</i> (default, exact over the whole raster) or <i>percentile</i> 2-98 % "
            "(clipped).\n"
            "<b>OUTPUT_TYPE</b>: <i>float</i> 0-1 (default, Float32, nodata NaN) or <i>byte</i> 0-255.\n"
            "Forest (volume scattering) shows green, bare and flooded ground magenta-blue, water dark. "
            "Reference: the JPL 2019 SAR training tutorial composite (ALOS PALSAR, Mondah, Gabon)."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_raster(self.HH, "HH (linear power)", band=self.BAND_HH, band_description="Band of HH")
        self.add_raster(self.HV, "HV (linear power)", band=self.BAND_HV, band_description="Band of HV")
        self.add_enum(self.SCALING, "Scaling", ("minmax", "percentile"), "minmax")
        self.add_enum(self.OUTPUT_TYPE, "Output type", ("float", "byte"), "float")
        self.add_enum(self.RESAMPLING, "Resampling of HV", RESAMPLING, "bilinear")
        self.add_raster_output(self.OUTPUT, "Composite (RGB)", style="rgb")

    def compute(self, parameters, context, feedback):
        hh, hh_info = self.raster_source(parameters, self.HH, context)
        hv, hv_info = self.raster_source(parameters, self.HV, context)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        band_hh = self.band_number(parameters, self.BAND_HH, context, hh_info)
        band_hv = self.band_number(parameters, self.BAND_HV, context, hv_info)
        overlay.rgb_composite_rasters(
            (hh, band_hh),
            (hv, band_hv),
            output,
            scaling=self.parameterAsEnumString(parameters, self.SCALING, context),
            output_type=self.parameterAsEnumString(parameters, self.OUTPUT_TYPE, context),
            resampling=self.parameterAsEnumString(parameters, self.RESAMPLING, context),
            progress=self.progress_fn(feedback),
            is_cancelled=self.cancel_fn(feedback),
        )
        return {self.OUTPUT: output}
