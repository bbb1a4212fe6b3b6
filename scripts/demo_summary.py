"""Print how the demo's change map compares with the simulated truth."""

import sys

from osgeo import gdal, ogr

gdal.UseExceptions()
folder = sys.argv[1]
truth = gdal.Open(f"{folder}/truth.tif").ReadAsArray()
found = gdal.Open(f"{folder}/change.tif").ReadAsArray()
changed, detected = truth > 0, (found == 1) | (found == 2)
tp = int((changed & detected).sum())
precision = tp / max(int(detected.sum()), 1)
recall = tp / max(int(changed.sum()), 1)
f1 = 2 * precision * recall / max(precision + recall, 1e-12)
source = ogr.Open(f"{folder}/change.gpkg")
layer = source.GetLayer(0)
kinds = {}
for feature in layer:
    kinds[feature.GetField("change")] = kinds.get(feature.GetField("change"), 0) + 1
print(f"\nChange polygons: {layer.GetFeatureCount()} ({kinds.get('loss', 0)} loss, {kinds.get('gain', 0)} gain)")
print(f"Against the simulated truth: precision {precision:.3f}, recall {recall:.3f}, F1 {f1:.3f} (changed pixels)")
