"""HTML reports: self-contained pages with inline SVG charts, no JavaScript and no files.

May import: :mod:`..common` and the result objects of :mod:`..sar`; never GDAL. Each report is
a function of a result that returns the page as a string; the caller writes it.
"""
