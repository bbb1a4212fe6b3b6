"""SAR Change Toolkit: a QGIS plugin for SAR change detection.

QGIS imports this package and calls :func:`classFactory`. Nothing heavy is
imported here, so the science core in :mod:`.algorithms` can be imported
without QGIS.
"""


def classFactory(iface):  # noqa: N802 (QGIS API name)
    """Return the plugin instance QGIS asks for.

    Parameters
    ----------
    iface : qgis.gui.QgisInterface
        The QGIS interface (a stub in tests, ``None`` in ``qgis_process``).
    """
    from .plugin import SarChangePlugin

    return SarChangePlugin(iface)
