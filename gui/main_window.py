"""The main window: open an input, pick a model and a scale, run, look, save.

This is the first cut of the workbench window (the comparison grid, ROI metrics and sessions
build on it). Long work runs on a pool thread through :mod:`gui.workers`; a newer run
supersedes an older one (generation counter), and a stale result is never shown.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QMainWindow,
    QMessageBox, QProgressBar, QPushButton, QSplitter, QVBoxLayout, QWidget,
)

from core.data import ImageData
from core.errors import SRWError

from .workers import JobWorker, start_job

__all__ = ["MainWindow"]

OPEN_FILTER = "Images and arrays (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp *.exr *.npy);;All files (*)"


def display_array(data: ImageData) -> np.ndarray:
    """What a view shows: H x W (gray) or H x W x 3, float in [0, 1] for rgb/gray data."""
    px = data.pixels
    if px.shape[2] == 1:
        return px[..., 0]
    if px.shape[2] >= 3 and data.kind in ("rgb", "normals"):
        return np.clip(px[..., :3], 0.0, 1.0)
    return px[..., 0]


class ImagePanel(QWidget):
    """A titled pyqtgraph image view."""

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel(title)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.view = pg.ImageView()
        self.view.ui.roiBtn.hide()
        self.view.ui.menuBtn.hide()
        self.view.ui.histogram.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        self.data: ImageData | None = None

    def show_data(self, data: ImageData | None, caption: str | None = None) -> None:
        self.data = data
        if caption is not None:
            self.title.setText(caption)
        if data is None:
            self.view.clear()
            return
        self.view.setImage(display_array(data), autoLevels=False, levels=(0.0, 1.0),
                           autoRange=True)


class MainWindow(QMainWindow):
    """Open, super-resolve, compare, save."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("SR Workbench")
        self.resize(1280, 760)
        self.input: ImageData | None = None
        self.result = None
        self.worker: JobWorker | None = None
        self.generation = 0
        self.last_error = ""

        self.input_panel = ImagePanel("Input")
        self.result_panel = ImagePanel("Result")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.input_panel)
        split.addWidget(self.result_panel)

        self.model_box = QComboBox()
        self.scale_box = QDoubleSpinBox()
        self.scale_box.setRange(0.1, 64.0)
        self.scale_box.setDecimals(2)
        self.scale_box.setValue(4.0)
        self.run_button = QPushButton("Super-resolve")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)

        side = QWidget()
        form = QFormLayout(side)
        form.addRow("Model", self.model_box)
        form.addRow("Scale", self.scale_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        form.addRow(self.progress)
        form.addRow(self.status_label)
        side.setMaximumWidth(320)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(side)
        layout.addWidget(split, 1)
        self.setCentralWidget(central)

        self._build_menus()
        self.run_button.clicked.connect(self.run_sr)
        self.cancel_button.clicked.connect(self.cancel)
        self._fill_models()

    # -- setup --------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open...", self, shortcut=QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.open_dialog)
        self.save_action = QAction("&Save result...", self, shortcut=QKeySequence.StandardKey.Save)
        self.save_action.triggered.connect(self.save_dialog)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for a in (self.open_action, self.save_action, quit_action):
            file_menu.addAction(a)

    def _fill_models(self) -> None:
        from core.models import default_model_name, list_models

        self.model_box.clear()
        for entry in list_models():
            self.model_box.addItem(entry.name)
            self.model_box.setItemData(self.model_box.count() - 1, entry.description,
                                       Qt.ItemDataRole.ToolTipRole)
        idx = self.model_box.findText(default_model_name())
        if idx >= 0:
            self.model_box.setCurrentIndex(idx)

    # -- actions ------------------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        self.last_error = message
        self.status_label.setText(f"Error: {message}")
        QMessageBox.warning(self, "SR Workbench", message)

    def set_input(self, data: ImageData, caption: str) -> None:
        self.cancel()
        self.input = data
        self.result = None
        self.input_panel.show_data(data, f"Input: {caption} ({data.width}x{data.height})")
        self.result_panel.show_data(None, "Result")
        self.status_label.setText(f"Opened {caption}")

    def open_file(self, path: str | Path) -> bool:
        from core.io import load

        try:
            data = load(path)
        except SRWError as exc:
            self.show_error(str(exc))
            return False
        self.set_input(data, Path(path).name)
        return True

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open", "", OPEN_FILTER)
        if path:
            self.open_file(path)

    def run_sr(self) -> None:
        from core.engine import super_resolve
        from core.models import load_model

        if self.input is None:
            self.show_error("open an image first (File > Open)")
            return
        self.cancel()
        name = self.model_box.currentText()
        try:
            loaded = load_model(name)
            job = super_resolve(loaded.module, self.input, scale=self.scale_box.value(),
                                name=loaded.name)
        except SRWError as exc:
            self.show_error(str(exc))
            return
        self.generation += 1
        worker = start_job(job, self.generation)
        gen = self.generation
        worker.signals.progress.connect(lambda p, g=gen: self._on_progress(g, p))
        worker.signals.finished.connect(lambda r, g=gen: self._on_finished(g, r))
        worker.signals.failed.connect(lambda m, g=gen: self._on_failed(g, m))
        worker.signals.cancelled.connect(lambda g=gen: self._on_cancelled(g))
        self.worker = worker
        self.progress.setValue(0)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status_label.setText(f"Running {name}...")

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.worker = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_progress(self, gen: int, p) -> None:
        if gen != self.generation:
            return
        self.progress.setValue(int(p.fraction * 1000))
        if p.message:
            self.status_label.setText(p.message)

    def _on_finished(self, gen: int, result) -> None:
        if gen != self.generation:
            return  # a newer request superseded this one
        self.worker = None
        self.result = result
        img = result.image
        self.result_panel.show_data(
            img, f"{result.model} x{result.scale[0]:.2f} ({img.width}x{img.height}), "
                 f"{result.seconds:.2f} s on {result.device} {result.precision}")
        self.progress.setValue(1000)
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.status_label.setText("Done. " + " ".join(result.notes))

    def _on_failed(self, gen: int, message: str) -> None:
        if gen != self.generation:
            return
        self.worker = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.show_error(message)

    def _on_cancelled(self, gen: int) -> None:
        if gen == self.generation:
            self.status_label.setText("Cancelled")
            self.progress.setValue(0)

    def save_dialog(self) -> None:
        from core.io import save

        if self.result is None:
            self.show_error("nothing to save yet: run a model first")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save result", "", OPEN_FILTER)
        if not path:
            return
        if self.input is not None and self.input.source is not None and \
                Path(path).resolve() == Path(self.input.source).resolve():
            self.show_error("that is the input file; choose another name")
            return
        try:
            save(self.result.image, path, overwrite=Path(path).exists())
        except SRWError as exc:
            self.show_error(str(exc))
            return
        self.status_label.setText(f"Saved {path}")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.cancel()
        super().closeEvent(event)
