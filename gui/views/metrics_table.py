"""The metrics table: PSNR / SSIM per model in the ROI and on the whole image; copy and CSV.

The values come from :func:`core.metrics.region_metrics`, :func:`~core.metrics.psnr` and
:func:`~core.metrics.ssim` (computed on a worker by the controller); the table only formats
them (:func:`core.app.run.fmt_metric`: PSNR with 3 decimals in dB, SSIM with 4). Normal maps get
the angular-error statistics instead (one row per result and region, :mod:`core.app.normals`)
and channel data NMSE / PSNR against the ground truth (:mod:`core.app.channels`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSpinBox,
    QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from core.session import Session

from core.app.channels import CHANNEL_COLUMNS, ChannelRow, channel_cells
from core.app.display import best_rows, fmt_metric
from core.app.normals import ANGULAR_COLUMNS, AngularRow, angular_cells
from core.provenance import FIELDS as PROVENANCE_FIELDS

__all__ = ["MetricsTable", "COLUMNS"]

COLUMNS = ("Model", "PSNR ROI (dB)", "SSIM ROI", "PSNR image (dB)", "SSIM image", "Note")


class MetricsTable(QWidget):
    """Table + options (RGB or Y, shave) + Copy / Export CSV."""

    options_changed = Signal(bool, object)   # y_channel, shave (None = auto)
    export_requested = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        hdr = self.table.horizontalHeader()
        hdr.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hdr.setStretchLastSection(True)
        self.channel = QComboBox()
        self.channel.addItem("Y (BT.601)", True)
        self.channel.addItem("RGB", False)
        self.channel.setToolTip("Compare the luma Y of YCbCr (the SR benchmark convention) or "
                                "all RGB channels")
        self.shave = QSpinBox()
        self.shave.setRange(-1, 64)
        self.shave.setSpecialValueText("auto")
        self.shave.setValue(-1)
        self.shave.setToolTip("Pixels shaved from each image border; auto = the scale")
        self.metric_label = QLabel("Metrics on")
        self.shave_label = QLabel("shave")
        self.columns: tuple[str, ...] = COLUMNS
        self.region = QLabel("")
        self.rank_resampled = QCheckBox("rank resampled")
        self.rank_resampled.setToolTip(
            "The best value of each column is shown in bold. Results resized after the model "
            "(a fixed-scale model at another scale) are not its own output at this scale: "
            "tick to let them count as best anyway")
        self.rank_resampled.toggled.connect(lambda _on: self.refresh())
        self.copy_button = QPushButton("Copy")
        self.export_button = QPushButton("Export CSV…")
        bar = QHBoxLayout()
        bar.addWidget(self.metric_label)
        bar.addWidget(self.channel)
        bar.addWidget(self.shave_label)
        bar.addWidget(self.shave)
        bar.addWidget(self.region, 1)
        bar.addWidget(self.rank_resampled)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.export_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.addLayout(bar)
        lay.addWidget(self.table, 1)
        self.channel.currentIndexChanged.connect(self._emit_options)
        self.shave.valueChanged.connect(self._emit_options)
        self.copy_button.clicked.connect(self.copy)
        self.export_button.clicked.connect(self.export_requested)
        self._guard = False
        self._unsubscribe = session.subscribe(self._on_session)
        self.refresh()

    def _emit_options(self, *_):
        if not self._guard:
            v = self.shave.value()
            self.options_changed.emit(bool(self.channel.currentData()), None if v < 0 else v)

    def rows(self) -> list[list[str]]:
        """The table's text, row by row (what Copy and Export CSV write)."""
        out = []
        for r in range(self.table.rowCount()):
            out.append([self.table.item(r, c).text() if self.table.item(r, c) else ""
                        for c in range(self.table.columnCount())])
        return out

    def text_for(self, model: str, column: str, region: str | None = None) -> str:
        """The cell text of ``model``'s row in ``column`` (one of the shown columns); for
        normal maps ``region`` picks the ``ROI`` or ``image`` row."""
        c = self.columns.index(column)
        for row in self.rows():
            if row[0] == model and (region is None or row[1] == region):
                return row[c]
        raise KeyError(model)

    def _layout_for(self, rows: list):
        """Columns and the row formatter for the kind of rows (or of data) shown."""
        src = self.session.source
        kind = src.kind if src is not None else None
        if (rows and isinstance(rows[0], AngularRow)) or (not rows and kind == "normals"):
            return ANGULAR_COLUMNS, angular_cells, "normals"
        if (rows and isinstance(rows[0], ChannelRow)) or (
                not rows and kind == "channels" and "channels" in src.meta):
            return CHANNEL_COLUMNS, channel_cells, "channels"

        def cells(m):
            return [m.model, fmt_metric(m.roi_psnr, "psnr"), fmt_metric(m.roi_ssim, "ssim"),
                    fmt_metric(m.psnr, "psnr"), fmt_metric(m.ssim, "ssim"), m.note]
        return COLUMNS, cells, "images"

    def refresh(self) -> None:
        s = self.session
        st = s.state
        self._guard = True
        self.channel.setCurrentIndex(0 if st.y_channel else 1)
        self.shave.setValue(-1 if st.shave is None else st.shave)
        self._guard = False
        roi = s.roi_region()
        where = f"ROI x={roi.x} y={roi.y} w={roi.w} h={roi.h}" if roi else "no ROI: draw one"
        auto = " (auto)" if st.shave is None else ""
        rows = s.metrics
        columns, cells_of, what = self._layout_for(rows)
        if columns != self.columns:
            self.columns = columns
            self.table.setColumnCount(len(columns))
            self.table.setHorizontalHeaderLabels(columns)
        for w in (self.metric_label, self.channel):
            w.setVisible(what == "images")
        for w in (self.shave_label, self.shave):
            w.setVisible(what != "normals")
        tail = {"images": f" · shave {s.shave()}{auto} · {'Y' if st.y_channel else 'RGB'}",
                "channels": f" · shave {s.shave()}{auto} · NMSE in the data's units",
                "normals": " · angular error against the ground truth"}[what]
        self.region.setText(f"  {where}{tail}")
        numeric = [c for c, name in enumerate(columns) if name not in ("Model", "Region", "Note")]
        self.table.setRowCount(len(rows))
        for r, m in enumerate(rows):
            for c, text in enumerate(cells_of(m)):
                item = QTableWidgetItem(text)
                if c in numeric:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        if what == "images" and rows:
            self._mark_best(rows)
        if not rows:
            hint = ("attach an HR reference or choose degrade to measure" if s.hr is None
                    else "run a model to measure it")
            self.table.setRowCount(1)
            self.table.setItem(0, 0, QTableWidgetItem(hint))
            for c in range(1, len(self.columns)):
                self.table.setItem(0, c, QTableWidgetItem(""))
            self.table.setRowCount(1)
        self.copy_button.setEnabled(bool(rows))
        self.export_button.setEnabled(bool(rows))

    def _mark_best(self, rows: list) -> None:
        """Bold the best PSNR/SSIM of each column; resampled rows only when ticked."""
        excluded = None if self.rank_resampled.isChecked() else [m.resampled for m in rows]
        bold = QFont(self.table.font())
        bold.setBold(True)
        for c, field in ((1, "roi_psnr"), (2, "roi_ssim"), (3, "psnr"), (4, "ssim")):
            for r in best_rows([getattr(m, field) for m in rows], excluded):
                item = self.table.item(r, c)
                item.setFont(bold)
                item.setToolTip("best of the column" + (
                    "" if excluded is None else " (resampled results left out)"))

    def best(self, column: str) -> list[str]:
        """The models whose cell in ``column`` is marked best (bold)."""
        c = self.columns.index(column)
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount())
                if self.table.item(r, c) is not None and self.table.item(r, c).font().bold()]

    def csv_text(self, delimiter: str = ",") -> str:
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
        s = self.session
        roi = s.roi_region()
        w.writerow(["# roi", f"{roi.x},{roi.y},{roi.w},{roi.h}" if roi else "",
                    "channel", "Y" if s.state.y_channel else "RGB", "shave", s.shave()])
        if not s.metrics:
            w.writerow(self.columns)
            return buf.getvalue()
        # how each row was made (model, weights, native scale, resampling, ...) after the
        # table's own columns, when the rows carry it
        provs = [getattr(m, "provenance", None) for m in s.metrics]
        extra = list(PROVENANCE_FIELDS) if any(provs) else []
        w.writerow(list(self.columns) + extra)
        for row, prov in zip(self.rows(), provs):
            w.writerow(row + ([prov.row()[f] for f in extra] if prov and extra else
                              [""] * len(extra)))
        return buf.getvalue()

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.csv_text("\t"))

    def export(self, path: str | Path) -> Path:
        p = Path(path)
        p.write_text(self.csv_text(), encoding="utf-8")
        return p

    def _on_session(self, topic: str) -> None:
        if topic in ("metrics", "roi", "params", "all", "inputs", "results", "normals"):
            self.refresh()
