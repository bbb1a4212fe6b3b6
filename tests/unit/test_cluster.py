"""Blocks on a dask.distributed cluster: the same output as local threads, cancel, a dead worker,
an unreachable scheduler, inputs the workers cannot read."""

import os
import signal
import sys
import time

import numpy as np
import pytest

from sar_change.algorithms import cluster
from sar_change.algorithms.cancel import Cancelled, cancel_scope, interruptible
from sar_change.algorithms.deps import MissingDependencyError
from sar_change.algorithms.despeckle_io import despeckle_raster
from sar_change.algorithms.overlay import overlay_rasters
from sar_change.algorithms.raster_io import process_blockwise, read_band


@pytest.fixture
def scene(write_raster):
    rng = np.random.default_rng(4)
    before = rng.gamma(1.0, 0.1, (700, 600)).astype(np.float32)
    after = before * rng.gamma(4.0, 0.25, before.shape).astype(np.float32)
    after[200:400, 100:300] *= 10.0
    return write_raster("before.tif", before), write_raster("after.tif", after)


def _read_all(path):
    from osgeo import gdal

    dataset = gdal.Open(path)
    return dataset.ReadAsArray()


def test_despeckle_on_the_cluster_equals_local_threads_bit_for_bit(dask_cluster, scene, tmp_path):
    local = despeckle_raster(scene[0], str(tmp_path / "local.tif"), "lee", input_scale="linear", block_size=256)
    with cluster.scheduler_scope(dask_cluster.scheduler_address):
        remote = despeckle_raster(scene[0], str(tmp_path / "dask.tif"), "lee", input_scale="linear", block_size=256)
    assert np.array_equal(read_band(local), read_band(remote), equal_nan=True)
    assert np.nanstd(read_band(remote)) < np.nanstd(read_band(scene[0]))  # it did filter


def test_two_date_overlay_on_the_cluster_equals_local_threads(dask_cluster, scene, tmp_path):
    local = overlay_rasters((scene[0], 1), (scene[1], 1), str(tmp_path / "local.tif"), input_scale="linear")
    with cluster.scheduler_scope(dask_cluster.scheduler_address):
        remote = overlay_rasters((scene[0], 1), (scene[1], 1), str(tmp_path / "dask.tif"), input_scale="linear")
    expected, got = _read_all(local), _read_all(remote)
    assert got.shape == (3, 700, 600) and got.dtype == np.uint8
    assert np.array_equal(expected, got)


def test_environment_variable_names_the_scheduler_and_wins_over_the_scope(monkeypatch):
    monkeypatch.delenv(cluster.SCHEDULER_ENV, raising=False)
    assert cluster.current_scheduler() is None
    with cluster.scheduler_scope("tcp://10.0.0.1:8786"):
        assert cluster.current_scheduler() == "tcp://10.0.0.1:8786"
        assert interruptible(cluster.current_scheduler) == "tcp://10.0.0.1:8786"  # helper threads see it
        monkeypatch.setenv(cluster.SCHEDULER_ENV, " tcp://10.0.0.2:8786 ")
        assert cluster.current_scheduler() == "tcp://10.0.0.2:8786"
        monkeypatch.setenv(cluster.SCHEDULER_ENV, "local")
        assert cluster.current_scheduler() == "tcp://10.0.0.1:8786"  # "local" in the variable: the setting
    with cluster.scheduler_scope(""):
        assert cluster.current_scheduler() is None


def test_unreachable_scheduler_is_a_clear_error_naming_its_address(monkeypatch, scene, tmp_path):
    pytest.importorskip("distributed", reason="dask.distributed not installed (python3-distributed)")
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    output = tmp_path / "never.tif"
    with cluster.scheduler_scope("tcp://127.0.0.1:9"):
        with pytest.raises(ConnectionError, match=r"dask scheduler at 'tcp://127\.0\.0\.1:9'"):
            despeckle_raster(scene[0], str(output), "lee", input_scale="linear")
    assert not output.exists()


def test_missing_distributed_names_the_package_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    with pytest.raises(MissingDependencyError, match="python3-distributed"):
        cluster.client("tcp://127.0.0.1:8786")


def test_input_the_workers_cannot_read_is_a_clear_error(dask_cluster, scene, tmp_path):
    from osgeo import gdal

    # /vsimem/ lives in this process's memory: this process reads it, the worker processes cannot
    memory = "/vsimem/sarchange-only-here.tif"
    gdal.Translate(memory, scene[0])
    output = tmp_path / "never.tif"
    try:
        with cluster.scheduler_scope(dask_cluster.scheduler_address):
            with pytest.raises(ValueError, match=r"workers cannot read an input.*sarchange-only-here\.tif"):
                process_blockwise(memory, str(output), np.sqrt)
    finally:
        gdal.Unlink(memory)
    assert not output.exists()


def _scheduler_tasks(client):
    return client.run_on_scheduler(
        lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks if str(k).startswith("sarchange-")]
    )


def test_cancel_cancels_the_futures_in_flight_and_writes_nothing(dask_cluster, scene, tmp_path):
    def slow(values):
        time.sleep(0.2)
        return values

    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 20

    output = tmp_path / "never.tif"
    started = time.monotonic()
    with cluster.scheduler_scope(dask_cluster.scheduler_address), cancel_scope(cancelled):
        with pytest.raises(Cancelled):
            process_blockwise(scene[0], str(output), slow, block_size=64)  # 110 blocks: 11 s uncancelled
    assert time.monotonic() - started < 5.0
    assert not output.exists()
    client = cluster.client(dask_cluster.scheduler_address)
    for _ in range(100):  # the scheduler forgets the cancelled futures within moments
        if not _scheduler_tasks(client):
            break
        time.sleep(0.05)
    assert _scheduler_tasks(client) == []


def test_a_worker_killed_mid_run_loses_nothing(scene, tmp_path):
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed (python3-distributed)")

    def slow_double(values):
        time.sleep(0.05)
        return values * 2.0

    local = process_blockwise(scene[0], str(tmp_path / "local.tif"), slow_double, block_size=64)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
    ) as own:
        address = own.scheduler_address
        pids = list(cluster.client(address).run(os.getpid).values())
        killed = []

        def progress(fraction):
            if fraction > 0.3 and not killed:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        with cluster.scheduler_scope(address):
            remote = process_blockwise(
                scene[0], str(tmp_path / "dask.tif"), slow_double, block_size=64, progress=progress
            )
        survivors = cluster.client(address).run(os.getpid).values()
        cluster.close_clients()
    assert killed and killed[0] not in survivors
    assert np.array_equal(read_band(local), read_band(remote), equal_nan=True)


def test_an_error_in_a_block_reaches_the_caller_and_writes_nothing(dask_cluster, scene, tmp_path):
    def broken(values):
        raise ValueError("looks must be >= 1, got looks=0")

    output = tmp_path / "never.tif"
    with cluster.scheduler_scope(dask_cluster.scheduler_address):
        with pytest.raises(ValueError, match="looks=0"):
            process_blockwise(scene[0], str(output), broken)
    assert not output.exists()
