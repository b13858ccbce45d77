"""One titled image view: a pyqtgraph ViewBox in HR coordinates, a rectangle ROI, a readout.

Every panel of the comparison shows its image in *HR (output) pixel coordinates*: an SR, HR or
difference image is drawn 1:1, the LR image is drawn with a scaling transform so that one
scene unit is one HR pixel (its pixels appear as nearest-neighbour blocks, exactly). That is
what lets the views share one zoom/pan and one ROI although their arrays differ in size.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QTransform
from PySide6.QtWidgets import (
    QFrame, QGraphicsRectItem, QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget,
)

__all__ = ["ImagePanel", "RoiViewBox", "ROI_PEN", "ElidedLabel"]

ROI_PEN = pg.mkPen(QColor(255, 200, 40), width=2)


class RoiViewBox(pg.ViewBox):
    """A ViewBox where a left drag draws a rectangle when ``draw_mode`` is on (or with Shift)."""

    roiDrawn = Signal(object)  # QRectF in view (HR pixel) coordinates

    def __init__(self, **kwargs):
        super().__init__(lockAspect=True, invertY=True, enableMenu=False, **kwargs)
        self.draw_mode = False
        self._band = QGraphicsRectItem()
        self._band.setPen(QPen(QColor(255, 200, 40), 0, Qt.PenStyle.DashLine))
        self._band.hide()
        self.addItem(self._band, ignoreBounds=True)

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 - pyqtgraph name
        shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if ev.button() != Qt.MouseButton.LeftButton or not (self.draw_mode or shift):
            return super().mouseDragEvent(ev, axis)
        ev.accept()
        p0 = self.mapToView(ev.buttonDownPos())
        p1 = self.mapToView(ev.pos())
        rect = QRectF(p0, p1).normalized()
        if ev.isFinish():
            self._band.hide()
            self.roiDrawn.emit(rect)
        else:
            self._band.setRect(rect)
            self._band.show()


class ElidedLabel(QLabel):
    """A one-line label that never asks for more width than it gets: the text is elided in
    the middle ("dsr_base…x4 512×512") and the full text is the tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def minimumSizeHint(self):  # noqa: N802 - Qt name
        hint = super().minimumSizeHint()
        hint.setWidth(0)
        return hint

    def elided(self) -> str:
        """The text as drawn at the current width."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideMiddle,
                                             max(0, self.contentsRect().width()))

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt name
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.setFont(self.font())
        painter.drawText(self.contentsRect(), int(self.alignment()), self.elided())


class ImagePanel(QFrame):
    """A title, then the image (or a placeholder message when there is nothing to show); a
    badge in the image's top-left corner ("resampled from x3") takes nothing from the title."""

    roi_changed = Signal(object, bool)   # (x, y, w, h) HR pixels, finished
    roi_drawn = Signal(object)           # (x, y, w, h) HR pixels
    hovered = Signal(str)

    def __init__(self, key: str, title: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.key = key
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = ElidedLabel(title)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.placeholder = QLabel("")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("color: #8a96a3; font-size: 12pt;")
        self.graphics = pg.GraphicsView()
        self.graphics.setBackground(QColor(24, 28, 33))
        self.vb = RoiViewBox()
        self.graphics.setCentralItem(self.vb)
        self.badge = QLabel("", self.graphics)  # over the image, so it hides with it
        self.badge.setStyleSheet("color: #15181c; background: #e0a040; border-radius: 3px; "
                                 "padding: 0px 4px;")
        self.badge.move(4, 4)
        # a region can still be drawn or hovered under it
        self.badge.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.badge.hide()
        self.item = pg.ImageItem(axisOrder="row-major")
        self.vb.addItem(self.item)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.graphics)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)
        self.setMinimumSize(160, 150)

        self.array: np.ndarray | None = None
        self.pixel_size = (1.0, 1.0)
        self.readout: Callable[[int, int], str] | None = None
        self.roi: pg.RectROI | None = None
        self._roi_guard = False
        self.vb.roiDrawn.connect(self._on_drawn)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse)
        self.show_message("")

    # -- content ------------------------------------------------------------------------------
    def set_title(self, text: str, tooltip: str = "") -> None:
        """The title (elided to the tile's width) and a tooltip that starts with the whole
        title, then ``tooltip``'s details."""
        self.title.setText(text)
        self.title.setToolTip(text if not tooltip or tooltip == text else f"{text}\n{tooltip}")

    def set_badge(self, text: str, tooltip: str = "") -> None:
        """A short mark over the image's top-left corner, whatever the title's width (a result
        made at another scale than the model's); hidden when ``text`` is empty."""
        self.badge.setText(text)
        self.badge.setToolTip(tooltip)
        self.badge.adjustSize()
        self.badge.setVisible(bool(text))

    def show_message(self, text: str) -> None:
        """Show a message instead of an image (never an empty black pane)."""
        self.array = None
        self.readout = None
        self.item.clear()
        self.placeholder.setText(text)
        self.stack.setCurrentIndex(0)

    def set_image(self, array: np.ndarray, pixel_size: tuple[float, float] = (1.0, 1.0),
                  levels: tuple[float, float] | None = None, lut: np.ndarray | None = None,
                  readout: Callable[[int, int], str] | None = None) -> None:
        """Show ``array`` (uint8 or float, H x W [x 3]) with pixels ``pixel_size`` = (sx, sy)
        HR pixels wide/high; ``readout(col, row)`` describes an array pixel for the hover."""
        self.readout = readout
        size = (float(pixel_size[0]), float(pixel_size[1]))
        if array is self.array and size == self.pixel_size and levels is None and lut is None:
            self.stack.setCurrentIndex(1)
            return  # already shown: no repaint
        self.array = array
        self.pixel_size = size
        # uint8 without levels is drawn as is (pyqtgraph's fast path: no rescaling)
        self.item.setImage(array, autoLevels=False, levels=levels, lut=lut)
        self.item.setTransform(QTransform.fromScale(*self.pixel_size))
        self.stack.setCurrentIndex(1)

    def set_levels(self, levels: tuple[float, float]) -> None:
        if self.array is not None:
            self.item.setLevels(levels)

    def extent(self) -> QRectF:
        """The image's rectangle in HR pixels."""
        if self.array is None:
            return QRectF()
        h, w = self.array.shape[:2]
        return QRectF(0, 0, w * self.pixel_size[0], h * self.pixel_size[1])

    # -- ROI ----------------------------------------------------------------------------------
    def set_roi(self, roi: tuple[int, int, int, int] | None, bounds: QRectF | None = None) -> None:
        """Show (or hide) the ROI rectangle without echoing a change."""
        self._roi_guard = True
        try:
            if roi is None:
                if self.roi is not None:
                    self.roi.hide()
                return
            x, y, w, h = roi
            if self.roi is None:
                self.roi = pg.RectROI((x, y), (w, h), pen=ROI_PEN, translateSnap=True,
                                      scaleSnap=True, snapSize=1.0, rotatable=False,
                                      maxBounds=bounds)
                self.roi.setZValue(10)
                self.vb.addItem(self.roi, ignoreBounds=True)
                self.roi.sigRegionChanged.connect(lambda _r: self._on_roi(False))
                self.roi.sigRegionChangeFinished.connect(lambda _r: self._on_roi(True))
            else:
                if bounds is not None:
                    self.roi.maxBounds = bounds
                self.roi.setPos((x, y), update=False, finish=False)
                self.roi.setSize((w, h), update=True, finish=False)
            self.roi.show()
        finally:
            self._roi_guard = False

    def roi_rect(self) -> tuple[int, int, int, int] | None:
        if self.roi is None or not self.roi.isVisible():
            return None
        pos, size = self.roi.pos(), self.roi.size()
        return (int(round(pos.x())), int(round(pos.y())), int(round(size.x())),
                int(round(size.y())))

    def _on_roi(self, finished: bool) -> None:
        if not self._roi_guard:
            rect = self.roi_rect()
            if rect is not None:
                self.roi_changed.emit(rect, finished)

    def _on_drawn(self, rect: QRectF) -> None:
        x0, y0 = int(np.floor(rect.left())), int(np.floor(rect.top()))
        x1, y1 = int(np.ceil(rect.right())), int(np.ceil(rect.bottom()))
        ext = self.extent()
        if not ext.isEmpty():
            x0, y0 = max(0, x0), max(0, y0)
            x1, y1 = min(int(ext.width()), x1), min(int(ext.height()), y1)
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            self.roi_drawn.emit((x0, y0, x1 - x0, y1 - y0))

    # -- hover readout ------------------------------------------------------------------------
    def pixel_at(self, point: QPointF) -> tuple[int, int] | None:
        """Array ``(col, row)`` under a view (HR) coordinate, or None outside the image."""
        if self.array is None:
            return None
        col = int(np.floor(point.x() / self.pixel_size[0]))
        row = int(np.floor(point.y() / self.pixel_size[1]))
        h, w = self.array.shape[:2]
        if 0 <= row < h and 0 <= col < w:
            return col, row
        return None

    def _on_mouse(self, scene_pos) -> None:
        if self.readout is None or not self.vb.sceneBoundingRect().contains(scene_pos):
            return
        hit = self.pixel_at(self.vb.mapSceneToView(scene_pos))
        if hit is not None:
            self.hovered.emit(f"{self.title.text()}  {self.readout(*hit)}")
