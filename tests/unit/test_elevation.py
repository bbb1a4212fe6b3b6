"""Elevation change by shape from shading: the seed's line method, the surface model, the files."""

import numpy as np
import pytest

from sar_change.algorithms.io.raster import open_raster
from sar_change.algorithms.sar import elevation
from sar_change.algorithms.sar.elevation import geometry
from sar_change.algorithms.simulation import volcano as elevation_sim
from sar_change.algorithms.workflows import elevation as elevation_io

SMALL = elevation_sim.Volcano(rows=160, cols=160, spacing_m=10.0, radius_m=700.0, height_m=380.0)


def near_summit(volcano):
    return volcano.distance_m() < 3 * volcano.crater_sigma_m


# -- geometry --------------------------------------------------------------------------------
def test_local_incidence_of_flat_ground_is_the_incidence_angle():
    cos = elevation.local_incidence_cos(np.zeros(3), np.zeros(3), 35.0)
    assert np.allclose(cos, np.cos(np.radians(35.0)))


def test_a_slope_facing_the_radar_at_the_incidence_angle_is_seen_head_on():
    p = np.tan(np.radians(35.0))
    assert elevation.local_incidence_cos(np.array([p]), np.array([0.0]), 35.0)[0] == pytest.approx(1.0)
    # turned away by as much: grazing at 70 degrees
    cos = elevation.local_incidence_cos(np.array([-p]), np.array([0.0]), 35.0)[0]
    assert cos == pytest.approx(np.cos(np.radians(70.0)))


def test_cos_derivatives_match_finite_differences():
    p, q, h = np.array([0.2, -0.3]), np.array([0.1, 0.4]), 1e-6
    dp, dq = geometry._cos_derivatives(p, q, 30.0)
    f = elevation.local_incidence_cos
    assert np.allclose(dp, (f(p + h, q, 30.0) - f(p - h, q, 30.0)) / (2 * h), atol=1e-7)
    assert np.allclose(dq, (f(p, q + h, 30.0) - f(p, q - h, 30.0)) / (2 * h), atol=1e-7)


def test_a_cliff_casts_a_shadow_at_far_range_and_a_steep_foreslope_lays_over():
    dem = np.zeros((3, 40))
    dem[:, 10:20] = 100.0  # a 100 m plateau, 10 m pixels, radar at the left
    layover, shadow = elevation.layover_shadow(dem, 10.0, 35.0)
    # from the plateau's edge (pixel 19) the sight line drops 10 / tan(35) = 14.3 m per pixel and
    # meets the ground 7 pixels on, at pixel 26: pixels 20-25 are in shadow
    assert shadow[1, 20:26].all() and not shadow[1, 26:].any() and not shadow[1, :20].any()
    assert layover[1, 9:11].all()  # the rising edge (slope 5 m/m) faces the radar
    assert not layover[1, :8].any()


# -- the seed's line method ------------------------------------------------------------------
def test_seed_line_fit_equals_a_weighted_least_squares_by_hand():
    rng = np.random.default_rng(3)
    amplitude = rng.uniform(0.5, 2.0, (4, 30))
    dem = rng.normal(100, 20, (4, 30))
    weights = (rng.uniform(size=(4, 30)) > 0.3).astype(float)
    got = elevation.seed_line_dems(amplitude[None], dem, weights)[0]
    for r in range(4):
        s = np.cumsum(amplitude[r])
        design = np.stack([s, np.arange(30.0), np.ones(30)], axis=1)
        w = np.sqrt(weights[r])
        coef = np.linalg.lstsq(design * w[:, None], dem[r] * w, rcond=None)[0]
        assert np.allclose(got[r], design @ coef, atol=1e-8)


def test_seed_recovers_a_dem_whose_brightness_is_linear_in_slope():
    rng = np.random.default_rng(0)
    dem = np.cumsum(rng.normal(0, 3, (5, 50)), axis=1) + 500
    amplitude = 2.0 + 0.05 * np.diff(dem, axis=1, prepend=dem[:, :1])  # a + k * backward slope
    got = elevation.seed_line_dems(amplitude[None], dem, np.ones_like(dem))[0]
    assert np.allclose(got, dem, atol=1e-6)


def test_seed_line_without_enough_weight_is_nan_not_zero():
    dem = np.linspace(0, 50, 40)[None].repeat(3, 0)
    weights = np.ones_like(dem)
    weights[1] = 0
    amplitude = np.random.default_rng(1).uniform(0.5, 1.5, (1, 3, 40))
    got = elevation.seed_line_dems(amplitude, dem, weights)[0]
    assert np.isnan(got[1]).all() and np.isfinite(got[[0, 2]]).all()
    # a constant amplitude makes cumsum(A) a multiple of x: the fit is singular, NaN too
    assert np.isnan(elevation.seed_line_dems(np.ones((1, 3, 40)), dem, np.ones_like(dem))).all()


# -- the surface model -----------------------------------------------------------------------
def _surface(sim, volcano, reference=0):
    intensities = sim["amplitudes"].astype(np.float64) ** 2
    dem = sim["dems"][reference]
    geometry = dict(
        incidence_deg=volcano.incidence_deg, range_spacing_m=volcano.spacing_m, azimuth_spacing_m=volcano.spacing_m
    )
    model = elevation.fit_surface_model([(intensities, dem, sim["water"])], reference=reference, **geometry)
    change, stderr = elevation.change_surface(intensities, dem, sim["water"], model, reference=reference, **geometry)
    return model, change, stderr


@pytest.fixture(scope="module")
def deepening():
    sim = elevation_sim.simulate_volcano((20.0, 20.0, 50.0), looks=2, volcano=SMALL, seed=1)
    return sim, _surface(sim, SMALL)


def test_surface_model_finds_the_looks_and_removes_the_gains(deepening):
    sim, (model, _, _) = deepening
    assert model.looks == pytest.approx(2.0, rel=0.15)
    gains_db = 10 * np.array(model.gains) / np.log(10)
    assert np.allclose(gains_db, [0.0, 1.0, -0.5], atol=0.1)


def test_surface_no_change_date_has_no_change_and_the_reference_is_zero(deepening):
    sim, (_, change, stderr) = deepening
    land = ~sim["water"]
    assert np.all(change[0][land] == 0) and np.all(stderr[0][land] == 0)
    assert abs(np.nanmean(change[1])) < 0.5
    assert np.sqrt(np.nanmean(change[1][near_summit(SMALL)] ** 2)) < 4.0
    assert np.isnan(change[:, sim["water"]]).all()


def test_surface_recovers_the_deepening_better_than_the_seed(deepening):
    sim, (_, change, _) = deepening
    truth = sim["dems"][2] - sim["dems"][0]
    near = near_summit(SMALL)
    surface_rmse = np.sqrt(np.nanmean((change[2] - truth)[near] ** 2))
    amplitudes = np.sqrt(np.stack([elevation_io.nlmeans_db(a.astype(float) ** 2, looks=2) for a in sim["amplitudes"]]))
    _, seed, _ = elevation.seed_change(
        amplitudes,
        sim["dems"][0],
        sim["water"],
        reference=0,
        range_spacing_m=SMALL.spacing_m,
        azimuth_spacing_m=SMALL.spacing_m,
    )
    seed_rmse = np.sqrt(np.nanmean((seed[2] - truth)[near] ** 2))
    assert surface_rmse < 5.0 and surface_rmse < seed_rmse
    assert np.nanmin(change[2]) < -20  # the crater floor, 30 m down, is not smoothed away


def test_surface_standard_error_covers_the_error(deepening):
    sim, (_, change, stderr) = deepening
    for t in (1, 2):
        error = change[t] - (sim["dems"][t] - sim["dems"][0])
        inside = np.abs(error) < 2 * stderr[t]
        assert 0.85 < np.nanmean(inside[np.isfinite(error)]) <= 1.0
        assert np.nanmedian(stderr[t]) > 0


def test_single_look_data_are_averaged_before_the_log_and_that_reduces_the_error():
    assert elevation.surface_multilook(1.0) == 3 and elevation.surface_multilook(2.0) == 1
    sim = elevation_sim.simulate_volcano((20.0, 20.0, 50.0), looks=1, volcano=SMALL, seed=4)
    intensities = sim["amplitudes"].astype(np.float64) ** 2
    geometry = dict(incidence_deg=35.0, range_spacing_m=10.0, azimuth_spacing_m=10.0)
    model = elevation.fit_surface_model([(intensities, sim["dems"][0], sim["water"])], reference=0, **geometry)
    near = near_summit(SMALL)
    errors = {}
    for side in (1, None):  # None: the default, 3 x 3 at 1 look
        change, _ = elevation.change_surface(
            intensities, sim["dems"][0], sim["water"], model, reference=0, multilook=side, draws=0, **geometry
        )
        errors[side] = np.sqrt(np.nanmean((change[1:] - (sim["dems"][1:] - sim["dems"][0]))[:, near] ** 2))
    assert errors[None] < errors[1]


def test_pairwise_curve_follows_the_law_where_a_land_cover_on_one_flank_bends_the_binned_medians():
    from sar_change.algorithms.sar.elevation.geometry import local_incidence_cos, slopes
    from sar_change.algorithms.simulation.volcano import muhleman

    sim = elevation_sim.simulate_volcano((20.0,), looks=2, volcano=SMALL, seed=2)
    p, q = slopes(sim["dems"][0], 10.0, 10.0)
    cos = local_incidence_cos(p, q, 35.0)
    # a dark land cover (-8 dB) over the far-range half, where cos t is low
    cover = np.where(np.arange(SMALL.cols) > SMALL.cols // 2, 10**-0.8, 1.0)[None, :]
    intensity = sim["amplitudes"][0].astype(np.float64) ** 2 * cover
    ok = ~sim["water"]
    probe = np.quantile(cos[ok], [0.2, 0.4, 0.6, 0.8])
    step = 1e-4
    expected = (np.log(muhleman(probe + step)) - np.log(muhleman(probe - step))) / (2 * step)
    errors = {
        name: np.abs(curve.slope(probe) / expected - 1)
        for name, curve in (
            ("pairs", elevation.fit_curve_pairs([(ok, np.log(intensity), cos)])),
            ("medians", elevation.fit_curve(np.log(intensity), cos, ok)),
        )
    }
    assert errors["pairs"].max() < 0.35
    assert errors["pairs"].mean() < 0.5 * errors["medians"].mean()


def test_coarse_noisy_dem_keeps_a_plane_and_adds_noise_at_the_block_scale():
    rows, cols = np.mgrid[:30, :30].astype(float)
    plane = 2 * rows + 3 * cols
    clean = elevation_sim.coarse_noisy_dem(plane, factor=3, noise_m=0.0)
    assert np.allclose(clean[3:-3, 3:-3], plane[3:-3, 3:-3], atol=1e-9)  # block means, interpolated back
    noisy = elevation_sim.coarse_noisy_dem(plane, factor=3, noise_m=2.0, seed=1) - plane
    assert 0.8 < noisy[3:-3, 3:-3].std() < 2.0  # bilinear between block values: damped at block edges
    assert np.abs(np.diff(noisy[3:-3, 3:-3], axis=1)).mean() < 0.7 * np.abs(noisy[3:-3, 3:-3]).mean()


def test_curve_falls_back_to_binned_medians_when_the_dem_is_too_noisy_for_neighbouring_pixels(deepening):
    sim, (exact_model, _, _) = deepening
    assert exact_model.curve_source == "neighbouring pixels"
    assert exact_model.curve_span_ratio >= elevation.CURVE_MIN_SPAN_RATIO
    intensities = sim["amplitudes"].astype(np.float64) ** 2
    dem = elevation_sim.coarse_noisy_dem(sim["dems"][0], factor=3, noise_m=2.0, seed=5)
    radar = dict(incidence_deg=35.0, range_spacing_m=10.0, azimuth_spacing_m=10.0)
    model = elevation.fit_surface_model([(intensities, dem, sim["water"])], reference=0, **radar)
    assert model.curve_source == "binned medians"
    assert model.curve_span_ratio < elevation.CURVE_MIN_SPAN_RATIO
    # the flattened pairs' curve would have overstated the change; the medians do better
    ok = ~sim["water"]
    p, q = geometry.slopes(dem, 10.0, 10.0)
    cos = geometry.local_incidence_cos(p, q, 35.0)
    pairs = elevation.fit_curve_pairs([(ok, np.log(intensities[0]), cos)])
    near = near_summit(SMALL)
    errors = []
    for fitted in (model, elevation.SurfaceModel(pairs, model.gains, model.looks)):
        change, _ = elevation.change_surface(intensities, dem, sim["water"], fitted, reference=0, **radar)
        errors.append(np.sqrt(np.nanmean((change[2] - (sim["dems"][2] - sim["dems"][0]))[near] ** 2)))
    assert errors[0] < 0.7 * errors[1]


def test_curve_choice_without_pairs_is_the_medians():
    medians = elevation.BackscatterCurve((0.3, 0.6, 0.9), (-3.0, -1.0, 0.0))
    choice = elevation.choose_curve(medians, None, np.linspace(0.3, 0.9, 50))
    assert choice.curve is medians and choice.source == "binned medians" and np.isnan(choice.span_ratio)


def test_pairwise_curve_needs_pairs():
    ok = np.zeros((40, 40), bool)
    ok[::3, ::3] = True  # no two valid pixels within reach of each other
    cos = np.linspace(0.5, 0.95, 1600).reshape(40, 40)
    assert elevation.fit_curve_pairs([(ok, np.log(cos), cos)]) is None


def test_surface_rejects_a_dem_without_relief():
    intensities = np.random.default_rng(0).gamma(2, 0.5, (2, 40, 40))
    with pytest.raises(ValueError, match="relief"):
        elevation.fit_surface_model(
            [(intensities, np.full((40, 40), 100.0), np.zeros((40, 40), bool))],
            reference=0,
            incidence_deg=35,
            range_spacing_m=10,
            azimuth_spacing_m=10,
        )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"incidence_deg": 0}, "incidence_deg"),
        ({"incidence_deg": 95}, "incidence_deg"),
        ({"range_spacing_m": 0}, "range_spacing_m"),
        ({"azimuth_spacing_m": float("nan")}, "azimuth_spacing_m"),
        ({"reference": 5}, "reference"),
        ({"smoothness": 0}, "smoothness"),
        ({"detrend_px": -1}, "detrend_px"),
    ],
)
def test_surface_bad_parameters_are_named(deepening, kwargs, match):
    sim, (model, _, _) = deepening
    args = dict(reference=0, incidence_deg=35.0, range_spacing_m=20.0, azimuth_spacing_m=20.0)
    args.update(kwargs)
    intensities = sim["amplitudes"][:, :32, :32].astype(float) ** 2
    with pytest.raises(ValueError, match=match):
        elevation.change_surface(intensities, sim["dems"][0][:32, :32], sim["water"][:32, :32], model, **args)


# -- files -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_stack(tmp_path_factory):
    from helpers import utm54_wkt

    from sar_change.algorithms.io.outputs import write_array

    folder = tmp_path_factory.mktemp("volcano")
    volcano = elevation_sim.Volcano(rows=96, cols=96, spacing_m=20.0, crater_sigma_m=100.0, radius_m=900.0)
    sim = elevation_sim.simulate_volcano((10.0, 10.0, 40.0), looks=3, volcano=volcano, seed=2)
    gt = (500000.0, 20.0, 0.0, 4000000.0, 0.0, -20.0)

    def write(name, array):
        return write_array(str(folder / name), np.asarray(array, np.float32), geotransform=gt, crs_wkt=utm54_wkt())

    amps = [write(f"a{k}.tif", a) for k, a in enumerate(sim["amplitudes"])]
    mirrored = [write(f"m{k}.tif", a[:, ::-1]) for k, a in enumerate(sim["amplitudes"])]
    return dict(
        folder=folder,
        volcano=volcano,
        sim=sim,
        amps=amps,
        mirrored=mirrored,
        dem=write("dem.tif", sim["dems"][0]),
        dem_mirrored=write("dem_m.tif", sim["dems"][0][:, ::-1]),
    )


def _run(stack, amps, dem, tag, **kwargs):
    folder = stack["folder"]
    args = dict(
        dems_path=str(folder / f"dems_{tag}.tif"),
        change_path=str(folder / f"change_{tag}.tif"),
        stderr_path=str(folder / f"se_{tag}.tif"),
        incidence_deg=35.0,
        range_spacing_m=20.0,
        azimuth_spacing_m=20.0,
    )
    args.update(kwargs)
    summary = elevation_io.elevation_change_rasters(amps, dem, **args)
    arrays = {}
    for key in ("dems", "change", "se"):
        dataset = open_raster(str(folder / f"{key}_{tag}.tif"))
        arrays[key] = dataset.ReadAsArray()
    return summary, arrays


@pytest.mark.parametrize("model", ["surface", "seed_lines"])
def test_files_flipping_range_direction_on_a_mirrored_stack_mirrors_the_result(small_stack, model):
    _, straight = _run(small_stack, small_stack["amps"], small_stack["dem"], f"s_{model}", model=model)
    _, mirrored = _run(
        small_stack,
        small_stack["mirrored"],
        small_stack["dem_mirrored"],
        f"m_{model}",
        model=model,
        range_direction="right_to_left",
    )
    for key in ("dems", "change", "se"):
        assert straight[key].shape == (3, 96, 96)
        np.testing.assert_allclose(mirrored[key][..., ::-1], straight[key], atol=1e-3, equal_nan=True)
    assert np.nanmin(straight["change"][2]) < -10  # the crater deepened by 30 m
    assert np.all(np.nan_to_num(straight["change"][0]) == 0)


def test_files_dem_bands_are_the_reference_dem_plus_the_change(small_stack):
    _, out = _run(small_stack, small_stack["amps"], small_stack["dem"], "sum")
    dem = small_stack["sim"]["dems"][0]
    np.testing.assert_allclose(out["dems"][2], dem + out["change"][2], atol=1e-2, equal_nan=True)


def test_files_a_dem_on_another_grid_is_aligned(small_stack, write_raster):
    dem = small_stack["sim"]["dems"][0]
    coarse = dem.reshape(48, 2, 48, 2).mean(axis=(1, 3)).astype(np.float32)  # 40 m pixels, same extent
    path = write_raster("dem40.tif", coarse, geotransform=(500000.0, 40.0, 0.0, 4000000.0, 0.0, -40.0))
    _, out = _run(small_stack, small_stack["amps"], path, "coarse")
    assert np.isfinite(out["change"][2]).mean() > 0.9
    assert np.nanmin(out["change"][2]) < -10


def test_files_radar_geometry_of_another_size_is_refused(small_stack, write_raster):
    other = write_raster("dem_radar.tif", np.zeros((50, 50), np.float32), crs_wkt="")
    with pytest.raises(ValueError, match="align"):
        _run(small_stack, small_stack["amps"], other, "radar")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"reference": 3}, "reference"),
        ({"model": "magic"}, "model"),
        ({"filter": "gauss"}, "filter"),
        ({"range_direction": "up"}, "range_direction"),
        ({"input_scale": "auto"}, "input_scale"),
        ({"incidence_deg": None}, "incidence_deg"),
        ({"range_spacing_m": -5}, "range_spacing_m"),
    ],
)
def test_files_bad_parameters_are_named_and_nothing_is_written(small_stack, kwargs, match):
    with pytest.raises(ValueError, match=match):
        _run(small_stack, small_stack["amps"], small_stack["dem"], "bad", **kwargs)
    assert not (small_stack["folder"] / "change_bad.tif").exists()


def test_files_need_two_dates(small_stack):
    with pytest.raises(ValueError, match="2 dates"):
        _run(small_stack, small_stack["amps"][:1], small_stack["dem"], "one")


def test_another_reference_date_reverses_the_change():
    sim = elevation_sim.simulate_volcano((20.0, 20.0, 50.0), looks=2, volcano=SMALL, seed=1)
    _, change, _ = _surface(sim, SMALL, reference=2)  # the DEM of date 3, the deeper crater
    core = SMALL.distance_m() < SMALL.crater_sigma_m  # truth: +24 m on average for dates 1 and 2
    land = ~sim["water"]
    assert np.all(change[2][land] == 0)
    assert np.nanmean(change[0][core]) > 12 and np.nanmean(change[1][core]) > 12


def test_files_the_reference_band_follows_reference(small_stack):
    _, out = _run(small_stack, small_stack["amps"], small_stack["dem"], "ref3", reference=2)
    land = ~small_stack["sim"]["water"]
    assert np.all(np.nan_to_num(out["change"][2][land]) == 0) and np.nanmax(np.abs(out["change"][0])) > 5
