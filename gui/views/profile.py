"""The Profile tab: a line profile of every image along one drawn line, and the histogram of
any image (RGB or Y).

Left: the chosen image (HR, a result or the LR) with a line in HR pixel coordinates; drag its
ends to move it ("From region" puts it across the middle of the region). Right, top: the values
of every image along that line in one plot (HR white, LR dashed, the results coloured; legend
beside the data); right, bottom: the histogram of the chosen image, R/G/B or Y. Values on the
8-bit scale (0-255). Computed by the pure functions of :mod:`core.app.profile`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget,
)

from core.app.profile import CHANNELS, default_line, histograms, line_profile
from core.session import Session

from .image_panel import ImagePanel
from .plots import PlotMessage, legend_outside

__all__ = ["ProfileView", "PROFILE_COLOURS"]

PROFILE_COLOURS = [(76, 158, 255), (255, 140, 50), (90, 200, 110), (230, 80, 90),
                   (180, 120, 230), (230, 200, 70), (80, 210, 210), (200, 160, 120)]
_RGB_PENS = {"R": (235, 80, 80), "G": (90, 200, 110), "B": (90, 140, 255), "Y": (220, 220, 220)}
NO_IMAGE = "no data yet: open an image (and run a model) to see profiles and histograms"


class ProfileView(QWidget):
    """Line profile of every image and the histogram of one."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.image_box = QComboBox()
        self.image_box.setToolTip("The image shown with the line, and whose histogram is drawn")
        self.channel = QComboBox()
        self.channel.addItems(CHANNELS)
        self.channel.setToolTip("The profile's values: Y (BT.601 luma) or one colour channel")
        self.hist_mode = QComboBox()
        self.hist_mode.addItems(["RGB", "Y"])
        self.region_button = QPushButton("From region")
        self.region_button.setToolTip("Put the line across the middle of the region")
        self.line_label = QLabel("")
        bar = QHBoxLayout()
        for w in (QLabel("Image"), self.image_box, QLabel("Profile of"), self.channel,
                  QLabel("Histogram"), self.hist_mode, self.region_button):
            bar.addWidget(w)
        bar.addWidget(self.line_label, 1)
        self.panel = ImagePanel("profile", "Line")
        self.line = pg.LineSegmentROI([(0, 0), (10, 0)], pen=pg.mkPen((255, 200, 40), width=2))
        self.line.setZValue(10)
        self.panel.vb.addItem(self.line, ignoreBounds=True)
        self.line.hide()
        self.profile = pg.PlotWidget()
        self.profile.showGrid(x=True, y=True, alpha=0.25)
        self.profile.setLabel("left", "value (0-255)")
        self.profile.setLabel("bottom", "distance along the line (HR px)")
        self.profile_legend = legend_outside(self.profile)
        self.profile_message = PlotMessage(self.profile, NO_IMAGE)
        self.hist = pg.PlotWidget()
        self.hist.setLabel("left", "pixels")
        self.hist.setLabel("bottom", "value (0-255)")
        self.hist_legend = legend_outside(self.hist)
        self.hist_message = PlotMessage(self.hist, NO_IMAGE)
        for plot in (self.profile, self.hist):
            for side in ("left", "bottom"):
                plot.getAxis(side).enableAutoSIPrefix(False)
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(self.profile)
        plots.addWidget(self.hist)
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(self.panel)
        body.addWidget(plots)
        body.setSizes([400, 500])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(bar)
        lay.addWidget(body, 1)
        self._shape: tuple | None = None
        self._stale = False

        self.image_box.activated.connect(lambda _i: self.refresh())
        self.channel.currentTextChanged.connect(lambda _t: self.refresh_profile())
        self.hist_mode.currentTextChanged.connect(lambda _t: self.refresh_histogram())
        self.region_button.clicked.connect(self.line_from_region)
        self.line.sigRegionChangeFinished.connect(lambda _r: self.refresh_profile())
        self._unsubscribe = session.subscribe(self._on_session)
        self.refresh()

    # -- what there is to show ----------------------------------------------------------------
    def images(self) -> dict[str, tuple[np.ndarray, tuple[float, float]]]:
        """``name -> (pixels in [0, 1], (sx, sy) HR px per pixel)``: HR, results, LR."""
        s = self.session
        out: dict[str, tuple[np.ndarray, tuple[float, float]]] = {}
        hw = s.output_hw()
        if s.hr is not None:
            out["HR"] = (s.hr.pixels, (1.0, 1.0))
        for key, res in s.results.items():
            if res.image.kind in ("rgb", "gray"):
                out[s.label(key)] = (res.image.pixels, (1.0, 1.0))
        if s.lr is not None and s.lr.kind in ("rgb", "gray") and hw is not None:
            out["LR"] = (s.lr.pixels, (hw[1] / s.lr.width, hw[0] / s.lr.height))
        return out

    def endpoints(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The line's ends ``(x, y)`` in HR pixels."""
        p = [self.line.mapToParent(h.pos()) for h in self.line.getHandles()]
        return (p[0].x(), p[0].y()), (p[1].x(), p[1].y())

    def set_line(self, p0: tuple[float, float], p1: tuple[float, float]) -> None:
        for h, (x, y) in zip(self.line.getHandles(), (p0, p1)):
            self.line.movePoint(h, QPointF(x, y), finish=False, coords="parent")
        self.refresh_profile()

    def line_from_region(self) -> None:
        hw = self.session.output_hw()
        if hw is not None:
            self.set_line(*default_line(hw, self.session.state.roi))

    # -- drawing ------------------------------------------------------------------------------
    def refresh(self) -> None:
        images = self.images()
        current = self.image_box.currentText()
        self.image_box.blockSignals(True)
        self.image_box.clear()
        self.image_box.addItems(list(images))
        if current in images:
            self.image_box.setCurrentText(current)
        self.image_box.blockSignals(False)
        hw = self.session.output_hw()
        if not images or hw is None:
            self.panel.show_message(NO_IMAGE)
            self.line.hide()
            self._shape = None
        else:
            name = self.image_box.currentText()
            px, (sx, sy) = images[name]
            shown = np.clip(np.nan_to_num(px[:, :, :3] if px.shape[2] >= 3 else px[:, :, 0]),
                            0, 1)
            self.panel.set_title(f"{name}: drag the line's ends")
            self.panel.set_image((shown * 255 + 0.5).astype(np.uint8), (sx, sy))
            self.line.show()
            if self._shape != hw:          # a new image: a line across the middle, all shown
                self._shape = hw
                self.line_from_region()
                self.panel.vb.autoRange(padding=0.02)
        self.refresh_profile()
        self.refresh_histogram()

    def refresh_profile(self) -> None:
        self.profile.clear()
        self.profile_legend.clear()
        images = self.images()
        if not images or self._shape is None:
            self.profile_message.set(NO_IMAGE)
            self.line_label.setText("")
            return
        self.profile_message.clear()
        (x0, y0), (x1, y1) = self.endpoints()
        self.line_label.setText(f"line ({x0:.0f}, {y0:.0f}) → ({x1:.0f}, {y1:.0f}) HR px")
        ch = self.channel.currentText()
        i = 0
        for name, (px, (sx, sy)) in images.items():
            _d, vals = line_profile(px, (x0 / sx, y0 / sy), (x1 / sx, y1 / sy), ch)
            dist = np.linspace(0.0, float(np.hypot(x1 - x0, y1 - y0)), len(vals))
            if name == "HR":
                pen = pg.mkPen((235, 235, 235), width=2)
            elif name == "LR":
                pen = pg.mkPen((150, 150, 150), width=1, style=Qt.PenStyle.DashLine)
            else:
                pen = pg.mkPen(PROFILE_COLOURS[i % len(PROFILE_COLOURS)], width=1.5)
                i += 1
            self.profile.plot(dist, vals, pen=pen, name=name)
        self.profile.setTitle(f"{ch} along the line")

    def refresh_histogram(self) -> None:
        self.hist.clear()
        self.hist_legend.clear()
        images = self.images()
        name = self.image_box.currentText()
        if name not in images:
            self.hist_message.set(NO_IMAGE)
            return
        self.hist_message.clear()
        chans = ("R", "G", "B") if self.hist_mode.currentText() == "RGB" else ("Y",)
        for c, (counts, edges) in histograms(images[name][0], chans).items():
            self.hist.plot(edges, counts, stepMode="center", pen=pg.mkPen(_RGB_PENS[c], width=1.5),
                           name=c)
        self.hist.setTitle(f"histogram of {name}")

    def _on_session(self, topic: str) -> None:
        if topic in ("inputs", "results", "all", "models"):
            if self.isVisible():
                self.refresh()
            else:
                self._stale = True        # drawn when the tab is shown
        elif topic == "roi" and self._shape is not None:
            self.line_from_region()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.refresh()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self._unsubscribe()
        super().closeEvent(event)
