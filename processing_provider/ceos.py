"""``sarchange:readceos``: PALSAR-2 CEOS Level 1.1 products to calibrated intensity, phase, complex."""

import os

import numpy as np
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsProcessingParameterFile,
)

from ..algorithms.common.cancel import Cancelled
from ..algorithms.io.outputs import RasterWriter
from ..algorithms.readers import ceos
from .base import SarAlgorithm

WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],'
    'UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]'
)
BLOCK_LINES = 1024


class ReadCeosAlgorithm(SarAlgorithm):
    INPUT = "INPUT"
    EXTENT = "EXTENT"
    POLARISATION = "POLARISATION"
    LOOKS_RANGE = "LOOKS_RANGE"
    LOOKS_AZIMUTH = "LOOKS_AZIMUTH"
    OUTPUT_INTENSITY = "OUTPUT_INTENSITY"
    OUTPUT_PHASE = "OUTPUT_PHASE"
    OUTPUT_COMPLEX = "OUTPUT_COMPLEX"

    def name(self):
        return "readceos"

    def displayName(self):  # noqa: N802
        return self.tr("Read PALSAR-2 CEOS Level 1.1")

    def group(self):
        return self.tr("Interferometry")

    def groupId(self):  # noqa: N802
        return "interferometry"

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Reads an ALOS-2 PALSAR-2 Level 1.1 (single-look complex) CEOS product without GDAL's CEOS "
            "driver: the IMG file descriptor, big-endian complex float32 lines after a 544-byte prefix, "
            "and the LED records (data set summary: scene id, centre time, wavelength, orbit direction; "
            "radiometric record: calibration factor CF; facility-related record 5: the 25 + 25 coefficient "
            "polynomials between pixel/line and latitude/longitude).\n\n"
            "<b>INPUT</b>: the IMG- file (or the LED- file, or the product folder).\n"
            "<b>POLARISATION</b>: HH, HV, VH or VV (default: the first image of the product).\n"
            "<b>LOOKS_RANGE</b>, <b>LOOKS_AZIMUTH</b>: multilooking of the intensity (default 1).\n"
            "Outputs (each optional): OUTPUT_INTENSITY, sigma0 in dB = 10 log10(I^2 + Q^2) + CF - 32.0; "
            "OUTPUT_PHASE (radians); OUTPUT_COMPLEX (CFloat32, for sarchange:interferogram). They stay in "
            "radar geometry and carry an 11 x 11 grid of ground control points (EPSG:4326) from the LED "
            "polynomial (from the line records when a product lacks it), so QGIS "
            "places them on the map; metadata items give the scene id, date, polarisation, orbit direction "
            "and WAVELENGTH_M. The file is memory-mapped and read in blocks of lines: any size fits.\n"
            "<b>EXTENT</b> (optional, any CRS): only the lines and columns covering it are read, located "
            "through the LED polynomial's latitude/longitude to pixel/line inverse; an extent outside the "
            "scene is an error."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile(self.INPUT, self.tr("IMG- file of the product")))
        self.add_extent(self.EXTENT, "Crop to extent (any CRS)", optional=True)
        self.add_text(self.POLARISATION, "Polarisation", optional=True)
        self.add_number(self.LOOKS_RANGE, "Looks in range", 1, 1, integer=True)
        self.add_number(self.LOOKS_AZIMUTH, "Looks in azimuth", 1, 1, integer=True)
        self.add_raster_output(self.OUTPUT_INTENSITY, "Sigma0 (dB)", optional=True, style="db")
        self.add_raster_output(self.OUTPUT_PHASE, "Phase (radians)", optional=True, style="phase")
        self.add_raster_output(self.OUTPUT_COMPLEX, "Complex (CFloat32)", optional=True)

    def compute(self, parameters, context, feedback):
        path = self.parameterAsFile(parameters, self.INPUT, context)
        product = ceos.find_product(path)
        pol = (self.parameterAsString(parameters, self.POLARISATION, context) or "").upper().strip()
        if pol and pol not in product.images:
            raise self.error("POLARISATION {} is not in the product (it has {})", pol, ", ".join(product.polarisations))
        pol = pol or product.polarisations[0]
        if product.level and product.level != "1.1":
            raise self.error(
                "{} is Level {}, not Level 1.1 complex data", os.path.basename(product.images[pol]), product.level
            )
        image = ceos.read_image_descriptor(product.images[pol])
        leader = ceos.read_leader(product.leader)
        if not image.complex:
            raise self.error(
                "{} holds {!r} samples, not the complex float32 (C*8) of Level 1.1 single-look complex data",
                os.path.basename(image.path),
                image.sample_format.strip(),
            )
        looks = (
            self.parameterAsInt(parameters, self.LOOKS_AZIMUTH, context),
            self.parameterAsInt(parameters, self.LOOKS_RANGE, context),
        )
        metadata = {
            "SCENE_ID": leader.scene_id,
            "DATE": leader.centre_time[:8],
            "POLARISATION": pol,
            "ORBIT_DIRECTION": leader.orbit_direction,
            "WAVELENGTH_M": leader.wavelength_m,
            "CALIBRATION_DB": leader.calibration_db,
            "SENSOR": leader.sensor,
        }
        window = (slice(0, image.lines), slice(0, image.pixels))
        if parameters.get(self.EXTENT):
            extent = self.parameterAsExtent(parameters, self.EXTENT, context, QgsCoordinateReferenceSystem("EPSG:4326"))
            window = ceos.window_for_extent(
                image,
                extent.xMinimum(),
                extent.yMinimum(),
                extent.xMaximum(),
                extent.yMaximum(),
                polynomial=leader.polynomial,
            )
            feedback.pushInfo(
                self.tr("Window: lines {}-{}, columns {}-{}").format(
                    window[0].start, window[0].stop, window[1].start, window[1].stop
                )
            )
        r_off, c_off = window[0].start, window[1].start
        lines, pixels = window[0].stop - r_off, window[1].stop - c_off
        if parameters.get(self.OUTPUT_INTENSITY) and leader.calibration_db is None:
            raise self.error(
                "{} has no radiometric data record, so sigma0 cannot be calibrated (a guess would be off by "
                "about 83 dB); choose OUTPUT_COMPLEX or OUTPUT_PHASE only",
                os.path.basename(product.leader),
            )
        if looks[0] > lines or looks[1] > pixels:
            raise self.error(
                "LOOKS_AZIMUTH={} x LOOKS_RANGE={} is larger than the {} x {} lines x pixels read",
                looks[0],
                looks[1],
                lines,
                pixels,
            )
        if leader.polynomial is None:
            feedback.pushWarning(self.tr("The LED file has no pixel/line polynomial: geolocation from line records"))
        points = [
            (c - c_off, r - r_off, lon, lat)
            for c, r, lon, lat in ceos.gcps(image, polynomial=leader.polynomial, window=window)
        ]
        outputs = {}
        specs = [
            (self.OUTPUT_INTENSITY, np.float32, looks),
            (self.OUTPUT_PHASE, np.float32, (1, 1)),
            (self.OUTPUT_COMPLEX, np.complex64, (1, 1)),
        ]
        for key, dtype, (la, lr) in specs:
            if not parameters.get(key):
                continue
            target = self.parameterAsOutputLayer(parameters, key, context)
            rows, cols = lines // la, pixels // lr
            with RasterWriter(target, rows, cols, dtype=dtype, geotransform=None, crs_wkt="") as writer:
                block = max(1, BLOCK_LINES // la) * la  # whole looks per block, even when la > BLOCK_LINES
                for start in range(0, rows * la, block):
                    if feedback.isCanceled():
                        raise Cancelled("cancelled by the user")
                    slc = ceos.read_slc_window(
                        image,
                        slice(r_off + start, r_off + min(start + block, rows * la)),
                        slice(c_off, c_off + cols * lr),
                    )
                    if key == self.OUTPUT_INTENSITY:
                        values = ceos.calibrated_sigma0_db(slc, leader.calibration_db, (la, lr))
                    elif key == self.OUTPUT_PHASE:
                        values = np.angle(slc).astype(np.float32)
                    else:
                        values = slc
                    writer.write(values, start // la, 0)
                    feedback.setProgress(100 * start / max(rows * la, 1))
                if points:
                    writer.set_gcps([(c / lr, r / la, lon, lat) for c, r, lon, lat in points], WGS84_WKT)
                writer.set_metadata(metadata)
            outputs[key] = target
        if not outputs:
            raise self.error("choose at least one of OUTPUT_INTENSITY, OUTPUT_PHASE, OUTPUT_COMPLEX")
        return outputs
