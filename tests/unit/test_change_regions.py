"""Change regions of a scene's class raster, labelled a strip of rows at a time."""

import numpy as np
import pytest

from sar_change.algorithms.io.raster import read_band
from sar_change.algorithms.sar import change
from sar_change.algorithms.sar.change.pixel import GAIN, LOSS, NO_CHANGE, NODATA
from sar_change.algorithms.workflows import change as change_io


def random_classes(shape, seed, salt=0.01, sigma=2.0):
    """Blobs of loss and gain (some touching, some single pixels), no change and a nodata corner."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    classes = np.full(shape, NO_CHANGE, np.uint8)
    classes[field < -field.std()] = LOSS
    classes[field > field.std()] = GAIN
    classes[rng.random(shape) < salt] = LOSS
    classes[:5, :9] = NODATA
    return classes


@pytest.mark.parametrize("strip_rows", [1, 7, 64, 1000])
@pytest.mark.parametrize("min_pixels", [1, 12])
def test_strip_labelling_equals_the_whole_array_regions(write_raster, tmp_path, strip_rows, min_pixels):
    classes = random_classes((97, 83), seed=strip_rows)
    rng = np.random.default_rng(1)
    before = rng.gamma(2.0, 0.5, classes.shape).astype(np.float32)
    after = rng.gamma(2.0, 0.5, classes.shape).astype(np.float32)
    whole = change.change_regions(classes.copy(), before, after, min_pixels=min_pixels, looks=0.75)
    strips = change_io.regions_from_class_raster(
        write_raster("c.tif", classes),
        write_raster("b.tif", before),
        write_raster("a.tif", after),
        labels_path=str(tmp_path / "labels.tif"),
        classes_out_path=str(tmp_path / "kept.tif"),
        looks_per_pixel=0.75,
        min_pixels=min_pixels,
        strip_rows=strip_rows,
    )
    assert len(whole.change) > 20  # the raster has regions to join across strips
    np.testing.assert_array_equal(np.nan_to_num(read_band(strips.labels)), whole.labels)
    np.testing.assert_array_equal(np.nan_to_num(read_band(strips.classes), nan=NODATA), whole.classes)
    assert strips.change == whole.change
    assert strips.class_pixels == whole.class_pixels
    np.testing.assert_array_equal(strips.pixels, whole.pixels)
    for name in ("mean_before_db", "mean_after_db", "change_db", "p_value"):
        np.testing.assert_allclose(getattr(strips, name), getattr(whole, name), rtol=1e-9, err_msg=name)


def test_gain_removed_and_small_regions_back_to_no_change(write_raster, tmp_path):
    classes = np.zeros((40, 40), np.uint8)
    classes[5:15, 5:15] = LOSS  # 100 px
    classes[30:32, 30:32] = GAIN  # 4 px: under min_pixels
    before = np.ones(classes.shape, np.float32)
    after = np.full(classes.shape, 2.0, np.float32)  # +3.01 dB everywhere: the gain
    after[5:15, 5:15] = 0.2  # 10 dB under the gain
    regions = change_io.regions_from_class_raster(
        write_raster("c.tif", classes),
        write_raster("b.tif", before),
        write_raster("a.tif", after),
        labels_path=str(tmp_path / "labels.tif"),
        gain_db=10 * np.log10(2.0),
        min_pixels=10,
        strip_rows=8,
    )
    assert regions.change == ["loss"]
    assert regions.classes is None
    np.testing.assert_allclose(regions.change_db, [-10.0], atol=1e-6)
    assert regions.class_pixels == {"no change": 1500, "loss": 100, "gain": 0}
    assert (np.nan_to_num(read_band(regions.labels))[30:32, 30:32] == 0).all()  # 0 is the nodata


REGIONS_IN_A_CHILD = """
import re, sys
sys.path.insert(0, {tests!r})
from helpers import register_package
register_package()
from sar_change.algorithms.workflows import change as change_io
regions = change_io.regions_from_class_raster({classes!r}, {values!r}, {values!r}, labels_path={labels!r})
peak_kb = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
print(len(regions.change), sum(regions.pixels), peak_kb // 1024)
"""


def test_an_8192_square_class_raster_is_labelled_in_bounded_memory(write_raster, tmp_path):
    import os
    import subprocess
    import sys

    from helpers import mosaic_vrt

    if not os.path.exists("/proc/self/status"):
        pytest.skip("peak memory is read from /proc (Linux)")
    tile = random_classes((512, 512), seed=3, salt=0.0, sigma=8.0)
    tile[:5, :9] = NO_CHANGE
    tiles = (write_raster("c.tif", tile), write_raster("v.tif", np.ones(tile.shape, np.float32)))
    classes, values = (mosaic_vrt(str(tmp_path / f"{n}.vrt"), t, 16) for n, t in zip("cv", tiles))
    script = REGIONS_IN_A_CHILD.format(
        tests=os.path.dirname(os.path.dirname(__file__)),
        classes=classes,
        values=values,
        labels=str(tmp_path / "labels.tif"),
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300)
    regions, pixels, peak_mb = (int(v) for v in done.stdout.split())
    changed = int(np.isin(tile, (LOSS, GAIN)).sum())
    assert pixels == changed * 256  # every loss and gain pixel of the 16 x 16 tiles is in a region
    assert regions > 256 * 20  # regions that cross tiles are joined, the others counted once each
    # 8192^2 pixels: the whole-array labelling alone held 67 MB of classes, 268 MB of int32 labels
    # and as much again for each class's labelling; in strips the peak is the libraries' and the
    # regions' (~43 000 here; a salt of single pixels makes millions, ~400 bytes each).
    assert peak_mb < 350
