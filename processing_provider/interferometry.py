"""``sarchange:interferogram`` and ``sarchange:differentialinterferogram``."""

import os
import re

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
)

from ..algorithms.io.align import same_grid
from ..algorithms.io.outputs import set_metadata
from ..algorithms.io.raster import open_raster
from ..algorithms.sar import interferometry as ifm
from ..algorithms.workflows.interferometry import differential_files, process_pair_files
from . import settings
from .base import SarAlgorithm, tr


def parse_window(text):
    """'5,15', '5x15' or '5' -> (rows, cols)."""
    parts = [p for p in re.split(r"[,x* ]+", str(text).strip()) if p]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) == 1:
        values = values * 2
    if len(values) != 2:
        raise QgsProcessingException(
            tr("COHERENCE_WINDOW must be 'rows,cols' in pixels, got COHERENCE_WINDOW={}").format(text)
        )
    return ifm.check_window(tuple(values))


def wavelength_from_metadata(path):
    """The wavelength (m) a raster's metadata states (items WAVELENGTH_M or WAVELENGTH), or None."""
    dataset = open_raster(path)
    for key in ("WAVELENGTH_M", "wavelength_m", "WAVELENGTH", "wavelength"):
        value = dataset.GetMetadataItem(key)
        if value:
            try:
                return float(value)
            except ValueError:
                continue
    return None


class InterferogramAlgorithm(SarAlgorithm):
    REFERENCE = "REFERENCE"
    SECONDARY = "SECONDARY"
    COREGISTER = "COREGISTER"
    COHERENCE_WINDOW = "COHERENCE_WINDOW"
    REMOVE_RAMP = "REMOVE_RAMP"
    FILTER = "FILTER"
    ALPHA = "ALPHA"
    WAVELENGTH_M = "WAVELENGTH_M"
    OUTPUT_PHASE = "OUTPUT_PHASE"
    OUTPUT_COHERENCE = "OUTPUT_COHERENCE"
    OUTPUT_DISPLACEMENT = "OUTPUT_DISPLACEMENT"

    def name(self):
        return "interferogram"

    def displayName(self):  # noqa: N802
        return self.tr("Interferogram, coherence and displacement")

    def group(self):
        return self.tr("Interferometry")

    def groupId(self):  # noqa: N802
        return "interferometry"

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Forms the interferogram REFERENCE x conj(SECONDARY) of two complex (SLC) rasters and derives "
            "coherence, wrapped phase and line-of-sight displacement.\n\n"
            "<b>REFERENCE</b>, <b>SECONDARY</b>: complex rasters (CFloat32, band 1) of the same size, in radar "
            "geometry (e.g. from readceos).\n"
            "<b>COREGISTER</b>: <i>none</i>, <i>integer</i> or <i>subpixel</i> (default): phase correlation "
            "of the amplitudes (oversampled by 2, central 1024 x 1024 window) refined to a tenth of a pixel "
            "(<i>integer</i>: rounded to the nearest whole pixel, which moves pixels without interpolation); "
            "the secondary is resampled with a 33-tap Kaiser-windowed sinc applied to I and Q (amplitude and "
            "phase move together); its border where the kernel leaves the image (16 pixels plus the shift) "
            "is no data.\n"
            "<b>COHERENCE_WINDOW</b>: 'rows,cols' of the boxcar (default 5,5), borders mirror-reflected.\n"
            "<b>REMOVE_RAMP</b>: fit and remove a planar phase ramp (the orbital fringes) automatically over "
            "coherent pixels (coherence >= 0.5), without unwrapping; scenes over 2 Mpixel are fitted on an "
            "even grid of 512 x 512 windows.\n"
            "<b>FILTER</b>: none or goldstein (Goldstein & Werner 1998) with <b>ALPHA</b> 0-1.\n"
            "<b>WAVELENGTH_M</b>: radar wavelength in metres; 0 (default) reads it from the reference's "
            "metadata (item WAVELENGTH_M, written by readceos). There is no default band: when neither gives "
            "it, the displacement output needs it (PALSAR-2 L-band 0.2424, ALOS 0.2361, Sentinel-1 C-band "
            "0.05547, TerraSAR-X 0.0311); phase and coherence do not. The log says which was used.\n"
            "Outputs: OUTPUT_PHASE (wrapped, radians), OUTPUT_COHERENCE (0-1), OUTPUT_DISPLACEMENT "
            "(line-of-sight metres, -wavelength/(4 pi) x phase, positive towards the satellite; WRAPPED: "
            "valid within half a wavelength), and the numbers SHIFT_ROWS, SHIFT_COLS (pixels applied to "
            "the secondary) and RAMP_A (rad), RAMP_B (rad/column), RAMP_C (rad/row). Processed in blocks "
            "with a halo (the same result as the whole image): any scene size fits in memory."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_raster(self.REFERENCE, "Reference (complex)")
        self.add_raster(self.SECONDARY, "Secondary (complex)")
        self.add_enum(self.COREGISTER, "Coregistration", list(ifm.COREGISTRATION), "subpixel")
        self.add_text(self.COHERENCE_WINDOW, "Coherence window (rows,cols)", "5,5")
        self.add_flag(self.REMOVE_RAMP, "Remove the phase ramp", True)
        self.add_enum(self.FILTER, "Phase filter", ["none", "goldstein"], "none")
        self.add_number(self.ALPHA, "Goldstein alpha", 0.5, 0, 1)
        self.add_number(self.WAVELENGTH_M, "Wavelength (m; 0 = metadata)", 0.0, 0.0)
        self.add_raster_output(self.OUTPUT_PHASE, "Wrapped phase", style="phase")
        self.add_raster_output(self.OUTPUT_COHERENCE, "Coherence", style="coherence")
        self.add_raster_output(self.OUTPUT_DISPLACEMENT, "LOS displacement (m, wrapped)", optional=True)
        for name, label in (
            ("SHIFT_ROWS", "Shift applied (rows)"),
            ("SHIFT_COLS", "Shift applied (columns)"),
            ("RAMP_A", "Ramp offset (rad)"),
            ("RAMP_B", "Ramp per column (rad)"),
            ("RAMP_C", "Ramp per row (rad)"),
        ):
            self.addOutput(QgsProcessingOutputNumber(name, self.tr(label)))

    def compute(self, parameters, context, feedback):
        ref_path, ref_info = self.raster_source(parameters, self.REFERENCE, context)
        sec_path, sec_info = self.raster_source(parameters, self.SECONDARY, context)
        for name, info in ((self.REFERENCE, ref_info), (self.SECONDARY, sec_info)):
            if info.dtypes[0].kind != "c":
                raise self.error(
                    "{} must be a complex raster (CFloat32), got {} in {}", name, info.dtypes[0], info.path
                )
        if (ref_info.rows, ref_info.cols) != (sec_info.rows, sec_info.cols):
            raise self.error(
                "REFERENCE and SECONDARY must have one size, got {}x{} and {}x{}",
                ref_info.rows,
                ref_info.cols,
                sec_info.rows,
                sec_info.cols,
            )
        if ref_info.crs_wkt and sec_info.crs_wkt and not same_grid(ref_info, sec_info):
            feedback.pushWarning(
                self.tr("The two rasters have different georeferencing; they are used pixel for pixel.")
            )
        window = parse_window(self.parameterAsString(parameters, self.COHERENCE_WINDOW, context))
        use_filter = self.parameterAsEnumString(parameters, self.FILTER, context) == "goldstein"
        keys = (self.OUTPUT_PHASE, self.OUTPUT_COHERENCE, self.OUTPUT_DISPLACEMENT)
        paths = {key: self.parameterAsOutputLayer(parameters, key, context) for key in keys}
        paths = {key: path for key, path in paths.items() if path}
        wavelength, source = self.parameterAsDouble(parameters, self.WAVELENGTH_M, context), "given"
        if wavelength <= 0:
            wavelength, source = wavelength_from_metadata(ref_path), "from the REFERENCE metadata"
        if self.OUTPUT_DISPLACEMENT in paths:
            if not wavelength:
                raise self.error(
                    "WAVELENGTH_M: {} states no radar wavelength (metadata item WAVELENGTH_M) and none was given; "
                    "the displacement depends on it: give WAVELENGTH_M (PALSAR-2 0.2424, ALOS 0.2361, "
                    "Sentinel-1 0.05547, TerraSAR-X 0.0311 m) or leave OUTPUT_DISPLACEMENT out",
                    os.path.basename(ref_path),
                )
            feedback.pushInfo(self.tr("Wavelength {:.5f} m ({})").format(wavelength, source))
        result = process_pair_files(
            ref_path,
            sec_path,
            phase_path=paths[self.OUTPUT_PHASE],
            coherence_path=paths[self.OUTPUT_COHERENCE],
            displacement_path=paths.get(self.OUTPUT_DISPLACEMENT),
            coregister=self.parameterAsEnumString(parameters, self.COREGISTER, context),
            window=window,
            remove_ramp=self.parameterAsBool(parameters, self.REMOVE_RAMP, context),
            goldstein_alpha=self.parameterAsDouble(parameters, self.ALPHA, context) if use_filter else 0.0,
            wavelength_m=wavelength,
            block_size=settings.block_size(),
            progress=self.progress_fn(feedback),
            is_cancelled=self.cancel_fn(feedback),
        )
        items = {
            "SHIFT_ROWS": result.shift[0],
            "SHIFT_COLS": result.shift[1],
            "RAMP": ",".join(map(str, result.ramp)),
        }
        if wavelength:
            items["WAVELENGTH_M"] = wavelength
        for path in paths.values():
            set_metadata(path, items)
        outputs = dict(paths)
        feedback.pushInfo(
            self.tr("Shift (rows, cols): {:.2f}, {:.2f} px; ramp a, b, c: {:.4f}, {:.5f}, {:.5f}").format(
                *result.shift, *result.ramp
            )
        )
        outputs.update(
            SHIFT_ROWS=result.shift[0],
            SHIFT_COLS=result.shift[1],
            RAMP_A=result.ramp[0],
            RAMP_B=result.ramp[1],
            RAMP_C=result.ramp[2],
        )
        return outputs


class DifferentialInterferogramAlgorithm(SarAlgorithm):
    INTERFEROGRAM_A = "INTERFEROGRAM_A"
    INTERFEROGRAM_B = "INTERFEROGRAM_B"
    REMOVE_RAMP = "REMOVE_RAMP"
    OUTPUT = "OUTPUT"

    def name(self):
        return "differentialinterferogram"

    def displayName(self):  # noqa: N802
        return self.tr("Differential interferogram (DEM-free)")

    def group(self):
        return self.tr("Interferometry")

    def groupId(self):  # noqa: N802
        return "interferometry"

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Differences two interferograms that share a reference date: wrap(ifg_a - ramp_a - (ifg_b - "
            "ramp_b)), both ramps fitted on the pixels valid in both. Topographic phase, common to both, "
            "cancels; deformation between the secondary dates "
            "remains, without a DEM (the technique published for PALSAR-2 over Tokyo Bay).\n\n"
            "<b>INTERFEROGRAM_A</b>, <b>INTERFEROGRAM_B</b>: wrapped phase rasters (radians) on one grid, e.g. "
            "OUTPUT_PHASE of sarchange:interferogram.\n"
            "<b>REMOVE_RAMP</b>: fit and remove a planar ramp from each first (default yes; harmless when "
            "already removed).\n"
            "<b>OUTPUT</b>: wrapped differential phase, radians."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_raster(self.INTERFEROGRAM_A, "Interferogram A (phase)")
        self.add_raster(self.INTERFEROGRAM_B, "Interferogram B (phase)")
        self.add_flag(self.REMOVE_RAMP, "Remove each ramp first", True)
        self.add_raster_output(self.OUTPUT, "Differential phase", style="phase")

    def compute(self, parameters, context, feedback):
        a_path, a_info = self.raster_source(parameters, self.INTERFEROGRAM_A, context)
        b_path, b_info = self.raster_source(parameters, self.INTERFEROGRAM_B, context)
        if (a_info.rows, a_info.cols) != (b_info.rows, b_info.cols):
            raise self.error("INTERFEROGRAM_A and INTERFEROGRAM_B must have one size")
        path = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        differential_files(
            a_path,
            b_path,
            path,
            remove_ramp=self.parameterAsBool(parameters, self.REMOVE_RAMP, context),
            block_size=settings.block_size(),
            progress=self.progress_fn(feedback),
            is_cancelled=self.cancel_fn(feedback),
        )
        return {self.OUTPUT: path}
