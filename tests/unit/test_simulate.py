import numpy as np
import pytest

from sar_change.algorithms.io.raster import raster_info, read_band
from sar_change.algorithms.simulation import pair as simulate


def test_same_seed_gives_identical_scene_and_other_seed_differs():
    a = simulate.simulate_pair(64, 64, seed=5)
    b = simulate.simulate_pair(64, 64, seed=5)
    c = simulate.simulate_pair(64, 64, seed=6)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["before"], c["before"])


@pytest.mark.parametrize("looks", [1, 4])
def test_speckle_has_unit_mean_and_variance_one_over_looks(looks):
    scene = simulate.simulate_pair(512, 512, looks=looks, seed=1)
    ratio = scene["before"] / scene["sigma0_before"]
    assert abs(ratio.mean() - 1) < 0.01
    assert abs(ratio.var() - 1 / looks) < 0.05 / looks


def test_truth_marks_exactly_the_changed_reflectivity():
    scene = simulate.simulate_pair(256, 256, seed=2)
    change_db = 10 * np.log10(scene["sigma0_after"] / scene["sigma0_before"])
    truth = scene["truth"]
    assert (np.abs(change_db[truth == simulate.NO_CHANGE]) < 1e-4).all()
    assert (change_db[truth == simulate.LOSS] <= -3 + 1e-4).all()
    assert (change_db[truth == simulate.GAIN] >= 3 - 1e-4).all()
    assert (truth == simulate.LOSS).any() and (truth == simulate.GAIN).any()


def test_default_patches_span_twenty_to_two_thousand_pixels():
    sizes = [p.mask(512, 512).sum() for p in simulate.default_patches(512, 512)]
    assert min(sizes) >= 15 and max(sizes) <= 2500
    assert min(sizes) < 50 and max(sizes) > 1000


def test_write_pair_is_georeferenced(tmp_path):
    paths = simulate.write_pair(simulate.folder_paths(str(tmp_path)), 64, 48, seed=0)
    info = raster_info(paths["before"])
    assert (info.rows, info.cols) == (64, 48)
    assert info.geotransform[1] == simulate.DEMO_PIXEL_M and "32654" in info.crs_wkt
    np.testing.assert_array_equal(read_band(paths["after"]), simulate.simulate_pair(64, 48, seed=0)["after"])


@pytest.mark.parametrize("kwargs, name", [({"rows": 8}, "rows"), ({"looks": 0}, "looks")])
def test_bad_arguments_raise_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        simulate.simulate_pair(**kwargs)
