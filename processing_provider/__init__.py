"""QGIS Processing provider of SAR Change Toolkit: thin wrappers over :mod:`..algorithms`."""
