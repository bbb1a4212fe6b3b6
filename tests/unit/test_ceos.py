"""CEOS reader: real ALOS-2 Level 1.5 headers, and Level 1.1 products written by the tests."""

import os

import numpy as np
import pytest
from ceos_writer import write_l11_product

from sar_change.algorithms.readers import ceos


def test_real_l15_headers(shared_data):
    product = ceos.find_product(os.path.join(shared_data, "alos2_ceos_l15_headers"))
    assert product.level == "1.5" and product.polarisations == ["HH", "HV"]
    image = ceos.read_image_descriptor(product.images["HH"], check_size=False)  # headers only
    assert image.pixels == 12870 and image.record_bytes == 192 + 2 * 12870
    leader = ceos.read_leader(product.leader)
    # 13161 line records in the IMG file; the data set summary's scene-centre line x 2 gives the
    # 13160 that other readers (pyroSAR) report.
    assert image.lines == 13161 and leader.summary_lines * 2 == 13160
    assert leader.pixel_spacing_m == (6.25, 6.25)
    assert leader.orbit_direction == "ascending"
    assert leader.scene_id == "ALOS2015976960-140909"
    assert leader.corners == pytest.approx(
        {"lon_min": -62.9005207, "lon_max": -62.1629744, "lat_min": -11.4233051, "lat_max": -10.6783401}
    )
    assert leader.calibration_db == -83.0
    assert 0.2 < leader.wavelength_m < 0.25
    assert len(leader.facility_records) == 5
    # Facility record 5's polynomial puts the corner pixels where the map projection record does,
    # and its inverse brings them back.
    corners_pixel = np.array([0, 12869, 12869, 0]), np.array([0, 0, 13160, 13160])
    lat, lon = leader.polynomial.to_latlon(*corners_pixel)
    np.testing.assert_allclose(lat, [-10.6794393, -10.6783401, -11.4221274, -11.4233051], atol=2e-7)
    np.testing.assert_allclose(lon, [-62.9005207, -62.1650802, -62.1629744, -62.9002697], atol=2e-7)
    pixel, line = leader.polynomial.to_image(lat, lon)
    np.testing.assert_allclose(pixel, corners_pixel[0], atol=0.01)
    np.testing.assert_allclose(line, corners_pixel[1], atol=0.01)
    summary = ceos.read_summary(product.summary)
    assert summary["Img_SceneStartDateTime"] == "20140909 04:33:42.052"
    assert summary["Img_SceneEndDateTime"] == "20140909 04:33:52.052"
    with pytest.raises(ceos.CeosError, match="not a Level 1.1 complex"):
        ceos.read_slc_window(image)


@pytest.fixture
def l11(tmp_path):
    rng = np.random.default_rng(0)
    slc = (rng.normal(size=(60, 40)) + 1j * rng.normal(size=(60, 40))).astype(np.complex64) * 100
    path = write_l11_product(str(tmp_path / "product"), slc)
    return path, slc


def test_l11_round_trip_of_pixels_and_windows(l11):
    path, slc = l11
    image = ceos.read_image_descriptor(path)
    assert (image.lines, image.pixels, image.prefix_bytes, image.complex) == (60, 40, 544, True)
    np.testing.assert_array_equal(ceos.read_slc_window(image), slc)
    np.testing.assert_array_equal(ceos.read_slc_window(image, slice(10, 25), slice(5, 33)), slc[10:25, 5:33])


def test_l11_calibration_and_multilook(l11):
    path, slc = l11
    leader = ceos.read_leader(ceos.find_product(path).leader)
    assert leader.calibration_db == -83.0 and leader.orbit_direction == "descending"
    db = ceos.calibrated_sigma0_db(slc, leader.calibration_db)
    np.testing.assert_allclose(db, 10 * np.log10(np.abs(slc) ** 2) - 83.0 - 32.0, rtol=1e-5)
    looked = ceos.calibrated_sigma0_db(slc, -83.0, looks=(3, 2))
    assert looked.shape == (20, 20)
    expected = 10 * np.log10((np.abs(slc[:3, :2]) ** 2).mean()) - 115.0
    assert looked[0, 0] == pytest.approx(expected, abs=1e-4)


def test_truncated_image_is_a_clear_error(l11):
    path, _ = l11
    with open(path, "r+b") as handle:
        handle.truncate(os.path.getsize(path) - 100)
    with pytest.raises(ceos.CeosError, match="truncated"):
        ceos.read_slc_window(ceos.read_image_descriptor(path))


def test_wrong_file_type_is_a_clear_error(tmp_path):
    bogus = tmp_path / "IMG-HH-nothing"
    bogus.write_bytes(b"\x00" * 800)
    with pytest.raises(ceos.CeosError, match="not a CEOS image"):
        ceos.read_image_descriptor(str(bogus))
    with pytest.raises(ceos.CeosError, match="no LED"):
        ceos.find_product(str(bogus))


def test_l11_polynomial_matches_the_scene_geometry_and_drives_gcps(l11):
    path, _ = l11
    image = ceos.read_image_descriptor(path)
    poly = ceos.read_leader(ceos.find_product(path).leader).polynomial
    lat, lon = poly.to_latlon([0, 39, 17], [0, 59, 31])  # the writer: 35 - 0.001 line, 139 + 0.001 pixel
    np.testing.assert_allclose(lat, [35.0, 34.941, 34.969], atol=1e-9)
    np.testing.assert_allclose(lon, [139.0, 139.039, 139.017], atol=1e-9)
    points = ceos.gcps(image, count=3, polynomial=poly, window=(slice(10, 21), slice(4, 9)))
    assert [(c, r) for c, r, _, _ in points][:3] == [(4.5, 10.5), (6.5, 10.5), (8.5, 10.5)]
    assert len(points) == 9 and points[-1] == pytest.approx((8.5, 20.5, 139.008, 34.98))


def test_crop_uses_the_led_polynomial_when_line_records_carry_no_geolocation(tmp_path):
    slc = np.ones((60, 40), np.complex64)
    path = write_l11_product(str(tmp_path / "p"), slc, line_geolocation=False)
    image = ceos.read_image_descriptor(path)
    poly = ceos.read_leader(ceos.find_product(path).leader).polynomial
    rows, cols = ceos.window_for_extent(image, 139.0105, 34.9705, 139.0195, 34.9795, margin=0, polynomial=poly)
    # lines 20.5-29.5 and pixels 10.5-19.5: floor to ceil, inclusive
    assert (rows.start, rows.stop, cols.start, cols.stop) == (20, 31, 10, 21)
    with pytest.raises(ceos.CeosError, match="outside the scene"):
        ceos.window_for_extent(image, 10, 10, 11, 11, polynomial=poly)
    with pytest.raises(ceos.CeosError, match="no line geolocation"):
        ceos.window_for_extent(image, 139.010, 34.970, 139.020, 34.980)  # neither polynomial nor line records


def test_blank_polynomial_is_none_and_a_corrupt_one_a_clear_error(tmp_path):
    path = write_l11_product(str(tmp_path / "p"), np.ones((8, 8), np.complex64), polynomial=False)
    leader_path = ceos.find_product(path).leader
    assert ceos.read_leader(leader_path).polynomial is None
    with open(leader_path, "rb") as handle:
        data = bytearray(handle.read())
    record_5 = len(data) - 5000
    data[record_5 + 1024 : record_5 + 1044] = b"   not-a-coefficient"
    with open(leader_path, "wb") as handle:
        handle.write(data)
    with pytest.raises(ceos.CeosError, match="facility record 5: not a number at byte 1024"):
        ceos.read_leader(leader_path)


CROP_IN_A_CHILD = """
import re, sys
sys.path.insert(0, {tests!r})
from helpers import register_package
register_package()
import numpy as np
from sar_change.algorithms.readers import ceos
path = {path!r}
image = ceos.read_image_descriptor(path)
poly = ceos.read_leader(ceos.find_product(path).leader).polynomial
rows, cols = ceos.window_for_extent(image, {lon_min}, {lat_min}, {lon_max}, {lat_max}, margin=0, polynomial=poly)
np.save({out!r}, ceos.read_slc_window(image, rows, cols))
# the peak resident memory of this process image (ru_maxrss would include the parent's, from fork)
peak_kb = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
print(rows.start, cols.start, peak_kb // 1024)
"""


def test_a_10_gb_product_crops_reading_only_its_window(tmp_path):
    import subprocess
    import sys

    lines, pixels = 130_000, 10_000  # 130000 lines x 80544 bytes: 10.5 GB, sparse on disk
    patch = (np.arange(40 * 30).reshape(40, 30) * (1 + 1j)).astype(np.complex64)
    path = write_l11_product(
        str(tmp_path / "big"), patch, sparse_shape=(lines, pixels), patch_at=(100_000, 7_000), step_deg=1e-5
    )
    assert os.path.getsize(path) > 10e9
    if os.stat(path).st_blocks * 512 > 100e6:
        pytest.skip("this filesystem does not keep sparse files")
    if not os.path.exists("/proc/self/status"):
        pytest.skip("peak memory is read from /proc (Linux)")
    # lines 100010-100019 and pixels 7005-7014 (1e-5 degree per pixel)
    box = dict(lon_min=139.07005, lat_min=35 - 1.00019, lon_max=139.07014, lat_max=35 - 1.00010)
    script = CROP_IN_A_CHILD.format(
        tests=os.path.dirname(os.path.dirname(__file__)), path=path, out=str(tmp_path / "crop.npy"), **box
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    row, col, peak_mb = (int(v) for v in done.stdout.split())
    crop = np.load(tmp_path / "crop.npy")
    assert (row, col) == (100_010, 7_005)
    assert crop.shape == (10, 10)
    np.testing.assert_array_equal(crop, patch[10:20, 5:15])
    assert peak_mb < 200  # numpy and the interpreter; the 10 GB file itself is never read whole
