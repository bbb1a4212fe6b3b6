"""Plumbing every layer uses: lazy optional dependencies, cancel and progress, block grids, threads.

May import: the standard library and numpy only; nothing else of this package. Each module is
small and has no science in it: :mod:`.deps` (import a library or say which package to install),
:mod:`.cancel` (cancel and progress scopes that reach worker threads), :mod:`.blocks` (the block
grid with its halo), :mod:`.threads` (block worker count, OpenCV/BLAS/GDAL settings lowered for a
run).
"""
