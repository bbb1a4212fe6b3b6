"""Cooperative cancel for the core, without a QGIS import.

A caller (a Processing algorithm) opens a :func:`cancel_scope` with a callable that says whether
the user cancelled. Inside it:

- :func:`checkpoint` raises :class:`Cancelled` once the user cancelled: loops over tiles, dates or
  features call it between steps;
- :func:`interruptible` runs one long call that cannot poll by itself (a scikit-image or
  scikit-learn routine, a model fit) in a helper thread and returns within :data:`POLL_S` of a
  cancel. The abandoned call runs on in the background, its result dropped, until its own next
  checkpoint (the helper thread sees the same scope) or its end; it must not write files.

Work that a cancel leaves running is remembered: a process about to exit (``qgis_process``) calls
:func:`wait_for_abandoned`, since native code still running while the process tears down its
libraries aborts it (OpenCV: "terminated TLS container"). Helper threads are not daemons, so a
plain Python interpreter joins them at exit.

Outside a scope both are plain: ``checkpoint()`` does nothing and ``interruptible(f, x)`` is
``f(x)``, so the core runs and tests the same without a caller that can cancel.

Progress goes the same way: a caller opens a :func:`progress_scope` with a callable taking a
fraction 0-1, a long step narrows it with :func:`phase`, and loops inside call :func:`report`
(a tile, a block, a date done), so a bar moves across the real phases of a run.
"""

import contextlib
import threading
import time
from concurrent import futures
from typing import Callable, Optional

#: Seconds between two polls of the cancel callable while a long call runs.
POLL_S = 0.05

StopFn = Callable[[], bool]
_LOCAL = threading.local()
_ABANDONED = []  # threads and futures a cancel left running
_ABANDONED_LOCK = threading.Lock()


class Cancelled(Exception):
    """The caller asked to stop; no output was left behind."""


@contextlib.contextmanager
def _thread_value(name: str, value):
    """Set this thread's ``name`` to ``value`` for the block, then restore what it was."""
    previous = getattr(_LOCAL, name, None)
    setattr(_LOCAL, name, value)
    try:
        yield
    finally:
        setattr(_LOCAL, name, previous)


def scoped_value(name: str, value):
    """Set this thread's ``name`` for the block; helper threads of :func:`interruptible` see it too."""
    return _thread_value(name, value)


def thread_value(name: str):
    """This thread's ``name`` set by :func:`scoped_value` (``None`` when unset)."""
    return getattr(_LOCAL, name, None)


def cancel_scope(is_cancelled: Optional[StopFn]):
    """Make ``is_cancelled`` the cancel check of this thread for the duration of the block."""
    return _thread_value("check", is_cancelled)


def current(is_cancelled: Optional[StopFn] = None) -> Optional[StopFn]:
    """``is_cancelled`` if given, else the check of the open :func:`cancel_scope` (or None)."""
    return is_cancelled if is_cancelled is not None else getattr(_LOCAL, "check", None)


def checkpoint(is_cancelled: Optional[StopFn] = None) -> None:
    """Raise :class:`Cancelled` when the caller cancelled (see :func:`current`)."""
    check = current(is_cancelled)
    if check is not None and check():
        raise Cancelled("cancelled by the user; no output written")


def progress_scope(callback: Optional[Callable[[float], None]]):
    """Make ``callback(fraction)`` receive this thread's :func:`report` calls for the block."""
    return _thread_value("progress", callback)


@contextlib.contextmanager
def phase(start: float, end: float):
    """Map the fractions reported inside the block onto ``start`` .. ``end`` of the current scope;
    ``start`` is reported on entry and ``end`` on a normal exit."""
    outer = getattr(_LOCAL, "progress", None)
    if outer is None:
        yield
        return
    with progress_scope(lambda fraction: outer(start + (end - start) * min(max(fraction, 0.0), 1.0))):
        report(0.0)
        yield
    outer(end)


def report(fraction: float) -> None:
    """Tell the open :func:`progress_scope` (if any) that ``fraction`` (0-1) of the step is done."""
    callback = getattr(_LOCAL, "progress", None)
    if callback is not None:
        callback(fraction)


def interruptible(func, *args, is_cancelled: Optional[StopFn] = None, **kwargs):
    """``func(*args, **kwargs)``, returning (by raising :class:`Cancelled`) within :data:`POLL_S`
    seconds of a cancel.

    Runs ``func`` in a helper thread that shares the cancel check, so checkpoints inside ``func``
    stop it too; a nested call runs directly in that thread. Without a check this is a plain call.
    """
    check = current(is_cancelled)
    checkpoint(check)
    if check is None or getattr(_LOCAL, "helper", False):
        return func(*args, **kwargs)
    outcome = {}
    done = threading.Event()

    state = dict(vars(_LOCAL), check=check, helper=True)  # the progress scope, the scheduler...

    def run():
        vars(_LOCAL).update(state)
        try:
            outcome["value"] = func(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = exc
        finally:
            done.set()

    helper = threading.Thread(target=run, name="sarchange-interruptible")
    helper.start()
    try:
        while not done.wait(POLL_S):
            checkpoint(check)
    except Cancelled:
        abandon([helper])
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _running(work) -> bool:
    return work.is_alive() if isinstance(work, threading.Thread) else not work.done()


def abandon(work) -> None:
    """Remember threads or futures that a cancel leaves running (see :func:`wait_for_abandoned`)."""
    with _ABANDONED_LOCK:
        _ABANDONED[:] = [w for w in _ABANDONED if _running(w)] + [w for w in work if _running(w)]


def wait_for_abandoned(timeout_s: float = 60.0) -> bool:
    """Wait up to ``timeout_s`` seconds for the work that cancels left running; True when all ended."""
    end = time.monotonic() + timeout_s
    with _ABANDONED_LOCK:
        work = list(_ABANDONED)
    for item in work:
        left = max(0.0, end - time.monotonic())
        if isinstance(item, threading.Thread):
            item.join(left)
        else:
            futures.wait([item], timeout=left)
    return not any(_running(w) for w in work)
