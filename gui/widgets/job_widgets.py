"""The small widgets every tab that runs a job shows: a slim progress bar and a status line."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QSizePolicy

__all__ = ["slim_progress", "status_label"]


def slim_progress() -> QProgressBar:
    """A 10 px high bar without text, 0..1000 (progress fractions times 1000)."""
    bar = QProgressBar()
    bar.setRange(0, 1000)
    bar.setTextVisible(False)
    bar.setFixedHeight(10)
    bar.setMaximumWidth(160)
    return bar


def status_label(elastic: bool = True) -> QLabel:
    """An empty status line; ``elastic``: long messages never widen the window."""
    label = QLabel("")
    if elastic:
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label
