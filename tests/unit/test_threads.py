"""Process-wide thread settings: BLAS on one thread while jobs run, restored by the last to leave."""

import threading

import pytest

from sar_change.algorithms.common import threads

threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl not installed")


def _blas_threads():
    counts = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    if not counts:
        pytest.skip("numpy is not linked to a BLAS that threadpoolctl knows")
    return min(counts)


@pytest.fixture
def two_blas_threads():
    """BLAS on two threads around the test, so that a restore to the original is visible."""
    _blas_threads()
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        if _blas_threads() != 2:
            pytest.skip("this BLAS cannot run on two threads")
        yield


def test_overlapping_jobs_keep_one_thread_until_the_last_leaves(two_blas_threads):
    first, second = threads.blas_single_threaded(), threads.blas_single_threaded()
    first.__enter__()
    second.__enter__()
    assert _blas_threads() == 1
    first.__exit__(None, None, None)
    assert _blas_threads() == 1  # the second job still runs
    second.__exit__(None, None, None)
    assert _blas_threads() == 2


def test_leaving_does_not_walk_the_loaded_libraries(two_blas_threads, monkeypatch):
    # walking them (dl_iterate_phdr) while a cancelled run's worker thread imports an extension
    # module deadlocks both threads: the cancel test hung on non-local means
    walks = []
    original = threadpoolctl.ThreadpoolController._load_libraries

    def counted(self):
        walks.append(threading.current_thread().name)
        return original(self)

    monkeypatch.setattr(threadpoolctl.ThreadpoolController, "_load_libraries", counted)
    with threads.blas_single_threaded():
        with threads.blas_single_threaded():
            entered = len(walks)
    assert entered == 1
    assert len(walks) == 1
    monkeypatch.undo()
    assert _blas_threads() == 2


def test_a_job_entering_while_blocks_run_does_not_walk_the_libraries(two_blas_threads, monkeypatch):
    # a cancelled run's blocks go on in the background, importing what they use: the next run
    # hung on despeckle's cancel test, walking the libraries at its start
    with threads.blas_single_threaded():
        pass  # a lookup, with no block running
    walks = []
    original = threadpoolctl.ThreadpoolController._load_libraries

    def counted(self):
        walks.append(1)
        return original(self)

    monkeypatch.setattr(threadpoolctl.ThreadpoolController, "_load_libraries", counted)
    with threads.block_running():
        with threads.blas_single_threaded():
            assert walks == []
            assert _blas_threads() == 1  # the controller from the last lookup lowered them
        walks.clear()  # the test's own lookup just above
    assert walks == []
    with threads.blas_single_threaded():
        pass
    assert walks == [1]  # no block running: looked up again, for the libraries loaded since
    monkeypatch.undo()
    assert _blas_threads() == 2


def test_a_block_waits_for_a_lookup_that_started_while_none_ran():
    # between "no block runs" and the end of the walk, a block that started could import
    import time

    order = []

    def lookup():
        started.set()
        time.sleep(0.2)
        order.append("lookup done")

    def block():
        assert started.wait(5)
        with threads.block_running():
            order.append("block started")

    started = threading.Event()
    other = threading.Thread(target=block)
    other.start()
    assert threads.run_when_no_block_runs(lookup)
    other.join(5)
    assert order == ["lookup done", "block started"]
    with threads.block_running():
        assert not threads.run_when_no_block_runs(lambda: order.append("called"))
    assert "called" not in order
