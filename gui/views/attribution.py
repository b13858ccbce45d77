"""The LAM tab: pick a window on the SR, attribute it for every ticked model, compare the maps.

A bar with the window (x, y, size in SR pixels; click any image to centre it there), the path
rule and its steps (how the path integral is evaluated); below it Run LAM / Cancel with a
progress bar, the status and the heat map's opacity. Below, one column per model of the
last run: its SR and the heat map over the LR at the SR size (the core's seismic rendering,
:func:`core.attribution.render.lam_overlay`), both with the window outlined in red, the
diffusion and Gini indices, and a Save button (the PNG has the window drawn in, as the CLI's).
Before a run one column shows the best image at hand for picking the window. All images share
one zoom/pan; the window of the next run is a dashed square.
The view computes nothing: the maps come from the session, overlays from the controller.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (
    QComboBox, QFrame, QGraphicsRectItem, QGridLayout, QHBoxLayout, QLabel, QPushButton,
    QSizePolicy, QSlider, QSpinBox, QVBoxLayout, QWidget,
)

from core.attribution.quadrature import DEFAULT_STEPS, RULES
from core.attribution.render import SEISMIC
from core.session import Session
from core.app.analysis import lam_caption
from .plots import ColourBar
from ..widgets.job_widgets import JobControls, notice_label, show_notice
from .linker import ViewLinker
from .image_panel import ImagePanel
from ..controllers.lam import LamController

__all__ = ["LamView", "LamColumn", "PICK"]

PICK = "__pick__"          # the key of the column shown before any run
_DONE_PEN = QPen(QColor(255, 40, 40), 2)
_DONE_PEN.setCosmetic(True)
_NEXT_PEN = QPen(QColor(255, 210, 40), 2, Qt.PenStyle.DashLine)
_NEXT_PEN.setCosmetic(True)


def _rect_item(panel: ImagePanel, pen: QPen) -> QGraphicsRectItem:
    item = QGraphicsRectItem()
    item.setPen(pen)
    item.setZValue(20)
    item.hide()
    panel.vb.addItem(item, ignoreBounds=True)
    return item


class LamColumn(QFrame):
    """One model: SR with the window, heat map over the LR, DI and Gini, Save."""

    def __init__(self, key: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.key = key
        self.sr = ImagePanel(f"sr:{key}")
        self.overlay = ImagePanel(f"lam:{key}")
        self.caption = QLabel("")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.caption.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.caption.setFont(font)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.notes.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notes.setStyleSheet("color: #8a96a3;")
        self.notes.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.notes.setFixedHeight(2 * self.notes.fontMetrics().height() + 2)  # columns align
        self.save_button = QPushButton("Save overlay + map…")
        self.save_button.setToolTip("The overlay as shown (PNG) and the map (LR size, .npy)")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.sr, 1)
        lay.addWidget(self.overlay, 1)
        lay.addWidget(self.caption)
        lay.addWidget(self.notes)
        lay.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.done_items = [_rect_item(p, _DONE_PEN) for p in (self.sr, self.overlay)]
        self.next_items = [_rect_item(p, _NEXT_PEN) for p in (self.sr, self.overlay)]
        self.window: tuple[int, int, int, int] | None = None   # of the shown result

    def panels(self) -> list[ImagePanel]:
        return [self.sr, self.overlay]

    def show_next(self, win) -> None:
        """The window of the next run (dashed), unless it is the one shown."""
        rect = None if win is None else (win.x, win.y, win.w, win.h)
        for item in self.next_items:
            item.setVisible(rect is not None and rect != self.window)
            if rect is not None:
                item.setRect(QRectF(*rect))


class LamView(QWidget):
    save_requested = Signal(str)          # model key
    hovered = Signal(str)

    def __init__(self, controller: "LamController", session: Session,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.session = session
        self.boxes = {}
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Window (SR px)"))
        for name in ("x", "y", "size"):
            box = QSpinBox()
            box.setRange(0 if name != "size" else 2, 100_000)
            box.setKeyboardTracking(False)
            box.setPrefix(f"{name} ")
            self.boxes[name] = box
            bar.addWidget(box)
        self.boxes["size"].setValue(16)
        self.boxes["size"].setToolTip("the window side (the LAM paper: 16)")
        self.rule = QComboBox()
        for r in RULES:
            self.rule.addItem(r, r)
        self.rule.setToolTip("How the path integral is evaluated: riemann = the official LAM "
                             "(50 equal steps); gauss = Gauss-Legendre, a close map (correlation "
                             ">= 0.99 on the LAM demo images) from 16 steps; adaptive = stops "
                             "when the map stops changing")
        self.steps = QSpinBox()
        self.steps.setRange(0, 10_000)
        self.steps.setPrefix("steps ")
        self.steps.setSpecialValueText("steps: default")
        self.steps.setKeyboardTracking(False)
        self.steps.setToolTip("Path steps, one model pass each (default: "
                              + ", ".join(f"{r} {n}" for r, n in DEFAULT_STEPS.items())
                              + "; adaptive: at most this many, >= 15)")
        self.centre_button = QPushButton("Centre on region")
        self.centre_button.setToolTip("Put the window at the centre of the region (or image)")
        self.run_button = QPushButton("Run LAM")
        self.run_button.setToolTip("Attribute the window for every ticked model")
        self.job = JobControls()
        self.cancel_button, self.progress, self.status = (
            self.job.cancel_button, self.job.progress, self.job.status)
        self.alpha = QSlider(Qt.Orientation.Horizontal)
        self.alpha.setRange(0, 100)
        self.alpha.setValue(int(round(controller.lam_alpha() * 100)))
        self.alpha.setMaximumWidth(140)
        self.alpha.setToolTip("Heat map opacity over the LR (display only: nothing recomputed)")
        self.alpha_label = QLabel(f"{self.alpha.value()}%")
        bar.addWidget(self.centre_button)
        bar.addWidget(QLabel("Path"))
        bar.addWidget(self.rule)
        bar.addWidget(self.steps)
        bar.addStretch(1)
        # the run on a row of its own: one row of every control is wider than a 1366 px screen
        run_bar = QHBoxLayout()
        for w in (self.run_button, self.cancel_button, self.progress):
            run_bar.addWidget(w)
        run_bar.addWidget(self.status, 1)
        run_bar.addWidget(QLabel("Heat map"))
        run_bar.addWidget(self.alpha)
        run_bar.addWidget(self.alpha_label)
        self.hint = QLabel("Click an image (or type x, y) to place the window; Run LAM "
                           "attributes it for every ticked model, side by side.")
        self.hint.setStyleSheet("color: #8a96a3;")
        self.body = QGridLayout()
        self.body.setSpacing(6)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        self.notice = notice_label()
        # the overlay's colours: |attribution| / its maximum, seismic from white (0) to red (1)
        self.colour_bar = ColourBar("heat map: attribution / its maximum",
                                    255 * SEISMIC[np.linspace(128, 255, 9).astype(int)])
        self.colour_bar.set_range(0, 1, "(share of the largest)")
        lay.addLayout(bar)
        lay.addLayout(run_bar)
        lay.addWidget(self.notice)
        lay.addWidget(self.hint)
        lay.addWidget(self.colour_bar)
        lay.addLayout(self.body, 1)
        self.linker = ViewLinker()
        self.columns: dict[str, LamColumn] = {}
        self._geometry = None

        for name, box in self.boxes.items():
            box.valueChanged.connect(lambda v, n=name: self._box_changed(n, v))
        self.rule.currentIndexChanged.connect(
            lambda _i: controller.set_lam_rule(rule=self.rule.currentData()))
        self.steps.valueChanged.connect(lambda v: controller.set_lam_rule(steps=v or None))
        self.centre_button.clicked.connect(controller.centre_lam_window)
        self.run_button.clicked.connect(controller.run_lam)
        self.cancel_button.clicked.connect(controller.cancel_lam)
        self.alpha.valueChanged.connect(lambda v: controller.set_lam_alpha(v / 100))
        controller.jobs.running.connect(self.set_running)
        controller.jobs.progress.connect(self.set_progress)
        self._unsubscribe = self.session.subscribe(self._on_session)
        self.refresh_rule()
        self.refresh_notice()
        self.rebuild()

    # -- columns ------------------------------------------------------------------------------
    def keys(self) -> list[str]:
        return list(self.session.lam) or [PICK]

    def _column(self, key: str) -> LamColumn:
        col = self.columns.get(key)
        if col is None:
            col = LamColumn(key)
            for panel in col.panels():
                self.linker.add(panel.vb)
                panel.hovered.connect(self.hovered)
                panel.graphics.scene().sigMouseClicked.connect(
                    lambda ev, p=panel: self._clicked(p, ev))
            col.save_button.clicked.connect(lambda _=False, k=key: self.save_requested.emit(k))
            self.columns[key] = col
        return col

    def rebuild(self) -> None:
        keys = self.keys()
        for key in [k for k in self.columns if k not in keys]:
            col = self.columns.pop(key)
            for panel in col.panels():
                self.linker.remove(panel.vb)
            col.setParent(None)
            col.deleteLater()
        while self.body.count():
            self.body.takeAt(0)
        for i, key in enumerate(keys):
            self.body.addWidget(self._column(key), 0, i)
            self.body.setColumnStretch(i, 1)
        self.refresh()

    def refresh(self) -> None:
        """Fill every column from the session."""
        s = self.session
        self.colour_bar.setVisible(bool(s.lam))
        for key, col in self.columns.items():
            if key == PICK:
                self._fill_pick(col)
            else:
                self._fill(col, s.lam[key])
        self.refresh_window()
        out = s.output_hw()
        geometry = (out, s.lr.shape if s.lr is not None else None)
        if geometry != self._geometry and out is not None:
            self._geometry = geometry
            self.fit()

    def _fill_pick(self, col: LamColumn) -> None:
        s = self.session
        col.window = None
        for item in col.done_items:
            item.hide()
        col.caption.setText("")
        col.notes.setText("")
        col.save_button.hide()
        out = s.output_hw()
        shown = [k for k in s.state.models if k in s.results] + list(s.results)
        if shown:
            col.sr.set_title(f"{s.label(shown[0])}: place the window")
            col.sr.set_image(s.results[shown[0]].display)
        elif s.hr_display is not None:
            col.sr.set_title("HR: place the window")
            col.sr.set_image(s.hr_display)
        elif s.lr_display is not None and out is not None:
            col.sr.set_title("LR (at the SR size): place the window")
            col.sr.set_image(s.lr_display, (out[1] / s.lr.width, out[0] / s.lr.height))
        else:
            col.sr.set_title("")
            col.sr.show_message("File > Open or drop an image here")
        col.overlay.set_title("Local attribution map")
        col.overlay.show_message("Press Run LAM: which input pixels does the window's "
                                 "output depend on, for each ticked model?")

    def _fill(self, col: LamColumn, entry) -> None:
        res, label = entry.result, self.session.label(col.key)
        h, w = res.out_size
        lr = self.session.lam_lr
        col.sr.set_title(f"{label} · SR {w}×{h}",
                         f"{label}: {res.seconds:.1f} s on {res.device} ({res.precision}, "
                         f"{res.rule} {res.steps} path steps, {res.batch} per pass)")
        if entry.sr_display is not None:
            col.sr.set_image(entry.sr_display)
        else:
            col.sr.show_message("no SR image")
        col.overlay.set_title(f"{label} · LAM over the LR {lr.width}×{lr.height}")
        col.overlay.set_image(self.controller.lam_overlay_image(col.key, window=False),
                              readout=lambda c, r, m=res.map: self._map_text(m, c, r, h, w))
        win = res.window
        col.window = (win.x, win.y, win.w, win.h)
        for item in col.done_items:
            item.setRect(QRectF(*col.window))
            item.show()
        col.caption.setText(lam_caption(res))
        col.notes.setText(" ".join(res.notes))
        col.notes.setToolTip("\n".join(res.notes))
        col.save_button.show()

    @staticmethod
    def _map_text(amap: np.ndarray, c: int, r: int, h: int, w: int) -> str:
        lr_r = min(amap.shape[0] - 1, int(r * amap.shape[0] / h))
        lr_c = min(amap.shape[1] - 1, int(c * amap.shape[1] / w))
        return f"LR ({lr_c}, {lr_r}) attribution {float(amap[lr_r, lr_c]):.4f}"

    def refresh_overlays(self) -> None:
        """New opacity: re-render the overlays from the maps (nothing recomputed)."""
        for key, col in self.columns.items():
            if key != PICK and key in self.session.lam:
                col.overlay.set_image(self.controller.lam_overlay_image(key, window=False),
                                      readout=col.overlay.readout)
        pct = int(round(self.controller.lam_alpha() * 100))
        self.alpha_label.setText(f"{pct}%")
        if self.alpha.value() != pct:
            self.alpha.blockSignals(True)
            self.alpha.setValue(pct)
            self.alpha.blockSignals(False)

    def refresh_window(self) -> None:
        """The spin boxes and the dashed square show the window of the next run."""
        win = self.controller.lam_window()
        out = self.session.output_hw() if self.session.lr is not None else None
        for box in self.boxes.values():
            box.blockSignals(True)
        if out is not None and win is not None:
            self.boxes["size"].setMaximum(max(2, min(out)))
            self.boxes["x"].setMaximum(max(0, out[1] - win.w))
            self.boxes["y"].setMaximum(max(0, out[0] - win.h))
            for name, v in (("size", win.w), ("x", win.x), ("y", win.y)):
                self.boxes[name].setValue(v)
        for box in self.boxes.values():
            box.blockSignals(False)
        for col in self.columns.values():
            col.show_next(win)

    def refresh_rule(self) -> None:
        """The rule box and the steps box show the controller's choice."""
        rule, steps = self.controller.lam_rule()
        for w in (self.rule, self.steps):
            w.blockSignals(True)
        self.rule.setCurrentIndex(max(0, self.rule.findData(rule)))
        self.steps.setValue(steps or 0)
        for w in (self.rule, self.steps):
            w.blockSignals(False)

    def fit(self) -> None:
        out = self.session.output_hw()
        if out is not None and self.columns:
            first = next(iter(self.columns.values()))
            first.sr.vb.setRange(rect=QRectF(0, 0, out[1], out[0]), padding=0.02)

    # -- input --------------------------------------------------------------------------------
    def _box_changed(self, name: str, value: int) -> None:
        if name == "size":
            self.controller.set_lam_window(size=value)
        else:
            self.controller.set_lam_window(**{name: value})

    def _clicked(self, panel: ImagePanel, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double() or panel.array is None:
            return
        pt = panel.vb.mapSceneToView(ev.scenePos())
        if panel.extent().contains(pt):
            self.controller.place_lam_window(pt.x(), pt.y())

    def set_running(self, running: bool) -> None:
        self.job.set_running(running)
        self.run_button.setToolTip("Start again (supersedes the LAM run in progress)" if running
                                   else "Attribute the window for every ticked model")

    def set_progress(self, fraction: float, text: str) -> None:
        self.job.set_progress(fraction, text)

    def refresh_notice(self) -> None:
        """Say in place when the input is of a kind LAM cannot attribute."""
        reason = self.controller.unavailable()
        show_notice(self.notice, reason)
        self.run_button.setEnabled(not reason)

    def _on_session(self, topic: str) -> None:
        if topic in ("inputs", "all"):
            self.refresh_notice()
        if topic == "lam":
            if self.keys() != list(self.columns):
                self.rebuild()
            else:
                self.refresh()
        elif topic in ("inputs", "results", "all", "models"):
            if self.keys() != list(self.columns):
                self.rebuild()
            else:
                self.refresh()
            if topic == "all":
                self.refresh_overlays()
        elif topic in ("lam_window", "roi", "params"):
            self.refresh_window()
        elif topic == "lam_alpha":
            self.refresh_overlays()
        elif topic == "layout":
            self.refresh_rule()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self._unsubscribe()
        super().closeEvent(event)
