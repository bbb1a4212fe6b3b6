"""``sarchange:despeckle``: the speckle filter family."""

from ..algorithms.sar.despeckle import METHODS
from ..algorithms.workflows.despeckle import despeckle_raster
from . import settings
from .base import SarAlgorithm


class DespeckleAlgorithm(SarAlgorithm):
    INPUT = "INPUT"
    BAND = "BAND"
    METHOD = "METHOD"
    WINDOW = "WINDOW"
    LOOKS = "LOOKS"
    INPUT_SCALE = "INPUT_SCALE"
    DAMPING = "DAMPING"
    SIGMA = "SIGMA"
    WEIGHT = "WEIGHT"
    H = "H"
    PATCH_SIZE = "PATCH_SIZE"
    PATCH_DISTANCE = "PATCH_DISTANCE"
    OUTPUT = "OUTPUT"

    def name(self):
        return "despeckle"

    def displayName(self):  # noqa: N802
        return self.tr("Despeckle")

    def group(self):
        return self.tr("Preprocessing")

    def groupId(self):  # noqa: N802
        return "preprocessing"

    def tags(self):
        return self.tr("speckle,filter,lee,frost,gamma,kuan,sigma,refined,tv,nlmeans,sar").split(",")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Reduces speckle in one band of a SAR intensity image.\n\n"
            "<b>METHOD</b>:\n"
            "<i>boxcar</i>, <i>median</i>: mean / median over the window.\n"
            "<i>lee</i>, <i>frost</i>, <i>gamma_map</i>, <i>kuan</i>: the adaptive filters exactly as Orfeo "
            "ToolBox computes them (otbcli_Despeckle; window = 2 x radius + 1).\n"
            "<i>refined_lee</i>: MMSE over the edge-aligned half window (Lee 1981; SNAP's 7 x 7 layout).\n"
            "<i>lee_sigma</i>: improved sigma filter with point-target preservation (Lee et al. 2009).\n"
            "<i>tv</i>: total variation in dB, 10^(TV(10 log10 x)/10), scikit-image split Bregman.\n"
            "<i>nlmeans</i>: non-local means in dB (scikit-image).\n\n"
            "<b>WINDOW</b>: odd window side in pixels (default 7).\n"
            "<b>LOOKS</b>: equivalent number of looks of the input (default 1).\n"
            "<b>INPUT_SCALE</b>: <i>auto</i> (default: Byte = 8-bit display amplitude, values with negatives = "
            "dB, else linear power; logged), <i>linear</i>, <i>db</i>, <i>amplitude</i>, <i>display</i>, "
            "<i>palsar_dn</i>; the filter works on linear power and the output is written back in the input's "
            "scale (Float32).\n"
            "<b>DAMPING</b> (frost, default 0.1 as OTB's deramp), <b>SIGMA</b> (lee_sigma, 0.5-0.9, default 0.9), "
            "<b>WEIGHT</b> (tv, default 0.5: smaller smooths more), <b>H</b> (nlmeans strength in dB; "
            "default 0 = 0.8 x the speckle standard deviation in dB for LOOKS), <b>PATCH_SIZE</b>, "
            "<b>PATCH_DISTANCE</b> (nlmeans, pixels).\n\n"
            "Nodata pixels stay nodata and are left out of their neighbours' statistics. The raster is "
            "processed in blocks with a halo: the local filters give exactly the whole-image result."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_raster(self.INPUT, "Input raster (intensity)", band=self.BAND)
        self.add_enum(self.METHOD, "Method", list(METHODS), "lee")
        self.add_number(self.WINDOW, "Window (pixels, odd)", 7, 3, 101, integer=True)
        self.add_number(self.LOOKS, "Number of looks", 1.0, 0.01)
        self.add_input_scale()
        self.add_number(self.DAMPING, "Frost damping", 0.1, 0.0, advanced=True)
        self.add_number(self.SIGMA, "Lee sigma: sigma", 0.9, 0.5, 0.9, advanced=True)
        self.add_number(self.WEIGHT, "TV weight", 0.5, 1e-6, advanced=True)
        self.add_number(self.H, "Non-local means strength h (dB; 0 = from LOOKS)", 0.0, 0.0, advanced=True)
        self.add_number(self.PATCH_SIZE, "Non-local means patch size", 5, 1, 21, integer=True, advanced=True)
        distance = "Non-local means search distance"
        self.add_number(self.PATCH_DISTANCE, distance, 6, 1, 50, integer=True, advanced=True)
        self.add_raster_output(self.OUTPUT, "Despeckled", style="db")  # a 2-98 % stretch suits linear power too

    def compute(self, parameters, context, feedback):
        path, info = self.raster_source(parameters, self.INPUT, context)
        band = self.band_number(parameters, self.BAND, context, info)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        despeckle_raster(
            path,
            output,
            self.parameterAsEnumString(parameters, self.METHOD, context),
            band=band,
            window=self.parameterAsInt(parameters, self.WINDOW, context),
            looks=self.parameterAsDouble(parameters, self.LOOKS, context),
            input_scale=self.input_scale_of(parameters, self.INPUT_SCALE, context, feedback, path, band),
            damping=self.parameterAsDouble(parameters, self.DAMPING, context),
            sigma=self.parameterAsDouble(parameters, self.SIGMA, context),
            weight=self.parameterAsDouble(parameters, self.WEIGHT, context),
            h=self.parameterAsDouble(parameters, self.H, context),
            patch_size=self.parameterAsInt(parameters, self.PATCH_SIZE, context),
            patch_distance=self.parameterAsInt(parameters, self.PATCH_DISTANCE, context),
            block_size=settings.block_size(),
            progress=self.progress_fn(feedback),
            is_cancelled=self.cancel_fn(feedback),
        )
        return {self.OUTPUT: output}
