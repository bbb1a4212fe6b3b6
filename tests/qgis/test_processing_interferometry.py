"""sarchange:interferogram and sarchange:differentialinterferogram through Processing and qgis_process."""

import os

import numpy as np
import pytest

from sar_change.algorithms.io.raster import read_band
from sar_change.algorithms.sar import interferometry as ifm


def test_qgis_process_amsterdam_coherence(qgis_process, shared_data, tmp_path):
    folder = os.path.join(shared_data, "amsterdam_s1_slc")
    out = {k: str(tmp_path / f"{k}.tif") for k in ("p", "c", "d")}
    result = qgis_process(
        "run",
        "sarchange:interferogram",
        "--",
        f"REFERENCE={os.path.join(folder, 's1_iw_vv_20230319_slc.tif')}",
        f"SECONDARY={os.path.join(folder, 's1_iw_vv_20230331_slc.tif')}",
        "COREGISTER=none",
        "REMOVE_RAMP=false",
        "COHERENCE_WINDOW=5,15",
        "WAVELENGTH_M=0.05547",
        f"OUTPUT_PHASE={out['p']}",
        f"OUTPUT_COHERENCE={out['c']}",
        f"OUTPUT_DISPLACEMENT={out['d']}",
    )
    assert "SHIFT_ROWS" in result.stdout
    gamma = read_band(out["c"])
    assert abs(gamma.mean() - 0.750) < 0.01 and abs(np.median(gamma) - 0.808) < 0.01
    phase = read_band(out["p"])
    assert np.nanmax(np.abs(phase)) <= np.pi + 1e-6


@pytest.fixture
def complex_pair(write_raster):
    rng = np.random.default_rng(0)
    n = 128
    f = np.abs(np.fft.fftfreq(n))
    scene = np.fft.ifft2(
        np.fft.fft2(rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))) * (f[:, None] < 0.4) * (f[None, :] < 0.4)
    )
    rows, cols = np.mgrid[:n, :n]
    topography = 2.0 * np.sin(rows / 9.0)
    ramp = 0.08 * cols
    secondary_1 = scene * np.exp(-1j * (topography + ramp))
    bowl = np.exp(-((rows - 64) ** 2 + (cols - 64) ** 2) / (2 * 15.0**2))
    secondary_2 = scene * np.exp(-1j * (topography + 1.2 * bowl - 0.05 * rows))
    paths = {
        name: write_raster(f"{name}.tif", z.astype(np.complex64), crs_wkt="", geotransform=(0, 1, 0, 0, 0, -1))
        for name, z in (("ref", scene), ("sec1", ifm.shift_complex(secondary_1, (0.6, -0.4))), ("sec2", secondary_2))
    }
    return paths, bowl


def test_interferogram_outputs_numbers_and_differential_keeps_deformation(run_alg, complex_pair, tmp_path):
    paths, bowl = complex_pair
    outputs = []
    for i, secondary in enumerate(("sec1", "sec2")):
        result = run_alg(
            "sarchange:interferogram",
            {
                "REFERENCE": paths["ref"],
                "SECONDARY": paths[secondary],
                "COREGISTER": "subpixel",
                "COHERENCE_WINDOW": "5x5",
                "REMOVE_RAMP": True,
                "WAVELENGTH_M": 0.2384,
                "OUTPUT_PHASE": str(tmp_path / f"p{i}.tif"),
                "OUTPUT_COHERENCE": str(tmp_path / f"c{i}.tif"),
                "OUTPUT_DISPLACEMENT": str(tmp_path / f"d{i}.tif"),
            },
        )
        outputs.append(result)
    assert abs(outputs[0]["SHIFT_ROWS"] + 0.6) <= 0.1 and abs(outputs[0]["SHIFT_COLS"] - 0.4) <= 0.1
    assert abs(outputs[0]["RAMP_B"] - 0.08) < 0.005
    diff = run_alg(
        "sarchange:differentialinterferogram",
        {
            "INTERFEROGRAM_A": outputs[1]["OUTPUT_PHASE"],
            "INTERFEROGRAM_B": outputs[0]["OUTPUT_PHASE"],
            "OUTPUT": str(tmp_path / "diff.tif"),
        },
    )
    phase = read_band(diff["OUTPUT"], dtype=np.float64)
    inner = (slice(20, -20), slice(20, -20))  # the resampled secondary's 17-pixel border is no data
    assert np.isfinite(phase[inner]).all() and np.isnan(phase[:16]).all()
    expected = 1.2 * bowl  # topography cancelled, ramps removed, bowl left (up to a constant)
    residual = np.angle(np.exp(1j * (phase - expected)))[inner]
    residual -= np.angle(np.mean(np.exp(1j * residual)))
    assert np.sqrt(np.mean(np.angle(np.exp(1j * residual)) ** 2)) < 0.25


def test_real_raster_is_refused_with_a_clear_error(run_alg, write_raster, tmp_path):
    from qgis.core import QgsProcessingException

    real = write_raster("real.tif", np.ones((16, 16), np.float32))
    with pytest.raises(QgsProcessingException, match="complex"):
        run_alg(
            "sarchange:interferogram",
            {
                "REFERENCE": real,
                "SECONDARY": real,
                "OUTPUT_PHASE": str(tmp_path / "p.tif"),
                "OUTPUT_COHERENCE": str(tmp_path / "c.tif"),
                "OUTPUT_DISPLACEMENT": str(tmp_path / "d.tif"),
            },
        )
    assert not (tmp_path / "p.tif").exists()
