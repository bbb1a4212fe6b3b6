"""Felzenszwalb segmentation in tiles: whole-image result for small images, a partition for large."""

import numpy as np
from skimage import segmentation as sk

from sar_change.algorithms.sar.segmentation import felzenszwalb


def blocks_image(rng, shape):
    image = np.kron(rng.uniform(0, 1, (shape[0] // 16, shape[1] // 16)), np.ones((16, 16)))
    return image + rng.normal(0, 0.02, image.shape)


def test_images_up_to_a_tile_get_the_whole_image_segmentation():
    image = blocks_image(np.random.default_rng(0), (96, 80))
    expected = sk.felzenszwalb(image[..., None], scale=1.0, sigma=0.8, min_size=20, channel_axis=-1)
    np.testing.assert_array_equal(felzenszwalb(image, 1.0, 0.8, 20, tile=96), expected)


def test_tiled_labels_are_a_compact_partition_cut_at_tile_edges():
    image = blocks_image(np.random.default_rng(1), (160, 144))
    labels = felzenszwalb(image, 1.0, 0.8, 20, tile=64, halo=16)
    n = labels.max() + 1
    assert labels.min() == 0 and np.unique(labels).size == n  # ids 0..n-1, all used
    rows, cols = np.mgrid[:160, :144]
    tile_of_pixel = (rows // 64) * 3 + cols // 64
    pairs = np.unique(np.stack([labels.ravel(), tile_of_pixel.ravel()]), axis=1)
    assert pairs.shape[1] == n  # every segment lies in one tile
    # cutting at tile edges adds segments there, and only a few
    whole = felzenszwalb(image, 1.0, 0.8, 20).max() + 1
    assert whole <= n <= 1.2 * whole


def test_label_counts_in_bands_of_rows_equal_bincount():
    from sar_change.algorithms.sar.segmentation import label_counts

    labels = np.random.default_rng(0).integers(0, 50, (257, 33)).astype(np.int32)
    np.testing.assert_array_equal(label_counts(labels, 60, rows=10), np.bincount(labels.ravel(), minlength=60))
