"""The channel browser: one channel of LR / SR / GT side by side, its histogram, the range table
and the NMSE of every channel.

* A slider (and a spin box) over the channels (before the complex split); for complex data the
  magnitude, magnitude in dB, phase, real or imaginary part. Each panel shows the channel in the
  data's *own units* like MATLAB ``imagesc``: one colour range for all panels (that of the
  input and the ground truth) with a colour bar in those units; zoom and pan are linked; the LR
  is drawn in HR pixel coordinates (nearest-neighbour blocks).
* The range table (:func:`core.channels.channel_stats`): min, max, mean, std, the
  normalisation range, zeros and NaN/Inf of every channel, so the spread of the ranges shows;
  clicking a row shows that channel.
* "Fine-tune on this data" (:class:`FinetuneBar`): train a copy of a model on the channels;
  it is listed as ``<model> (fine-tuned)`` and used by the next run.
* The histogram of the input's channel (:func:`core.channels.channel_histogram`) and the
  NMSE per channel of each result against the ground truth (the metrics table holds the totals).

Everything shown is computed by the controller on the pool (``request_channel_frame``,
``request_channel_stats``, the metrics job); a newer request supersedes an older one.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QTransform
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSlider,
    QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from core.app.channels import (
    PART_TEXT, STATS_COLUMNS, ChannelRow, parts_for, stats_cells, working_index,
)
from core.channels import channel_meta
from core.session import Session
from ..controllers.channels import ChannelsController
from ..controllers.finetune import FinetuneController
from .channel_browser_finetune import FinetuneBar
from .linker import ViewLinker
from .plots import PlotMessage, legend_outside

__all__ = ["ChannelBrowser", "COLORMAPS"]

COLORMAPS = (("viridis", "viridis"), ("inferno", "inferno"), ("turbo", "turbo"),
             ("gray", "CET-L1"), ("cyclic (phase)", "CET-C6"))
_PENS = ("#4fc3f7", "#ffb74d", "#81c784", "#e57373", "#ba68c8", "#fff176")


class ChannelBrowser(QWidget):
    save_requested = Signal()
    hovered = Signal(str)
    channel_chosen = Signal(int)    # the working channel the compare grid should show

    def __init__(self, controller: ChannelsController, finetune: FinetuneController,
                 session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.finetune_controller = finetune
        self.session = session
        self.frame = None                     # the BrowseFrame on screen
        self.stats: list = []
        self.plots: dict[str, pg.PlotItem] = {}
        self.images: dict[str, pg.ImageItem] = {}
        self._stats_for = None
        self._geometry = None
        self._built = False
        self._build_ui()
        self._timer = QTimer(self, singleShot=True, interval=30)
        self._timer.timeout.connect(self.request)
        self._unsubscribe = self.session.subscribe(self._on_session)
        self.refresh_controls()

    # -- layout -------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.spin = QSpinBox()
        self.label = QLabel("")
        self.label.setMinimumWidth(120)
        self.part = QComboBox()
        self.cmap = QComboBox()
        for text, name in COLORMAPS:
            self.cmap.addItem(text, name)
        self.save_button = QPushButton("Save stack…")
        self.save_button.setToolTip("Save a result's whole stack in the input's format and "
                                    "units (same variable, axes, dtype, complex layout)")
        bar = QHBoxLayout()
        for w in (QLabel("Channel"), self.slider, self.spin, self.label, QLabel("View"),
                  self.part, QLabel("Colours"), self.cmap, self.save_button):
            bar.addWidget(w)
        bar.setStretch(1, 1)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #8a96a3;")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.addLayout(bar)
        self.finetune = FinetuneBar(self.finetune_controller, self.session)
        self._layout.addWidget(self.finetune)
        self._layout.addWidget(self.note)
        self._layout.addStretch(1)
        self.slider.valueChanged.connect(self.spin.setValue)
        self.spin.valueChanged.connect(self.slider.setValue)
        self.spin.valueChanged.connect(self._on_channel)
        self.part.activated.connect(self._on_part)
        self.cmap.activated.connect(lambda _i: self._show_frame())
        self.save_button.clicked.connect(self.save_requested)

    def _ensure_body(self) -> None:
        """The plots and the table, made the first time the tab is shown (pyqtgraph widgets
        take a while to create, and most sessions never look at channel data)."""
        if self._built:
            return
        self._built = True
        self.view = QWidget()
        self.view_row = QHBoxLayout(self.view)
        self.view_row.setContentsMargins(0, 0, 0, 0)
        self.view_row.setSpacing(2)
        self.bar_item: pg.ColorBarItem | None = None

        self.table = QTableWidget(0, len(STATS_COLUMNS))
        self.table.setHorizontalHeaderLabels(STATS_COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.spread = QLabel("")
        self.spread.setWordWrap(True)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(QLabel("Range of every channel (own units)"))
        ll.addWidget(self.table, 1)
        ll.addWidget(self.spread)
        self.hist = pg.PlotWidget()
        self.hist.setBackground(QColor(24, 28, 33))
        self.hist.setLabel("left", "pixels")
        self.hist_curve = self.hist.plot([0, 1], [0], stepMode="center", fillLevel=0,
                                         brush=(79, 195, 247, 120), pen="#4fc3f7")
        self.nmse = pg.PlotWidget()
        self.nmse.setBackground(QColor(24, 28, 33))
        self.nmse.setLabel("left", "NMSE (dB)")
        self.nmse.setLabel("bottom", "channel")
        for side in ("left", "bottom"):   # plain dB, never "dB (x0.001)"
            self.nmse.getAxis(side).enableAutoSIPrefix(False)
            self.hist.getAxis(side).enableAutoSIPrefix(False)
        self.nmse_legend = legend_outside(self.nmse)   # beside the curves, not over them
        self.nmse_message = PlotMessage(self.nmse, "no data yet: the NMSE per channel needs "
                                                   "a ground truth and a run")
        self.nmse_line = pg.InfiniteLine(0, pen=pg.mkPen("#ffcc44", style=Qt.PenStyle.DashLine))
        self.nmse.addItem(self.nmse_line)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        for w in (left, self.hist, self.nmse):
            bottom.addWidget(w)
        bottom.setSizes([520, 300, 300])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(bottom)
        split.setSizes([430, 230])
        self._layout.takeAt(self._layout.count() - 1)       # the stretch
        self._layout.addWidget(split, 1)
        self.table.cellClicked.connect(self._on_table_click)

    # -- state --------------------------------------------------------------------------------
    def channel(self) -> int:
        return self.spin.value()

    def set_channel(self, n: int) -> None:
        self.spin.setValue(int(n))

    def refresh_controls(self) -> None:
        """Channel range and view parts for the data that is open."""
        c = self.controller
        on = c.data_mode()
        for w in (self.slider, self.spin, self.part, self.cmap):
            w.setEnabled(on)
        self.save_button.setEnabled(on and bool(self.session.results))
        if not on:
            self.note.setText(c.unavailable() or "")
            return
        src = self.session.source
        folded = channel_meta(src).layout.folded
        for w in (self.slider, self.spin):
            w.blockSignals(True)
            w.setRange(0, max(0, folded - 1))
            w.blockSignals(False)
        parts = parts_for(src)
        if [self.part.itemData(i) for i in range(self.part.count())] != parts:
            self.part.clear()
            for p in parts:
                self.part.addItem(PART_TEXT[p], p)
        browse = self.session.state.layout.get("browse") or {}
        self.part.setCurrentIndex(max(0, self.part.findData(browse.get("part"))))
        self.note.setText(c.description())

    def request(self) -> None:
        """Ask the controller for the current channel (and the range table when new data)."""
        c = self.controller
        if not c.data_mode() or not self.isVisible():
            return
        c.request_frame(self.channel(), self.part.currentData() or "value",
                                self._on_frame)
        if self._stats_for is not self.session.source:
            self._stats_for = self.session.source
            c.request_stats(self._on_stats)

    # -- drawing ------------------------------------------------------------------------------
    def _rebuild_plots(self, names: list[str]) -> None:
        """One plot widget per data set (equal widths) and a shared colour bar."""
        while self.view_row.count():
            w = self.view_row.takeAt(0).widget()
            if w is not None:
                w.setParent(None)
                w.deleteLater()
        self.plots, self.images = {}, {}
        self.linker = ViewLinker()
        first = None
        for name in names:
            pw = pg.PlotWidget(title=name)
            pw.setBackground(QColor(24, 28, 33))
            plot = pw.getPlotItem()
            plot.setAspectLocked(True)
            plot.invertY(True)
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            img = pg.ImageItem(axisOrder="row-major")
            plot.addItem(img)
            if first is None:
                first = plot
            else:
                plot.disableAutoRange()
            self.linker.add(plot.vb)   # one zoom/pan (pyqtgraph's own links fight aspect locks)
            self.plots[name], self.images[name] = plot, img
            pw.scene().sigMouseMoved.connect(lambda pos, n=name: self._on_mouse(n, pos))
            self.view_row.addWidget(pw, 1)
        bar_view = pg.GraphicsLayoutWidget()
        bar_view.setBackground(QColor(24, 28, 33))
        bar_view.setFixedWidth(84)
        self.bar_item = pg.ColorBarItem(values=(0, 1), interactive=False, width=14)
        self.bar_item.setImageItem(list(self.images.values()))
        bar_view.addItem(self.bar_item)
        self.view_row.addWidget(bar_view, 0)

    def _show_frame(self) -> None:
        f = self.frame
        if f is None:
            return
        self._ensure_body()
        names = list(f.arrays)
        out = self.session.output_hw()
        geometry = (tuple(names), out)
        if names != list(self.plots):
            self._rebuild_plots(names)
        cmap = pg.colormap.get(self.cmap.currentData())
        for name, arr in f.arrays.items():
            img = self.images[name]
            img.setImage(arr, autoLevels=False, levels=f.levels)
            sx = sy = 1.0
            if out is not None and arr.shape[:2] != tuple(out):
                sy, sx = out[0] / arr.shape[0], out[1] / arr.shape[1]
            img.setTransform(QTransform.fromScale(sx, sy))
            h, w = arr.shape
            self.plots[name].setTitle(f"{name} {w}×{h}")
        self.bar_item.setColorMap(cmap)
        self.bar_item.setLevels(f.levels)
        unit = PART_TEXT.get(f.part, f.part)
        self.bar_item.axis.setLabel(unit)
        self.label.setText(f.label)
        counts, edges = f.hist
        self.hist_curve.setData(edges, counts)
        self.hist.setTitle(f"{f.hist_of}: histogram of {f.label}")
        self.hist.setLabel("bottom", unit)
        self.nmse_line.setValue(f.channel)
        self._highlight_rows(f.channel)
        if geometry != self._geometry:   # new data: show it whole (and follow resizes)
            self._geometry = geometry
            self.plots[names[0]].enableAutoRange()

    def _on_frame(self, frame) -> None:
        self.frame = frame
        self._show_frame()

    def _on_stats(self, value) -> None:
        self._ensure_body()
        rows, spread = value
        self.stats = rows
        self.table.setRowCount(len(rows))
        for r, s in enumerate(rows):
            for c, text in enumerate(stats_cells(s)):
                item = QTableWidgetItem(text)
                if c not in (1, len(STATS_COLUMNS) - 1):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.spread.setText(spread)
        self._highlight_rows(self.channel())

    def _highlight_rows(self, n: int) -> None:
        if not self._built or not self.stats or not self.controller.data_mode():
            return
        folded = channel_meta(self.session.source).layout.folded
        self.table.blockSignals(True)
        self.table.clearSelection()
        rows = [r for r in range(len(self.stats)) if r % folded == n]
        sm, flags = self.table.selectionModel(), (QItemSelectionModel.SelectionFlag.Select
                                                  | QItemSelectionModel.SelectionFlag.Rows)
        for r in rows:
            sm.select(self.table.model().index(r, 0), flags)
        if rows:
            self.table.scrollToItem(self.table.item(rows[0], 0))
        self.table.blockSignals(False)

    def _on_table_click(self, row: int, _col: int) -> None:
        folded = channel_meta(self.session.source).layout.folded
        self.set_channel(row % folded)

    def refresh_nmse(self) -> None:
        """NMSE per channel of each result (the metrics' per-channel values)."""
        if not self._built:
            return
        rows = [m for m in self.session.metrics if isinstance(m, ChannelRow)
                and m.nmse_db is not None]
        for item in list(self.nmse.listDataItems()):
            self.nmse.removeItem(item)
        self.nmse_legend.clear()
        for i, m in enumerate(rows):
            y = np.where(np.isfinite(m.nmse_db), m.nmse_db, np.nan)
            self.nmse.plot(np.arange(len(y)), y, pen=_PENS[i % len(_PENS)], name=m.model,
                           symbol="o", symbolSize=4, symbolBrush=_PENS[i % len(_PENS)],
                           connect="finite")
        self.nmse.setTitle("NMSE per channel" if rows else "")
        if not rows:
            self.nmse_message.set("no data yet: the NMSE per channel needs a ground truth and "
                                  "a run")
        else:
            self.nmse_message.clear()
        if rows:
            n = max(len(m.nmse_db) for m in rows)
            self.nmse.setXRange(-0.5, n - 0.5, padding=0.02)

    def _on_mouse(self, name: str, pos) -> None:
        plot, img, f = self.plots.get(name), self.images.get(name), self.frame
        if plot is None or f is None or not plot.vb.sceneBoundingRect().contains(pos):
            return
        p = img.mapFromScene(pos)
        arr = f.arrays[name]
        r, c = int(np.floor(p.y())), int(np.floor(p.x()))
        if 0 <= r < arr.shape[0] and 0 <= c < arr.shape[1]:
            self.hovered.emit(f"{name} {f.label} ({c}, {r}) = {float(arr[r, c]):.5g} "
                              f"[{PART_TEXT.get(f.part, f.part)}]")

    def _on_channel(self, n: int) -> None:
        """Browse channel ``n``; the compare grid shows the same channel (its first part)."""
        self._timer.start()
        src = self.session.source
        if self.controller.data_mode():
            k = working_index(src, n, self.part.currentData() or "value")
            self.channel_chosen.emit(n if k is None else k)

    def _on_part(self, _i: int) -> None:
        if self.part.currentData() == "phase":
            self.cmap.setCurrentIndex(self.cmap.findData("CET-C6"))
        elif self.cmap.currentData() == "CET-C6":
            self.cmap.setCurrentIndex(0)
        self._timer.start()

    # -- session ------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._ensure_body()
        self.refresh_nmse()
        self._timer.start()

    def _on_session(self, topic: str) -> None:
        if topic in ("inputs", "all"):
            self.refresh_controls()
            self._timer.start()
        elif topic == "results":
            self.save_button.setEnabled(self.controller.data_mode()
                                        and bool(self.session.results))
            self._timer.start()
        elif topic == "metrics":
            self.refresh_nmse()

    def closeEvent(self, event) -> None:  # noqa: N802
        self._unsubscribe()
        super().closeEvent(event)
