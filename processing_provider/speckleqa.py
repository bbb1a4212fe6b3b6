"""``sarchange:speckleqa``: a quality report to choose a speckle filter by looking."""

import math
import os

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessingException,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ..algorithms.io.align import aligned
from ..algorithms.io.outputs import write_text
from ..algorithms.io.raster import open_raster, read_window
from ..algorithms.reports.speckle import html_report
from ..algorithms.sar import speckle_qa
from .base import SarAlgorithm

#: Largest window (pixels a side) read for the report; bigger rasters are assessed on their centre.
MAX_SIDE = 4096


class SpeckleQaAlgorithm(SarAlgorithm):
    INPUT = "INPUT"
    BAND = "BAND"
    FILTERED = "FILTERED"
    REFERENCE = "REFERENCE"
    LOOKS = "LOOKS"
    BLOCK = "BLOCK"
    BLOCKS = "BLOCKS"
    OUTPUT_HTML = "OUTPUT_HTML"
    OUTPUT_TABLE = "OUTPUT_TABLE"

    def name(self):
        return "speckleqa"

    def displayName(self):  # noqa: N802
        return self.tr("Speckle filter quality report")

    def group(self):
        return self.tr("Preprocessing")

    def groupId(self):  # noqa: N802
        return "preprocessing"

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Compares filtered versions of a SAR intensity image, so a filter can be chosen by looking.\n\n"
            "For each raster of FILTERED (band 1, aligned onto the grid of INPUT):\n"
            "- <b>ENL</b>: equivalent number of looks, mean^2/variance, averaged over the BLOCKS most "
            "homogeneous BLOCK x BLOCK blocks (chosen on a 7 x 7 mean of INPUT; listed in the report);\n"
            "- <b>mean of the ratio</b> INPUT / filtered (1 keeps the radiometry);\n"
            "- <b>variance of the ratio</b> (1/LOOKS when exactly the speckle was removed);\n"
            "- <b>edge preservation index</b> (Sattar et al. 1997): correlation of the Laplacians of REFERENCE "
            "(a noise-free image if you have one, else INPUT) and the filtered image.\n"
            "Outputs: OUTPUT_HTML, a report with the table and the ratio histograms; OUTPUT_TABLE, the same "
            "numbers as a table. Rasters larger than 4096 x 4096 are assessed on their central 4096 x 4096 "
            "window. Reference: Argenti et al., A tutorial on speckle reduction in SAR images, IEEE GRSM 2013."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_raster(self.INPUT, "Unfiltered intensity", band=self.BAND)
        self.add_rasters(self.FILTERED, "Filtered versions")
        self.add_raster(self.REFERENCE, "Noise-free reference (optional)", optional=True)
        self.add_number(self.LOOKS, "Number of looks of INPUT", 1.0, 0.01)
        self.add_number(self.BLOCK, "Homogeneous block side (pixels)", 32, 4, integer=True)
        self.add_number(self.BLOCKS, "Number of homogeneous blocks", 10, 1, integer=True)
        self.add_html_output(self.OUTPUT_HTML, "Report", optional=False)
        self.add_table_output(self.OUTPUT_TABLE, "Quality table")

    def compute(self, parameters, context, feedback):
        path, info = self.raster_source(parameters, self.INPUT, context)
        band = self.band_number(parameters, self.BAND, context, info)
        layers = self.parameterAsLayerList(parameters, self.FILTERED, context)
        if not layers:
            raise QgsProcessingException(self.tr("FILTERED: give at least one filtered raster"))
        rows, cols = min(info.rows, MAX_SIDE), min(info.cols, MAX_SIDE)
        r0, c0 = (info.rows - rows) // 2, (info.cols - cols) // 2
        window = (slice(r0, r0 + rows), slice(c0, c0 + cols))
        dataset = open_raster(path)
        noisy = read_window(dataset, band, window)
        filtered = {}
        for layer in layers:
            source = layer.source().split("|")[0]
            with aligned(source, info) as aligned_path:
                filtered[layer.name() or os.path.basename(source)] = read_window(open_raster(aligned_path), 1, window)
        reference = None
        if parameters.get(self.REFERENCE):
            ref_path, _ = self.raster_source(parameters, self.REFERENCE, context)
            with aligned(ref_path, info) as aligned_path:
                reference = read_window(open_raster(aligned_path), 1, window)
        feedback.setProgress(40)
        block = self.parameterAsInt(parameters, self.BLOCK, context)
        looks = self.parameterAsDouble(parameters, self.LOOKS, context)
        qualities, blocks, noisy_enl = speckle_qa.assess(
            noisy,
            filtered,
            block=block,
            count=self.parameterAsInt(parameters, self.BLOCKS, context),
            reference=reference,
        )
        feedback.setProgress(80)
        html_path = self.parameterAsFileOutput(parameters, self.OUTPUT_HTML, context)
        html = html_report(
            qualities, blocks, noisy_enl, block=block, looks=looks, title=self.tr("Speckle filter quality")
        )
        write_text(html_path, html)

        fields = QgsFields()
        fields.append(QgsField("filter", QVariant.String))
        for name in ("enl", "ratio_mean", "ratio_variance", "epi"):
            fields.append(QgsField(name, QVariant.Double))
        sink, dest_id = self.parameterAsSink(
            parameters, self.OUTPUT_TABLE, context, fields, QgsWkbTypes.NoGeometry, QgsCoordinateReferenceSystem()
        )
        for q in qualities:
            feature = QgsFeature(fields)
            enl = q.enl if math.isfinite(q.enl) else None  # NULL: no variance left, see the log
            feature.setAttributes([q.name, enl, q.ratio_mean, q.ratio_variance, q.epi])
            sink.addFeature(feature, QgsFeatureSink.FastInsert)
        del sink  # flush and close now, see changedetection
        for q in qualities:
            feedback.pushInfo(
                f"{q.name}: ENL {speckle_qa.format_enl(q.enl)}, ratio mean {q.ratio_mean:.4f}, "
                f"ratio variance {q.ratio_variance:.4f}, EPI {q.epi:.3f}"
            )
        return {self.OUTPUT_HTML: html_path, self.OUTPUT_TABLE: dest_id}
