import os

import numpy as np
import pytest
from scipy import ndimage

from sar_change.algorithms.common.cancel import Cancelled
from sar_change.algorithms.io.outputs import RasterWriter
from sar_change.algorithms.io.pipeline import process_blocks, process_blockwise
from sar_change.algorithms.io.raster import raster_info, read_band, sample_band


def test_write_then_read_keeps_values_grid_crs_and_nodata(write_raster):
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    data[1, 2] = -9999
    path = write_raster("a.tif", data, nodata=-9999)
    info = raster_info(path)
    assert (info.rows, info.cols, info.bands) == (3, 4, 1)
    assert info.geotransform == (380000.0, 10.0, 0.0, 3950000.0, 0.0, -10.0)
    assert "32654" in info.crs_wkt
    assert info.nodata == [-9999]
    back = read_band(path)
    assert np.isnan(back[1, 2])
    np.testing.assert_array_equal(np.nan_to_num(back, nan=-9999), data)


def test_failed_write_leaves_no_file(tmp_path):
    target = tmp_path / "out.tif"
    with pytest.raises(RuntimeError):
        with RasterWriter(str(target), 8, 8, geotransform=(0, 1, 0, 0, 0, -1), crs_wkt="") as writer:
            writer.write(np.zeros((8, 8)))
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


def test_cancel_before_first_block_leaves_no_output(write_raster, tmp_path):
    src = write_raster("in.tif", np.ones((64, 64), np.float32))
    out = tmp_path / "out.tif"
    with pytest.raises(Cancelled):
        process_blockwise(src, str(out), lambda a: a, block_size=16, is_cancelled=lambda: True)
    assert sorted(os.listdir(tmp_path)) == ["in.tif"]


def test_gdal_blockwise_filter_equals_whole_array(write_raster, tmp_path):
    rng = np.random.default_rng(3)
    image = rng.gamma(1.0, 1.0, (200, 170)).astype(np.float32)
    src = write_raster("in.tif", image)

    def box(a):
        return ndimage.uniform_filter(a, size=9, mode="reflect")

    progress = []
    out = process_blockwise(src, str(tmp_path / "out.tif"), box, halo=4, block_size=48, progress=progress.append)
    np.testing.assert_array_equal(read_band(out), box(image))
    assert progress[-1] == 1.0 and len(progress) == 5 * 4  # ceil(200/48) x ceil(170/48)
    assert raster_info(out).geotransform == raster_info(src).geotransform


def test_multi_input_blocks_write_every_output_band(write_raster, tmp_path):
    a = write_raster("a.tif", np.full((40, 30), 2, np.float32))
    b = write_raster("b.tif", np.full((40, 30), 5, np.float32))
    out = process_blocks(
        [(a, 1), (b, 1)], str(tmp_path / "o.tif"), lambda x, y: np.stack([x + y, x * y]), out_bands=2, block_size=16
    )
    assert raster_info(out).bands == 2
    assert read_band(out, 1).mean() == 7 and read_band(out, 2).mean() == 10


def test_missing_file_raises_value_error_naming_path(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        raster_info(str(tmp_path / "nope.tif"))


def test_non_raster_file_raises_value_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a raster")
    with pytest.raises(ValueError, match="not a raster"):
        raster_info(str(path))


def test_band_out_of_range_raises_naming_band(write_raster):
    path = write_raster("a.tif", np.ones((4, 4), np.float32))
    with pytest.raises(ValueError, match="band=2"):
        read_band(path, 2)


def test_sample_band_reads_even_windows_of_large_rasters(write_raster):
    image = np.arange(1024 * 1024, dtype=np.float32).reshape(1024, 1024)
    path = write_raster("a.tif", image)
    sample = sample_band(path, max_pixels=512 * 512, window=128)
    assert sample.shape == (4 * 4 * 128, 128)
    first = sample[:128]
    np.testing.assert_array_equal(first, image[:128, :128])
    np.testing.assert_array_equal(sample[-128:], image[-128:, -128:])  # reaches the far corner
    assert sample_band(path).shape == (1024, 1024)


def test_opencv_runs_single_threaded_inside_blocks_and_is_restored(write_raster, tmp_path, monkeypatch):
    cv2 = pytest.importorskip("cv2")
    from sar_change.algorithms.common import threads
    from sar_change.algorithms.io import pipeline

    monkeypatch.setattr(pipeline, "WORKERS", 2)
    monkeypatch.setattr(threads, "WORKERS", 2)
    src = write_raster("in.tif", np.ones((64, 64), np.float32))
    before = cv2.getNumThreads()
    seen = []

    def record(a):
        seen.append(cv2.getNumThreads())
        return a

    process_blockwise(src, str(tmp_path / "out.tif"), record, block_size=32)
    assert seen == [1, 1, 1, 1]
    assert cv2.getNumThreads() == before


OPENCV_PROBE = """
import sys
sys.path.insert(0, {tests!r})
from helpers import register_package
register_package()
import numpy as np
from sar_change.algorithms.common import threads
from sar_change.algorithms.io import pipeline
from sar_change.algorithms.io.outputs import write_array
threads.WORKERS = pipeline.WORKERS = 2
write_array({src!r}, np.ones((128, 128), np.float32), geotransform=(0, 1, 0, 0, 0, -1), crs_wkt="")
seen = []

def block(a):
    if {use_cv2}:
        import cv2
        seen.append(cv2.getNumThreads())
    return a

pipeline.process_blockwise({src!r}, {dst!r}, block, block_size=32)
print("cv2" in sys.modules, seen.count(1), len(seen))
"""


def test_a_run_whose_blocks_never_use_opencv_does_not_import_it(tmp_path):
    import subprocess
    import sys

    from helpers import REPO_ROOT

    code = OPENCV_PROBE.format(
        tests=os.path.join(REPO_ROOT, "tests"), src=str(tmp_path / "a.tif"), dst=str(tmp_path / "b.tif"), use_cv2=False
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["False", "0", "0"]  # ~100 MB of resident memory not paid


def test_blocks_that_import_opencv_run_it_single_threaded_from_then_on(tmp_path):
    import subprocess
    import sys

    from helpers import REPO_ROOT

    pytest.importorskip("cv2")
    code = OPENCV_PROBE.format(
        tests=os.path.join(REPO_ROOT, "tests"), src=str(tmp_path / "a.tif"), dst=str(tmp_path / "b.tif"), use_cv2=True
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    loaded, single, blocks = out.stdout.split()
    # the first block, computed alone, imported OpenCV; every later one ran it single-threaded
    assert (loaded, single, blocks) == ("True", "15", "16")


def test_workers_may_run_ahead_of_the_writer_by_the_lookahead_budget(write_raster, tmp_path, monkeypatch):
    from sar_change.algorithms.io import pipeline

    pulled = []

    def items():
        for i in range(20):
            pulled.append(i)
            yield i

    results = pipeline._ordered_map(lambda i: i * i, items(), ahead=8)
    assert next(results) == 0 and len(pulled) == 8  # eight submitted before the first is handed over
    assert list(results) == [i * i for i in range(1, 20)]

    budgets = []
    real_map = pipeline._ordered_map
    monkeypatch.setattr(pipeline, "_ordered_map", lambda *a: budgets.append(a[3]) or real_map(*a))
    monkeypatch.setattr(pipeline, "LOOKAHEAD_BYTES", 8 * 16 * 16 * 4)
    src = write_raster("in.tif", np.ones((64, 64), np.float32))
    process_blockwise(src, str(tmp_path / "out.tif"), lambda a: a, block_size=16)
    assert budgets == [8]  # eight 16 x 16 float32 blocks fit the budget


def test_block_cache_holds_the_workers_reads_and_a_row_of_output_within_bounds(monkeypatch):
    from sar_change.algorithms.io import pipeline

    monkeypatch.setattr(pipeline, "WORKERS", 2)
    mib = 1024 * 1024
    # Lee on 8192 columns: two 1030-pixel float32 read windows, a 512 x 8192 float32 row of output
    assert pipeline.block_cache_bytes(512, 3, [4], 512 * 8192 * 4) == 2 * 1030 * 1030 * 4 + 16 * mib
    assert pipeline.block_cache_bytes(64, 0, [4], 64 * 100 * 4) == pipeline.GDAL_CACHE_MIN_BYTES
    assert pipeline.block_cache_bytes(1024, 32, [8, 8], 1024 * 20000 * 12) == pipeline.GDAL_CACHE_BYTES


def test_cancel_midway_leaves_none_of_several_outputs(write_raster, tmp_path):
    src = write_raster("in.tif", np.ones((64, 64), np.float32))
    calls = []

    def cancel_after_two_blocks():
        calls.append(1)
        return len(calls) > 2

    outputs = [str(tmp_path / f"out{i}.tif") for i in range(3)]
    with pytest.raises(Cancelled):
        process_blocks(
            [(src, 1)],
            outputs,
            lambda a: np.stack([a, a, a]),
            block_size=16,
            out_dtype=[np.float32, np.uint8, np.int32],
            nodata=[None, 255, -1],
            is_cancelled=cancel_after_two_blocks,
        )
    assert sorted(os.listdir(tmp_path)) == ["in.tif"]


def test_several_outputs_get_their_own_type_and_nodata(write_raster, tmp_path):
    src = write_raster("in.tif", np.arange(64 * 48, dtype=np.float32).reshape(64, 48))
    outputs = [str(tmp_path / f"out{i}.tif") for i in range(2)]
    process_blocks(
        [(src, 1)],
        outputs,
        lambda a: np.stack([a * 2, a % 7]),
        block_size=16,
        out_dtype=[np.float32, np.uint8],
        nodata=[None, 255],
    )
    first, second = raster_info(outputs[0]), raster_info(outputs[1])
    assert first.dtypes == [np.dtype(np.float32)] and second.dtypes == [np.dtype(np.uint8)] and second.nodata == [255]
    np.testing.assert_array_equal(read_band(outputs[1]), np.arange(64 * 48).reshape(64, 48) % 7)


def test_overlapping_jobs_restore_the_gdal_cache_once_the_last_one_ends():
    from osgeo import gdal

    from sar_change.algorithms.io.pipeline import bounded_gdal_cache

    original = gdal.GetCacheMax()
    first, second = bounded_gdal_cache(32 * 2**20), bounded_gdal_cache(16 * 2**20)
    first.__enter__()
    second.__enter__()
    assert gdal.GetCacheMax() == 16 * 2**20
    first.__exit__(None, None, None)  # the first job ends while the second still runs
    assert gdal.GetCacheMax() == 16 * 2**20
    second.__exit__(None, None, None)
    assert gdal.GetCacheMax() == original
