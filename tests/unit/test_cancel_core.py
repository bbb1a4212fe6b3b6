"""Cooperative cancel in the core: checkpoints, and long calls that return within a poll."""

import threading
import time

import pytest

from sar_change.algorithms.common import cancel
from sar_change.algorithms.common.cancel import Cancelled
from sar_change.algorithms.io.pipeline import _ordered_map


def _cancel_after(seconds):
    start = time.monotonic()
    return lambda: time.monotonic() - start > seconds


def test_outside_a_scope_checkpoints_do_nothing_and_calls_are_plain():
    cancel.checkpoint()
    assert cancel.interruptible(lambda x: (x, threading.current_thread().name), 3) == (3, "MainThread")


def test_a_long_call_returns_within_a_poll_of_the_cancel():
    with cancel.cancel_scope(_cancel_after(0.2)):
        start = time.monotonic()
        with pytest.raises(Cancelled):
            cancel.interruptible(time.sleep, 3.0)
    assert time.monotonic() - start < 0.2 + 5 * cancel.POLL_S


def test_the_result_and_the_errors_of_an_interruptible_call_reach_the_caller():
    with cancel.cancel_scope(lambda: False):
        assert cancel.interruptible(sum, [1, 2, 3]) == 6
        with pytest.raises(ValueError, match="bad"):
            cancel.interruptible(int, "bad")


def test_an_abandoned_call_stops_at_its_own_next_checkpoint():
    steps = []

    def work():
        for i in range(100):
            cancel.checkpoint()  # the helper thread sees the caller's scope
            cancel.interruptible(time.sleep, 0.02)  # nested: runs directly in the helper
            steps.append(i)

    with cancel.cancel_scope(_cancel_after(0.15)):
        with pytest.raises(Cancelled):
            cancel.interruptible(work)
    time.sleep(0.2)
    done = len(steps)
    time.sleep(0.2)
    assert 3 <= done < 20 and len(steps) == done  # it stopped soon after the cancel, and stays stopped


def test_a_cancel_while_blocks_compute_returns_without_waiting_for_them():
    def slow(item):
        time.sleep(1.0)
        return item

    start = time.monotonic()
    with pytest.raises(Cancelled):
        list(_ordered_map(slow, range(20), _cancel_after(0.1)))
    assert time.monotonic() - start < 0.5


def test_blocks_without_a_cancel_come_back_in_order():
    assert list(_ordered_map(lambda i: i * i, range(50), lambda: False)) == [i * i for i in range(50)]
