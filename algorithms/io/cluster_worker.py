"""The worker side of :mod:`.cluster`: what a dask worker runs for the blockwise pipelines.

A worker unpickles a block job once and keeps it (with the datasets it opened) for the next blocks
of the same run, tunes its memory allocator and its BLAS threads, and returns each block's parts
as out-of-band buffers. These functions are sent to the workers by reference to this module, which
the workers import from the package zip that :mod:`.cluster` ships to them.
"""

import threading
from collections import OrderedDict
from typing import Optional, Sequence

import numpy as np

from ..common.deps import has

#: glibc settings a worker takes at its first block: freed memory up to this is kept for the next
#: block (dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which hands every large array
#: fresh pages from the kernel: our block functions ran 1.45x slower in a worker than in QGIS).
WORKER_TRIM_THRESHOLD = 128 * 1024 * 1024
#: Arrays under this come from the heap, not from a fresh mmap (glibc's own dynamic maximum).
WORKER_MMAP_THRESHOLD = 32 * 1024 * 1024
_TUNED = []


def tune_worker_memory() -> bool:
    """Keep freed memory for the next block in this process (glibc only; once per process).

    Returns True when glibc took the settings. The worker's resident memory may stay up to
    :data:`WORKER_TRIM_THRESHOLD` higher between blocks.
    """
    if _TUNED:
        return _TUNED[0]
    from ..common.threads import glibc

    libc, ok = glibc(), False
    if libc is not None:  # not glibc: nothing to tune
        m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
        ok = bool(libc.mallopt(m_trim_threshold, WORKER_TRIM_THRESHOLD)) and bool(
            libc.mallopt(m_mmap_threshold, WORKER_MMAP_THRESHOLD)
        )
    _TUNED.append(ok)
    return ok


_JOBS: "OrderedDict[str, object]" = OrderedDict()
_JOBS_LOCK = threading.Lock()
_JOBS_KEPT = 4
_BLAS_PENDING = [False]  # a new job's BLAS tuning, left until no block runs in the worker


def tune_worker_blas() -> None:
    """Run BLAS on one thread in this worker process from now on (dask's nanny asks the same of
    the libraries it starts with, ``OPENBLAS_NUM_THREADS=1``).

    Permanent rather than around each task: asking threadpoolctl walks every loaded library, about
    10 ms a call, as long as filtering a 512-pixel block. Called before a job's first blocks on
    this worker and again after them, for the libraries those blocks loaded; never while another
    thread of the worker runs blocks (:func:`_tune_blas_when_idle`).
    """
    if has("threadpoolctl"):
        from ..common.threads import set_blas_threads

        set_blas_threads(1)


def _tune_blas_when_idle(pending: bool) -> None:
    """Under ``_JOBS_LOCK``: tune BLAS if no block runs in the worker, else leave it to the call
    that finishes last (:func:`..common.threads.run_when_no_block_runs`: threadpoolctl walks the
    libraries holding the loader's lock, and a block importing an extension meanwhile would
    deadlock both threads)."""
    from ..common.threads import run_when_no_block_runs

    _BLAS_PENDING[0] |= pending
    if _BLAS_PENDING[0] and run_when_no_block_runs(tune_worker_blas):
        _BLAS_PENDING[0] = False


def sendable(result):
    """A block job's ``(block, parts)`` with every part C-contiguous: pickle then hands each
    array to dask as an out-of-band buffer, sent as it is, where a cropped view was copied into
    the pickle's bytes and those bytes scanned again (0.8 s of a worker's 2.6 s on a Lee run)."""
    block, parts = result
    return block, [np.ascontiguousarray(part) for part in parts]


def run_blocks(token: str, payload: bytes, blocks):
    """On a worker: run the pickled block job ``payload`` on each of ``blocks``; a list of results.

    A job is unpickled once per worker process and kept (with the datasets it opened) for the
    next blocks of the same run. The first block tunes the worker's memory allocator
    (:func:`tune_worker_memory`) and a new job its BLAS threads (:func:`tune_worker_blas`);
    OpenCV runs on one thread, as in :func:`.pipeline.process_blocks`.
    """
    from ..common.threads import block_running, opencv_single_threaded

    with _JOBS_LOCK:
        tune_worker_memory()
        job = _JOBS.get(token)
        new = job is None
        if new:
            import pickle

            job = _JOBS[token] = pickle.loads(payload)
            while len(_JOBS) > _JOBS_KEPT:
                _JOBS.popitem(last=False)
            _tune_blas_when_idle(True)
        else:
            _JOBS.move_to_end(token)
    try:
        # as in process_blocks: the worker's threads are the parallelism, OpenCV's pool on top
        # only oversubscribes the cores (OpenCV ran 2 threads in each worker)
        with block_running(), opencv_single_threaded():
            return [sendable(job(block)) for block in blocks]
    finally:
        with _JOBS_LOCK:
            _tune_blas_when_idle(new)


def forget_job(token: str) -> None:
    """On a worker: drop a finished job and close its datasets."""
    with _JOBS_LOCK:
        _JOBS.pop(token, None)


def unreadable(paths: Sequence[str]) -> Optional[str]:
    """On a worker: ``None`` when GDAL opens every path, else the first failure."""
    from .raster import open_raster

    for path in paths:
        try:
            open_raster(path)
        except (ValueError, OSError, RuntimeError) as exc:
            return f"{path!r}: {exc}"
    return None
