"""Run the blocks of :func:`.pipeline.process_blocks` on a dask.distributed cluster.

A caller names a scheduler with :func:`scheduler_scope` (the Processing shells pass the setting
``sar_change/dask_scheduler``) or the environment variable :data:`SCHEDULER_ENV`; the blockwise
pipelines then submit their blocks (grouped in tasks of about a megapixel) to the cluster
instead of local threads. Workers read their windows from the input files themselves (the
paths must be readable from them: a shared disk, NFS, ``/vsicurl/``, ``/vsis3/``), compute,
and return the blocks; the caller's process writes the output in block order, as locally, so
outputs are the same bit for bit.

The code that workers run is this package, sent to them once per client as a zip (a worker
plugin, so workers that join or restart later get it too): workers need only the libraries
(numpy, GDAL, scipy...), not this plugin.

``distributed`` is optional and imported only when a scheduler is named.
"""

import hashlib
import io
import os
import tempfile
import threading
import time
import zipfile
from collections import deque
from typing import Dict, Iterable, Optional, Sequence

from ..common.cancel import checkpoint, current, scoped_value, thread_value
from ..common.deps import require
from .cluster_worker import forget_job, run_blocks, sendable, tune_worker_blas, unreadable  # noqa: F401 - re-exported

#: Environment variable naming the scheduler, e.g. ``tcp://10.0.0.5:8786``; it wins over the setting.
SCHEDULER_ENV = "SARCHANGE_DASK_SCHEDULER"
#: Seconds to wait for a scheduler to answer before giving up.
CONNECT_TIMEOUT_S = 10.0
#: Seconds between two looks for finished blocks while none is ready.
_WAIT_S = 0.002
#: dask sends the scheduler, with every task, the source of the code that submitted it (for its
#: dashboard), found by ``inspect.getsource``: 6 ms of the caller's CPU a task, as long as a Lee
#: block. Ours are all the same call; every module ignored, dask sends "<Code not available>".
_NO_SOURCE = {"distributed.diagnostics.computations.ignore-modules": [".*"]}
#: Values that mean "no cluster: local threads".
LOCAL = ("", "local", "none")

_PACKAGE = __name__.rsplit(".", 3)[0]  # the plugin's top-level name, whatever its folder is called
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_CLIENTS: Dict[str, object] = {}
_CLIENTS_LOCK = threading.Lock()


def scheduler_scope(address: Optional[str]):
    """Run the blockwise pipelines of this thread on the scheduler at ``address`` for the block
    (``None`` or ``""``: local threads, unless :data:`SCHEDULER_ENV` names one)."""
    return scoped_value("scheduler", address)


def current_scheduler() -> Optional[str]:
    """The scheduler address the blockwise pipelines use now, or ``None`` for local threads.

    :data:`SCHEDULER_ENV` first, then the open :func:`scheduler_scope`.
    """
    for value in (os.environ.get(SCHEDULER_ENV), thread_value("scheduler")):
        if value is not None and value.strip().lower() not in LOCAL:
            return value.strip()
    return None


def client(address: str):
    """A connected ``distributed.Client`` for ``address``, made once per process and reused.

    Raises
    ------
    ConnectionError
        The scheduler does not answer within :data:`CONNECT_TIMEOUT_S`; the message names it.
    """
    distributed = require("distributed")
    with _CLIENTS_LOCK:
        known = _CLIENTS.get(address)
        if known is not None and known.status == "running":
            return known
        try:
            made = distributed.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConnectionError(
                f"cannot reach the dask scheduler at {address!r} (setting sar_change/dask_scheduler or "
                f"${SCHEDULER_ENV}): {exc}. Start it with 'dask scheduler', or clear the setting to run "
                "on this machine's threads."
            ) from exc
        _ship_code(made)
        _CLIENTS[address] = made
        return made


def close_clients() -> None:
    """Close every client this process opened (the plugin calls it when unloaded)."""
    with _CLIENTS_LOCK:
        for made in _CLIENTS.values():
            try:
                made.close()
            except Exception:  # noqa: BLE001 - closing a broken connection must not fail an unload
                pass
        _CLIENTS.clear()


def _package_zip() -> bytes:
    """This package's Python code (the root ``__init__`` and the science core) as a zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(os.path.join(_PACKAGE_DIR, "__init__.py"), f"{_PACKAGE}/__init__.py")
        core = os.path.join(_PACKAGE_DIR, "algorithms")
        for folder, subfolders, names in os.walk(core):
            subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
            for name in sorted(names):
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    archive.write(path, f"{_PACKAGE}/" + os.path.relpath(path, _PACKAGE_DIR).replace(os.sep, "/"))
    return buffer.getvalue()


def _ship_code(made) -> None:
    """Send this package to the workers unless they run in this very process."""
    pids = made.run(os.getpid).values()
    if pids and all(pid == os.getpid() for pid in pids):  # threads of this process see our modules
        return
    data = _package_zip()
    name = f"{_PACKAGE}-{hashlib.sha1(data).hexdigest()[:12]}.zip"  # a new version of the code is a new file
    folder = os.path.join(tempfile.gettempdir(), "sarchange-code")  # one file per version, reused
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        partial = f"{path}.{os.getpid()}.part"
        with open(partial, "wb") as handle:
            handle.write(data)
        os.replace(partial, path)
    from distributed.diagnostics.plugin import UploadFile

    # one plugin per code version, whoever connects: workers that start later get it once
    made.register_worker_plugin(UploadFile(path), name=name)
    # and only this version's: a worker that starts later runs every registered upload, and would
    # import whichever version came last
    for other in made.run_on_scheduler(_registered_versions()):
        if other != name:
            try:
                made.unregister_worker_plugin(other)
            except Exception:  # noqa: BLE001 - best effort: the workers still forget it below
                pass
    made.run(_forget_other_versions(name))


def _registered_versions(package: str = _PACKAGE):
    """A function for the scheduler: the names of ``package``'s code uploads registered for new
    workers. Made here and pickled by value: the scheduler need not have this package."""

    def names(dask_scheduler=None):
        return [name for name in dask_scheduler.worker_plugins if str(name).startswith(package + "-")]

    return names


def _forget_other_versions(zip_name: str, package: str = _PACKAGE):
    """A function for workers that drops the modules of this package not loaded from ``zip_name``.

    Loading a zip re-imports only the top-level package: a worker that ran an older version
    would keep its submodules. And dask puts a zip first on ``sys.path`` only when it uploads it
    the first time: a driver of a version the workers had already seen (two versions of the plugin
    in turn, one cluster) would have its blocks run by the other version's code (a job pickled by
    one version and run by the other failed with an ``AttributeError``). So ``zip_name``, when a
    worker has it, is moved first on ``sys.path``. Made here and pickled by
    value, so it runs on any old version.
    """

    def forget():
        import importlib
        import os
        import sys

        wanted = [p for p in sys.path if os.path.basename(str(p)) == zip_name]
        for path in wanted:
            sys.path.remove(path)
        sys.path[:0] = wanted[:1]
        importlib.invalidate_caches()
        stale = [
            name
            for name, module in list(sys.modules.items())
            if (name == package or name.startswith(package + "."))
            and zip_name not in str(getattr(module, "__file__", "") or "")
        ]
        for name in stale:
            del sys.modules[name]
        return len(stale)

    return forget


# ---- the caller side -----------------------------------------------------------------------


def check_readable(made, paths: Sequence[str], address: str) -> None:
    """Raise ``ValueError`` naming the first input a worker cannot open."""
    answers = made.run(unreadable, list(paths))
    for worker, problem in sorted(answers.items()):
        if problem is not None:
            raise ValueError(
                f"the dask workers cannot read an input: worker {worker} of scheduler {address!r} says "
                f"{problem}. Workers read the inputs themselves: give paths they reach (a shared disk, "
                "NFS, /vsicurl/, /vsis3/)."
            )


def cluster_map(
    address: str, job, items: Iterable, paths: Sequence[str], is_cancelled=None, ahead: int = 0, batch: int = 1
):
    """Yield ``job(item)`` for each item in order, computed on the cluster at ``address``.

    ``job`` is pickled once and sent with every task; it must be importable on the workers
    (this package is, see :func:`client`). A task runs ``batch`` consecutive items: dask spends
    about 10 ms of CPU per task between the scheduler and the caller, as long as a 256-pixel
    block of the omnibus test. At most ``max(ahead items, 2 tasks per thread of the cluster)``
    are in flight, so the caller's memory does not grow with the number of items. A cancel
    (polled while waiting) cancels the tasks in flight. A worker that dies has its tasks
    recomputed by dask.
    """
    distributed = require("distributed")
    dask_config = require("dask.config")
    made = client(address)
    check_readable(made, paths, address)
    payload = require("cloudpickle").dumps(job)  # closures too; dask needs cloudpickle, so it is there
    token = "sarchange-" + hashlib.sha1(payload).hexdigest()[:16] + "-" + os.urandom(4).hex()
    threads = sum(made.nthreads().values()) or 1
    batch = max(1, int(batch))
    ahead = max(-(-int(ahead) // batch), 2 * threads)  # in tasks
    check = current(is_cancelled)
    # as_completed fetches every finished block at once, concurrently (one result() after another
    # would pay a round trip per block: 16 ms, as long as a 512-pixel Lee filter)
    arrived = distributed.as_completed(loop=made.loop, with_results=True, raise_errors=False)
    pending = deque()  # futures in submission order
    ready = {}  # key -> result, fetched and waiting for its turn

    def collect(block: bool):
        batch = arrived.next_batch(block=False)
        if not batch and block:
            time.sleep(_WAIT_S)
        for future, result in batch:
            if future.status == "error":
                _, exc, traceback = result
                if isinstance(exc, distributed.KilledWorker):
                    raise ConnectionError(
                        f"the dask workers of scheduler {address!r} died on every attempt at a block ({exc}); "
                        "see the workers' logs (memory limit?)"
                    ) from exc
                raise exc.with_traceback(traceback)
            ready[future.key] = result

    def next_results():
        key = pending[0].key
        while key not in ready:
            checkpoint(check)
            collect(block=True)
        pending.popleft()
        return ready.pop(key)

    def tasks():
        group = []
        for item in items:
            group.append(item)
            if len(group) == batch:
                yield group
                group = []
        if group:
            yield group

    try:
        for number, group in enumerate(tasks()):
            checkpoint(check)
            with dask_config.set(_NO_SOURCE):
                future = made.submit(run_blocks, token, payload, group, key=f"{token}-{number}", pure=False)
            pending.append(future)
            arrived.add(future)
            if len(pending) >= ahead:
                yield from next_results()
        while pending:
            yield from next_results()
    except BaseException:
        made.cancel(list(pending))
        raise
    finally:
        pending.clear()
        ready.clear()
        arrived.clear()
        try:
            made.run(forget_job, token)
        except Exception:  # noqa: BLE001 - freeing worker memory is best effort
            pass


__all__ = [
    "SCHEDULER_ENV",
    "client",
    "close_clients",
    "cluster_map",
    "current_scheduler",
    "scheduler_scope",
]
