"""Threads of this process: how many block workers, and process-wide library settings
(OpenCV and BLAS threads, GDAL's cache) lowered for the duration of a run and restored by the last
run to finish, whichever thread it is on.
"""

import contextlib
import os
import sys
import threading
from typing import Dict

from .deps import has

#: Worker threads reading and computing blocks while the main thread writes (numpy and GDAL
#: release the GIL). At most WORKERS + 1 blocks are in flight, so memory stays bounded.
WORKERS = max(1, min(4, os.cpu_count() or 1))


class _ProcessSetting:
    """A process-wide library setting changed while any job runs and restored after the last one.

    Jobs may overlap (QGIS runs Processing tasks in background threads): the first to enter saves
    the original value, every job may only lower it, and the last to leave restores it.
    """

    def __init__(self, get, put):
        self._get, self._put = get, put
        self._lock = threading.Lock()
        self._users = 0
        self._original = None

    @contextlib.contextmanager
    def lowered_to(self, value):
        with self._lock:
            if self._users == 0:
                self._original = self._get()
            self._users += 1
            if value < self._get():
                self._put(value)
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0 and self._get() != self._original:
                    self._put(self._original)


_settings: Dict[str, _ProcessSetting] = {}
_settings_lock = threading.Lock()


def _process_setting(name: str, get, put) -> _ProcessSetting:
    with _settings_lock:
        if name not in _settings:
            _settings[name] = _ProcessSetting(get, put)
        return _settings[name]


@contextlib.contextmanager
def opencv_single_threaded():
    """Run OpenCV on one thread for the duration (our block workers already use every core;
    OpenCV's own thread pool on top of them makes its filters about 1.5x slower), then restore.

    Only when OpenCV is already imported: importing it costs ~100 MB of resident memory, which a
    run whose blocks never call it (omnibus, todb) should not pay. :func:`.pipeline.process_blocks`
    enters this again after a block when the block imported OpenCV.
    """
    cv2 = sys.modules.get("cv2")
    if WORKERS == 1 or cv2 is None:
        yield
        return
    with _process_setting("opencv threads", cv2.getNumThreads, cv2.setNumThreads).lowered_to(1):
        yield


def set_blas_threads(count: int) -> None:
    """Run BLAS on ``count`` threads from now on (threadpoolctl must be installed)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(int(count), user_api="blas")


_blocks = [0]  # blocks being computed in this process (:func:`block_running`)
_blocks_lock = threading.Lock()


@contextlib.contextmanager
def block_running():
    """Count a block being computed, for :class:`_BlasSetting` (a cancelled run's blocks go on)."""
    with _blocks_lock:
        _blocks[0] += 1
    try:
        yield
    finally:
        with _blocks_lock:
            _blocks[0] -= 1


def run_when_no_block_runs(func) -> bool:
    """Call ``func()`` now if no block is being computed in this process, and return True; blocks
    that would start meanwhile wait for it. Return False, without calling it, while any runs."""
    with _blocks_lock:
        if _blocks[0]:
            return False
        func()
        return True


class _BlasSetting:
    """BLAS on one thread while any job runs; the last job to leave restores the original counts.

    threadpoolctl finds the loaded libraries with ``dl_iterate_phdr``, which holds the dynamic
    loader's lock while it runs Python code, so it must not run while another thread imports an
    extension module (``dlopen`` with the GIL held): the two threads deadlock. The blocks of a run
    import what they use in their first block, and a cancelled run's blocks go on in the
    background. So the libraries are looked up only when the first job enters while no block is
    being computed in this process (:func:`run_when_no_block_runs`); otherwise the controller from
    the last lookup is used. Leaving restores the counts through the limiter, without a lookup.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._users = 0
        self._limiter = None
        self._controller = None

    def _look_up(self):
        from threadpoolctl import ThreadpoolController

        self._controller = ThreadpoolController()

    @contextlib.contextmanager
    def single_threaded(self):
        with self._lock:
            if self._users == 0:
                if not run_when_no_block_runs(self._look_up) and self._controller is None:
                    self._look_up()  # the process's first lookup has nothing to fall back on
                self._limiter = self._controller.limit(limits=1, user_api="blas")
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    self._limiter.restore_original_limits()
                    self._limiter = None


_blas = _BlasSetting()


@contextlib.contextmanager
def blas_single_threaded():
    """Run BLAS (OpenBLAS, MKL) on one thread for the duration, then restore.

    Our block workers already use every core. One BLAS thread also gives the same sums, in the
    same order, as the workers of a dask cluster (started with ``OPENBLAS_NUM_THREADS=1``): a
    sparse LU factorisation of the elevation-change model differed in the last bits otherwise.
    Enter it before the worker threads start (see :class:`_BlasSetting`).
    """
    if not has("threadpoolctl"):
        yield
        return
    with _blas.single_threaded():
        yield


def glibc():
    """The C library when it is glibc (its ``malloc_trim`` and ``mallopt``), else None."""
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


def release_free_memory() -> bool:
    """Hand the memory this process has freed back to the system (glibc only; else a no-op).

    glibc keeps what each worker thread frees in that thread's arena for its next allocation, so
    after a blockwise run the process stays as large as its busiest moment; the next phase (region
    labels, polygons) then grows from there. Trimming costs milliseconds. Returns True when glibc
    released something.
    """
    libc = glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
