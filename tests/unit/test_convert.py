import numpy as np
import pytest

from sar_change.algorithms.sar.convert import db_to_power, power_to_db, to_power


def test_power_to_db_matches_ten_log10():
    power = np.array([1e-4, 0.01, 0.5, 1.0, 10.0, 1234.5], dtype=np.float64)
    np.testing.assert_allclose(power_to_db(power), 10 * np.log10(power), rtol=0, atol=1e-12)


def test_zero_negative_and_nan_power_become_nan_not_inf():
    power = np.array([0.0, -1.0, np.nan, 1.0], dtype=np.float32)
    db = power_to_db(power)  # filterwarnings=error: a log10(0) warning would fail here
    assert np.isnan(db[:3]).all()
    assert db[3] == 0
    assert not np.isinf(db).any()


def test_output_dtype_matches_input_float_and_integers_become_float32():
    assert power_to_db(np.ones(3, np.float32)).dtype == np.float32
    assert power_to_db(np.ones(3, np.float64)).dtype == np.float64
    assert power_to_db(np.ones(3, np.uint16)).dtype == np.float32
    assert db_to_power(np.zeros(3, np.float32)).dtype == np.float32


def test_db_round_trip_is_identity():
    rng = np.random.default_rng(1)
    power = rng.gamma(1.0, 0.1, 1000).astype(np.float32)
    np.testing.assert_allclose(db_to_power(power_to_db(power)), power, rtol=2e-6)


def test_to_power_from_amplitude_and_db():
    np.testing.assert_allclose(to_power(np.array([2.0]), "amplitude"), [4.0])
    np.testing.assert_allclose(to_power(np.array([-10.0]), "db"), [0.1])


def test_unknown_scale_raises_naming_it():
    with pytest.raises(ValueError, match="scale='decibel'"):
        to_power(np.ones(2), "decibel")
