"""k-means on large rasters: time and peak memory of the sample-fit + blockwise-predict path.

Usage: /usr/bin/python3 benchmarks/kmeans.py [SIZE]   (default 10000: a 10000 x 10000 four-feature stack)

Prints the wall time and peak RSS of classifying SIZE x SIZE rasters (2 backscatter + 2 coherence),
and, on a 1000 x 1000 stack, the inertia of the sample fit against a fit on every pixel (both
evaluated on every pixel): the price of fitting on a sample.
"""

import os
import sys
import tempfile

import numpy as np
from common import register_package, run_measured

register_package()
from sar_change.algorithms.io.outputs import RasterWriter  # noqa: E402
from sar_change.algorithms.sar import classify  # noqa: E402
from sar_change.algorithms.workflows.classify import kmeans_rasters  # noqa: E402

GT = (500000.0, 10.0, 0, 4000000.0, 0, -10.0)


def scene_block(rows, cols, rng):
    """Three land covers in stripes with speckle and noisy coherence."""
    cover = (np.arange(cols)[None, :] * 3 // cols + np.arange(rows)[:, None] // 97) % 3
    cover = np.broadcast_to(cover, (rows, cols))
    hh = 10 ** (np.array([-22.0, -7.0, -10.0])[cover] / 10) * rng.gamma(4, 0.25, (rows, cols))
    hv = 10 ** (np.array([-28.0, -12.0, -18.0])[cover] / 10) * rng.gamma(4, 0.25, (rows, cols))
    coh = np.clip(np.array([0.2, 0.3, 0.8])[cover] + rng.normal(0, 0.08, (rows, cols)), 0, 1)
    return [hh, hv, coh, np.clip(coh + rng.normal(0, 0.05, (rows, cols)), 0, 1)]


def write_scene(folder, size, block=1000):
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32654)
    paths = [os.path.join(folder, f"{n}.tif") for n in ("hh", "hv", "coh_hh", "coh_hv")]
    writers = [RasterWriter(p, size, size, geotransform=GT, crs_wkt=srs.ExportToWkt()) for p in paths]
    rng = np.random.default_rng(0)
    for row in range(0, size, block):
        n = min(block, size - row)
        for writer, layer in zip(writers, scene_block(n, size, rng)):
            writer.write(layer.astype(np.float32), row, 0)
    for writer in writers:
        writer.commit()
    return paths


def inertia(model, features):
    z = (features.reshape(features.shape[0], -1).T - model.offset) / model.scale
    centres = (model.centres - model.offset) / model.scale
    return float(((z[:, None, :] - centres[None]) ** 2).sum(axis=2).min(axis=1).sum())


def main(size):
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        paths = write_scene(tmp, size)
        os.sync()
        # Classify in a child process so its peak memory is its own, not the scene writer's.
        seconds, peak_mb = run_measured(
            [sys.executable, __file__, "--classify", *paths, os.path.join(tmp, "classes.tif")]
        )
        print(
            f"kmeans {size}x{size}, 4 features, pixel unit, whole process: {seconds:.1f} s, peak RSS {peak_mb:.0f} MB"
        )
    features = classify.feature_stack(
        *(lambda layers: (layers[:2], layers[2:]))(scene_block(1000, 1000, np.random.default_rng(1)))
    )
    flags = [True, True, False, False]
    sample_model = classify.fit_kmeans(classify.sample_pixels(features, 200_000), 3, backscatter=flags)
    full_model = classify.fit_kmeans(classify.sample_pixels(features, 10**7), 3, backscatter=flags)
    full_model.offset, full_model.scale = sample_model.offset, sample_model.scale  # same units for the comparison
    ratio = inertia(sample_model, features) / inertia(full_model, features)
    print(f"1000x1000: inertia of the 200k-sample fit / full fit, on all pixels: {ratio:.5f}")


def classify_only(paths, output):
    kmeans_rasters([(p, 1) for p in paths[:2]], [(p, 1) for p in paths[2:]], output, classes=3)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--classify":
        classify_only(sys.argv[2:6], sys.argv[6])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000)
