"""Dialogs, icons and styles of SAR Change Toolkit."""
