"""SAR maths by topic: numpy arrays in, numpy arrays out, units in names or docstrings.

May import: :mod:`..common` and the science libraries (numpy, scipy, scikit-image, scikit-learn,
OpenCV, all lazily through :func:`..common.deps.require` except numpy). Never GDAL, files,
networks or HTML: reading and writing rasters is :mod:`..io`, whole-file runs are
:mod:`..workflows`, reports are :mod:`..reports`.

Topics: :mod:`.convert` (scales: linear power, dB, amplitude, 8-bit display),
:mod:`.speckle_qa` (equivalent looks, filter quality), :mod:`.despeckle` (the speckle filter
family), :mod:`.change` (two-date and multi-date change), :mod:`.segmentation` and
:mod:`.classify` (superpixels, k-means), :mod:`.interferometry`, :mod:`.elevation` (shape from
shading), :mod:`.overlay` (two-date colour composites).
"""
