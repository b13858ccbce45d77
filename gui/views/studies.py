"""The Studies tab: run a background study on the current image and region, see the curves,
a small table and the restored regions side by side.

A bar picks the study (full vs crop, background swap, background size, mosaic vs TTA) and its
options, whether the drawn region is used (else each study's default), Run / Cancel with a
progress bar, and Export CSV. Below: the PSNR curves (pyqtgraph, one line per model, legend),
the per-model table (PSNR per setting; best/worst background, mosaic gains) and the gallery
(the HR region, then each model's restored regions with their PSNR; best and worst marked).
The view computes nothing: the result comes from the session.
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QScrollArea, QSizePolicy, QSpinBox, QSplitter, QStackedWidget,
    QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from core.session import Session
from core.studies import DEFAULT_MARGINS, RING_WIDTHS

from core.app.analysis import STUDIES, STUDY_AXES, study_table, study_tiles
from .plots import PlotMessage, legend_outside
from ..widgets.job_widgets import JobControls, notice_label, show_notice
from ..controllers.study import StudyController

__all__ = ["StudiesView", "COLOURS", "TILE"]

#: Line colours of the models, in order.
COLOURS = [(76, 158, 255), (255, 140, 50), (90, 200, 110), (230, 80, 90), (180, 120, 230),
           (230, 200, 70), (80, 210, 210), (200, 200, 200)]
TILE = 96                         # gallery tile side (screen pixels)
_MODES = {"centre and edges": ("centre", "edges"), "from the centre": ("centre",),
          "from the edges": ("edges",)}


def _line_edit(text: str, tip: str) -> QLineEdit:
    e = QLineEdit(text)
    e.setToolTip(tip)
    e.setMaximumWidth(150)
    return e


def _pixmap(rgb) -> QPixmap:
    h, w = rgb.shape[:2]
    img = QImage(rgb.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    mode = (Qt.TransformationMode.FastTransformation if max(h, w) <= TILE
            else Qt.TransformationMode.SmoothTransformation)
    return QPixmap.fromImage(img).scaled(TILE, TILE, Qt.AspectRatioMode.KeepAspectRatio, mode)


class StudiesView(QWidget):
    export_requested = Signal()
    backgrounds_requested = Signal(bool)  # swap: the window asks for files (False) / a folder
    background_requested = Signal()       # size: the window asks for one image file

    def __init__(self, controller: "StudyController", session: Session,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.session = session
        self.backgrounds: list[str] = []
        self.background = ""
        self.study = QComboBox()
        for key, text in STUDIES.items():
            self.study.addItem(text, key)
        # options per study
        self.margins = _line_edit(",".join(map(str, DEFAULT_MARGINS)),
                                  "margins around the region, LR pixels")
        self.preset_button = QPushButton("Paper preset")
        self.preset_button.setToolTip("The seed paper's protocol: a 256×256 HR block (64×64 LR "
                                      "at ×4) at the centre, PSNR on its centre 56×56 LR pixels")
        self.flips = QCheckBox("own flips")
        self.flips.setChecked(True)
        self.add_bg_button = QPushButton("Add backgrounds…")
        self.add_bg_button.setToolTip("Other images whose background the region is pasted into")
        self.add_folder_button = QPushButton("Folder…")
        self.add_folder_button.setToolTip("Every image of a folder as a background")
        self.clear_bg_button = QPushButton("Clear")
        self.bg_label = QLabel("")
        self.widths = _line_edit(",".join(map(str, RING_WIDTHS)), "ring widths, HR pixels")
        self.modes = QComboBox()
        self.modes.addItems(list(_MODES))
        self.size_bg_button = QPushButton("Background…")
        self.size_bg_label = QLabel("")
        self.tta = QSpinBox()
        self.tta.setRange(1, 400)
        self.tta.setValue(25)
        self.tta.setPrefix("TTA passes ")
        self.tta.setToolTip("8-way flip/rotate self-ensemble; 25 passes = the mosaic's compute")
        self.options = QStackedWidget()
        self.options.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        for widgets in ([QLabel("margins"), self.margins, self.preset_button],
                        [self.flips, self.add_bg_button, self.add_folder_button,
                         self.clear_bg_button, self.bg_label],
                        [QLabel("widths"), self.widths, self.modes, self.size_bg_button,
                         self.size_bg_label],
                        [self.tta]):
            page = QWidget()
            row = QHBoxLayout(page)
            row.setContentsMargins(0, 0, 0, 0)
            for w in widgets:
                row.addWidget(w)
            row.addStretch(1)
            self.options.addWidget(page)
        self.use_region = QCheckBox("drawn region")
        self.use_region.setChecked(True)
        self.use_region.setToolTip("Measure the drawn region; unticked (or none drawn): each "
                                   "study's default region")
        self.run_button = QPushButton("Run study")
        self.job = JobControls()
        self.cancel_button, self.progress, self.status = (
            self.job.cancel_button, self.job.progress, self.job.status)
        self.export_button = QPushButton("Export CSV…")
        bar = QHBoxLayout()
        bar.addWidget(self.study)
        bar.addWidget(self.options)
        bar.addStretch(1)
        for w in (self.use_region, self.run_button, self.cancel_button, self.progress,
                  self.export_button):
            bar.addWidget(w)
        self.status.setStyleSheet("color: #8a96a3;")

        self.plot = pg.PlotWidget()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("left", "region PSNR (dB)")
        self.legend = legend_outside(self.plot)   # beside the data, never over a point
        self.message = PlotMessage(self.plot, "no data yet: run a study to see the region PSNR "
                                              "per setting, one line per model")
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #8a96a3;")
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.table, 1)
        rl.addWidget(self.notes)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.plot)
        top.addWidget(right)
        top.setSizes([560, 460])
        self.gallery = QWidget()
        self.gallery_layout = QGridLayout(self.gallery)
        self.gallery_layout.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidget(self.gallery)
        scroll.setWidgetResizable(True)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(top)
        body.addWidget(scroll)
        body.setSizes([330, 310])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        self.notice = notice_label()
        lay.addLayout(bar)
        lay.addWidget(self.notice)
        lay.addWidget(self.status)
        lay.addWidget(body, 1)
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.tiles: list[QLabel] = []
        self._shown = None

        self.study.currentIndexChanged.connect(self._show_options)
        self.preset_button.clicked.connect(self.paper_preset)
        self.add_bg_button.clicked.connect(lambda: self.backgrounds_requested.emit(False))
        self.add_folder_button.clicked.connect(lambda: self.backgrounds_requested.emit(True))
        self.clear_bg_button.clicked.connect(lambda: self.add_backgrounds(None))
        self.size_bg_button.clicked.connect(self.background_requested)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(controller.cancel_study)
        self.export_button.clicked.connect(self.export_requested)
        controller.jobs.running.connect(self.set_running)
        controller.jobs.progress.connect(self.set_progress)
        self._unsubscribe = self.session.subscribe(self._on_session)
        self.refresh_notice()
        self.add_backgrounds([])
        self.set_background("")
        self._show_options(0)
        self.refresh()

    # -- the user's choices -------------------------------------------------------------------
    def _show_options(self, index: int) -> None:
        """Only the current study's options take room in the bar."""
        for i in range(self.options.count()):
            policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            self.options.widget(i).setSizePolicy(policy, policy)
        self.options.setCurrentIndex(index)
        self.options.adjustSize()

    def current(self) -> str:
        return self.study.currentData()

    def set_study(self, name: str) -> None:
        self.study.setCurrentIndex(self.study.findData(name))

    def params(self) -> dict:
        """The current study's options for :meth:`Controller.run_study`."""
        name = self.current()
        if name == "crop":
            return {"margins": self.margins.text()}
        if name == "swap":
            return {"flips": self.flips.isChecked(), "backgrounds": list(self.backgrounds)}
        if name == "size":
            return {"widths": self.widths.text(), "modes": _MODES[self.modes.currentText()],
                    "background": self.background}
        return {"tta_passes": self.tta.value()}

    def run(self) -> bool:
        return self.controller.run_study(self.current(), self.use_region.isChecked(),
                                         **self.params())

    def paper_preset(self) -> None:
        self.set_study("crop")
        margins = self.controller.study_paper_preset()
        if margins is not None:
            self.margins.setText(",".join(map(str, margins)))
            self.use_region.setChecked(True)

    def add_backgrounds(self, paths: list[str] | None) -> None:
        """Swap backgrounds (image files or folders); None clears them."""
        self.backgrounds = [] if paths is None else self.backgrounds + [
            p for p in paths if p not in self.backgrounds]
        n = len(self.backgrounds)
        names = ", ".join(Path(b).name for b in self.backgrounds[:2])
        self.bg_label.setText(f"+ {names}{' …' if n > 2 else ''}" if n else "")
        self.bg_label.setToolTip("\n".join(self.backgrounds))

    def set_background(self, path: str) -> None:
        """The size sweep's foreign background ("" = a bundled sample)."""
        self.background = path
        self.size_bg_label.setText(Path(path).name if path else "(a bundled sample)")

    def set_running(self, running: bool) -> None:
        self.job.set_running(running)

    def set_progress(self, fraction: float, text: str) -> None:
        self.job.set_progress(fraction, text)

    # -- the result ---------------------------------------------------------------------------
    def refresh(self) -> None:
        res = self._shown = self.session.study
        self.plot_result(res)
        self.fill_table(res)
        self.fill_gallery(res)
        self.export_button.setEnabled(res is not None)
        self.notes.setText("" if res is None else "\n".join(res.notes))

    def plot_result(self, res) -> None:
        self.plot.clear()
        self.legend.clear()
        self.curves = {}
        axis = self.plot.getAxis("bottom")
        if res is None:
            self.plot.setTitle("")
            axis.setTicks(None)
            self.message.set("no data yet: run a study to see the region PSNR per setting, "
                             "one line per model")
            return
        self.message.clear()
        label, categorical = STUDY_AXES[res.study]
        r = res.region
        self.plot.setTitle(f"{STUDIES[res.study]} · {res.image} ×{res.scale} · region "
                           f"{r.w}×{r.h} at ({r.x}, {r.y})")
        self.plot.setLabel("bottom", label)
        groups = list(dict.fromkeys(row.group for row in res.rows))
        styles = [Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine]
        for i, m in enumerate(res.models):
            colour = QColor(*COLOURS[i % len(COLOURS)])
            for j, g in enumerate(groups):
                x, y, _ = res.curve(m, g)
                if not x:
                    continue
                if res.study == "crop" and g == "full":   # one point: the whole image
                    item = self.plot.plot(x, y, pen=None, symbol="star", symbolSize=14,
                                          symbolBrush=colour, name=f"{m} (full image)")
                else:   # categories are points (no line between unrelated settings)
                    pen = None if categorical else \
                        pg.mkPen(colour, width=2, style=styles[j % len(styles)])
                    name = f"{m} ({g})" if len(groups) > 1 and res.study != "crop" else m
                    item = self.plot.plot(x, y, pen=pen, symbol="o",
                                          symbolSize=9 if categorical else 7,
                                          symbolBrush=colour, name=name)
                self.curves[(m, g)] = item
        if categorical:
            x, _, settings = res.curve(res.models[0], groups[0])
            axis.setTicks([list(zip(x, settings))])
        else:
            axis.setTicks(None)
        self.plot.enableAutoRange()

    def fill_table(self, res) -> None:
        self.table.clear()
        if res is None:
            self.table.setRowCount(0)
            self.table.setColumnCount(0)
            return
        header, rows = study_table(res)
        self.table.setColumnCount(len(header))
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels(header)
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                item = QTableWidgetItem(text)
                if j:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()

    def fill_gallery(self, res) -> None:
        while self.gallery_layout.count():
            w = self.gallery_layout.takeAt(0).widget()
            if w is not None:
                w.setParent(None)
                w.deleteLater()
        self.tiles = []
        if res is None:
            return
        colours = {"best": "#5ad26e", "worst": "#e65a5a"}
        rows = study_tiles(res)
        for i, (row_label, tiles) in enumerate(rows):
            if i == 0:           # the HR region: first, beside all the model rows
                self.gallery_layout.addWidget(self._tile(*tiles[0], colours), 0, 0,
                                              max(1, len(rows) - 1), 1,
                                              Qt.AlignmentFlag.AlignTop)
                continue
            name = QLabel(row_label)
            name.setStyleSheet("font-weight: bold;")
            self.gallery_layout.addWidget(name, i - 1, 1, Qt.AlignmentFlag.AlignVCenter)
            for j, tile in enumerate(tiles):
                self.gallery_layout.addWidget(self._tile(*tile, colours), i - 1, j + 2)

    def _tile(self, caption: str, rgb, mark: str, colours: dict) -> QWidget:
        img = QLabel()
        img.setPixmap(_pixmap(rgb))
        img.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if mark:
            img.setStyleSheet(f"border: 2px solid {colours[mark]};")
            caption += f" ({mark})"
        text = QLabel(caption)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        cell = QWidget()
        cl = QVBoxLayout(cell)
        cl.setContentsMargins(2, 2, 2, 2)
        cl.setSpacing(1)
        cl.addWidget(img)
        cl.addWidget(text)
        self.tiles.append(img)
        return cell

    def refresh_notice(self) -> None:
        """Say in place when the input is of a kind the studies cannot use."""
        reason = self.controller.unavailable()
        show_notice(self.notice, reason)
        self.run_button.setEnabled(not reason)

    def _on_session(self, topic: str) -> None:
        if topic in ("inputs", "all"):
            self.refresh_notice()
        if topic in ("study", "inputs", "all") and self.session.study is not self._shown:
            self.refresh()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self._unsubscribe()
        super().closeEvent(event)
