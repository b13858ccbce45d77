"""Side-panel boxes for the two special input kinds: normal maps and channel data.

:class:`NormalsBox` (shown when the input is a normal map): the storage convention (green =
up for OpenGL / DiLiGenT, down for DirectX; camera/object or tangent space), a mask file, the
split's sigma, the shape and detail models, the methods shown in the compare grid, and the
loader's warnings. :class:`ChannelBox` (shown for channel data opened with the channel loader):
what was read (variable, axes, complex split, normalisation) with a button to choose again,
and how multi-channel (RGB) models see the channels, replicate or groups of three, with the
plan each ticked model will follow.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
    QPushButton, QToolButton, QWidget,
)

from core.app.normals import METHOD_KEYS
from core.session import Session
from ..controllers.channels import ChannelsController
from ..controllers.normals import NormalsController

__all__ = ["NormalsBox", "ChannelBox"]

_WARN = "color: #e0a040;"


class NormalsBox(QGroupBox):
    options_chosen = Signal(dict)      # changed options (keys of core.app.normals.DEFAULTS)
    mask_requested = Signal()

    def __init__(self, controller: NormalsController, session: Session,
                 parent: QWidget | None = None):
        super().__init__("Normal map", parent)
        self.controller = controller
        self.session = session
        self.y_up = QComboBox()
        self.y_up.addItem("OpenGL / DiLiGenT (green = up)", True)
        self.y_up.addItem("DirectX (green = down)", False)
        self.space = QComboBox()
        self.space.addItem("camera / object space", "camera")
        self.space.addItem("tangent space (z ≥ 0)", "tangent")
        self.mask_label = QLabel("mask: alpha or non-zero normals")
        self.mask_label.setWordWrap(True)
        self.mask_button = QPushButton("Mask…")
        self.mask_clear = QToolButton(text="×")
        self.mask_clear.setToolTip("No mask file (use the alpha channel or non-zero normals)")
        self.sigma = QDoubleSpinBox()
        self.sigma.setRange(0.3, 64.0)
        self.sigma.setDecimals(1)
        self.sigma.setSingleStep(0.5)
        self.sigma.setKeyboardTracking(False)
        self.sigma.setToolTip("Gaussian sigma (LR pixels) of the shape low-pass in the split")
        self.shape_model = QComboBox()
        self.detail_model = QComboBox()
        for combo, what in ((self.shape_model, "shape (and naive)"), (self.detail_model,
                                                                      "detail")):
            combo.setToolTip(f"Model that super-resolves the {what} part")
        self.methods = {m: QCheckBox(key) for m, key in METHOD_KEYS.items()}
        self.plan = QLabel("")
        self.plan.setWordWrap(True)
        self.plan.setStyleSheet("color: #8a96a3;")
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(_WARN)
        mask_row = QHBoxLayout()
        mask_row.addWidget(self.mask_button)
        mask_row.addWidget(self.mask_clear)
        method_row = QHBoxLayout()
        for box in self.methods.values():
            method_row.addWidget(box)
        form = QFormLayout(self)
        form.addRow("Green", self.y_up)
        form.addRow("Space", self.space)
        form.addRow(self.mask_label)
        form.addRow(mask_row)
        form.addRow("Sigma", self.sigma)
        form.addRow("Shape", self.shape_model)
        form.addRow("Detail", self.detail_model)
        form.addRow(method_row)
        form.addRow(self.plan)
        form.addRow(self.warnings)
        self._guard = False
        self.y_up.activated.connect(lambda _i: self._emit(y_up=self.y_up.currentData()))
        self.space.activated.connect(lambda _i: self._emit(space=self.space.currentData()))
        self.mask_button.clicked.connect(self.mask_requested)
        self.mask_clear.clicked.connect(lambda: self._emit(mask=None))
        self.sigma.valueChanged.connect(lambda v: self._emit(sigma=float(v)))
        self.shape_model.activated.connect(
            lambda _i: self._emit(shape_model=self.shape_model.currentData()))
        self.detail_model.activated.connect(
            lambda _i: self._emit(detail_model=self.detail_model.currentData()))
        for box in self.methods.values():
            box.toggled.connect(lambda _on: self._emit(methods=[
                m for m, b in self.methods.items() if b.isChecked()]))
        self.session.subscribe(self._on_session)
        self.refresh()

    def _emit(self, **changes) -> None:
        if not self._guard:
            self.options_chosen.emit(changes)

    def _fill_models(self, combo: QComboBox, value) -> None:
        s = self.session
        keys = [None] + list(s.catalog)
        if [combo.itemData(i) for i in range(combo.count())] != keys:
            combo.clear()
            combo.addItem("", None)
            for key in s.catalog:
                combo.addItem(s.label(key), key)
        combo.setItemText(0, f"ticked model ({s.label(self.controller.ticked_model())})")
        combo.setCurrentIndex(max(0, combo.findData(value)))

    def refresh(self) -> None:
        c = self.controller
        self.setVisible(c.mode())
        if not c.mode():
            return
        o = c.options()
        self._guard = True
        self.y_up.setCurrentIndex(0 if o["y_up"] else 1)
        self.space.setCurrentIndex(max(0, self.space.findData(o["space"])))
        self.mask_label.setText(f"mask: {Path(o['mask']).name}" if o["mask"]
                                else "mask: alpha or non-zero normals")
        self.mask_label.setToolTip(o["mask"] or "")
        self.mask_clear.setEnabled(bool(o["mask"]))
        self.sigma.setValue(float(o["sigma"]))
        self._fill_models(self.shape_model, o["shape_model"])
        self._fill_models(self.detail_model, o["detail_model"])
        for m, box in self.methods.items():
            box.setChecked(m in o["methods"])
        self._guard = False
        shape, detail = c.run_models()
        label = self.session.label
        self.plan.setText(f"Runs the shape with {label(shape)} and the detail with "
                          f"{label(detail)} (split); naive: {label(shape)}")
        warns = c.source_warnings()
        self.warnings.setText("\n".join(f"⚠ {w}" for w in warns))
        self.warnings.setVisible(bool(warns))

    def _on_session(self, topic: str) -> None:
        if topic in ("inputs", "normals", "models", "all"):
            self.refresh()


class ChannelBox(QGroupBox):
    reopen_requested = Signal()
    rgb_mode_chosen = Signal(str)

    def __init__(self, controller: ChannelsController, session: Session,
                 parent: QWidget | None = None):
        super().__init__("Channel data", parent)
        self.controller = controller
        self.session = session
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.reopen = QPushButton("Variable, axes, normalisation…")
        self.reopen.setToolTip("Open the file again with another variable, axis order, complex "
                               "split or normalisation")
        self.rgb_mode = QComboBox()
        self.rgb_mode.addItem("replicate each channel (average)", "replicate")
        self.rgb_mode.addItem("groups of 3 channels", "groups")
        self.rgb_mode.setToolTip("How models with 3 input channels see the channels")
        self.plan = QLabel("")
        self.plan.setWordWrap(True)
        self.plan.setStyleSheet("color: #8a96a3;")
        form = QFormLayout(self)
        form.addRow(self.info)
        form.addRow(self.reopen)
        form.addRow("RGB models", self.rgb_mode)
        form.addRow(self.plan)
        self.reopen.clicked.connect(self.reopen_requested)
        self.rgb_mode.activated.connect(lambda _i: self.rgb_mode_chosen.emit(
            self.rgb_mode.currentData()))
        self.session.subscribe(self._on_session)
        self.refresh()

    def refresh(self) -> None:
        c = self.controller
        on = c.data_mode()
        self.setVisible(on)
        if not on:
            return
        self.info.setText(c.description())
        self.rgb_mode.setCurrentIndex(max(0, self.rgb_mode.findData(c.rgb_mode())))
        c.refresh_plans()     # on the pool, once per models / channels / mode
        plans = c.plans
        self.plan.setText("\n".join(f"{self.session.label(k)}: {note}" for k, note in
                                    plans.items() if k in self.session.state.models))

    def _on_session(self, topic: str) -> None:
        if topic in ("inputs", "models", "params", "channel_plan", "all"):
            self.refresh()
