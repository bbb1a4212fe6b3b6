"""``sarchange:simulatepair``: the built-in demo scene pair."""

from ..algorithms.simulation import pair as simulate
from .base import SarAlgorithm


class SimulatePairAlgorithm(SarAlgorithm):
    ROWS = "ROWS"
    COLS = "COLS"
    LOOKS = "LOOKS"
    SEED = "SEED"
    OUTPUT_BEFORE = "OUTPUT_BEFORE"
    OUTPUT_AFTER = "OUTPUT_AFTER"
    OUTPUT_TRUTH = "OUTPUT_TRUTH"

    def name(self):
        return "simulatepair"

    def displayName(self):  # noqa: N802
        return self.tr("Simulate a two-date SAR scene pair")

    def group(self):
        return self.tr("Utilities")

    def groupId(self):  # noqa: N802
        return "utilities"

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Writes a deterministic simulated before/after intensity pair with known change, to try the "
            "toolkit or test a workflow.\n\n"
            "The reflectivity is a smooth random texture with parcels; patches of 3-6 dB loss or gain "
            "(about 20 to 2000 pixels) change between the dates; each date has independent gamma "
            "speckle of LOOKS looks (mean 1, variance 1/LOOKS).\n"
            "<b>ROWS</b>, <b>COLS</b>: size in pixels (default 512).\n"
            "<b>LOOKS</b>: equivalent number of looks (default 1).\n"
            "<b>SEED</b>: the same seed always gives the same scene.\n"
            "Outputs: OUTPUT_BEFORE, OUTPUT_AFTER (Float32 linear power), OUTPUT_TRUTH (Byte: 0 no change, "
            "1 loss, 2 gain), in EPSG:32654 with 10 m pixels."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_number(self.ROWS, "Rows (pixels)", 512, 32, 8192, integer=True)
        self.add_number(self.COLS, "Columns (pixels)", 512, 32, 8192, integer=True)
        self.add_number(self.LOOKS, "Number of looks", 1.0, 0.1, 1000)
        self.add_number(self.SEED, "Random seed", 0, 0, integer=True)
        self.add_raster_output(self.OUTPUT_BEFORE, "Before (linear power)")
        self.add_raster_output(self.OUTPUT_AFTER, "After (linear power)")
        self.add_raster_output(self.OUTPUT_TRUTH, "Change truth")

    def compute(self, parameters, context, feedback):
        rows = self.parameterAsInt(parameters, self.ROWS, context)
        cols = self.parameterAsInt(parameters, self.COLS, context)
        looks = self.parameterAsDouble(parameters, self.LOOKS, context)
        seed = self.parameterAsInt(parameters, self.SEED, context)
        paths = {
            "before": self.parameterAsOutputLayer(parameters, self.OUTPUT_BEFORE, context),
            "after": self.parameterAsOutputLayer(parameters, self.OUTPUT_AFTER, context),
            "truth": self.parameterAsOutputLayer(parameters, self.OUTPUT_TRUTH, context),
        }
        simulate.write_pair(paths, rows, cols, looks=looks, seed=seed)
        feedback.setProgress(100)
        return {
            self.OUTPUT_BEFORE: paths["before"],
            self.OUTPUT_AFTER: paths["after"],
            self.OUTPUT_TRUTH: paths["truth"],
        }
