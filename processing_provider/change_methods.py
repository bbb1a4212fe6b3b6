"""How ``sarchange:changedetection`` runs each METHOD and writes its polygons and class raster.

``automatic`` classifies blockwise from the files (:mod:`...algorithms.workflows.change`); the
other methods load the pair (a few arrays of the scene) and call
:func:`...algorithms.sar.change.detect_change`.
"""

import os

from qgis.core import (
    QgsField,
    QgsFields,
)
from qgis.PyQt.QtCore import QVariant

from ..algorithms.common.cancel import Cancelled, interruptible, phase
from ..algorithms.io.align import aligned
from ..algorithms.io.outputs import RasterWriter
from ..algorithms.io.raster import raster_info, read_band
from ..algorithms.sar import change
from ..algorithms.sar.change import stats as change_stats
from ..algorithms.sar.change.boundaries import filter_name
from ..algorithms.sar.change.gate import date_pair, describe_looks
from ..algorithms.sar.convert import TO_POWER, resolve_scale
from ..algorithms.workflows import change as change_io

#: METHOD choices: the automatic decision first (the default), then the methods of :mod:`change`.
METHODS = ("automatic",) + change.METHODS
#: Class raster colours: no change grey, loss blue, gain red (the product's code, ``change.CLASS_RGB``).
CLASS_COLOURS = [change.CLASS_RGB[value] for value in (change.NO_CHANGE, change.LOSS, change.GAIN)]


class ChangeMethods:
    """Mixin of :class:`.change.ChangeDetectionAlgorithm`: one method per way of running METHOD."""

    def _automatic(self, parameters, context, feedback, job):
        used, bands_before, bands_after = job.used, job.bands_before, job.bands_after
        classes_path = os.path.join(job.folder, "classes.tif")
        run = change_io.detect_change_rasters(
            job.before_path,
            job.after_path,
            classes_path,
            bands_before=bands_before,
            bands_after=bands_after,
            input_scale=used["INPUT_SCALE"],
            looks=job.looks,
            alpha=used["ALPHA"],
            min_change_db=used["MIN_CHANGE_DB"],
            noise_floor_db=job.floor,
            normalise=job.normalise,
            progress=self.progress_fn(feedback, 2, 60),
            is_cancelled=feedback.isCanceled,
        )
        model = run.model
        feedback.pushInfo(self.tr("Input scale: before {}, after {}").format(run.scale_before, run.scale_after))
        for c in range(model.channels):
            feedback.pushInfo(
                self.tr(
                    "Channel {}: looks {:.2f} per pixel ({} with LOOKS=0), {} in the {} x {} window; "
                    "gain after/before {:+.2f} dB (removed: {}); noise floor {:.2f} dB"
                ).format(
                    c + 1,
                    model.pixel_looks[c],
                    "given" if job.looks > 0 else "estimated",
                    describe_looks(model.test_looks[c]),
                    model.window,
                    model.window,
                    model.gain_db[c],
                    "yes" if job.normalise else "no",
                    model.noise_floor_db[c],
                )
            )
        feedback.pushInfo(
            self.tr("Thresholds (Kittler-Illingworth): loss {}, gain {}; boundaries ({}): loss {}, gain {}").format(
                _db(model.loss.threshold),
                _db(model.gain.threshold),
                filter_name(model.fine_window) if model.fine_window else "none",
                _db(model.boundary_threshold(change.LOSS) if model.fine_window else None),
                _db(model.boundary_threshold(change.GAIN) if model.fine_window else None),
            )
        )
        for note in model.notes:
            feedback.pushInfo(note)
        feedback.setProgress(62)
        regions = change_io.regions_from_class_raster(
            classes_path,
            job.before_path,
            job.after_path,
            band_before=bands_before[0],
            band_after=bands_after[0],
            scale_before=run.scale_before,
            scale_after=run.scale_after,
            gain_db=model.gain_db[0],
            looks_per_pixel=tuple(v / model.window**2 for v in date_pair(model.test_looks[0])),
            min_pixels=job.min_pixels,
            labels_path=os.path.join(job.folder, "labels.tif"),
            classes_out_path=(
                os.path.join(job.folder, "kept.tif")
                if self.parameterAsOutputLayer(parameters, self.OUTPUT_RASTER, context)
                else None
            ),
        )
        return regions, run

    def _in_memory(self, parameters, context, feedback, job):
        info, method, used = job.info, job.method, job.used
        band_before, band_after = job.bands_before[0], job.bands_after[0]
        before = read_band(job.before_path, band_before)
        with aligned(job.after_path, info) as path:
            after = read_band(path, band_after)
            after_dtype = raster_info(path).dtypes[band_after - 1]
        scale_b = resolve_scale(job.input_scale, info.dtypes[band_before - 1], before, "BEFORE")
        scale_a = resolve_scale(job.input_scale, after_dtype, after, "AFTER (on the grid of BEFORE)")
        feedback.pushInfo(self.tr("Input scale: before {}, after {}").format(scale_b, scale_a))
        before, after = TO_POWER[scale_b](before), TO_POWER[scale_a](after)
        given = job.looks
        after, looks, gain_db = interruptible(
            change_stats.prepare_pair, before, after, normalise=job.normalise, looks=given
        )
        if job.normalise:
            feedback.pushInfo(self.tr("Gain after/before {:+.2f} dB removed").format(gain_db))
        if given <= 0:
            feedback.pushInfo(self.tr("Looks estimated from the log-ratio spread: {:.2f}").format(looks))
        used["LOOKS"] = round(looks, 3)
        feedback.setProgress(10)
        if feedback.isCanceled():
            raise Cancelled("cancelled by the user")
        options = dict(
            statistic=self.parameterAsEnumString(parameters, self.STATISTIC, context),
            loss_threshold=self.parameterAsDouble(parameters, self.THRESHOLD_LOSS, context),
            gain_threshold=self.parameterAsDouble(parameters, self.THRESHOLD_GAIN, context),
            alpha=self.parameterAsDouble(parameters, self.ALPHA, context),
            unit=self.parameterAsEnumString(parameters, self.UNIT, context),
            classes=self.parameterAsInt(parameters, self.CLASSES, context),
            despeckle=self.parameterAsEnumString(parameters, self.DESPECKLE, context),
            min_change_db=self.parameterAsDouble(parameters, self.MIN_CHANGE_DB, context),
        )
        used.update({name: options[option] for name, option in _PARAMETERS_OF[method]})
        with phase(0.10, 0.60):  # the method reports its own steps (despeckling, segmentation...)
            result = interruptible(  # the whole in-memory method: a cancel returns within a poll
                change.detect_change,
                before,
                after,
                method,
                looks=looks,
                scale=self.parameterAsDouble(parameters, self.SCALE, context),
                sigma=self.parameterAsDouble(parameters, self.SIGMA, context),
                min_size=self.parameterAsInt(parameters, self.MIN_SIZE, context),
                seed=self.parameterAsInt(parameters, self.SEED, context),
                window=self.parameterAsInt(parameters, self.WINDOW, context),
                **options,
            )
        if result.looks_efficiency is not None:
            feedback.pushInfo(self.tr("Speckle correlation efficiency eta = {:.3f}").format(result.looks_efficiency))
        feedback.setProgress(60)
        regions = interruptible(
            change.change_regions,
            result.classes,
            before,
            after,
            min_pixels=job.min_pixels,
            looks=looks,
            looks_efficiency=result.looks_efficiency or 1.0,
        )
        return result, regions

    def _write_outputs(self, parameters, context, feedback, info, method, regions):
        fields = QgsFields()
        fields.append(QgsField("change", QVariant.String))
        for name in ("mean_before_db", "mean_after_db", "change_db", "area_m2"):
            fields.append(QgsField(name, QVariant.Double))
        fields.append(QgsField("pixels", QVariant.Int))
        fields.append(QgsField("p_value", QVariant.Double))
        fields.append(QgsField("method", QVariant.String))
        has_p = method in ("likelihood_ratio", "automatic")

        def attributes(label):
            i = label - 1
            return [
                regions.change[i],
                float(regions.mean_before_db[i]),
                float(regions.mean_after_db[i]),
                float(regions.change_db[i]),
                None,  # area_m2: measured on the ellipsoid by write_regions
                int(regions.pixels[i]),
                float(regions.p_value[i]) if has_p else None,
                method,
            ]

        with phase(0.62, 0.90):
            dest_id = self.write_regions(
                parameters,
                self.OUTPUT,
                context,
                feedback,
                fields,
                regions.labels,
                info,
                attributes,
                "area_m2",
                count=len(regions.change),
            )
        results = {self.OUTPUT: dest_id}
        feedback.setProgress(90)
        raster_out = self.parameterAsOutputLayer(parameters, self.OUTPUT_RASTER, context)
        if raster_out:
            with RasterWriter.like(info, raster_out, dtype="uint8", nodata=change.NODATA) as writer:
                if isinstance(regions.classes, str):  # a scene's classes, copied a strip at a time
                    writer.write_from(regions.classes)
                else:
                    writer.write(regions.classes)
                writer.set_color_table(CLASS_COLOURS)
                writer.set_band_description(1, "change: 0 none, 1 loss, 2 gain")
            named = [
                (change.NO_CHANGE, "No change"),
                (change.LOSS, "Loss of backscatter"),
                (change.GAIN, "Gain of backscatter"),
            ]
            self.style_output(
                context, raster_out, "classes", classes=[(v, change.CLASS_RGB[v], self.tr(label)) for v, label in named]
            )
            results[self.OUTPUT_RASTER] = raster_out
        return results


def _db(value):
    return "none" if value is None else f"{value:+.2f} dB"


#: The parameters each in-memory method uses (for the report), with the option of
#: :func:`change.detect_change` each one sets.
_PARAMETERS_OF = {
    "threshold": (
        ("STATISTIC", "statistic"),
        ("THRESHOLD_LOSS", "loss_threshold"),
        ("THRESHOLD_GAIN", "gain_threshold"),
        ("DESPECKLE", "despeckle"),
    ),
    "likelihood_ratio": (("ALPHA", "alpha"), ("UNIT", "unit"), ("DESPECKLE", "despeckle")),
    "superpixel_kmeans": (
        ("STATISTIC", "statistic"),
        ("CLASSES", "classes"),
        ("MIN_CHANGE_DB", "min_change_db"),
        ("DESPECKLE", "despeckle"),
    ),
}
