"""Deterministic simulated scenes for the demo, the tests and the benchmarks.

May import: :mod:`..sar` (to reuse the physics) and :mod:`..io` (to write the demo rasters).
:mod:`.pair` simulates a speckled two-date pair with known change patches; :mod:`.volcano` a
side-looking view of a volcano whose crater deepens, for the elevation-change benchmark.
"""
