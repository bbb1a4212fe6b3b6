"""Outputs are all kept or all removed; temporaries of killed runs are cleaned; concurrent runs
never corrupt a result; an unwritable destination is a clear error before any work."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from sar_change.algorithms.io.outputs import check_writable, output_transaction, remove_stale_temporaries, write_text
from sar_change.algorithms.io.outputs import write_array as _write_array
from sar_change.algorithms.io.raster import read_band


def write_array(path, array):
    _write_array(path, array, geotransform=(0.0, 1.0, 0.0, 0.0, 0.0, -1.0), crs_wkt="")


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_failure_after_the_first_output_removes_it_and_restores_the_file_it_replaced(tmp_path):
    old = str(tmp_path / "a.tif")
    write_array(old, np.zeros((4, 4), np.float32))
    with pytest.raises(OSError, match="disk full"):
        with output_transaction():
            write_array(old, np.ones((4, 4), np.float32))
            write_array(str(tmp_path / "b.tif"), np.ones((4, 4), np.float32))
            write_text(str(tmp_path / "c.html"), "<p>report</p>")
            raise OSError("disk full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tif"]
    np.testing.assert_array_equal(read_band(old), 0.0)  # the previous result, not half of this run


def test_a_successful_transaction_keeps_every_output_and_drops_the_backups(tmp_path):
    write_array(str(tmp_path / "a.tif"), np.zeros((4, 4), np.float32))
    with output_transaction():
        write_array(str(tmp_path / "a.tif"), np.ones((4, 4), np.float32))
        write_text(str(tmp_path / "c.html"), "ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tif", "c.html"]
    np.testing.assert_array_equal(read_band(str(tmp_path / "a.tif")), 1.0)


def test_temporaries_of_a_killed_run_are_removed_and_those_of_a_live_run_kept(tmp_path):
    target = tmp_path / "out.tif"
    dead = tmp_path / f".out.tif.{_dead_pid()}-0123abcd.part.tif"
    old_format = tmp_path / ".out.tif.89abcdef.part.tif"  # before runs were tagged with their pid
    live = tmp_path / f".out.tif.{os.getpid()}-0123abcd.part.tif"
    other = tmp_path / f".other.tif.{_dead_pid()}-0123abcd.part.tif"
    for path in (dead, old_format, live, other):
        path.write_bytes(b"x" * 1000)
    removed = remove_stale_temporaries(str(target))
    assert sorted(os.path.basename(p) for p in removed) == sorted([dead.name, old_format.name])
    assert live.exists() and other.exists()


def test_writing_an_output_cleans_the_temporaries_a_killed_run_left(tmp_path):
    stale = tmp_path / f".out.tif.{_dead_pid()}-0123abcd.part.tif"
    stale.write_bytes(b"x" * 1000)
    write_array(str(tmp_path / "out.tif"), np.ones((2, 2), np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tif"]


def test_two_concurrent_writers_of_one_output_leave_one_whole_result(tmp_path):
    path = str(tmp_path / "same.tif")
    errors = []

    def write(value):
        try:
            for _ in range(5):
                write_array(path, np.full((256, 256), value, np.float32))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(v,)) for v in (1.0, 2.0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    values = np.unique(read_band(path))
    assert values.size == 1 and values[0] in (1.0, 2.0)
    assert [p.name for p in tmp_path.iterdir()] == ["same.tif"]


def test_an_output_under_a_file_or_at_a_folder_is_a_value_error_naming_it(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"OUTPUT: cannot create the folder .* is a file"):
        check_writable(str(tmp_path / "notes.txt" / "out.tif"), "OUTPUT")
    with pytest.raises(ValueError, match="OUTPUT: .* is a folder"):
        check_writable(str(tmp_path), "OUTPUT")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_folder_is_a_value_error_naming_the_output(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ValueError, match="OUTPUT: the folder .* is not writable"):
            check_writable(str(folder / "out.tif"), "OUTPUT")
    finally:
        folder.chmod(0o700)


def test_an_empty_raster_is_refused_before_a_file_is_made(tmp_path):
    with pytest.raises(ValueError, match="at least 1 x 1"):
        write_array(str(tmp_path / "e.tif"), np.zeros((0, 5), np.float32))
    assert not list(tmp_path.iterdir())
