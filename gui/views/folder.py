"""The Folder tab: a folder of images, every ticked model over all of them, one table.

A bar: Open folder… / HR folder… (without one, each image is the HR and is degraded, as
Reference > Degrade does), Run on folder / Cancel with one progress bar, Previous / Next
(Left / Right) to open the images in the window, Export CSV/JSON…. Below: the per-image x
per-model table (PSNR and SSIM per model; click a header to sort) and its mean row.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)

from core.app.display import fmt_metric
from core.session import Session

from ..controllers.folder import FolderController
from ..widgets.job_widgets import JobControls

__all__ = ["FolderView"]


class _Number(QTableWidgetItem):
    """A cell that sorts by its value, not its text."""

    def __init__(self, value: float, kind: str):
        super().__init__(fmt_metric(value, kind))
        self.value = value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other) -> bool:
        return self.value < getattr(other, "value", float("-inf"))


class FolderView(QWidget):
    folder_requested = Signal()
    hr_folder_requested = Signal()
    export_requested = Signal()

    def __init__(self, controller: FolderController, session: Session,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.session = session
        self.open_button = QPushButton("Open folder…")
        self.hr_button = QPushButton("HR folder…")
        self.hr_button.setToolTip("Optional: HR images matched by name; without it each image "
                                  "is the HR, degraded (MATLAB bicubic) by the scale")
        self.run_button = QPushButton("Run on folder")
        self.job = JobControls()
        self.cancel_button, self.progress, self.status = (
            self.job.cancel_button, self.job.progress, self.job.status)
        self.prev_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.prev_button.setToolTip("Open the previous image of the folder (Left)")
        self.next_button.setToolTip("Open the next image of the folder (Right)")
        self.export_button = QPushButton("Export CSV/JSON…")
        self.where = QLabel("no folder: Open folder… runs every ticked model over its images")
        self.where.setStyleSheet("color: #8a96a3;")
        bar = QHBoxLayout()
        for w in (self.open_button, self.hr_button, self.run_button, self.cancel_button,
                  self.progress, self.prev_button, self.next_button, self.export_button):
            bar.addWidget(w)
        bar.addWidget(self.status, 1)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # Left / Right step the images
        self.mean = QTableWidget(1, 0)
        self.mean.verticalHeader().setVisible(False)
        self.mean.horizontalHeader().setVisible(False)
        self.mean.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.mean.setMaximumHeight(34)
        self.mean.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.mean.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.horizontalScrollBar().valueChanged.connect(
            self.mean.horizontalScrollBar().setValue)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(bar)
        lay.addWidget(self.where)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.mean)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)   # Left / Right: keyPressEvent
        self.open_button.clicked.connect(self.folder_requested)
        self.hr_button.clicked.connect(self.hr_folder_requested)
        self.run_button.clicked.connect(controller.run)
        self.cancel_button.clicked.connect(controller.cancel)
        self.prev_button.clicked.connect(lambda: controller.step(-1))
        self.next_button.clicked.connect(lambda: controller.step(1))
        self.export_button.clicked.connect(self.export_requested)
        controller.changed.connect(self.refresh)
        controller.jobs.running.connect(self._running)
        controller.jobs.progress.connect(self._progress)
        self.refresh()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt name
        """Left / Right open the previous / next image of the folder."""
        delta = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1}.get(Qt.Key(event.key()))
        if delta is None:
            super().keyPressEvent(event)
            return
        event.accept()
        self.controller.step(delta)

    def _running(self, on: bool) -> None:
        self.run_button.setEnabled(not on)
        self.job.set_running(on)

    def _progress(self, fraction: float, text: str) -> None:
        self.job.set_progress(fraction, text)

    def refresh(self) -> None:
        c = self.controller
        if c.folder is not None:
            hr = f" · HR: {c.hr_folder}" if c.hr_folder else " · each image degraded as the HR"
            at = f" · image {c.index + 1}/{len(c.files)}: {c.files[c.index].name}" \
                if c.index >= 0 else ""
            self.where.setText(f"{c.folder} ({len(c.files)} images){hr}{at}")
        has = bool(c.files)
        self.prev_button.setEnabled(has and c.index > 0)
        self.next_button.setEnabled(has and c.index < len(c.files) - 1)
        self.export_button.setEnabled(c.table is not None)
        self.fill(c.table)

    def fill(self, table) -> None:
        self.table.setSortingEnabled(False)
        self.table.clear()
        self.mean.clear()
        if table is None:
            self.table.setRowCount(0)
            self.table.setColumnCount(0)
            self.mean.setColumnCount(0)
            return
        headers = ["Image"] + [f"{m}\n{what}" for m in table.models
                               for what in ("PSNR (dB)", "SSIM")]
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(table.images))
        for r, img in enumerate(table.images):
            self.table.setItem(r, 0, QTableWidgetItem(img))
            for i, m in enumerate(table.models):
                for j, what in enumerate(("psnr", "ssim")):
                    self.table.setItem(r, 1 + 2 * i + j, _Number(table.value(img, m, what), what))
        self.mean.setColumnCount(len(headers))
        self.mean.setItem(0, 0, QTableWidgetItem(f"mean of {len(table.images)}"))
        for i, m in enumerate(table.models):
            for j, what in enumerate(("psnr", "ssim")):
                self.mean.setItem(0, 1 + 2 * i + j, _Number(table.mean(m, what), what))
        self.table.setSortingEnabled(True)
        hdr = self.table.horizontalHeader()
        hdr.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.resizeColumnsToContents()
        for col in range(len(headers)):
            self.mean.setColumnWidth(col, self.table.columnWidth(col))

    def cell(self, image: str, model: str, what: str) -> str:
        """The text of ``image``'s ``model`` ``what`` (psnr / ssim) cell."""
        headers = [self.table.horizontalHeaderItem(c).text()
                   for c in range(self.table.columnCount())]
        col = headers.index(f"{model}\n{'PSNR (dB)' if what == 'psnr' else 'SSIM'}")
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).text() == image:
                return self.table.item(r, col).text()
        raise KeyError(image)
