"""Interferometry: coherence on a real Sentinel-1 pair, and a simulated pair with known shift, ramp,
deformation bowl and decorrelated patch."""

import os

import numpy as np
import pytest

from sar_change.algorithms.sar import interferometry as ifm

WAVELENGTH = ifm.WAVELENGTH_L_BAND_M
INNER = (slice(24, -24), slice(24, -24))  # the resampled secondary's border (16-tap kernel + shift) is no data


def circular(rng, shape):
    return (rng.normal(size=shape) + 1j * rng.normal(size=shape)) / np.sqrt(2)


def band_limited(rng, n, fraction=0.8):
    """A complex scene with the spectrum of an SLC sampled at 1/fraction of its bandwidth."""
    f = np.abs(np.fft.fftfreq(n))
    return np.fft.ifft2(np.fft.fft2(circular(rng, (n, n))) * (f[:, None] < fraction / 2) * (f[None, :] < fraction / 2))


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(0)
    n = 256
    scene = band_limited(rng, n)
    rows, cols = np.mgrid[:n, :n]
    ramp = 0.3 + 0.05 * cols - 0.03 * rows
    bowl_m = -0.02 * np.exp(-((rows - 128) ** 2 + (cols - 128) ** 2) / (2 * 30.0**2))
    deformation = -4 * np.pi / WAVELENGTH * bowl_m
    secondary = scene * np.exp(-1j * (ramp + deformation)) + 0.05 * circular(rng, (n, n))
    decorrelated = (slice(20, 50), slice(200, 240))
    secondary[decorrelated] = circular(rng, (30, 40)) * np.abs(scene[decorrelated]).mean()
    shift = (2.3, -1.7)
    return {
        "reference": scene.astype(np.complex64),
        "secondary": ifm.shift_complex(secondary, shift),
        "shift": shift,
        "ramp": ramp,
        "bowl_m": bowl_m,
        "decorrelated": decorrelated,
    }


def test_amsterdam_coherence_matches_reference_figures(shared_data):
    from sar_change.algorithms.io.raster import read_band

    folder = os.path.join(shared_data, "amsterdam_s1_slc")
    a = read_band(os.path.join(folder, "s1_iw_vv_20230319_slc.tif"), dtype=np.complex64)
    b = read_band(os.path.join(folder, "s1_iw_vv_20230331_slc.tif"), dtype=np.complex64)
    gamma = ifm.coherence(a, b, (5, 15))
    assert abs(gamma.mean() - 0.750) < 0.01
    assert abs(np.median(gamma) - 0.808) < 0.01
    rng = np.random.default_rng(0)
    control = ifm.coherence(a, b * np.exp(1j * rng.uniform(-np.pi, np.pi, b.shape)), (5, 15))
    assert abs(control.mean() - 0.20) < 0.05  # random phase: only the estimator's bias remains


def test_coherence_is_one_for_identical_images_and_low_for_independent_ones():
    rng = np.random.default_rng(1)
    a = circular(rng, (64, 64)).astype(np.complex64)
    assert np.allclose(ifm.coherence(a, a, (5, 5)), 1.0, atol=1e-5)
    assert ifm.coherence(a, circular(rng, (64, 64)), (9, 9)).mean() < 0.15


def test_subpixel_shift_recovered_within_a_tenth_of_a_pixel(simulated):
    rows, cols = ifm.estimate_shift(simulated["reference"], simulated["secondary"])
    assert abs(rows + simulated["shift"][0]) <= 0.1 and abs(cols + simulated["shift"][1]) <= 0.1


def test_chain_removes_ramp_and_recovers_deformation_to_millimetres(simulated):
    result = ifm.process_pair(simulated["reference"], simulated["secondary"], window=(5, 5))
    n = simulated["ramp"].shape[0]
    residual_ramp = ifm.wrap(simulated["ramp"] - ifm.ramp_phase((n, n), result.ramp))
    residual_ramp -= np.angle(np.mean(np.exp(1j * residual_ramp)))
    assert np.sqrt(np.mean(ifm.wrap(residual_ramp) ** 2)) < 0.1  # rad
    coherent = np.zeros((n, n), bool)
    coherent[INNER] = True
    coherent[simulated["decorrelated"]] = False
    error = (result.displacement_m - simulated["bowl_m"])[coherent]
    error -= np.median(error)  # the ramp's offset absorbs a constant
    assert np.sqrt(np.mean(error**2)) < 0.002  # metres
    patch = result.coherence[simulated["decorrelated"]][5:-5, 5:-5]
    assert patch.mean() < 0.3 and result.coherence[coherent].mean() > 0.85
    # where the resampling kernel leaves the image the outputs are no data, and only there
    valid = np.isfinite(result.phase)
    assert not valid[:16].any() and not valid[-16:].any() and not valid[:, :16].any() and not valid[:, -16:].any()
    assert valid[INNER].all()


def test_goldstein_reduces_phase_noise():
    rng = np.random.default_rng(2)
    n = 128
    rows, cols = np.mgrid[:n, :n]
    clean = np.exp(1j * 0.2 * cols)
    noisy = clean * np.exp(1j * rng.normal(0, 0.8, (n, n)))
    filtered = ifm.goldstein(noisy, 0.8)
    err = lambda z: np.sqrt(np.mean(np.angle(z * np.conj(clean))[8:-8, 8:-8] ** 2))  # noqa: E731
    assert err(filtered) < 0.5 * err(noisy)
    np.testing.assert_allclose(np.angle(ifm.goldstein(clean, 0.0) * np.conj(clean))[8:-8, 8:-8], 0, atol=1e-6)


def test_differential_cancels_common_topography():
    rng = np.random.default_rng(3)
    n = 64
    topography = rng.uniform(-np.pi, np.pi, (n, n))
    deformation = np.linspace(0, 1.5, n)[None, :].repeat(n, 0)
    a = np.exp(1j * (topography + deformation))
    b = np.exp(1j * topography)
    np.testing.assert_allclose(ifm.differential(a, b), deformation, atol=1e-5)


def test_displacement_sign_and_scale():
    # one full fringe (2 pi) is half a wavelength of line-of-sight motion
    assert ifm.los_displacement_m(np.array([2 * np.pi]), WAVELENGTH)[0] == pytest.approx(-WAVELENGTH / 2)


@pytest.mark.parametrize("kwargs, match", [({"coregister": "magic"}, "coregister"), ({"window": (0, 5)}, "window")])
def test_bad_parameters_raise(simulated, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ifm.process_pair(simulated["reference"], simulated["secondary"], **kwargs)


def test_real_valued_input_is_refused():
    with pytest.raises(ValueError, match="complex"):
        ifm.interferogram(np.ones((4, 4)), np.ones((4, 4)))


def test_differential_from_phases_removes_each_ramp_and_keeps_nodata():
    n = 64
    rows, cols = np.mgrid[:n, :n]
    bowl = np.exp(-((rows - 32) ** 2 + (cols - 32) ** 2) / 200.0)
    a = ifm.wrap(0.1 * cols + 1.0 * bowl)
    b = ifm.wrap(-0.07 * rows)
    b[0, :5] = np.nan
    out = ifm.differential_from_phases(a, b)
    assert np.isnan(out[0, :5]).all()
    residual = ifm.wrap(out - bowl)[8:-8, 8:-8]
    residual = ifm.wrap(residual - np.angle(np.mean(np.exp(1j * residual))))
    assert np.sqrt(np.mean(residual**2)) < 0.1


def test_resample_shift_matches_the_fourier_shift_of_band_limited_data_and_marks_its_border():
    rng = np.random.default_rng(4)
    scene = band_limited(rng, 128)
    local = ifm.resample_shift(scene, (2.3, -1.7))
    exact = ifm.shift_complex(scene, (2.3, -1.7))
    inner = (slice(24, -24), slice(24, -24))
    error = np.abs(local - exact)[inner]
    assert np.sqrt(np.mean(error**2) / np.mean(np.abs(exact[inner]) ** 2)) < 0.002
    valid = np.isfinite(local)
    assert not valid[:18].any() and not valid[-16:].any() and not valid[:, :16].any() and not valid[:, -18:].any()
    assert valid[18:-16, 16:-18].all()
    moved = ifm.resample_shift(scene, (3.0, -2.0))  # whole pixels move without interpolation
    np.testing.assert_array_equal(moved[3:, :-2], scene[:-3, 2:].astype(np.complex64))


def test_ramp_from_windows_of_a_scene_equals_the_ramp_of_the_whole():
    rows, cols = np.mgrid[:200, :300]
    rng = np.random.default_rng(5)
    z = np.exp(1j * (0.4 + 0.07 * cols - 0.05 * rows + rng.normal(0, 0.3, rows.shape)))
    windows = [(z[r : r + 64, c : c + 64], None, (r, c)) for r in (0, 70, 136) for c in (0, 120, 236)]
    for ramp in (ifm.estimate_ramp(z), ifm.estimate_ramp_pieces(windows)):  # offsets put windows in place
        assert ramp[1:] == pytest.approx((0.07, -0.05), abs=5e-4)
        assert ramp[0] == pytest.approx(0.4, abs=0.05)


@pytest.mark.parametrize("alpha", [0.0, 0.6])
def test_blockwise_files_give_the_in_memory_chain(simulated, write_raster, tmp_path, alpha):
    from sar_change.algorithms.io.raster import read_band
    from sar_change.algorithms.workflows.interferometry import process_pair_files

    reference, secondary = simulated["reference"][:200, :170], simulated["secondary"][:200, :170]
    outputs = {k: str(tmp_path / f"{k}.tif") for k in ("phase", "coherence", "displacement")}
    summary = process_pair_files(
        write_raster("ref.tif", reference),
        write_raster("sec.tif", secondary),
        phase_path=outputs["phase"],
        coherence_path=outputs["coherence"],
        displacement_path=outputs["displacement"],
        goldstein_alpha=alpha,
        wavelength_m=ifm.WAVELENGTH_L_BAND_M,
        block_size=48,
    )
    expected = ifm.process_pair(reference, secondary, goldstein_alpha=alpha)
    assert summary.shift == expected.shift and summary.ramp == expected.ramp
    for name, values in (
        ("phase", expected.phase),
        ("coherence", expected.coherence),
        ("displacement", expected.displacement_m),
    ):
        np.testing.assert_allclose(read_band(outputs[name]), values, rtol=0, atol=2e-6, equal_nan=True)


def test_files_of_different_size_or_real_type_are_refused(write_raster, tmp_path):
    from sar_change.algorithms.workflows.interferometry import process_pair_files

    z = np.ones((32, 32), np.complex64)
    out = {k: str(tmp_path / f"{k}.tif") for k in ("phase_path", "coherence_path", "displacement_path")}
    with pytest.raises(ValueError, match="one size"):
        process_pair_files(write_raster("a.tif", z), write_raster("b.tif", z[:16]), **out)
    with pytest.raises(ValueError, match="secondary must be a complex raster"):
        process_pair_files(write_raster("c.tif", z), write_raster("d.tif", z.real.copy()), **out)
    assert sorted(os.listdir(tmp_path)) == ["a.tif", "b.tif", "c.tif", "d.tif"]


def test_differential_fits_both_ramps_on_the_pixels_valid_in_both():
    rows, cols = np.mgrid[:96, :96]
    topography = 2.0 * np.sin(rows / 9.0)  # not a plane: it leaks into a ramp fit
    bowl = 1.2 * np.exp(-((rows - 48) ** 2 + (cols - 48) ** 2) / (2 * 12.0**2))
    a = ifm.wrap(topography + bowl - 0.05 * rows)
    b = ifm.wrap(topography + 0.08 * cols)
    b[:20] = np.nan  # one interferogram lost a border
    diff = ifm.differential_from_phases(a, b)
    assert np.isnan(diff[:20]).all() and np.isfinite(diff[20:]).all()
    residual = ifm.wrap(diff - bowl)[20:]
    residual = ifm.wrap(residual - np.angle(np.mean(np.exp(1j * residual))))
    assert np.sqrt(np.mean(residual**2)) < 0.25


def test_blockwise_differential_files_give_the_in_memory_difference(write_raster, tmp_path):
    from sar_change.algorithms.io.raster import read_band
    from sar_change.algorithms.workflows.interferometry import differential_files

    rng = np.random.default_rng(6)
    rows, cols = np.mgrid[:120, :90]
    a = ifm.wrap(0.06 * cols + rng.normal(0, 0.2, rows.shape)).astype(np.float32)
    b = ifm.wrap(-0.04 * rows + rng.normal(0, 0.2, rows.shape)).astype(np.float32)
    b[:10] = np.nan
    out = str(tmp_path / "diff.tif")
    ramps = differential_files(write_raster("a.tif", a), write_raster("b.tif", b), out, block_size=32)
    assert ramps[0][1] == pytest.approx(0.06, abs=2e-3) and ramps[1][2] == pytest.approx(-0.04, abs=2e-3)
    expected = ifm.differential_from_phases(a, b)
    np.testing.assert_allclose(read_band(out), expected, atol=1e-6, equal_nan=True)
    assert np.isnan(read_band(out)[:10]).all()


def test_ramp_windows_cover_a_large_scene_with_a_three_by_three_grid():
    from sar_change.algorithms.workflows.interferometry import ramp_windows

    assert ramp_windows(1000, 800) == [(slice(0, 1000), slice(0, 800))]
    windows = ramp_windows(20000, 30000)
    assert len(windows) == 9
    row_starts, col_starts = (
        np.reshape([w[0].start for w in windows], (3, 3)),
        np.reshape([w[1].start for w in windows], (3, 3)),
    )
    assert (row_starts[0] == 0).all() and (row_starts[2] == 19488).all()  # the edges, and between them
    assert (col_starts[:, 0] == 0).all() and (col_starts[:, 2] == 29488).all()
    assert ((row_starts[1] >= 512) & (row_starts[1] <= 19488 - 512)).all()
    assert ((col_starts[:, 1] >= 512) & (col_starts[:, 1] <= 29488 - 512)).all()
    assert all(w[0].stop - w[0].start == 512 and w[1].stop - w[1].start == 512 for w in windows)


def test_integer_coregistration_is_the_nearest_whole_pixel_of_the_shift():
    rng = np.random.default_rng(14)
    scene = band_limited(rng, 128)
    secondary = ifm.shift_complex(scene, (1.4, -2.4))
    assert ifm.coregistration_shift(scene.astype(np.complex64), secondary, "integer") == (-1.0, 2.0)
