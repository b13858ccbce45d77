"""Dialogs: messages, preferences, the figure export."""

from .figure import FigureDialog
from .messages import ask_yes_no, show_error
from .preferences import PreferencesDialog
from .shortcuts import ShortcutsDialog

__all__ = ["show_error", "ask_yes_no", "PreferencesDialog", "FigureDialog", "ShortcutsDialog"]
