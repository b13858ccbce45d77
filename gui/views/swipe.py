"""Swipe (split) view: image A left of a movable divider, image B right of it, in HR pixels.

Any two of LR, the models' results and HR can be compared; the divider is dragged with the
mouse (or set from the slider). The view is linked to the comparison grid's zoom and pan.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QTransform
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from core.session import Session

from .image_panel import RoiViewBox

__all__ = ["SwipeView"]


class SwipeView(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.left = QComboBox()
        self.right = QComboBox()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 1000)
        self.slider.setValue(500)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Left"))
        bar.addWidget(self.left, 1)
        bar.addWidget(QLabel("Right"))
        bar.addWidget(self.right, 1)
        bar.addWidget(QLabel("Split"))
        bar.addWidget(self.slider, 1)
        self.graphics = pg.GraphicsView()
        self.graphics.setBackground(QColor(24, 28, 33))
        self.vb = RoiViewBox()
        self.graphics.setCentralItem(self.vb)
        self.item_a = pg.ImageItem(axisOrder="row-major")
        self.item_b = pg.ImageItem(axisOrder="row-major")
        self.item_b.setZValue(1)
        self.vb.addItem(self.item_a)
        self.vb.addItem(self.item_b)
        self.line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen("#ffd028", width=2))
        self.line.setZValue(5)
        self.vb.addItem(self.line, ignoreBounds=True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(self.graphics, 1)
        self.left.currentIndexChanged.connect(self._on_choice)
        self.right.currentIndexChanged.connect(self._on_choice)
        self.left.activated.connect(self._user_choice)
        self.right.activated.connect(self._user_choice)
        self.slider.valueChanged.connect(self._on_slider)
        self.line.sigPositionChanged.connect(self._on_line)
        self._guard = False
        self._want: list[str | None] = list(session.state.layout.get("swipe", [None, None]))
        self._unsubscribe = session.subscribe(self._on_session)
        self.update_choices()

    def link_to(self, linker) -> None:
        """Share the comparison grid's zoom and pan (a :class:`ViewLinker`)."""
        linker.add(self.vb)

    # -- sources ------------------------------------------------------------------------------
    def sources(self) -> dict[str, tuple[str, np.ndarray, tuple[float, float]]]:
        """key -> (label, display array, pixel size in HR pixels)."""
        s = self.session
        out: dict[str, tuple[str, np.ndarray, tuple[float, float]]] = {}
        hw = s.output_hw()
        if s.lr is not None and s.lr_display is not None and hw is not None:
            out["LR"] = ("LR (nearest)", s.lr_display, (hw[1] / s.lr.width, hw[0] / s.lr.height))
        for k, r in s.results.items():
            out[k] = (s.label(k), r.display, (1.0, 1.0))
        if s.hr is not None and s.hr_display is not None:
            out["HR"] = ("HR", s.hr_display, (1.0, 1.0))
        return out

    def update_choices(self) -> None:
        src = self.sources()
        want_a, want_b = self._want
        keys = list(src)
        default_a = keys[0] if keys else None
        default_b = next((k for k in keys if k not in ("LR", default_a)), default_a)
        self._guard = True
        for combo, want, default in ((self.left, want_a, default_a),
                                     (self.right, want_b, default_b)):
            combo.clear()
            for k, (label, _, _) in src.items():
                combo.addItem(label, k)
            idx = combo.findData(want if want in src else default)
            combo.setCurrentIndex(max(0, idx))
        self._guard = False
        self.redraw()

    def set_pair(self, a: str, b: str) -> None:
        self.left.setCurrentIndex(max(0, self.left.findData(a)))
        self.right.setCurrentIndex(max(0, self.right.findData(b)))
        self._user_choice()

    def _user_choice(self, *_) -> None:
        self._want = [self.left.currentData(), self.right.currentData()]
        self.session.state.layout["swipe"] = list(self._want)

    def pair(self) -> tuple[str | None, str | None]:
        return self.left.currentData(), self.right.currentData()

    # -- drawing ------------------------------------------------------------------------------
    def split_x(self) -> float:
        hw = self.session.output_hw()
        return (hw[1] if hw else 0) * self.slider.value() / 1000.0

    def redraw(self) -> None:
        src = self.sources()
        a, b = self.pair()
        hw = self.session.output_hw()
        if a not in src or b not in src or hw is None:
            self.item_a.clear()
            self.item_b.clear()
            return
        _, arr_a, px_a = src[a]
        self.item_a.setImage(arr_a, autoLevels=False)
        self.item_a.setTransform(QTransform.fromScale(*px_a))
        _, arr_b, (sx, sy) = src[b]
        xs = self.split_x()
        c0 = min(arr_b.shape[1], max(0, int(math.ceil(xs / sx - 1e-9))))
        if c0 >= arr_b.shape[1]:
            self.item_b.clear()
        else:
            self.item_b.setImage(np.ascontiguousarray(arr_b[:, c0:]), autoLevels=False)
            self.item_b.setTransform(QTransform(sx, 0, 0, sy, c0 * sx, 0))
        self._guard = True
        self.line.setBounds((0, hw[1]))
        self.line.setValue(xs)
        self._guard = False
        self.session.state.layout["split"] = self.slider.value() / 1000.0

    def bounds(self) -> QRectF:
        hw = self.session.output_hw()
        return QRectF(0, 0, hw[1], hw[0]) if hw else QRectF()

    def _on_choice(self, _i: int) -> None:
        if not self._guard:
            self.redraw()

    def _on_slider(self, _v: int) -> None:
        if not self._guard:
            self.redraw()

    def _on_line(self) -> None:
        if self._guard:
            return
        hw = self.session.output_hw()
        if hw and hw[1] > 0:
            self._guard = True
            self.slider.setValue(int(round(1000 * self.line.value() / hw[1])))
            self._guard = False
            self.redraw()

    def _on_session(self, topic: str) -> None:
        if topic in ("inputs", "results", "all"):
            if topic == "all":  # a reopened session: its layout wins over the current choice
                self._guard = True
                self._want = list(self.session.state.layout.get("swipe", [None, None]))
                self.slider.setValue(int(1000 * float(self.session.state.layout.get("split", .5))))
                self._guard = False
            self.update_choices()
