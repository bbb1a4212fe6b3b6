"""Tellus algorithms that fetch data: an L1.1 product download, a tile mosaic of a scene."""

import os

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsProcessingOutputString,
    QgsProcessingParameterFolderDestination,
)

from ..algorithms.common.cancel import Cancelled
from ..algorithms.io.outputs import write_array
from ..algorithms.readers import tellus
from .tellus import WGS84, TellusAlgorithm


class TellusDownloadAlgorithm(TellusAlgorithm):
    DATASET = "DATASET"
    SCENE_ID = "SCENE_ID"
    FOLDER = "FOLDER"
    IMAGE = "IMAGE"

    def name(self):
        return "tellusdownload"

    def displayName(self):  # noqa: N802
        return self.tr("Download a scene's product files (Tellus)")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Downloads every file of a scene (<b>DATASET</b>, <b>SCENE_ID</b>) into <b>FOLDER</b>, with "
            "progress, resuming a partial file, and checking each file's size. File names from the server "
            "are reduced to safe base names. Outputs the folder and, for Level 1.1, the first IMG- file, "
            "ready for sarchange:readceos."
        ) + self.tr(self.COMMON_HELP)

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_text(self.DATASET, "Dataset id", tellus.PALSAR2_L11_DATASET)
        self.add_text(self.SCENE_ID, "Scene id")
        self.add_common_parameters()
        self.addParameter(QgsProcessingParameterFolderDestination(self.FOLDER, self.tr("Folder")))
        self.addOutput(QgsProcessingOutputString(self.IMAGE, self.tr("IMG- file for readceos")))

    def compute(self, parameters, context, feedback):
        client = self.client(parameters, context, feedback)
        dataset = self.parameterAsString(parameters, self.DATASET, context)
        scene = self.parameterAsString(parameters, self.SCENE_ID, context).strip()
        if not scene:
            raise self.error("SCENE_ID must name a scene, got an empty SCENE_ID")
        folder = self.parameterAsString(parameters, self.FOLDER, context)
        files = client.files(dataset, scene)
        if not files:
            raise self.error("Tellus lists no files for SCENE_ID={}", scene)
        if not all(isinstance(item, dict) and item.get("id") is not None for item in files):
            raise self.error("Tellus listed a file without an id for SCENE_ID={}", scene)
        # every name is checked and made distinct before the first byte is written
        names = tellus.unique_filenames([str(item.get("name") or item["id"]) for item in files])
        for item, name in zip(files, names):
            if name != tellus.safe_filename(str(item.get("name") or item["id"])):
                feedback.pushWarning(self.tr("{} is listed twice; saved as {}").format(item.get("name"), name))
        written = []
        share = 100.0 / len(files)
        for i, (item, name) in enumerate(zip(files, names)):
            if feedback.isCanceled():
                raise Cancelled("cancelled by the user")
            url = client.download_url(dataset, scene, item["id"])
            written.append(
                client.download(
                    url,
                    folder,
                    name,
                    size=item.get("size_bytes"),
                    progress=lambda f, i=i: feedback.setProgress(share * (i + f)),
                )
            )
            feedback.pushInfo(os.path.basename(written[-1]))
        images = sorted(p for p in written if os.path.basename(p).startswith("IMG-"))
        return {self.FOLDER: folder, self.IMAGE: images[0] if images else ""}


class TellusTilesAlgorithm(TellusAlgorithm):
    SCENE_ID = "SCENE_ID"
    EXTENT = "EXTENT"
    ZOOM = "ZOOM"
    MAX_TILES = "MAX_TILES"
    OUTPUT = "OUTPUT"

    def name(self):
        return "tellustiles"

    def displayName(self):  # noqa: N802
        return self.tr("Fetch PALSAR-2 tiles as a GeoTIFF (Tellus)")

    def shortHelpString(self):  # noqa: N802
        return self.tr(
            "Fetches the XYZ tiles of a scene (<b>SCENE_ID</b>) covering <b>EXTENT</b> (any CRS) at <b>ZOOM</b>, "
            "mosaics them and writes a GeoTIFF in EPSG:3857 exactly on the tile grid (each tile's bounds from "
            "its z/x/y), cropped to the extent. Tiles are kept in a local cache ($SARCHANGE_TILE_CACHE or "
            "~/.cache/sar_change/tiles). <b>MAX_TILES</b> (default 256) guards against huge requests. A "
            "truncated PNG or an HTML error page instead of a tile is a clear error."
        ) + self.tr(self.COMMON_HELP)

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add_text(self.SCENE_ID, "Scene id")
        self.add_extent(self.EXTENT, "Extent")
        self.add_number(self.ZOOM, "Zoom level", 12, 0, 20, integer=True)
        self.add_number(self.MAX_TILES, "Maximum number of tiles", 256, 1, integer=True)
        self.add_common_parameters()
        self.add_raster_output(self.OUTPUT, "Tile mosaic")

    def compute(self, parameters, context, feedback):
        from qgis.core import QgsCoordinateTransform

        client = self.client(parameters, context, feedback)
        scene = self.parameterAsString(parameters, self.SCENE_ID, context).strip()
        if not scene:
            raise self.error("SCENE_ID must name a scene, got an empty SCENE_ID")
        z = self.parameterAsInt(parameters, self.ZOOM, context)
        lonlat = self.parameterAsExtent(parameters, self.EXTENT, context, WGS84)
        limit = self.parameterAsInt(parameters, self.MAX_TILES, context)
        tiles = tellus.tiles_for_bbox(  # counted before listed: a world extent at zoom 20 is refused at once
            lonlat.xMinimum(), lonlat.yMinimum(), lonlat.xMaximum(), lonlat.yMaximum(), z, max_tiles=limit
        )
        mercator = QgsCoordinateReferenceSystem("EPSG:3857")
        box = QgsCoordinateTransform(WGS84, mercator, context.transformContext()).transformBoundingBox(lonlat)
        from . import settings as plugin_settings

        images = tellus.fetch_tiles(
            client,
            scene,
            z,
            tiles,
            cache=plugin_settings.get("tile_cache") or None,  # empty: $SARCHANGE_TILE_CACHE or ~/.cache
            is_cancelled=feedback.isCanceled,
            progress=self.progress_fn(feedback, 0, 90),
        )
        if feedback.isCanceled():
            raise Cancelled("cancelled by the user")
        array, geotransform = tellus.mosaic(images, z, (box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum()))
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        write_array(output, array, geotransform=geotransform, crs_wkt=mercator.toWkt(), nodata=None)
        if array.shape[0] >= 3:
            self.style_output(context, output, "rgb")
        return {self.OUTPUT: output}
