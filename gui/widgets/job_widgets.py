"""The small widgets every tab that runs a job shows: a Cancel button, a slim progress bar, a
status line (together: :class:`JobControls`), and a notice that says why the tab cannot handle
the input that is open."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QSizePolicy

__all__ = ["JobControls", "slim_progress", "status_label", "notice_label", "show_notice"]

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


class JobControls:
    """A job's controls as every tab shows them; the tab lays the three widgets out.

    ``cancel_button`` (None when ``cancellable`` is false) is enabled only while the job runs;
    ``progress`` is a :func:`slim_progress` bar; ``status`` a :func:`status_label` whose tooltip
    holds the whole message (an elastic line may show only its start).
    """

    def __init__(self, *, cancellable: bool = True, elastic: bool = True) -> None:
        self.cancel_button: QPushButton | None = None
        if cancellable:
            self.cancel_button = QPushButton("Cancel")
            self.cancel_button.setEnabled(False)
        self.progress = slim_progress()
        self.status = status_label(elastic)

    def set_running(self, running: bool) -> None:
        if self.cancel_button is not None:
            self.cancel_button.setEnabled(bool(running))

    def set_progress(self, fraction: float, text: str) -> None:
        """Show ``fraction`` (0..1; clamped, NaN shows 0) and ``text``."""
        fraction = float(fraction)
        fraction = 0.0 if math.isnan(fraction) else min(max(fraction, 0.0), 1.0)
        self.progress.setValue(int(round(fraction * 1000)))
        self.status.setText(text)
        self.status.setToolTip(text)


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
