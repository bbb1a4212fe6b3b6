"""Iterate a raster in blocks with a halo, so block-local filters match whole-array ones."""

from dataclasses import dataclass
from typing import Callable, Iterator, Tuple

import numpy as np

#: Default block side in pixels: 1024 x 1024 float32 is 4 MiB per band.
DEFAULT_BLOCK = 1024


@dataclass(frozen=True)
class Block:
    """One block of a raster.

    Attributes
    ----------
    row, col, rows, cols : int
        The block's own window (written to the output), in pixels.
    read_row, read_col, read_rows, read_cols : int
        The window to read: the block grown by the halo, clipped to the raster.
    """

    row: int
    col: int
    rows: int
    cols: int
    read_row: int
    read_col: int
    read_rows: int
    read_cols: int

    @property
    def inner(self) -> Tuple[slice, slice]:
        """Slices that cut the block's own window out of the array read with the halo."""
        r0 = self.row - self.read_row
        c0 = self.col - self.read_col
        return slice(r0, r0 + self.rows), slice(c0, c0 + self.cols)

    @property
    def window(self) -> Tuple[slice, slice]:
        """Slices of the block's own window in the whole raster."""
        return slice(self.row, self.row + self.rows), slice(self.col, self.col + self.cols)

    @property
    def read_window(self) -> Tuple[slice, slice]:
        """Slices of the window to read (block plus halo) in the whole raster."""
        return (
            slice(self.read_row, self.read_row + self.read_rows),
            slice(self.read_col, self.read_col + self.read_cols),
        )


def _check_positive(name: str, value: int, minimum: int = 1) -> int:
    if int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {name}={value!r}")
    return int(value)


def iter_blocks(
    rows: int,
    cols: int,
    *,
    block_rows: int = DEFAULT_BLOCK,
    block_cols: int = DEFAULT_BLOCK,
    halo: int = 0,
) -> Iterator[Block]:
    """Yield the blocks covering a ``rows`` x ``cols`` raster, row-major.

    Parameters
    ----------
    rows, cols : int
        Raster size in pixels.
    block_rows, block_cols : int
        Block size in pixels (the last row/column of blocks may be smaller).
    halo : int
        Overlap in pixels read on each side of a block (clipped at the raster
        edge). A filter whose footprint reaches ``h`` pixels from its centre
        needs ``halo >= h`` to give the same result blockwise as on the whole array.
    """
    rows = _check_positive("rows", rows)
    cols = _check_positive("cols", cols)
    block_rows = _check_positive("block_rows", block_rows)
    block_cols = _check_positive("block_cols", block_cols)
    halo = _check_positive("halo", halo, minimum=0)
    for row in range(0, rows, block_rows):
        nrows = min(block_rows, rows - row)
        r0 = max(0, row - halo)
        r1 = min(rows, row + nrows + halo)
        for col in range(0, cols, block_cols):
            ncols = min(block_cols, cols - col)
            c0 = max(0, col - halo)
            c1 = min(cols, col + ncols + halo)
            yield Block(row, col, nrows, ncols, r0, c0, r1 - r0, c1 - c0)


def count_blocks(rows: int, cols: int, *, block_rows: int = DEFAULT_BLOCK, block_cols: int = DEFAULT_BLOCK) -> int:
    """Number of blocks :func:`iter_blocks` yields for the same sizes."""
    return -(-rows // block_rows) * -(-cols // block_cols)


def apply_blockwise(
    array: np.ndarray,
    func: Callable[[np.ndarray], np.ndarray],
    *,
    halo: int,
    block_rows: int = DEFAULT_BLOCK,
    block_cols: int = DEFAULT_BLOCK,
) -> np.ndarray:
    """Apply ``func`` to ``array`` block by block with a halo.

    A reference implementation of what the GDAL block loop does, on an
    in-memory array; used to check that a filter is block-safe.

    Parameters
    ----------
    array : (rows, cols) ndarray
    func : callable
        Maps a 2-D array to an array of the same shape.
    halo : int
        Halo in pixels, see :func:`iter_blocks`.
    """
    out = None
    for block in iter_blocks(*array.shape, block_rows=block_rows, block_cols=block_cols, halo=halo):
        result = func(array[block.read_window])[block.inner]
        if out is None:
            out = np.empty(array.shape, dtype=result.dtype)
        out[block.window] = result
    return out


def even_windows(rows: int, cols: int, side: int, per_axis: int):
    """``(rows slice, cols slice)`` of up to ``per_axis`` x ``per_axis`` windows of ``side`` pixels
    spread over a raster, for statistics of rasters larger than memory (fewer where it is small).

    One window per cell of an even grid, the first and last rows and columns of windows at the
    raster's edges; each other window is moved at random within its cell (a seed of the
    arguments: the same raster size always gives the same windows, so rasters on one grid are
    sampled at the same pixels). An even lattice aliases with periodic scenes: on a mosaic of a
    1000-pixel tile, windows 994 pixels apart all fell on one edge strip of the tile.
    """
    rng = np.random.default_rng([rows, cols, side, per_axis])

    def starts(size):
        count = max(1, min(per_axis, size // side))
        return np.linspace(0, max(size - side, 0), count), count

    def jittered(base, count, others):  # (others, count): the inner starts moved within their cells
        out = np.repeat(base[None], others, axis=0)
        spare = base[1] - base[0] - side if count > 2 else 0.0  # the gap between two windows
        if spare > 0:  # moved by at most spare / 2: windows never overlap
            out[:, 1:-1] += rng.uniform(-spare / 2, spare / 2, (others, count - 2))
        return out

    (row_base, row_count), (col_base, col_count) = starts(rows), starts(cols)
    row_starts = jittered(row_base, row_count, col_count).T  # both (rows of windows, cols of windows)
    col_starts = jittered(col_base, col_count, row_count)
    return [
        (
            slice(int(row_starts[i, j]), min(int(row_starts[i, j]) + side, rows)),
            slice(int(col_starts[i, j]), min(int(col_starts[i, j]) + side, cols)),
        )
        for i in range(row_count)
        for j in range(col_count)
    ]


def sample_windows(rows: int, cols: int, *, max_pixels: int, side: int):
    """The windows a sample of at most ``max_pixels`` pixels reads (:func:`even_windows` of ``side``
    pixels), or None when the raster has no more pixels than that and is read whole."""
    if rows * cols <= max_pixels:
        return None
    return even_windows(rows, cols, side, int(np.sqrt(max_pixels) // side))
