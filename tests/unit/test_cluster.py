"""Blocks on a dask.distributed cluster: the same output as local threads, cancel, a dead worker,
an unreachable scheduler, inputs the workers cannot read."""

import os
import signal
import sys
import time

import numpy as np
import pytest
from helpers import local_cluster

from sar_change.algorithms.common import threads
from sar_change.algorithms.common.cancel import Cancelled, cancel_scope, interruptible
from sar_change.algorithms.common.deps import MissingDependencyError
from sar_change.algorithms.io import cluster, cluster_worker
from sar_change.algorithms.io.pipeline import process_blockwise
from sar_change.algorithms.io.raster import read_band
from sar_change.algorithms.workflows.despeckle import despeckle_raster
from sar_change.algorithms.workflows.overlay import overlay_rasters


@pytest.fixture
def scene(write_raster):
    rng = np.random.default_rng(4)
    before = rng.gamma(1.0, 0.1, (700, 600)).astype(np.float32)
    after = before * rng.gamma(4.0, 0.25, before.shape).astype(np.float32)
    after[200:400, 100:300] *= 10.0
    return write_raster("before.tif", before), write_raster("after.tif", after)


@pytest.fixture
def one_block_per_task(monkeypatch):
    """Cluster tasks of one block each (small test rasters would otherwise be one task)."""
    from sar_change.algorithms.io import pipeline

    monkeypatch.setattr(pipeline, "CLUSTER_TASK_PIXELS", 1)


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


def test_cancel_cancels_the_futures_in_flight_and_writes_nothing(dask_cluster, scene, tmp_path, one_block_per_task):
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


def test_a_worker_killed_mid_run_loses_nothing(scene, tmp_path, one_block_per_task):
    pytest.importorskip("distributed", reason="dask.distributed not installed (python3-distributed)")

    def slow_double(values):
        time.sleep(0.05)
        return values * 2.0

    local = process_blockwise(scene[0], str(tmp_path / "local.tif"), slow_double, block_size=64)
    with local_cluster(2) as own:
        address = own.scheduler_address
        pids = list(cluster.client(address).run(os.getpid).values())
        killed, fractions = [], []

        def progress(fraction):
            fractions.append(fraction)
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
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) == 110  # a step per block
    assert np.array_equal(read_band(local), read_band(remote), equal_nan=True)


def test_an_error_in_a_block_reaches_the_caller_and_writes_nothing(dask_cluster, scene, tmp_path):
    def broken(values):
        raise ValueError("looks must be >= 1, got looks=0")

    output = tmp_path / "never.tif"
    with cluster.scheduler_scope(dask_cluster.scheduler_address):
        with pytest.raises(ValueError, match="looks=0"):
            process_blockwise(scene[0], str(output), broken)
    assert not output.exists()


def test_tasks_group_small_blocks_and_keep_their_order(dask_cluster, scene, tmp_path, monkeypatch):
    from sar_change.algorithms.io import pipeline

    seen = []
    real = cluster.cluster_map

    def spy(*args):
        seen.append(args[-1])  # the batch
        return real(*args)

    monkeypatch.setattr(pipeline, "cluster_map", spy)
    with cluster.scheduler_scope(dask_cluster.scheduler_address):
        grouped = process_blockwise(scene[0], str(tmp_path / "grouped.tif"), np.sqrt, block_size=64)
    assert seen == [pipeline.CLUSTER_TASK_PIXELS // 64**2]
    np.testing.assert_array_equal(read_band(grouped), np.sqrt(read_band(scene[0])))


def test_a_block_that_kills_every_worker_is_a_clear_error(scene, tmp_path):
    pytest.importorskip("distributed", reason="dask.distributed not installed (python3-distributed)")
    import dask

    def fatal(values):
        os._exit(3)  # the worker process dies, as on an out-of-memory kill

    output = tmp_path / "never.tif"
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with local_cluster(1) as own:
            with cluster.scheduler_scope(own.scheduler_address):
                with pytest.raises(ConnectionError, match="died on every attempt"):
                    process_blockwise(scene[0], str(output), fatal)
            cluster.close_clients()
    assert not output.exists()


def test_workers_keep_freed_memory_for_the_next_block(scene, tmp_path, one_block_per_task):
    # dask starts workers with MALLOC_TRIM_THRESHOLD_=65536: every large array then takes fresh
    # pages from the kernel, and our filters ran 1.45x slower there than in QGIS
    pytest.importorskip("distributed", reason="dask.distributed not installed (python3-distributed)")

    def tuned(address):
        return cluster.client(address).run(
            lambda: __import__("sar_change.algorithms.io.cluster_worker", fromlist=["_TUNED"])._TUNED
        )

    with local_cluster(2) as own:
        assert all(value == [] for value in tuned(own.scheduler_address).values())  # fresh workers
        with cluster.scheduler_scope(own.scheduler_address):
            despeckle_raster(scene[0], str(tmp_path / "o.tif"), "lee", input_scale="linear", block_size=128)
        after = tuned(own.scheduler_address)
        cluster.close_clients()
    assert len(after) == 2 and all(value == [True] for value in after.values())  # 30 blocks: both worked


def test_blocks_run_blas_on_one_thread_and_restore_it_after(scene, tmp_path):
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl not installed")
    from sar_change.algorithms.io import pipeline

    def blas_threads():
        counts = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
        if not counts:
            pytest.skip("numpy is not linked to a BLAS that threadpoolctl knows")
        return min(counts)

    before = blas_threads()
    seen = []

    def record(values):
        seen.append(blas_threads())
        return values

    pipeline.process_blockwise(scene[0], str(tmp_path / "o.tif"), record, block_size=256)
    assert seen and set(seen) == {1}  # the same sums as a dask worker (OPENBLAS_NUM_THREADS=1)
    assert blas_threads() == before


def test_workers_forget_another_code_version_and_import_this_one(dask_cluster, scene, tmp_path):
    address = dask_cluster.scheduler_address
    with cluster.scheduler_scope(address):
        first = despeckle_raster(scene[0], str(tmp_path / "a.tif"), "lee", input_scale="linear")
    made = cluster.client(address)
    # as if the workers' modules came from an older zip: every module of the package is dropped
    dropped = made.run(cluster._forget_other_versions("sar_change-000000000000.zip"))
    assert len(dropped) == 2 and all(count > 0 for count in dropped.values())
    with cluster.scheduler_scope(address):
        again = despeckle_raster(scene[0], str(tmp_path / "b.tif"), "lee", input_scale="linear")
    np.testing.assert_array_equal(read_band(again), read_band(first))
    # and what they import again comes from the zip the caller sent, not from elsewhere
    files = made.run(lambda: __import__("sar_change.algorithms.sar.despeckle", fromlist=["x"]).__file__)
    assert all(".zip" in path for path in files.values())


def test_a_version_the_workers_saw_before_comes_first_again(tmp_path, monkeypatch):
    # dask puts an uploaded zip first on sys.path only the first time: version A, then B, then A
    # again must import A's code (a job pickled by A and run by B's classes failed before)
    import sys
    import zipfile

    zips = {}
    for version in ("aaaa", "bbbb"):
        zips[version] = str(tmp_path / f"toypkg-{version}.zip")
        with zipfile.ZipFile(zips[version], "w") as archive:
            archive.writestr("toypkg/__init__.py", "")
            archive.writestr("toypkg/core.py", f"VERSION = {version!r}\n")
    monkeypatch.setattr(sys, "path", [zips["bbbb"], zips["aaaa"], *sys.path])  # A uploaded, then B
    for name in ("toypkg", "toypkg.core"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert __import__("toypkg.core", fromlist=["x"]).VERSION == "bbbb"
    dropped = cluster._forget_other_versions("toypkg-aaaa.zip", package="toypkg")()
    assert dropped == 2 and sys.path[0] == zips["aaaa"]
    assert __import__("toypkg.core", fromlist=["x"]).VERSION == "aaaa"
    for name in ("toypkg", "toypkg.core"):
        sys.modules.pop(name, None)


def test_shipping_the_code_unregisters_other_versions_for_workers_that_start_later(dask_cluster):
    from distributed.diagnostics.plugin import WorkerPlugin

    made = cluster.client(dask_cluster.scheduler_address)
    old = "sar_change-000000000000.zip"
    made.register_worker_plugin(WorkerPlugin(), name=old)
    assert old in made.run_on_scheduler(cluster._registered_versions())
    cluster._ship_code(made)
    names = made.run_on_scheduler(cluster._registered_versions())
    assert old not in names and len(names) == 1  # this version's upload only


def test_a_cropped_block_is_sent_as_one_out_of_band_buffer():
    # a view cropped out of a block with its halo pickled its data into the pickle's own bytes,
    # which dask copied and scanned again; contiguous, it travels as a buffer of its own
    import pickle

    from sar_change.algorithms.common.blocks import iter_blocks

    block = next(iter_blocks(64, 64, block_rows=32, block_cols=32, halo=4))
    with_halo = np.arange(40 * 40, dtype=np.float32).reshape(1, 40, 40)
    cropped = with_halo[(slice(0, 1),) + tuple(block.inner)]
    assert not cropped.flags.c_contiguous  # what a block job returns before it is made sendable
    sent, parts = cluster.sendable((block, [cropped]))
    buffers = []
    head = pickle.dumps(parts, protocol=5, buffer_callback=buffers.append)
    assert len(buffers) == 1 and len(head) < 1000
    assert sent is block and np.array_equal(parts[0], cropped)


def test_workers_ask_threadpoolctl_once_per_job_not_per_task(monkeypatch):
    # asking threadpoolctl walks every loaded library (~10 ms), as long as a Lee block
    import cloudpickle

    calls = []
    monkeypatch.setattr(cluster_worker, "tune_worker_blas", lambda: calls.append(1))
    monkeypatch.setattr(cluster_worker, "tune_worker_memory", lambda: True)
    payload = cloudpickle.dumps(lambda block: (block, [np.zeros((1, 2, 2), np.float32)]))
    token = "sarchange-test-" + os.urandom(4).hex()
    try:
        for group in ([1, 2], [3], [4, 5]):
            results = cluster.run_blocks(token, payload, group)
            assert [block for block, _ in results] == group
    finally:
        cluster.forget_job(token)
    assert len(calls) == 2  # before the job's first blocks and after them, for what they loaded


def test_a_worker_tunes_blas_only_while_no_other_thread_runs_blocks(monkeypatch):
    # threadpoolctl walks the libraries holding the loader's lock: a block of another thread
    # importing an extension meanwhile deadlocked both (as the local pipeline did on cancel)
    import pickle
    import threading

    calls, running = [], threading.Event()
    release = threading.Event()
    monkeypatch.setattr(cluster_worker, "tune_worker_blas", lambda: calls.append(threads._blocks[0]))
    monkeypatch.setattr(cluster_worker, "tune_worker_memory", lambda: True)

    def slow(block):
        running.set()
        assert release.wait(10)
        return block, [np.zeros((1, 2, 2), np.float32)]

    def quick(block):
        return block, [np.zeros((1, 2, 2), np.float32)]

    jobs = {b"slow": slow, b"quick": quick}  # what the worker unpickles (events cannot be pickled)
    monkeypatch.setattr(pickle, "loads", jobs.__getitem__)
    tokens = ["sarchange-test-" + os.urandom(4).hex() for _ in range(2)]
    other = threading.Thread(target=cluster_worker.run_blocks, args=(tokens[0], b"slow", [1]))
    try:
        other.start()
        assert running.wait(10)
        assert calls == [0]  # the first job, before its blocks: no other thread was running
        assert [b for b, _ in cluster_worker.run_blocks(tokens[1], b"quick", [2])] == [2]
        assert calls == [0]  # a new job while the other thread runs blocks: left to the last one
        release.set()
        other.join(10)
        assert calls == [0, 0]  # the last to leave tuned once, with no block running
    finally:
        release.set()
        for token in tokens:
            cluster_worker.forget_job(token)


def test_a_worker_runs_blas_on_one_thread_after_its_first_job():
    # a worker started without dask's nanny has no OPENBLAS_NUM_THREADS=1 in its environment
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl not installed")
    import subprocess

    if os.cpu_count() < 2:
        pytest.skip("one core: BLAS runs one thread anyway")
    if not any(lib["user_api"] == "blas" for lib in threadpoolctl.threadpool_info()):
        pytest.skip("numpy is not linked to a BLAS that threadpoolctl knows")
    code = (
        "import numpy, threadpoolctl\n"
        "from helpers import register_package\n"
        "register_package()\n"
        "from sar_change.algorithms.io import cluster\n"
        "blas = lambda: min(l['num_threads'] for l in threadpoolctl.threadpool_info() if l['user_api'] == 'blas')\n"
        "before = blas(); cluster.tune_worker_blas(); print(before, blas())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/: helpers
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    before, after = map(int, out.stdout.split())
    assert before > 1 and after == 1


def test_submitting_blocks_does_not_read_the_callers_source(dask_cluster, scene, tmp_path, monkeypatch):
    # dask looks up the source of the code that submits each task (for its dashboard): 6 ms of the
    # caller's CPU a task, as long as a Lee block
    import inspect

    looked_up = []
    real = inspect.getsource
    monkeypatch.setattr(inspect, "getsource", lambda obj: looked_up.append(obj) or real(obj))
    with cluster.scheduler_scope(dask_cluster.scheduler_address):
        despeckle_raster(scene[0], str(tmp_path / "o.tif"), "lee", input_scale="linear", block_size=128)
    assert looked_up == []
