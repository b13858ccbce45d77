"""Start the window: Qt application, pyqtgraph options, theme, files from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["run_app", "create_app", "configure_pyqtgraph"]


def configure_pyqtgraph() -> None:
    """Set once at start-up: arrays are row-major (H x W x C), as numpy and core use them."""
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)


def apply_theme(app, theme: str = "dark") -> None:
    """Dark (qdarkstyle) by default; ``light`` uses Qt's own Fusion style."""
    if theme == "dark":
        import qdarkstyle

        app.setStyleSheet(qdarkstyle.load_stylesheet(qt_api="pyside6"))
    else:
        app.setStyleSheet("")
        app.setStyle("Fusion")


def create_app(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["SR Workbench"] + list(argv or []))
    configure_pyqtgraph()
    return app


def run_app(argv: list[str]) -> int:
    """Open the main window on the given files, or on a bundled sample when none is given."""
    app = create_app()
    apply_theme(app, "dark")
    from core.samples import sample_image

    from .main_window import MainWindow

    window = MainWindow()
    opened = [window.open_file(p) for p in argv if Path(p).exists() or not p.startswith("-")]
    if not any(opened):
        sample = sample_image()
        window.set_input(sample, f"sample: {sample.meta.get('name', 'image')}")
    window.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_app(sys.argv[1:]))
