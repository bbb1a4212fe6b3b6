import numpy as np
import pytest
from scipy import ndimage

from sar_change.algorithms.common.blocks import apply_blockwise, count_blocks, even_windows, iter_blocks


def test_blocks_cover_every_pixel_exactly_once():
    cover = np.zeros((101, 77), dtype=int)
    blocks = list(iter_blocks(101, 77, block_rows=32, block_cols=20, halo=5))
    for block in blocks:
        cover[block.window] += 1
    assert (cover == 1).all()
    assert len(blocks) == count_blocks(101, 77, block_rows=32, block_cols=20)


def test_halo_window_contains_block_and_is_clipped_to_raster():
    for block in iter_blocks(50, 50, block_rows=16, block_cols=16, halo=4):
        assert block.read_row == max(0, block.row - 4)
        assert block.read_row + block.read_rows == min(50, block.row + block.rows + 4)
        inner_rows, inner_cols = block.inner
        assert inner_rows.stop - inner_rows.start == block.rows
        assert inner_cols.stop - inner_cols.start == block.cols


def test_blockwise_with_halo_equals_whole_array_filter():
    rng = np.random.default_rng(0)
    image = rng.gamma(1.0, 1.0, (150, 130)).astype(np.float32)
    whole = ndimage.uniform_filter(image, size=7, mode="reflect")
    blockwise = apply_blockwise(
        image, lambda a: ndimage.uniform_filter(a, size=7, mode="reflect"), halo=3, block_rows=40, block_cols=33
    )
    np.testing.assert_array_equal(blockwise, whole)


def test_blockwise_without_enough_halo_differs():
    # Guards the test above: a too-small halo must be visible.
    rng = np.random.default_rng(0)
    image = rng.gamma(1.0, 1.0, (150, 130)).astype(np.float32)
    whole = ndimage.uniform_filter(image, size=7)
    blockwise = apply_blockwise(
        image, lambda a: ndimage.uniform_filter(a, size=7), halo=1, block_rows=40, block_cols=33
    )
    assert not np.allclose(blockwise, whole)


@pytest.mark.parametrize(
    "kwargs, name", [({"block_rows": 0}, "block_rows"), ({"halo": -1}, "halo"), ({"block_cols": 2.5}, "block_cols")]
)
def test_bad_block_parameters_raise_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        list(iter_blocks(10, 10, **kwargs))


@pytest.mark.parametrize(
    "rows, cols, side, per_axis", [(10000, 10000, 64, 20), (1000, 700, 64, 11), (300, 5000, 128, 8)]
)
def test_even_windows_are_inside_disjoint_reproducible_and_reach_the_edges(rows, cols, side, per_axis):
    windows = even_windows(rows, cols, side, per_axis)
    assert windows == even_windows(rows, cols, side, per_axis)
    covered = np.zeros((rows, cols), np.uint8)
    for r, c in windows:
        assert r.stop - r.start == side and c.stop - c.start == side  # one shape: samples stack
        assert 0 <= r.start and r.stop <= rows and 0 <= c.start and c.stop <= cols
        covered[r, c] += 1
    assert covered.max() == 1
    assert covered[0, 0] and covered[-1, -1] and covered[0, -1] and covered[-1, 0]
    assert len(windows) == min(per_axis, rows // side) * min(per_axis, cols // side)


def test_even_windows_do_not_alias_with_a_periodic_scene():
    # a mosaic of one 1000-pixel tile: an even lattice 994 px apart put every window on one strip
    period, side = 1000, 64
    windows = even_windows(10000, 10000, side, 11)  # the omnibus fit: 0.5 Mpixel in 64-pixel windows
    phases_rows = {r.start % period // side for r, _ in windows}
    phases_cols = {c.start % period // side for _, c in windows}
    assert len(phases_rows) >= 8 and len(phases_cols) >= 8  # of the 15 window-wide strips of a tile
