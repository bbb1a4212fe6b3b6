"""``sarchange:elevationchange``: elevation change from SAR amplitude by shape from shading."""

import math
import os

from ..algorithms.io.outputs import set_metadata
from ..algorithms.io.raster import open_raster, raster_info
from ..algorithms.sar import elevation
from ..algorithms.workflows.elevation import DIRECTIONS, FILTERS, INPUT_SCALES, elevation_change_rasters
from . import settings
from .base import SarAlgorithm

#: Metadata items read for the incidence angle when INCIDENCE_DEG is 0 (degrees).
INCIDENCE_KEYS = ("INCIDENCE_ANGLE", "incidence_angle", "CENTER_INCIDENCE_ANGLE", "incidence_deg")


class ElevationChangeAlgorithm(SarAlgorithm):
    AMPLITUDES = "AMPLITUDES"
    BAND = "BAND"
    DEM = "DEM"
    REFERENCE = "REFERENCE"
    INPUT_SCALE = "INPUT_SCALE"
    MODEL = "MODEL"
    FILTER = "FILTER"
    WATER_MASK = "WATER_MASK"
    INCIDENCE_DEG = "INCIDENCE_DEG"
    RANGE_DIRECTION = "RANGE_DIRECTION"
    RANGE_SPACING_M = "RANGE_SPACING_M"
    AZIMUTH_SPACING_M = "AZIMUTH_SPACING_M"
    LOOKS = "LOOKS"
    SMOOTHNESS = "SMOOTHNESS"
    DETREND_PX = "DETREND_PX"
    OUTPUT_DEMS = "OUTPUT_DEMS"
    OUTPUT_CHANGE = "OUTPUT_CHANGE"
    OUTPUT_STDERR = "OUTPUT_STDERR"

    def name(self):
        return "elevationchange"

    def displayName(self):  # noqa: N802
        return self.tr("Elevation change (shape from shading)")

    def group(self):
        return self.tr("Terrain")

    def groupId(self):  # noqa: N802
        return "terrain"

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Elevation of each date and its change against a reference date, from SAR amplitude images "
            "and a reference DEM, by shape from shading: slopes facing the radar are bright, slopes "
            "turned away dark.\n"
            "<b>AMPLITUDES</b>: the images in time order, co-registered on one grid (radar geometry "
            "projected to ground range, or map geometry); all are aligned onto the first's grid.\n"
            "<b>DEM</b>: reference elevation (m), taken as the ground of the REFERENCE date; aligned "
            "(bilinear) when on another grid.\n"
            "<b>REFERENCE</b>: 1-based index of the reference date (default 1); its change band is 0.\n"
            "<b>INPUT_SCALE</b>: amplitude (default), intensity (= linear power), db, display (8-bit) or palsar_dn.\n"
            "<b>MODEL</b>: surface (default) fits each date's change as one 2-D surface to the log-ratio "
            "of its intensity to the reference date's: the ground's albedo cancels in the ratio; the "
            "brightness follows a curve of the local incidence angle fitted on the reference date "
            "against the DEM (no law assumed: to the log-ratios of neighbouring pixels, whose albedo "
            "cancels, or to binned medians when the DEM is too coarse or noisy for that; the log says "
            "which); range and azimuth slopes both count; a smoothness prior "
            "couples neighbouring lines; layover, shadow and water carry no weight; the gain of each "
            "date is removed. seed_lines is the seed notebook's MoSARt method: along each range line, "
            "elevation = a * cumsum(amplitude) + b * x + c fitted to the DEM, with no weight on water "
            "and flat ground (slope under 2 degrees).\n"
            "<b>FILTER</b>: auto (default) is non-local means (in dB, strength from the looks) for "
            "seed_lines, as the seed, and none for surface, whose weights are those of raw speckle (nlmeans "
            "there flattens the change).\n"
            "<b>WATER_MASK</b>: optional raster, non-zero = water; pixels whose local level is under the "
            "scene's noise floor and whose DEM, averaged over 5 x 5 pixels, slopes by under 8 degrees are "
            "water too (a DEM's own noise tilts a lake by several degrees; dark land is a slope turned "
            "away from the radar, far steeper). Water is no data in "
            "the outputs.\n"
            "<b>INCIDENCE_DEG</b>: incidence angle at the scene (degrees from vertical); 0 reads it from "
            "the first image's metadata (INCIDENCE_ANGLE), else the surface model stops and asks.\n"
            "<b>RANGE_DIRECTION</b>: left_to_right (default: the radar is to the left, range grows "
            "along columns) or right_to_left.\n"
            "<b>RANGE_SPACING_M</b>, <b>AZIMUTH_SPACING_M</b>: ground pixel spacing (m) along columns "
            "and rows; 0 (default) measures them on the grid's CRS (needed for rasters without CRS).\n"
            "<b>LOOKS</b>: 0 (default) estimates them from the date-to-reference log-ratios.\n"
            "<b>SMOOTHNESS</b> (surface; default 30): the change's slope varies by 1/sqrt(SMOOTHNESS) "
            "from pixel to pixel. <b>DETREND_PX</b> (surface; default 32): the change is taken "
            "relative to its surroundings over this many pixels (brightness gives slopes, and slopes "
            "summed over long distances drift); broader changes are not measured. 0 keeps them.\n"
            "Outputs (one band per date, metres, NaN on water): OUTPUT_DEMS, the elevation of each "
            "date; OUTPUT_CHANGE, the change against the reference date; OUTPUT_STDERR (optional), "
            "the standard error of the change (surface: from the fit's posterior and the looks; "
            "seed_lines: from the residuals of the line fits)."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_rasters(self.AMPLITUDES, "Amplitude images in time order")
        self.add_band(self.BAND, "Band")
        self.add_raster(self.DEM, "Reference DEM (m)")
        self.add_number(self.REFERENCE, "Reference date (1-based)", 1, 1, integer=True)
        self.add_input_scale(self.INPUT_SCALE, INPUT_SCALES, "amplitude")
        self.add_enum(self.MODEL, "Model", elevation.MODELS, "surface")
        self.add_enum(self.FILTER, "Speckle filter", FILTERS, "auto")
        self.add_raster(self.WATER_MASK, "Water mask (non-zero = water)", optional=True)
        self.add_number(self.INCIDENCE_DEG, "Incidence angle (degrees; 0 = from metadata)", 0.0, 0.0, 89.9)
        self.add_enum(self.RANGE_DIRECTION, "Range direction", DIRECTIONS, "left_to_right")
        self.add_number(self.RANGE_SPACING_M, "Range pixel spacing (m; 0 = from the grid)", 0.0, 0.0)
        self.add_number(self.AZIMUTH_SPACING_M, "Azimuth pixel spacing (m; 0 = from the grid)", 0.0, 0.0)
        self.add_looks()
        self.add_number(self.SMOOTHNESS, "Smoothness (surface model)", elevation.SMOOTHNESS, 1e-6)
        self.add_number(self.DETREND_PX, "Detrending scale (pixels; 0 = none)", elevation.DETREND_PX, 0)
        self.add_raster_output(self.OUTPUT_DEMS, "Elevation of each date")
        self.add_raster_output(self.OUTPUT_CHANGE, "Elevation change against the reference")
        self.add_raster_output(self.OUTPUT_STDERR, "Standard error of the change", optional=True)

    @staticmethod
    def incidence_from_metadata(path):
        dataset = open_raster(path)
        items = dataset.GetMetadata() or {}
        for key in INCIDENCE_KEYS:
            try:
                return float(items[key])
            except (KeyError, ValueError):
                continue
        return None

    def compute(self, parameters, context, feedback):
        paths = self.layer_paths(parameters, self.AMPLITUDES, context)
        if len(paths) < 2:
            raise self.error("AMPLITUDES: elevation change needs at least 2 dates, got {}", len(paths))
        band = self.parameterAsInt(parameters, self.BAND, context) or 1
        for path in paths:
            if band > raster_info(path).bands:
                raise self.error("BAND {} does not exist in {}", band, path)
        reference = self.parameterAsInt(parameters, self.REFERENCE, context)
        if not 1 <= reference <= len(paths):
            raise self.error("REFERENCE must be a date of the stack (1..{}), got REFERENCE={}", len(paths), reference)
        dem_path, _ = self.raster_source(parameters, self.DEM, context)
        water_path = None
        if parameters.get(self.WATER_MASK):
            water_path, _ = self.raster_source(parameters, self.WATER_MASK, context)
        model = self.parameterAsEnumString(parameters, self.MODEL, context)
        info = raster_info(paths[0])
        spacing = [
            self.parameterAsDouble(parameters, key, context) for key in (self.RANGE_SPACING_M, self.AZIMUTH_SPACING_M)
        ]
        if not all(spacing):
            measured = self.pixel_spacing_m(info)
            if measured is None:
                raise self.error(
                    "{} has no CRS: give RANGE_SPACING_M and AZIMUTH_SPACING_M (ground metres per pixel)",
                    os.path.basename(paths[0]),
                )
            spacing = [given or found for given, found in zip(spacing, measured)]
            feedback.pushInfo(self.tr("Pixel spacing: {:.2f} m (range) x {:.2f} m (azimuth)").format(*spacing))
        incidence = self.parameterAsDouble(parameters, self.INCIDENCE_DEG, context) or None
        if incidence is None:
            incidence = self.incidence_from_metadata(paths[0])
            if incidence is not None:
                feedback.pushInfo(self.tr("Incidence angle from metadata: {:.2f} degrees").format(incidence))
            elif model == "surface":
                raise self.error(
                    "INCIDENCE_DEG: the surface model needs the incidence angle of the scene (degrees from "
                    "the vertical; e.g. 30-45 for ALOS-2 and TerraSAR-X stripmap), and {} has none in its metadata",
                    os.path.basename(paths[0]),
                )
        outputs = {
            key: self.parameterAsOutputLayer(parameters, key, context)
            for key in (self.OUTPUT_DEMS, self.OUTPUT_CHANGE, self.OUTPUT_STDERR)
        }
        summary = elevation_change_rasters(
            paths,
            dem_path,
            dems_path=outputs[self.OUTPUT_DEMS],
            change_path=outputs[self.OUTPUT_CHANGE],
            stderr_path=outputs[self.OUTPUT_STDERR] or None,
            band=band,
            reference=reference - 1,
            input_scale=self.parameterAsEnumString(parameters, self.INPUT_SCALE, context),
            model=model,
            filter=self.parameterAsEnumString(parameters, self.FILTER, context),
            water_path=water_path,
            looks=self.parameterAsDouble(parameters, self.LOOKS, context),
            incidence_deg=incidence,
            range_spacing_m=spacing[0],
            azimuth_spacing_m=spacing[1],
            range_direction=self.parameterAsEnumString(parameters, self.RANGE_DIRECTION, context),
            smoothness=self.parameterAsDouble(parameters, self.SMOOTHNESS, context),
            detrend_px=self.parameterAsDouble(parameters, self.DETREND_PX, context),
            block_size=settings.block_size(),
            progress=self.progress_fn(feedback),
            is_cancelled=self.cancel_fn(feedback),
        )
        feedback.pushInfo(
            self.tr(
                "Model {}, filter {}, looks {:.2f} (intensities averaged over {} x {} px); gain of each date "
                "removed (dB): {}"
            ).format(
                summary.model,
                summary.filter,
                summary.looks,
                summary.multilook,
                summary.multilook,
                ", ".join(f"{g:+.2f}" for g in summary.gains_db),
            )
        )
        if summary.curve_source and math.isfinite(summary.curve_span_ratio):
            feedback.pushInfo(
                self.tr(
                    "Backscatter curve: {} (span of the neighbouring pixels' curve {:.2f} x the binned medians'; "
                    "under {:.2f} the DEM does not resolve the image's pixel scale and the medians are used)"
                ).format(summary.curve_source, summary.curve_span_ratio, elevation.CURVE_MIN_SPAN_RATIO)
            )
        elif summary.curve_source:
            feedback.pushInfo(
                self.tr("Backscatter curve: {} (too few neighbouring pixels for theirs)").format(summary.curve_source)
            )
        feedback.pushInfo(
            self.tr("Water (under the noise floor {:.1f} dB or masked): {:.1%} of the sampled pixels").format(
                summary.water_floor_db, summary.water_fraction
            )
        )
        metadata = {
            "model": summary.model,
            "reference_date": str(reference),
            "looks": f"{summary.looks:.3f}",
            "backscatter_curve": summary.curve_source or "none (seed_lines)",
            "units": "m",
        }
        result = {}
        for key, path in outputs.items():
            if path:
                set_metadata(path, metadata)
                result[key] = path
        return result
