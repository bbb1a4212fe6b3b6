"""``sarchange:todb``: linear power <-> dB."""

import numpy as np

from ..algorithms.io.pipeline import process_blockwise
from ..algorithms.io.raster import sample_band
from ..algorithms.sar.convert import db_to_power, power_to_db, resolve_scale
from .base import SarAlgorithm


class ToDbAlgorithm(SarAlgorithm):
    INPUT = "INPUT"
    BAND = "BAND"
    DIRECTION = "DIRECTION"
    OUTPUT = "OUTPUT"
    DIRECTIONS = ["to_db", "to_linear"]

    def name(self):
        return "todb"

    def displayName(self):  # noqa: N802
        return self.tr("Linear power to dB (and back)")

    def group(self):
        return self.tr("Preprocessing")

    def groupId(self):  # noqa: N802
        return "preprocessing"

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Converts one band of a SAR intensity raster between linear power and decibels.\n\n"
            "<b>Input raster</b> (INPUT): backscatter as linear power (sigma0, gamma0 or beta0, not amplitude) "
            "or in dB.\n"
            "<b>Band</b> (BAND, default 1).\n"
            "<b>Direction</b> (DIRECTION): <i>to_db</i> computes 10*log10(power); <i>to_linear</i> computes "
            "10^(dB/10).\n"
            "<b>Output</b> (OUTPUT): Float32 GeoTIFF on the input grid and CRS, nodata NaN.\n\n"
            "Nodata pixels stay nodata. Zero and negative powers have no logarithm: they become nodata, never "
            "-inf. The raster is processed in blocks, so any size fits in memory."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_raster(self.INPUT, "Input raster", band=self.BAND)
        self.add_enum(self.DIRECTION, "Direction", self.DIRECTIONS, "to_db")
        self.add_raster_output(self.OUTPUT, "Output")

    def compute(self, parameters, context, feedback):
        path, info = self.raster_source(parameters, self.INPUT, context)
        band = self.band_number(parameters, self.BAND, context, info)
        direction = self.parameterAsEnumString(parameters, self.DIRECTION, context)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        func = power_to_db if direction == "to_db" else db_to_power
        sample = sample_band(path, band, max_pixels=250_000, window=128)
        if direction == "to_db":  # no valid, no positive or mostly negative pixels: a clear error
            resolve_scale("linear", info.dtypes[band - 1], sample, "INPUT")
        else:
            resolve_scale("db", info.dtypes[band - 1], sample, "INPUT")
            if not (sample[np.isfinite(sample)] < 0).any():
                feedback.pushWarning(
                    self.tr("INPUT has no negative value, rare for backscatter in dB: is it already linear power?")
                )
        process_blockwise(
            path,
            output,
            func,
            band=band,
            progress=self.progress_fn(feedback),
            is_cancelled=self.cancel_fn(feedback),
        )
        if direction == "to_db":
            self.style_output(context, output, "db")
        return {self.OUTPUT: output}
