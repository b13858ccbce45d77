"""The small widgets every tab that runs a job shows: a slim progress bar, a status line, and
a notice that says why the tab cannot handle the input that is open."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QSizePolicy

__all__ = ["slim_progress", "status_label", "notice_label", "show_notice"]

#: The colour of a tab's notice (why it cannot handle the input that is open).
NOTICE_STYLE = "color: #e0a040;"


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


def notice_label() -> QLabel:
    """A hidden, wrapping warning line at the top of a tab: why the tab cannot handle the
    input that is open (see :func:`show_notice`)."""
    label = QLabel("")
    label.setWordWrap(True)
    label.setStyleSheet(NOTICE_STYLE)
    label.hide()
    return label


def show_notice(label: QLabel, reason: str | None) -> None:
    """Show ``reason`` in ``label``, or hide it when there is none."""
    label.setText(reason or "")
    label.setVisible(bool(reason))
