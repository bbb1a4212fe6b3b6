"""``sarchange:superpixels`` and ``sarchange:kmeans``."""

import os

import numpy as np
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ..algorithms.common.cancel import interruptible, phase
from ..algorithms.io.align import aligned
from ..algorithms.io.outputs import RasterWriter
from ..algorithms.io.raster import open_raster, raster_info, read_window
from ..algorithms.sar import classify
from ..algorithms.sar.convert import power_to_db
from ..algorithms.sar.segmentation import MAX_SIGMA_PX, felzenszwalb, scale_features, segment_mean_std
from ..algorithms.workflows.classify import CLASS_COLOURS, class_counts, kmeans_rasters
from .base import SarAlgorithm


def _add_segmentation_parameters(alg, advanced=False):
    """The Felzenszwalb parameters both superpixel algorithms share."""
    alg.add_number(alg.SCALE, "Scale (higher: larger segments)", 1.0, 1e-9, advanced=advanced)
    alg.add_number(alg.SIGMA, "Smoothing sigma (pixels)", 0.8, 0.0, MAX_SIGMA_PX, advanced=advanced)
    alg.add_number(alg.MIN_SIZE, "Minimum segment size (pixels)", 20, 1, integer=True, advanced=advanced)


class SuperpixelsAlgorithm(SarAlgorithm):
    INPUTS = "INPUTS"
    SCALE = "SCALE"
    SIGMA = "SIGMA"
    MIN_SIZE = "MIN_SIZE"
    INPUT_SCALE = "INPUT_SCALE"
    OUTPUT_LABELS = "OUTPUT_LABELS"
    OUTPUT_POLYGONS = "OUTPUT_POLYGONS"
    SEGMENTS = "SEGMENTS"

    def name(self):
        return "superpixels"

    def displayName(self):  # noqa: N802
        return self.tr("Superpixels (Felzenszwalb)")

    def group(self):
        return self.tr("Classification")

    def groupId(self):  # noqa: N802
        return "classification"

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Segments one or more aligned rasters into superpixels with the graph method of Felzenszwalb & "
            "Huttenlocher (IJCV 2004, scikit-image).\n\n"
            "<b>INPUTS</b>: every band of every raster is a channel (resampled onto the grid of the first).\n"
            "<b>INPUT_SCALE</b>: <i>linear</i> (values used as they are) or <i>db</i> (linear power converted "
            "to dB first). Each channel is then min-max scaled to 0-1, so SCALE behaves the same whatever "
            "the units. Nodata pixels are segmented with their stored value (as scikit-image sees the file) "
            "and left out of the statistics.\n"
            "<b>SCALE</b> (larger segments when higher), <b>SIGMA</b> (Gaussian pre-smoothing, pixels), "
            "<b>MIN_SIZE</b> (pixels).\n"
            "Outputs: OUTPUT_LABELS (Int32 segment id), OUTPUT_POLYGONS (one polygon per segment with "
            "b1_mean, b1_std, ... per channel in input units, and pixels), and SEGMENTS (their number). "
            "The whole raster is segmented in memory."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_rasters(self.INPUTS, "Rasters")
        _add_segmentation_parameters(self)
        self.add_enum(self.INPUT_SCALE, "Input values", ["linear", "db"], "linear")
        self.add_raster_output(self.OUTPUT_LABELS, "Segment labels")
        self.add_polygons_output(self.OUTPUT_POLYGONS, "Segment polygons", optional=True)
        self.addOutput(QgsProcessingOutputNumber(self.SEGMENTS, self.tr("Number of segments")))

    def compute(self, parameters, context, feedback):
        paths = self.layer_paths(parameters, self.INPUTS, context)
        if not paths:
            raise QgsProcessingException(self.tr("INPUTS: give at least one raster"))
        reference = raster_info(paths[0])
        channels, raw = [], []
        for path in paths:
            with aligned(path, reference) as aligned_path:
                dataset = open_raster(aligned_path)
                for b in range(dataset.RasterCount):
                    channels.append(read_window(dataset, b + 1, dtype=np.float64))
                    raw.append(dataset.GetRasterBand(b + 1).ReadAsArray().astype(np.float64))
        if not any(np.isfinite(c).any() for c in channels):
            raise QgsProcessingException(self.tr("INPUTS have no valid pixel (all nodata or NaN): nothing to segment"))
        in_db = self.parameterAsEnumString(parameters, self.INPUT_SCALE, context) == "db"
        # Segment the stored values (a nodata value is segmented like any other, as scikit-image would
        # see the file); statistics leave nodata out.
        features = [power_to_db(c) if in_db else r for c, r in zip(channels, raw)]
        with phase(0.02, 0.5):
            labels = interruptible(  # scaling and segmenting: a cancel returns within a poll
                lambda *args: felzenszwalb(scale_features(features), *args),
                self.parameterAsDouble(parameters, self.SCALE, context),
                self.parameterAsDouble(parameters, self.SIGMA, context),
                self.parameterAsInt(parameters, self.MIN_SIZE, context),
            )
        n = int(labels.max()) + 1
        feedback.pushInfo(self.tr("{} segments").format(n))
        feedback.setProgress(50)
        out = self.parameterAsOutputLayer(parameters, self.OUTPUT_LABELS, context)
        with RasterWriter.like(reference, out, dtype=np.int32, nodata=-1) as writer:
            writer.write(labels)
        results = {self.OUTPUT_LABELS: out, self.SEGMENTS: n}
        if parameters.get(self.OUTPUT_POLYGONS):
            stats = interruptible(lambda: [segment_mean_std(labels, c, n) for c in channels])
            fields = QgsFields()
            fields.append(QgsField("segment", QVariant.Int))
            fields.append(QgsField("pixels", QVariant.Int))
            for i in range(len(channels)):
                fields.append(QgsField(f"b{i + 1}_mean", QVariant.Double))
                fields.append(QgsField(f"b{i + 1}_std", QVariant.Double))
            sizes = np.bincount(labels.ravel(), minlength=n)

            def attributes(label):
                segment = label - 1
                values = [segment, int(sizes[segment])]
                for mean, std in stats:
                    values += [_number(mean[segment]), _number(std[segment])]
                return values

            with phase(0.55, 1.0):
                dest_id = self.write_regions(
                    parameters, self.OUTPUT_POLYGONS, context, feedback, fields, labels + 1, reference, attributes
                )
            results[self.OUTPUT_POLYGONS] = dest_id
        return results


def _number(value):
    return float(value) if np.isfinite(value) else None


class KMeansAlgorithm(SarAlgorithm):
    BACKSCATTER = "BACKSCATTER"
    COHERENCE = "COHERENCE"
    CLASSES = "CLASSES"
    FEATURES_DB = "FEATURES_DB"
    NORMALISE = "NORMALISE"
    UNIT = "UNIT"
    SCALE = "SCALE"
    SIGMA = "SIGMA"
    MIN_SIZE = "MIN_SIZE"
    SEED = "SEED"
    SAMPLE_SIZE = "SAMPLE_SIZE"
    OUTPUT = "OUTPUT"
    OUTPUT_CENTRES = "OUTPUT_CENTRES"

    def name(self):
        return "kmeans"

    def displayName(self):  # noqa: N802
        return self.tr("K-means classification (backscatter + coherence)")

    def group(self):
        return self.tr("Classification")

    def groupId(self):  # noqa: N802
        return "classification"

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Unsupervised land-cover classes from SAR backscatter and interferometric coherence.\n\n"
            "<b>BACKSCATTER</b>: linear power rasters (band 1 of each); <b>COHERENCE</b>: optional 0-1 rasters. "
            "All are resampled onto the grid of the first backscatter raster.\n"
            "<b>CLASSES</b> (default 3). <b>FEATURES_DB</b>: use backscatter in dB (default yes). "
            "<b>NORMALISE</b>: <i>standard</i> (default: zero mean, unit variance, so dB and coherence weigh "
            "alike), <i>minmax</i> or <i>none</i>.\n"
            "<b>UNIT</b>: <i>pixel</i> (fit on SAMPLE_SIZE random valid pixels, then classify block by block: "
            "any raster size, bounded memory) or <i>superpixel</i> (Felzenszwalb segments, SCALE/SIGMA/MIN_SIZE, "
            "whose means are clustered; in memory).\n"
            "<b>SEED</b>: the same seed gives the same result. Classes are numbered by mean backscatter, "
            "ascending (0 = darkest, e.g. water), so the numbers are stable between runs.\n"
            "Outputs: OUTPUT (Byte classes with a colour table, nodata 255 wherever any input is nodata) and "
            "OUTPUT_CENTRES (one row per class: its centre in original units - linear power and dB for "
            "backscatter, 0-1 for coherence - and its pixel count)."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_rasters(self.BACKSCATTER, "Backscatter (linear power)")
        self.add_rasters(self.COHERENCE, "Coherence (0-1)", optional=True)
        self.add_number(self.CLASSES, "Classes", 3, 2, 10, integer=True)
        self.add_flag(self.FEATURES_DB, "Backscatter in dB", True)
        self.add_enum(self.NORMALISE, "Normalisation", list(classify.NORMALISATIONS), "standard")
        self.add_enum(self.UNIT, "Unit", list(classify.UNITS), "pixel")
        self.add_number(self.SEED, "Random seed", 0, 0, integer=True)
        _add_segmentation_parameters(self, advanced=True)
        self.add_number(self.SAMPLE_SIZE, "Sample size (pixels, pixel unit)", 200000, 10, integer=True, advanced=True)
        self.add_raster_output(self.OUTPUT, "Classes")
        self.add_table_output(self.OUTPUT_CENTRES, "Class centres", optional=True)

    def compute(self, parameters, context, feedback):
        backscatter = self.layer_paths(parameters, self.BACKSCATTER, context)
        coherence = self.layer_paths(parameters, self.COHERENCE, context)
        if not backscatter:
            raise QgsProcessingException(self.tr("BACKSCATTER: give at least one raster"))
        classes = self.parameterAsInt(parameters, self.CLASSES, context)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        features_db = self.parameterAsBool(parameters, self.FEATURES_DB, context)
        model = kmeans_rasters(
            [(p, 1) for p in backscatter],
            [(p, 1) for p in coherence],
            output,
            classes=classes,
            features_db=features_db,
            normalise=self.parameterAsEnumString(parameters, self.NORMALISE, context),
            unit=self.parameterAsEnumString(parameters, self.UNIT, context),
            seed=self.parameterAsInt(parameters, self.SEED, context),
            sample_size=self.parameterAsInt(parameters, self.SAMPLE_SIZE, context),
            scale=self.parameterAsDouble(parameters, self.SCALE, context),
            sigma=self.parameterAsDouble(parameters, self.SIGMA, context),
            min_size=self.parameterAsInt(parameters, self.MIN_SIZE, context),
            progress=self.progress_fn(feedback, 0, 90),
            is_cancelled=self.cancel_fn(feedback),
        )
        counts = class_counts(output, classes)
        names = [os.path.splitext(os.path.basename(p))[0] for p in backscatter + coherence]
        original = model.centres_original_units()
        for i in range(classes):
            feedback.pushInfo(
                f"class {i}: " + ", ".join(f"{n}={v:.4g}" for n, v in zip(names, original[i])) + f", pixels={counts[i]}"
            )
        results = {self.OUTPUT: output}
        legend = []
        for i in range(classes):  # each class named by its centre, as the log lists them
            centre = ", ".join(
                f"{n} {10 * np.log10(v):.1f} dB" if k < len(backscatter) and v > 0 else f"{n} {v:.2f}"
                for k, (n, v) in enumerate(zip(names, original[i]))
            )
            legend.append((i, CLASS_COLOURS[i % len(CLASS_COLOURS)], self.tr("class {}: {}").format(i, centre)))
        self.style_output(context, output, "classes", classes=legend)
        if parameters.get(self.OUTPUT_CENTRES):
            fields = QgsFields()
            fields.append(QgsField("class", QVariant.Int))
            fields.append(QgsField("pixels", QVariant.LongLong))
            for i, name in enumerate(names):
                fields.append(QgsField(name, QVariant.Double))
                if i < len(backscatter):
                    fields.append(QgsField(f"{name}_db", QVariant.Double))
            sink, dest_id = self.parameterAsSink(
                parameters, self.OUTPUT_CENTRES, context, fields, QgsWkbTypes.NoGeometry, QgsCoordinateReferenceSystem()
            )
            for c in range(classes):
                values = [c, int(counts[c])]
                for i in range(len(names)):
                    values.append(float(original[c, i]))
                    if i < len(backscatter):
                        values.append(float(10 * np.log10(original[c, i])))
                feature = QgsFeature(fields)
                feature.setAttributes(values)
                sink.addFeature(feature, QgsFeatureSink.FastInsert)
            del sink  # flush now, see changedetection
            results[self.OUTPUT_CENTRES] = dest_id
        return results
