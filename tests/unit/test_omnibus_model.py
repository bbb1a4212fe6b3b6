"""The omnibus stack model's helpers: the same numbers as the plain numpy they replace."""

import numpy as np
import pytest


@pytest.mark.parametrize("dates", [1, 2, 3, 7, 8])
def test_median_over_dates_equals_numpy_median_bit_for_bit(dates):
    from sar_change.algorithms.sar.change.omnibus_model import _median_over_dates

    logs = np.random.default_rng(dates).normal(size=(dates, 1000))
    logs[:, :10] = 0.25  # ties
    np.testing.assert_array_equal(_median_over_dates(logs, chunk=300), np.median(logs, axis=0))
