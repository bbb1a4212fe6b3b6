"""The bad-input audit (tests/bad_inputs.py) in the test suite: every algorithm on constant,
all-nodata, all-zero, 1 x 1, 2 x 3, non-overlapping, dB-as-linear, saturated and damaged inputs
ends in a result with valid pixels or in a clear error naming the input, never a traceback or a
silent all-nodata output."""

import bad_inputs
import pytest


@pytest.fixture(scope="module")
def outcomes(plugin, tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("audit"))
    return {case.name: bad_inputs.run_case(case) for case in bad_inputs.cases(folder)}


def test_no_bad_input_ends_in_a_traceback_or_a_silent_empty_result(outcomes):
    bad = {name: result for name, result in outcomes.items() if result[0] not in ("ok", "clear")}
    assert not bad, "\n".join(f"{name}: {outcome}: {message}" for name, (outcome, message) in bad.items())
    assert len(outcomes) >= 200


@pytest.mark.parametrize(
    "name, expected",
    [
        ("changedetection methodthreshold good/far_away", "does not overlap"),
        ("omnibus LOOKS=0 far_away", "does not overlap"),
        ("omnibus LOOKS=0 constant", "give LOOKS"),
        ("despeckle lee db_values", "dB"),
        ("despeckle tv zeros", "no positive pixel"),
        ("todb db_values", "dB"),
        ("interferogram subpixel slc_constant/slc_constant", "no shift can be measured"),
        ("interferogram none slc_zeros/slc_zeros", "REFERENCE has no valid"),
        ("interferogram none slc_one_pixel/slc_one_pixel", "smaller than the coherence window"),
        ("differentialinterferogram phase/phase_nan", "INTERFEROGRAM_B has no valid"),
        ("kmeans constant", "distinct value"),
        ("superpixels all_nan", "no valid pixel"),
        ("speckleqa filtered all_nan", "no valid, non-zero pixel"),
        ("changedetection MIN_AREA zero pixel size", "MIN_AREA=100.0 needs a pixel size"),
        ("superpixels SIGMA=1e6", "refused"),
        ("changedetection SIGMA=1e6", "refused"),
    ],
)
def test_degenerate_inputs_get_an_error_that_says_what_is_wrong(outcomes, name, expected):
    outcome, message = outcomes[name]
    assert outcome == "clear" and expected in message, message


def test_thin_and_one_pixel_rasters_are_filtered_to_their_own_value_by_the_db_filters(outcomes):
    for method in ("tv", "nlmeans"):
        outcome, message = outcomes[f"despeckle {method} one_pixel"]
        assert outcome == "ok", message


def test_the_audit_counts_an_all_nodata_output_and_a_python_error_as_failures(write_raster):
    """The audit itself can fail: its detectors see an empty raster, a traceback and a NaN figure."""
    import numpy as np

    assert bad_inputs._all_nodata(write_raster("nan.tif", np.full((8, 8), np.nan, np.float32)))
    assert bad_inputs._all_nodata(write_raster("nd.tif", np.full((8, 8), -1.0, np.float32), nodata=-1.0))
    assert not bad_inputs._all_nodata(write_raster("one.tif", np.pad(np.ones((1, 1), np.float32), (0, 7))))
    assert bad_inputs.PYTHON_ERRORS.search("despeckle: IndexError: too many indices")
    assert bad_inputs.NON_FINITE.search("Estimated equivalent number of looks: inf")
    assert not bad_inputs.NON_FINITE.search("information: infinite patience, nanometres")
