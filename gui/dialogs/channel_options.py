"""How to read a channel-data file: which variable, which axes, complex split, normalisation.

Shown when a ``.npz`` / ``.mat`` / ``.h5`` file (or a complex / 4-D ``.npy``, or any file opened
as "channel data") is opened. The variables come from :func:`core.io.channels.list_variables`
(shape, dtype, and why an array cannot be channel data); unusable ones are listed greyed out.
The axes default to "auto" (H x W first, the rest channels: MATLAB/numpy image order; v7.3
files after undoing their transposition); the complex choice applies to
complex arrays only. :meth:`ChannelOptionsDialog.ask` returns the options for
:func:`core.io.load` (``var``, ``axes``, ``complex_mode``, ``norm``, ``percentiles``) or None.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout,
    QHBoxLayout, QHeaderView, QLabel, QLineEdit, QTableWidget, QTableWidgetItem, QVBoxLayout,
    QWidget,
)

__all__ = ["ChannelOptionsDialog", "COMPLEX_CHOICES", "NORM_CHOICES"]

COMPLEX_CHOICES = (("real and imaginary parts (exact)", "real_imag"),
                   ("magnitude and phase", "mag_phase"),
                   ("magnitude in dB and phase", "mag_db_phase"))
NORM_CHOICES = (("per channel min-max (imagesc)", "channel"), ("global min-max", "global"),
                ("per channel percentiles (robust)", "percentile"))


class ChannelOptionsDialog(QDialog):
    def __init__(self, path: str | Path, infos: list, current: dict | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        cur = dict(current or {})
        self.setWindowTitle(f"Open channel data: {Path(path).name}")
        self.infos = list(infos)
        self.table = QTableWidget(len(self.infos), 4)
        self.table.setHorizontalHeaderLabels(("Variable", "Shape", "Type", "Note"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        for r, info in enumerate(self.infos):
            cells = (info.name, " x ".join(map(str, info.shape)), info.dtype, info.note)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if not info.usable:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled
                                  & ~Qt.ItemFlag.ItemIsSelectable)
                self.table.setItem(r, c, item)
        self.axes = QLineEdit(cur.get("axes") or "auto")
        self.axes.setToolTip("One letter per axis: H and W once each, C for channel axes "
                             "(e.g. HWC, CHW, HWCC); auto = H x W first, the rest channels")
        self.complex_mode = QComboBox()
        for text, key in COMPLEX_CHOICES:
            self.complex_mode.addItem(text, key)
        self.complex_mode.setCurrentIndex(max(0, self.complex_mode.findData(
            cur.get("complex_mode", "real_imag"))))
        self.norm = QComboBox()
        for text, key in NORM_CHOICES:
            self.norm.addItem(text, key)
        self.norm.setCurrentIndex(max(0, self.norm.findData(cur.get("norm", "channel"))))
        lo, hi = cur.get("percentiles", (1.0, 99.0))
        self.p_lo, self.p_hi = QDoubleSpinBox(), QDoubleSpinBox()
        for box, v in ((self.p_lo, lo), (self.p_hi, hi)):
            box.setRange(0.0, 100.0)
            box.setDecimals(2)
            box.setValue(float(v))
        prow = QHBoxLayout()
        prow.addWidget(self.p_lo)
        prow.addWidget(QLabel("to"))
        prow.addWidget(self.p_hi)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Axes", self.axes)
        form.addRow("Complex data", self.complex_mode)
        form.addRow("Normalisation", self.norm)
        form.addRow("Percentiles", prow)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Array to open:"))
        lay.addWidget(self.table, 1)
        lay.addLayout(form)
        lay.addWidget(self.summary)
        lay.addWidget(self.buttons)
        self.table.itemSelectionChanged.connect(self._update)
        self.norm.currentIndexChanged.connect(self._update)
        self.select(cur.get("var"))
        self.resize(560, 420)

    def select(self, name: str | None) -> None:
        """Select the variable ``name`` (default: the largest usable one)."""
        usable = [i for i, info in enumerate(self.infos) if info.usable]
        rows = [i for i in usable if self.infos[i].name == name] or (   # as core.io picks
            [max(usable, key=lambda i: (self.infos[i].size, "." not in self.infos[i].name))]
            if usable else [])
        if rows:
            self.table.selectRow(rows[0])
        self._update()

    def chosen(self):
        rows = self.table.selectionModel().selectedRows()
        return self.infos[rows[0].row()] if rows else None

    def _update(self) -> None:
        info = self.chosen()
        is_complex = info is not None and "complex" in info.dtype
        self.complex_mode.setEnabled(is_complex)
        pct = self.norm.currentData() == "percentile"
        self.p_lo.setEnabled(pct)
        self.p_hi.setEnabled(pct)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(info is not None)
        self.summary.setText(info.describe() if info is not None
                             else "This file holds no array that can be channel data.")

    def options(self) -> dict:
        info = self.chosen()
        axes = self.axes.text().strip()
        out = {"var": info.name if info is not None else None,
               "axes": None if axes.lower() in ("", "auto") else axes.upper(),
               "complex_mode": self.complex_mode.currentData(),
               "norm": self.norm.currentData()}
        if out["norm"] == "percentile":
            out["percentiles"] = (self.p_lo.value(), self.p_hi.value())
        return out

    @classmethod
    def ask(cls, parent: QWidget | None, path, infos: list,
            current: dict | None = None) -> dict | None:
        """Show the dialog; the options, or None when cancelled."""
        dlg = cls(path, infos, current, parent)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        return dlg.options()
