"""Live zoom: an arbitrary-scale model's output at any scale, computed only where you look.

The scene is the *virtual* output of a full run at the chosen scale (one unit = one output
pixel). The LR image is drawn underneath (nearest) for context; on every zoom or pan (after a
short pause) the controller queries the model for the visible window at screen resolution
(coarse pass first, then full) and the tile is drawn on top. See :mod:`core.app.zoom`.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer
from PySide6.QtGui import QColor, QTransform
from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget,
)

from core.session import Session
from core.engine.run import MAX_SCALE, output_size
from core.errors import SRWError
from ..controllers.zoom import ZoomController

__all__ = ["LiveZoomView"]

#: A coarse pass first when the full-resolution window has more query points than this.
COARSE_ABOVE = 40_000


class LiveZoomView(QWidget):
    def __init__(self, controller: "ZoomController", session: Session,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.session = session
        self.model = QComboBox()
        self.model.setMinimumWidth(160)
        self.scale = QDoubleSpinBox()
        self.scale.setRange(0.1, MAX_SCALE)
        self.scale.setDecimals(2)
        self.scale.setValue(8.0)
        self.scale.setKeyboardTracking(False)
        self.info = QLabel("")
        fit = QPushButton("Fit")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Model"))
        bar.addWidget(self.model)
        bar.addWidget(QLabel("Scale ×"))
        bar.addWidget(self.scale)
        bar.addWidget(fit)
        bar.addWidget(self.info, 1)
        self.graphics = pg.GraphicsView()
        self.graphics.setBackground(QColor(24, 28, 33))
        self.vb = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.graphics.setCentralItem(self.vb)
        self.backdrop = pg.ImageItem(axisOrder="row-major")
        self.tile_item = pg.ImageItem(axisOrder="row-major")
        self.tile_item.setZValue(1)
        self.vb.addItem(self.backdrop)
        self.vb.addItem(self.tile_item)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(self.graphics, 1)
        self.tile: tuple[int, int, int, np.ndarray] | None = None
        self.queried = 0
        self._timer = QTimer(self, singleShot=True, interval=80)
        self._timer.timeout.connect(self.request)
        self.vb.sigRangeChanged.connect(lambda *_: self._timer.start())
        self.model.currentIndexChanged.connect(lambda _i: self.reset())
        self.scale.valueChanged.connect(lambda _v: self.reset())
        fit.clicked.connect(self.fit)
        self.session.subscribe(self._on_session)
        self.update_models()

    # -- state --------------------------------------------------------------------------------
    def key(self) -> str | None:
        return self.model.currentData()

    def virtual_hw(self) -> tuple[int, int] | None:
        lr = self.session.lr
        if lr is None:
            return None
        try:
            return output_size(lr.height, lr.width, scale=self.scale.value(),
                               budget=False)
        except SRWError:
            return None

    def update_models(self) -> None:
        current = self.key()
        before = {self.model.itemData(i) for i in range(self.model.count())}
        self.model.blockSignals(True)
        self.model.clear()
        keys = self.controller.models()
        for k in keys:
            self.model.addItem(self.session.label(k), k)
        added = [k for k in keys if k not in before]
        if before and added:  # a model the user just added is the one they want to zoom with
            current = added[-1]
        self.model.setCurrentIndex(max(0, self.model.findData(current)))
        self.model.blockSignals(False)
        self.reset()

    def reset(self) -> None:
        """New model, scale or image: redraw the backdrop and fit."""
        self.controller.cancel()
        self.tile = None
        self.tile_item.clear()
        s, hw = self.session, self.virtual_hw()
        if s.lr is None or s.lr_display is None or hw is None or self.key() is None:
            self.backdrop.clear()
            self.info.setText("needs an arbitrary-scale model (LIIF): Run > Add checkpoint…"
                              if self.key() is None else "open an image")
            return
        self.backdrop.setImage(s.lr_display, autoLevels=False)
        self.backdrop.setTransform(QTransform.fromScale(hw[1] / s.lr.width, hw[0] / s.lr.height))
        self.info.setText(f"virtual output {hw[1]}×{hw[0]}")
        self.fit()

    def fit(self) -> None:
        hw = self.virtual_hw()
        if hw is not None:
            self.vb.setRange(QRectF(0, 0, hw[1], hw[0]), padding=0.02)
            self._timer.start()

    # -- requests -----------------------------------------------------------------------------
    def plan(self) -> tuple[tuple[int, int, int, int], int] | None:
        """The visible window of the virtual output and the stride that gives about one query
        per screen pixel."""
        hw = self.virtual_hw()
        if hw is None:
            return None
        view = self.vb.viewRect()
        px_w = max(1.0, self.vb.width())
        per_px = view.width() / px_w                      # output pixels per screen pixel
        stride = max(1, int(round(per_px)))
        r0, c0 = max(0, math.floor(view.top())), max(0, math.floor(view.left()))
        r1, c1 = min(hw[0], math.ceil(view.bottom())), min(hw[1], math.ceil(view.right()))
        if r1 <= r0 or c1 <= c0:
            return None
        return (r0, r1, c0, c1), stride

    def request(self) -> int:
        key, plan = self.key(), self.plan()
        if key is None or plan is None or not self.isVisible():
            return 0
        window, stride = plan
        n = ((window[1] - window[0]) // stride + 1) * ((window[3] - window[2]) // stride + 1)
        coarse = stride * 4 if n > COARSE_ABOVE else None
        self.queried = 0
        return self.controller.request(key, self.scale.value(), window, stride, coarse,
                                            self._on_tile, self._on_progress)

    def _on_progress(self, p) -> None:
        self.info.setText(f"virtual output {self.virtual_hw()[1]}×{self.virtual_hw()[0]} · "
                          f"{p.message}")

    def _on_tile(self, value) -> None:
        r, c, s, px = value
        self.tile = value
        self.queried += px.shape[0] * px.shape[1]
        a = px if px.shape[2] == 3 else px[..., 0]
        disp = np.clip(np.nan_to_num(a) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        self.tile_item.setImage(disp, autoLevels=False)
        self.tile_item.setTransform(QTransform(s, 0, 0, s, c, r))

    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        self._timer.start()

    def _on_session(self, topic: str) -> None:
        if topic == "all":  # a reopened session: its live-zoom model and scale
            z = self.session.state.layout.get("zoom") or {}
            self.scale.blockSignals(True)
            self.scale.setValue(float(z.get("scale", self.scale.value())))
            self.scale.blockSignals(False)
            self.update_models()
            idx = self.model.findData(z.get("model"))
            if idx >= 0:
                self.model.setCurrentIndex(idx)
        elif topic == "models":
            self.update_models()
        elif topic == "inputs":
            self.reset()
