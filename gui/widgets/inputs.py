"""The side panel's input and model boxes: what is open, its kind, the reference, the models."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
    QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from core.session import Session

__all__ = ["InputBox", "ModelList", "KIND_CHOICES", "REFERENCE_CHOICES"]

KIND_CHOICES = (("detect", None), ("RGB image", "rgb"), ("gray image", "gray"),
                ("channel data", "channels"), ("normal map", "normals"))
REFERENCE_CHOICES = (("none (input is LR)", "none"), ("attached HR file", "hr"),
                     ("degrade: input is HR", "degrade"))


class InputBox(QGroupBox):
    """The opened file, its kind (detected or forced) and the HR reference mode."""

    kind_chosen = Signal(object)       # a kind or None (detect)
    channel_chosen = Signal(int)
    reference_chosen = Signal(str)
    attach_requested = Signal()
    open_requested = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__("Input", parent)
        self.session = session
        self.file_label = QLabel("nothing open")
        self.file_label.setWordWrap(True)
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.kind = QComboBox()
        for text, kind in KIND_CHOICES:
            self.kind.addItem(text, kind)
        self.kind.setToolTip("How to read the file; 'detect' uses the channel count")
        self.reference = QComboBox()
        for text, mode in REFERENCE_CHOICES:
            self.reference.addItem(text, mode)
        self.reference.setToolTip("degrade: the opened image is the ground truth; the LR is made "
                                  "with the benchmark bicubic degradation at the chosen scale")
        self.channel = QSpinBox()
        self.channel.setToolTip("Channel shown of multi-channel data (each in its own range)")
        self.hr_label = QLabel("")
        self.hr_label.setWordWrap(True)
        open_button = QPushButton("Open…")
        attach = QPushButton("Attach HR…")
        buttons = QHBoxLayout()
        buttons.addWidget(open_button)
        buttons.addWidget(attach)
        form = QFormLayout(self)
        form.addRow(self.file_label)
        form.addRow("Kind", self.kind)
        form.addRow("Channel", self.channel)
        self.channel_label = form.labelForField(self.channel)
        form.addRow("Reference", self.reference)
        form.addRow(self.hr_label)
        form.addRow(buttons)
        open_button.clicked.connect(self.open_requested)
        attach.clicked.connect(self.attach_requested)
        self.kind.activated.connect(lambda i: self.kind_chosen.emit(self.kind.itemData(i)))
        self.channel.valueChanged.connect(
            lambda v: None if self._guard else self.channel_chosen.emit(v))
        self._guard = False
        self.reference.activated.connect(
            lambda i: self.reference_chosen.emit(self.reference.itemData(i)))
        session.subscribe(self._on_session)
        self.refresh()

    def refresh(self) -> None:
        s, st = self.session, self.session.state
        if s.source is None:
            self.file_label.setText("nothing open: File > Open, or drop a file on the window")
        else:
            name = f"sample: {st.sample}" if st.sample else Path(st.input_path or "").name
            d = s.source
            self.file_label.setText(f"<b>{name}</b><br>{d.width}×{d.height}×{d.channels} "
                                    f"{d.kind}, {d.units.dtype}")
            self.file_label.setToolTip(st.input_path or "")
        self.kind.setCurrentIndex(max(0, self.kind.findData(st.kind)))
        many = s.source is not None and s.source.kind == "channels"
        self._guard = True
        self.channel.setRange(0, max(0, s.source.channels - 1) if s.source is not None else 0)
        self.channel.setValue(int(st.layout.get("channel", 0)))
        self._guard = False
        self.channel.setVisible(many)
        self.channel_label.setVisible(many)
        self.reference.setCurrentIndex(max(0, self.reference.findData(st.reference)))
        if st.reference == "hr" and s.attached_hr is not None:
            hr = s.attached_hr
            self.hr_label.setText(f"HR: {Path(st.hr_path or '').name} ({hr.width}×{hr.height})")
        elif st.reference == "degrade" and s.lr is not None:
            self.hr_label.setText(f"LR made by degrade: {s.lr.width}×{s.lr.height}")
        else:
            self.hr_label.setText("")
        self.hr_label.setVisible(bool(self.hr_label.text()))

    def _on_session(self, topic: str) -> None:
        if topic in ("inputs", "params", "all"):
            self.refresh()


class ModelList(QGroupBox):
    """Checkable list of the models (tooltip: what it is, its model card); Add checkpoint."""

    models_chosen = Signal(list)
    add_requested = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__("Models", parent)
        self.session = session
        self.list = QListWidget()
        self.list.setMinimumHeight(90)
        self.list.setMaximumHeight(170)
        add = QPushButton("Add checkpoint…")
        add.setToolTip("Pick a .pth/.pt/.safetensors file: its architecture is detected and "
                       "it is remembered for next time")
        lay = QVBoxLayout(self)
        lay.addWidget(self.list, 1)
        lay.addWidget(add)
        add.clicked.connect(self.add_requested)
        self.list.itemChanged.connect(self._on_item)
        self._guard = False
        session.subscribe(self._on_session)
        self.refresh()

    def checked(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def set_checked(self, keys: list[str]) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in keys
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def keys(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def refresh(self) -> None:
        s = self.session
        self._guard = True
        if self.keys() == list(s.catalog):  # same models: only the ticks may differ
            if self.checked() != [k for k in s.catalog if k in s.state.models]:
                self.set_checked(s.state.models)
            self._guard = False
            return
        self.list.clear()
        for key, entry in s.catalog.items():
            kind = {"interp": "interpolation", "fixed": f"fixed ×{entry.scales[0]}"
                    if entry.scales else "fixed", "arbitrary": "any scale"}.get(entry.kind, "")
            item = QListWidgetItem(f"{s.label(key)}  ({kind})")
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = key in s.state.models
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            tip = [f"{entry.arch} ({entry.kind})", entry.description]
            if entry.weights:
                tip.append(str(entry.weights))
            if entry.card:
                tip.append(f"model card: {entry.card}")
            item.setToolTip("\n".join(t for t in tip if t))
            self.list.addItem(item)
        self._guard = False

    def _on_item(self, _item) -> None:
        if not self._guard:
            self.models_chosen.emit(self.checked())

    def _on_session(self, topic: str) -> None:
        if topic in ("models", "all"):
            self.refresh()
