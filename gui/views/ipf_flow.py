"""The "IPF flow" tab: where an IPF model moves each output pixel's query, and how much.

Two linked panels at the output size of the next run: the *flow* (colour wheel: white = no
offset, hue = direction, saturation = length relative to the largest offset; the wheel
legend shows the directions) and the *confidence* ``c`` (grey, white = 1) that scales the
flow in IPF's output. Computed by :meth:`gui.controllers.ipf.IpfController.show_ipf_flow` whenever
the tab is on screen and the model, input or output size changed; "Show flow" recomputes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget,
)

from core.models.ipf_flow import flow_to_color
from core.session import Session
from ..widgets.job_widgets import JobControls, notice_label, show_notice
from .linker import ViewLinker
from .plots import ColourBar
from .image_panel import ImagePanel
from ..controllers.ipf import IpfController

__all__ = ["IpfFlowView", "wheel_legend"]

NO_MODEL = ("No IPF model: add an IPF checkpoint (Models, Add…) to see its pixel flow and "
            "confidence")


def wheel_legend(size: int = 40) -> np.ndarray:
    """uint8 ``size x size x 3`` disc of the colour wheel (centre = no offset, rim = largest)."""
    t = (np.arange(size, dtype=np.float32) + 0.5) / size * 2 - 1
    yy, xx = np.meshgrid(t, t, indexing="ij")
    rgb = flow_to_color(np.stack([yy, xx], -1), max_flow=1.0)
    rgb[yy ** 2 + xx ** 2 > 1] = 24 / 255
    return np.ascontiguousarray((rgb * 255 + 0.5).astype(np.uint8))


class IpfFlowView(QWidget):
    hovered = Signal(str)

    def __init__(self, controller: "IpfController", session: Session,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.session = session
        self.model = QComboBox()
        self.model.setMinimumWidth(160)
        self.show_button = QPushButton("Show flow")
        self.job = JobControls(elastic=False)
        self.cancel_button, self.progress, self.status = (
            self.job.cancel_button, self.job.progress, self.job.status)
        self.notice = notice_label()
        self.legend = QLabel()
        wheel = wheel_legend()
        self._wheel = QImage(wheel.data, wheel.shape[1], wheel.shape[0], 3 * wheel.shape[1],
                             QImage.Format.Format_RGB888).copy()
        self.legend.setPixmap(QPixmap.fromImage(self._wheel))
        self.legend.setToolTip("Flow colours: white = no offset, hue = direction (the offset "
                               "points from the centre towards the colour), saturation = length")
        bar = QHBoxLayout()
        for w in (QLabel("Model"), self.model, self.show_button, self.cancel_button,
                  self.progress):
            bar.addWidget(w)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.legend)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.linker = ViewLinker()
        self.panels = {"flow": ImagePanel("flow", "Flow"),
                       "confidence": ImagePanel("confidence", "Confidence")}
        for panel in self.panels.values():
            panel.hovered.connect(self.hovered)
            self.linker.add(panel.vb)
            row.addWidget(panel, 1)
        self.conf_bar = ColourBar("confidence c (grey)", "grey")
        self.conf_bar.set_range(0, 1, "(scales the flow; no unit)")
        self.conf_bar.setToolTip("IPF multiplies each pixel's flow by c: black = the query stays "
                                 "on the pixel centre, white = the full offset")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(self.notice)
        lay.addLayout(row, 1)
        lay.addWidget(self.conf_bar, 0, Qt.AlignmentFlag.AlignRight)
        self._shown = None
        self._timer = QTimer(self, singleShot=True, interval=80)
        self._timer.timeout.connect(self._auto)
        self.show_button.clicked.connect(self.request)
        self.cancel_button.clicked.connect(controller.cancel_ipf_flow)
        self.model.activated.connect(lambda _i: self._timer.start())
        controller.jobs.progress.connect(self._on_progress)
        controller.jobs.running.connect(self._on_running)
        self.session.subscribe(self._on_session)
        self.refresh()

    def key(self) -> str | None:
        return self.model.currentData()

    # -- requests -----------------------------------------------------------------------------
    def request(self) -> bool:
        key = self.key()
        return key is not None and self.controller.show_ipf_flow(key)

    def _auto(self) -> None:
        c, key = self.controller, self.key()
        if self.isVisible() and not c.ipf_current(key) and not c.unavailable() \
                and not c.failure_for(key):
            self.request()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        self._timer.start()

    def _on_session(self, topic: str) -> None:
        if topic in ("models", "inputs", "params", "all", "ipf_flow"):
            self.refresh()
            if topic != "ipf_flow":
                self._timer.start()

    def _on_progress(self, fraction: float, message: str) -> None:
        self.job.set_progress(fraction, message)

    def _on_running(self, on: bool) -> None:
        self.job.set_running(on)
        if not on:
            self.refresh()        # never left saying "computing…"


    # -- display ------------------------------------------------------------------------------
    def _fill_models(self) -> None:
        c, s = self.controller, self.session
        keys = c.ipf_models()
        if [self.model.itemData(i) for i in range(self.model.count())] != keys:
            current = self.key()
            self.model.clear()
            for k in keys:
                self.model.addItem(s.label(k), k)
            if current in keys:
                self.model.setCurrentIndex(keys.index(current))

    def refresh(self) -> None:
        c = self.controller
        self._fill_models()
        key = self.key()
        reason = c.unavailable()
        show_notice(self.notice, reason)
        self.show_button.setEnabled(key is not None and self.session.lr is not None
                                    and not reason)
        failed = c.failure_for(key)
        if reason or (failed and not c.jobs.busy):
            self._shown = None
            self.conf_bar.hide()
            for p in self.panels.values():
                p.show_message(reason or f"The flow could not be computed: {failed}")
            return
        if key is None or self.session.lr is None:
            self._shown = None
            self.conf_bar.hide()
            for p in self.panels.values():
                p.show_message(NO_MODEL if key is None else "Open an image to see the flow")
            return
        f = c.ipf_flow
        if f is None or f.key != key:
            self._shown = None
            self.conf_bar.hide()
            for p in self.panels.values():
                p.show_message("computing…" if c.jobs.busy else "Press Show flow")
            return
        if self._shown is f:
            return
        first = self._shown is None
        self._shown = f
        label = self.session.label(key)
        self.panels["flow"].set_title(f"Flow of {label} (max {f.max_flow:.3f} LR px)")
        self.panels["confidence"].set_title(f"Confidence of {label}")
        self.conf_bar.show()

        def readout(col: int, row: int) -> str:
            dy, dx = f.flow[row, col]
            return (f"({col}, {row})  flow dx {dx:+.3f}, dy {dy:+.3f} LR px · confidence "
                    f"{f.conf[row, col]:.3f}")

        for name, img in (("flow", f.flow_rgb), ("confidence", f.conf_rgb)):
            self.panels[name].set_image(img, levels=(0.0, 1.0), readout=readout)
        if first:
            self.panels["flow"].vb.autoRange(padding=0)

    def image(self, name: str):
        """The array the ``name`` panel (``flow`` / ``confidence``) shows, or None."""
        return self.panels[name].array
