"""Paths of the plugin's icons: the SVG files are in ``ui/icons``, one per toolbox group.

A module of its own so that the provider, the algorithms and the plugin's menus find them without
importing one another.
"""

import os

ICON = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ui", "icons", "sarchange.svg")


def group_icon(group_id: str) -> str:
    """Path of the SVG icon of a toolbox group (``ui/icons/<group_id>.svg``), or the plugin's icon."""
    path = os.path.join(os.path.dirname(ICON), f"{group_id}.svg")
    return path if os.path.isfile(path) else ICON
