"""Export figure: which results, an optional second region, layout, font size, width, DPI and
the big image (HR or LR); OK asks for the file (PNG, PDF or SVG) and writes it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout, QLineEdit,
    QListWidget, QListWidgetItem, QSpinBox, QVBoxLayout, QWidget,
)

from core.app.figure import LAYOUTS, FigureOptions, parse_roi
from core.data import Region
from core.errors import SRWError
from core.session import Session

from ..controllers import FigureController

__all__ = ["FigureDialog", "FIGURE_FILTER"]

FIGURE_FILTER = "PDF (*.pdf);;PNG (*.png);;SVG (*.svg)"


class FigureDialog(QDialog):
    """The figure's choices; :meth:`options`, :meth:`keys` and :meth:`extra` read them."""

    def __init__(self, controller: FigureController, session: Session,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export figure")
        self.controller = controller
        self.session = session
        self.path = ""
        self.results = QListWidget()
        for key in session.results:
            item = QListWidgetItem(session.label(key))
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setCheckState(Qt.CheckState.Checked)
            self.results.addItem(item)
        self.results.setMaximumHeight(140)
        self.second = QLineEdit()
        self.second.setPlaceholderText("X,Y,W,H in HR pixels (optional)")
        self.layout_box = QComboBox()
        self.layout_box.addItems(LAYOUTS)
        self.font = QDoubleSpinBox()
        self.font.setRange(4, 24)
        self.font.setSuffix(" pt")
        self.font.setValue(7)
        self.width = QDoubleSpinBox()
        self.width.setRange(2, 20)
        self.width.setSingleStep(0.5)
        self.width.setSuffix(" in")
        self.width.setValue(7)
        self.dpi = QSpinBox()
        self.dpi.setRange(50, 1200)
        self.dpi.setSingleStep(50)
        self.dpi.setValue(300)
        self.dpi.setToolTip("PNG only: PDF and SVG keep text and boxes as vectors")
        self.base = QComboBox()
        self.base.addItems(["HR", "LR"])
        form = QFormLayout()
        form.addRow("Results", self.results)
        form.addRow("Second region", self.second)
        form.addRow("Layout", self.layout_box)
        form.addRow("Font size", self.font)
        form.addRow("Width", self.width)
        form.addRow("PNG resolution (dpi)", self.dpi)
        form.addRow("Big image", self.base)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export…")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(buttons)

    def keys(self) -> list[str]:
        return [self.results.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.results.count())
                if self.results.item(i).checkState() == Qt.CheckState.Checked]

    def extra(self) -> list[Region]:
        text = self.second.text().strip()
        return [parse_roi(text)] if text else []

    def options(self) -> FigureOptions:
        return FigureOptions(layout=self.layout_box.currentText(), font_size=self.font.value(),
                             width=self.width.value(), dpi=self.dpi.value(),
                             base=self.base.currentText())

    def accept(self) -> None:
        """Ask for the file, then write it; the dialog stays open on a bad second region."""
        try:
            extra, options = self.extra(), self.options()
        except SRWError as exc:
            self.controller.notices.error.emit(str(exc))
            return
        if not self.keys():
            self.controller.notices.error.emit("tick at least one result for the figure")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export figure", "figure.pdf",
                                              FIGURE_FILTER)
        if not path:
            return
        self.path = path
        if self.controller.export(path, options, self.keys(), extra):
            super().accept()
