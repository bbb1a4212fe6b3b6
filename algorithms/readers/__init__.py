"""Product readers and platform clients: JAXA CEOS Level 1.1 files, the Tellus platform.

May import: :mod:`..common` and numpy; the Tellus client also :mod:`..io` (tile mosaics) and
``requests`` (lazily). No SAR maths beyond the calibration the product format defines.
"""
