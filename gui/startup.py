"""Start-up policies of the window: Qt application, pyqtgraph options, garbage collection,
theme, torch threads. Imported by the main window and the screenshot scripts; imports nothing
of the window, so it sits at the bottom of ``gui``."""

from __future__ import annotations

import os

import pyqtgraph as pg
import qdarkstyle
import torch
from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtWidgets import QApplication, QWidget

__all__ = ["fit_to_screen", "create_app", "configure_pyqtgraph", "apply_theme", "leave_a_core_for_the_ui",
           "collect_garbage_in_the_ui_thread", "garbage_collector"]

_configured = False
_collector: GarbageCollector | None = None


def configure_pyqtgraph() -> None:
    """Set once at start-up: arrays are row-major (H x W x C), as numpy and core use them.

    No antialiasing: images are drawn pixel for pixel (an honest view of the pixels when zoomed
    in) and drawing stays cheap (a smooth-scaled 768 px image cost ~10 ms per repaint)."""
    global _configured
    if _configured:
        return
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    collect_garbage_in_the_ui_thread()
    _configured = True


def collect_garbage_in_the_ui_thread() -> None:
    """Python's cyclic garbage collector runs only from a timer of the UI thread's event loop.

    Left automatic, it can start inside any allocation: in a worker thread, or in the UI thread
    while Qt holds its signal/slot lock. Collecting a pyqtgraph item then destroys Qt objects
    (menus, connections) at that moment: seen here as a deadlock in QObject::disconnect while
    a window was being built. pyqtgraph's GarbageCollector (gc.disable + a 1 s QTimer that
    collects when the counts pass the usual thresholds) is the remedy pyqtgraph documents.
    Call it with a QApplication present; idempotent."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=1.0)


def garbage_collector() -> GarbageCollector | None:
    """The UI-thread collector once :func:`collect_garbage_in_the_ui_thread` has run."""
    return _collector


def apply_theme(app: QApplication, theme: str = "dark") -> None:
    """Dark (qdarkstyle) by default; ``light`` uses Qt's own Fusion style."""
    if theme == "dark":
        app.setStyleSheet(qdarkstyle.load_stylesheet(qt_api="pyside6"))
    else:
        app.setStyleSheet("")
        app.setStyle("Fusion")


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(["SR Workbench"] + list(argv or []))
    app.setApplicationName("SR Workbench")
    app.setOrganizationName("SRWorkbench")
    configure_pyqtgraph()
    return app


def leave_a_core_for_the_ui() -> None:
    """Torch uses every core by default; keep one free for the window's thread.

    Measured on a 2-core machine with one core busy: a LIIF query with 2 torch threads took
    10 s, with 1 thread 0.6 s (the threads spin against each other and against the UI).
    """
    n = os.cpu_count() or 1
    if n > 1 and torch.get_num_threads() > n - 1:
        torch.set_num_threads(n - 1)


def fit_to_screen(window: QWidget) -> None:
    """Keep ``window`` (frame included) on the screen it is on: a geometry saved on a larger
    monitor, or the default size, is shrunk and moved inside the available area."""
    screen = window.screen() or QApplication.primaryScreen()
    if screen is None:
        return
    avail = screen.availableGeometry()
    frame = window.frameGeometry()
    dw, dh = frame.width() - window.width(), frame.height() - window.height()
    w = min(window.width(), avail.width() - dw)
    h = min(window.height(), avail.height() - dh)
    if (w, h) != (window.width(), window.height()):
        window.resize(w, h)
    x = min(max(frame.x(), avail.left()), avail.right() + 1 - (w + dw))
    y = min(max(frame.y(), avail.top()), avail.bottom() + 1 - (h + dh))
    if (x, y) != (frame.x(), frame.y()):
        window.move(x, y)
