"""Lazy imports of optional heavy libraries with a clear message when missing."""

import importlib

#: import name -> (pip package name, Debian package name)
PACKAGES = {
    "numpy": ("numpy", "python3-numpy"),
    "scipy": ("scipy", "python3-scipy"),
    "skimage": ("scikit-image", "python3-skimage"),
    "sklearn": ("scikit-learn", "python3-sklearn"),
    "cv2": ("opencv-python", "python3-opencv"),
    "requests": ("requests", "python3-requests"),
    "fiona": ("fiona", "python3-fiona"),
    "osgeo": ("GDAL", "python3-gdal"),
    "dask": ("dask", "python3-dask"),
    "distributed": ("distributed", "python3-distributed"),
    "cloudpickle": ("cloudpickle", "python3-cloudpickle"),
    "threadpoolctl": ("threadpoolctl", "python3-threadpoolctl"),
}


class MissingDependencyError(ImportError):
    """A library an algorithm needs is not installed; the message says how to get it."""


def install_hint(module: str) -> str:
    """Return a one-line hint on installing the package that provides ``module``."""
    top = module.split(".")[0]
    pip_name, deb_name = PACKAGES.get(top, (top, f"python3-{top}"))
    return (
        f"the Python package '{pip_name}' is required. Install it with "
        f"'sudo apt-get install {deb_name}' (Debian/Ubuntu) or "
        f"'python3 -m pip install {pip_name}' in the Python that QGIS uses "
        "(OSGeo4W Shell on Windows)."
    )


def require(module: str):
    """Import and return ``module``, or raise :class:`MissingDependencyError`.

    Parameters
    ----------
    module : str
        Dotted import name, e.g. ``"scipy.ndimage"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(f"Missing dependency: {install_hint(module)}") from exc


def has(module: str) -> bool:
    """Tell whether ``module`` can be imported (for optional fast paths)."""
    try:
        require(module)
    except MissingDependencyError:
        return False
    return True
