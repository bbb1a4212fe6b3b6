"""Outputs through Processing: all or none, clear errors for unwritable destinations, nothing
left under the output name by a killed qgis_process, nothing written by a cancelled run."""

import signal
import time

import numpy as np
import pytest


@pytest.fixture
def pair(write_raster):
    rng = np.random.default_rng(3)
    before = rng.gamma(4.0, 0.025, (160, 160)).astype(np.float32)
    after = before * rng.gamma(4.0, 0.25, before.shape).astype(np.float32)
    after[40:90, 40:90] *= 8.0
    return write_raster("before.tif", before), write_raster("after.tif", after)


def _change(pair, tmp_path, **extra):
    return dict(
        BEFORE=pair[0],
        AFTER=pair[1],
        METHOD="threshold",
        OUTPUT=str(tmp_path / "out" / "changes.gpkg"),
        OUTPUT_RASTER=str(tmp_path / "out" / "classes.tif"),
        OUTPUT_HTML=str(tmp_path / "out" / "report.html"),
        **extra,
    )


def test_when_the_last_output_fails_the_earlier_ones_are_removed(run_alg, pair, tmp_path, monkeypatch):
    from qgis.core import QgsProcessingException

    from sar_change.processing_provider import change

    def full_disk(path, text):
        raise OSError(28, "No space left on device", path)

    monkeypatch.setattr(change, "write_text", full_disk)
    with pytest.raises(QgsProcessingException, match="No space left on device: .*report.html"):
        run_alg("sarchange:changedetection", _change(pair, tmp_path))
    assert not (tmp_path / "out").exists()  # the run made the folder, and removed it again


def test_an_output_under_a_file_is_an_error_naming_the_parameter_before_any_work(run_alg, pair, tmp_path):
    from qgis.core import QgsProcessingException

    (tmp_path / "notes.txt").write_text("x")
    parameters = _change(pair, tmp_path)
    parameters["OUTPUT_RASTER"] = str(tmp_path / "notes.txt" / "classes.tif")
    with pytest.raises(QgsProcessingException, match="OUTPUT_RASTER: cannot create the folder"):
        run_alg("sarchange:changedetection", parameters)
    assert not (tmp_path / "out").exists()


def test_a_run_cancelled_during_the_work_writes_nothing(run_alg, pair, tmp_path):
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    class CancelMidway(QgsProcessingFeedback):
        def setProgress(self, progress):  # noqa: N802
            super().setProgress(progress)
            if progress >= 50:
                self.cancel()

    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run_alg("sarchange:changedetection", _change(pair, tmp_path), CancelMidway())
    assert not (tmp_path / "out").exists()


def _wait_for(predicate, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_qgis_process_leaves_no_output_and_the_next_run_cleans_up(qgis_process, write_raster, tmp_path, sig):
    big = write_raster("big.tif", np.random.default_rng(0).gamma(1.0, 0.1, (3000, 3000)).astype(np.float32))
    out = tmp_path / "out"
    out.mkdir()
    target = out / "filtered.tif"
    args = ["run", "sarchange:despeckle", "--", f"INPUT={big}", "METHOD=refined_lee", f"OUTPUT={target}"]
    process = qgis_process(*args, background=True)
    try:
        assert _wait_for(lambda: any(p.name.endswith(".part.tif") for p in out.iterdir()), 120), "no temporary"
        time.sleep(0.3)
        assert process.poll() is None, "the run ended before it could be killed; make the input larger"
        process.send_signal(sig)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    assert not target.exists()
    qgis_process("run", "sarchange:despeckle", "--", f"INPUT={big}", "METHOD=boxcar", f"OUTPUT={target}")
    assert sorted(p.name for p in out.iterdir()) == ["filtered.tif"]


def test_two_qgis_process_runs_writing_one_output_leave_one_whole_result(qgis_process, write_raster, tmp_path):
    from sar_change.algorithms.io.raster import read_band

    rng = np.random.default_rng(1)
    a = write_raster("a.tif", rng.gamma(1.0, 0.1, (1200, 1200)).astype(np.float32))
    b = write_raster("b.tif", rng.gamma(1.0, 1.0, (1200, 1200)).astype(np.float32))
    target = tmp_path / "same.tif"
    runs = [
        qgis_process("run", "sarchange:todb", "--", f"INPUT={path}", f"OUTPUT={target}", background=True)
        for path in (a, b)
    ]
    for run in runs:
        assert run.wait(300) == 0
    result = read_band(str(target))
    expected = [10 * np.log10(read_band(path)) for path in (a, b)]
    assert any(np.allclose(result, e, atol=1e-4, equal_nan=True) for e in expected)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    "algorithm, arguments",
    [
        ("changedetection", ["AFTER={after}", "OUTPUT={out}/c.gpkg", "OUTPUT_RASTER={out}/c.tif"]),
        ("kmeans", ["UNIT=superpixel", "OUTPUT={out}/k.tif"]),
    ],
)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_cancels_a_qgis_process_run_cleanly(
    qgis_process, write_raster, tmp_path, algorithm, arguments, sig
):
    """A signal is a cancel: exit status 1, no output, no abort from work still running at exit."""
    rng = np.random.default_rng(0)
    before = rng.gamma(1.0, 0.1, (2500, 2500)).astype(np.float32)
    paths = {
        "before": write_raster("b.tif", before),
        "after": write_raster("a.tif", before * rng.gamma(1.0, 1.0, before.shape).astype(np.float32)),
    }
    out = tmp_path / "out"
    out.mkdir()
    first = "BEFORE" if algorithm == "changedetection" else "BACKSCATTER"
    args = [f"{first}={paths['before']}"] + [a.format(after=paths["after"], out=out) for a in arguments]
    process = qgis_process("run", f"sarchange:{algorithm}", "--", *args, background=True, capture=True)
    time.sleep(4.0)
    assert process.poll() is None, "the run ended before the signal; make the input larger"
    process.send_signal(sig)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1, output[-2000:]
    assert "Cancelled by the user" in output and "terminate called" not in output
    assert list(out.iterdir()) == []


def test_a_qgis_process_killed_while_writing_polygons_leaves_no_geopackage(qgis_process, write_raster, tmp_path):
    """Vector outputs are written under a hidden temporary name too, renamed when complete."""
    rng = np.random.default_rng(0)
    before = rng.gamma(1.0, 0.1, (2500, 2500)).astype(np.float32)
    after = before * rng.gamma(1.0, 1.0, before.shape).astype(np.float32)
    paths = [write_raster("b.tif", before), write_raster("a.tif", after)]
    out = tmp_path / "out"
    out.mkdir()
    target = out / "changes.gpkg"
    args = ["run", "sarchange:changedetection", "--", f"BEFORE={paths[0]}", f"AFTER={paths[1]}", f"OUTPUT={target}"]
    process = qgis_process(*args, background=True)
    try:
        assert _wait_for(lambda: any(p.name.endswith(".part.gpkg") for p in out.iterdir()), 120), "no temporary"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    assert not target.exists()
    qgis_process(*args)
    assert sorted(p.name for p in out.iterdir()) == ["changes.gpkg"]
    from osgeo import ogr

    dataset = ogr.Open(str(target))
    assert dataset.GetLayer(0).GetName() == "changes" and dataset.GetLayer(0).GetFeatureCount() > 0
