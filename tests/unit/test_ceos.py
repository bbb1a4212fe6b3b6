"""CEOS reader: real ALOS-2 Level 1.5 headers, and Level 1.1 products written by the tests."""

import os

import numpy as np
import pytest
from ceos_writer import write_l11_product

from sar_change.algorithms import ceos


def test_real_l15_headers(shared_data):
    product = ceos.find_product(os.path.join(shared_data, "alos2_ceos_l15_headers"))
    assert product.level == "1.5" and product.polarisations == ["HH", "HV"]
    image = ceos.read_image_descriptor(product.images["HH"])
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
