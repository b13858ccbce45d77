"""The side panel's scale/run box and ROI box."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QDoubleSpinBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout,
    QLabel, QProgressBar, QPushButton, QRadioButton, QSizePolicy, QSpinBox, QWidget,
)

from core.engine.run import MAX_SCALE
from core.session import Session

from ..settings import DEVICES, PRECISIONS

__all__ = ["RunBox", "RoiBox"]


class RunBox(QGroupBox):
    """Scale (any float) or exact output size, device, precision, tile; Run / Cancel; progress."""

    scale_chosen = Signal(float)
    size_chosen = Signal(object)          # (height, width) or None
    options_chosen = Signal(str, str, int)
    run_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__("Scale and run", parent)
        self.session = session
        self.by_scale = QRadioButton("Scale ×")
        self.by_size = QRadioButton("Size")
        group = QButtonGroup(self)
        group.addButton(self.by_scale)
        group.addButton(self.by_size)
        self.scale = QDoubleSpinBox()
        self.scale.setRange(0.01, MAX_SCALE)
        self.scale.setDecimals(3)
        self.scale.setValue(4.0)
        self.scale.setKeyboardTracking(False)
        self.width_box = QSpinBox()
        self.height_box = QSpinBox()
        for box, tip in ((self.width_box, "output width"), (self.height_box, "output height")):
            box.setRange(1, 1_000_000)
            box.setKeyboardTracking(False)
            box.setToolTip(tip)
        self.device = QComboBox()
        self.device.addItems(DEVICES)
        self.precision = QComboBox()
        self.precision.addItems(PRECISIONS)
        self.tile = QSpinBox()
        self.tile.setRange(0, 8192)
        self.tile.setSingleStep(64)
        self.tile.setSpecialValueText("auto")
        self.tile.setToolTip("LR tile (fixed-scale) / block (arbitrary-scale) size; auto = engine")
        self.run_button = QPushButton("Super-resolve")
        self.run_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        # no text in the bar: with a style sheet, QProgressBar repaints synchronously whenever
        # its text changes (measured: ~10 ms per update with qdarkstyle)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(10)
        self.eta = QLabel("")
        self.eta.setMinimumWidth(10)
        self.eta.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

        grid = QGridLayout()
        grid.addWidget(self.by_scale, 0, 0)
        grid.addWidget(self.scale, 0, 1, 1, 3)
        grid.addWidget(self.by_size, 1, 0)
        grid.addWidget(self.width_box, 1, 1)
        grid.addWidget(QLabel("×"), 1, 2)
        grid.addWidget(self.height_box, 1, 3)
        form = QFormLayout(self)
        form.addRow(grid)
        form.addRow("Device", self.device)
        form.addRow("Precision", self.precision)
        form.addRow("Tile", self.tile)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        form.addRow(buttons)
        form.addRow(self.progress)
        form.addRow(self.eta)

        self._guard = False
        self.scale.valueChanged.connect(self._scale_changed)
        self.width_box.valueChanged.connect(self._size_changed)
        self.height_box.valueChanged.connect(self._size_changed)
        self.by_scale.toggled.connect(self._mode_changed)
        for w in (self.device, self.precision):
            w.currentIndexChanged.connect(self._options_changed)
        self.tile.valueChanged.connect(self._options_changed)
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        session.subscribe(self._on_session)
        self.refresh()

    def set_running(self, running: bool) -> None:
        self.run_button.setToolTip("Start again (supersedes the run in progress)" if running
                                   else "Super-resolve with every ticked model")
        self.cancel_button.setEnabled(running)

    def set_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(round(fraction * 1000)))
        pct = f"{fraction * 100:.0f}% · " if 0 < fraction < 1 else ""
        self.eta.setText(pct + text)
        self.eta.setToolTip(text)

    def refresh(self) -> None:
        s, st = self.session, self.session.state
        self._guard = True
        degrade = st.reference == "degrade"
        has_ref = st.reference != "none"
        self.scale.setValue(st.scale)
        self.by_scale.setChecked(st.size is None or degrade)
        self.by_size.setChecked(st.size is not None and not degrade)
        self.by_size.setEnabled(not has_ref)
        out = None
        try:
            out = s.output_hw()
        except Exception:  # an invalid scale: the controller says why when running
            out = None
        if st.size is not None:
            self.height_box.setValue(st.size[0])
            self.width_box.setValue(st.size[1])
        elif out is not None:
            self.height_box.setValue(out[0])
            self.width_box.setValue(out[1])
        for box in (self.width_box, self.height_box):
            box.setEnabled(self.by_size.isChecked() and not has_ref)
        self.scale.setEnabled(not self.by_size.isChecked() and st.reference != "hr")
        self.device.setCurrentText(st.device)
        self.precision.setCurrentText(st.precision)
        self.tile.setValue(st.tile or 0)
        self._guard = False

    def _scale_changed(self, v: float) -> None:
        if not self._guard:
            self.scale_chosen.emit(float(v))

    def _size_changed(self, _v: int) -> None:
        if not self._guard and self.by_size.isChecked():
            self.size_chosen.emit((self.height_box.value(), self.width_box.value()))

    def _mode_changed(self, _on: bool) -> None:
        if self._guard:
            return
        if self.by_size.isChecked():
            self.size_chosen.emit((self.height_box.value(), self.width_box.value()))
        else:
            self.scale_chosen.emit(float(self.scale.value()))
        self.refresh()

    def _options_changed(self, *_) -> None:
        if not self._guard:
            self.options_chosen.emit(self.device.currentText(), self.precision.currentText(),
                                     self.tile.value())

    def _on_session(self, topic: str) -> None:
        if topic in ("params", "inputs", "all"):
            self.refresh()


class RoiBox(QGroupBox):
    """The ROI typed in exactly (x, y, w, h in HR pixels), or drawn on any view."""

    roi_chosen = Signal(object)         # (x, y, w, h) or None
    draw_toggled = Signal(bool)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__("Region (HR pixels)", parent)
        self.session = session
        self.boxes = []
        grid = QGridLayout()
        for i, name in enumerate(("x", "y", "w", "h")):
            box = QSpinBox()
            box.setRange(0 if name in "xy" else 1, 1_000_000)
            box.setKeyboardTracking(False)
            self.boxes.append(box)
            grid.addWidget(QLabel(name), i // 2, (i % 2) * 2)
            grid.addWidget(box, i // 2, (i % 2) * 2 + 1)
        self.apply_button = QPushButton("Set")
        self.clear_button = QPushButton("Clear")
        self.draw_button = QPushButton("Draw")
        self.draw_button.setCheckable(True)
        self.draw_button.setToolTip("Drag on any view to draw the region (or Shift+drag)")
        row = QHBoxLayout()
        row.addWidget(self.draw_button)
        row.addWidget(self.apply_button)
        row.addWidget(self.clear_button)
        form = QFormLayout(self)
        form.addRow(grid)
        form.addRow(row)
        self.apply_button.clicked.connect(self.apply)
        self.clear_button.clicked.connect(lambda: self.roi_chosen.emit(None))
        self.draw_button.toggled.connect(self.draw_toggled)
        session.subscribe(self._on_session)
        self.refresh()

    def value(self) -> tuple[int, int, int, int]:
        return tuple(b.value() for b in self.boxes)  # type: ignore[return-value]

    def set_value(self, roi: tuple[int, int, int, int]) -> None:
        for b, v in zip(self.boxes, roi):
            b.setValue(int(v))

    def apply(self) -> None:
        self.roi_chosen.emit(self.value())

    def refresh(self) -> None:
        roi = self.session.state.roi
        out = self.session.output_hw() if self.session.lr is not None else None
        if out is not None:
            self.boxes[0].setMaximum(out[1] - 1)
            self.boxes[1].setMaximum(out[0] - 1)
            self.boxes[2].setMaximum(out[1])
            self.boxes[3].setMaximum(out[0])
        if roi is None and out is not None and self.value()[2:] == (1, 1):
            w, h = min(64, out[1]), min(64, out[0])   # a sensible start for typing one in
            roi = ((out[1] - w) // 2, (out[0] - h) // 2, w, h)
        if roi is not None:
            for b, v in zip(self.boxes, roi):
                b.blockSignals(True)
                b.setValue(int(v))
                b.blockSignals(False)

    def _on_session(self, topic: str) -> None:
        if topic in ("roi", "inputs", "all"):
            self.refresh()
