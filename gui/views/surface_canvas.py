"""One view of the 3D pane: frames of a renderer in a QLabel, mouse and wheel move its camera.

:class:`SurfaceCanvas` shows the frames its renderer (:mod:`.renderers`) draws, scaled to fit
with the aspect kept. Left drag rotates, the wheel zooms, right (or middle) drag pans; moves
that arrive faster than frames are drawn are gathered and applied together, one frame per batch,
and ``camera_moved`` tells the pane so that linked views can follow.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

__all__ = ["SurfaceCanvas", "SurfacePanel"]


class SurfaceCanvas(QLabel):
    """Frames of one renderer, scaled to fit; mouse drag / wheel move its camera."""

    camera_moved = Signal(object)          # this canvas, after its camera changed

    def __init__(self, name: str, renderer, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = name
        self.renderer = renderer
        self.view = None                   # the SurfaceView shown
        self.mode = ""
        self.frame: np.ndarray | None = None
        self.frames = 0
        self._button = None
        self._moved = False
        self._last = QPointF()
        self._pending = [0.0, 0.0, 0.0, 0.0, 0.0]   # rotate dx, dy, pan dx, dy, zoom steps
        self._apply_timer = QTimer(self, singleShot=True, interval=0)
        self._apply_timer.timeout.connect(self._apply)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(160, 140)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setStyleSheet("background: rgb(24, 28, 33);")
        self.setToolTip("Drag: rotate · wheel: zoom · right-drag: pan")

    # -- content ------------------------------------------------------------------------------
    def show_view(self, view, mode: str, lighting: bool) -> None:
        r = self.renderer
        colors = view.colors.get(mode) if view is not None else None
        changed = self.frame is None or r.lighting != lighting
        if view is not self.view:
            r.set_mesh(view.mesh if view is not None else None, colors)
            self.view = view
            changed = True
        elif mode != self.mode:
            r.set_colors(colors)
            changed = True
        self.mode = mode
        if r.lighting != lighting:
            r.set_lighting(lighting)
        if changed:          # a frame costs tens of ms (more without a GPU): only when needed
            self.render_now()

    def render_now(self) -> None:
        self.frame = self.renderer.render()
        self.frames += 1
        self._show_frame()

    def _show_frame(self) -> None:
        if self.frame is None:
            return
        f = self.frame
        img = QImage(f.data, f.shape[1], f.shape[0], 3 * f.shape[1], QImage.Format.Format_RGB888)
        pix = QPixmap.fromImage(img.copy())
        self.setPixmap(pix.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self._show_frame()

    # -- mouse --------------------------------------------------------------------------------
    def _to_frame(self) -> float:
        """Frame pixels per widget pixel (the frame is shown scaled to fit)."""
        pm = self.pixmap()
        if self.frame is None or pm is None or pm.isNull() or pm.width() == 0:
            return 1.0
        return self.frame.shape[1] / pm.width()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._button = event.button()
        self._last = event.position()
        self._moved = False
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._button is None or self.view is None:
            return
        pos = event.position()
        k = self._to_frame()
        dx, dy = (pos.x() - self._last.x()) * k, (pos.y() - self._last.y()) * k
        self._last = pos
        i = 0 if self._button == Qt.MouseButton.LeftButton else 2
        self._pending[i] += dx
        self._pending[i + 1] += dy
        self._apply_timer.start()
        event.accept()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self._button = None
        event.accept()
        if self._moved and not self._apply_timer.isActive():   # linked views catch up now
            self.camera_moved.emit(self)
        self._moved = False

    def dragging(self) -> bool:
        return self._button is not None

    def wheelEvent(self, event) -> None:  # noqa: N802
        if self.view is None:
            return
        self._pending[4] += event.angleDelta().y() / 120.0
        self._apply_timer.start()
        event.accept()

    def _apply(self) -> None:
        """Apply the camera moves gathered since the last frame (one frame per batch)."""
        rx, ry, px, py, z = self._pending
        self._pending = [0.0] * 5
        r = self.renderer
        if rx or ry:
            r.rotate(rx, ry)
        if px or py:
            r.pan(px, py)
        if z:
            r.zoom(z)
        self.render_now()
        self._moved = True
        self.camera_moved.emit(self)

    def close_renderer(self) -> None:
        self.renderer.close()


class SurfacePanel(QFrame):
    """A view's title, its canvas, and a line about the mesh."""

    def __init__(self, canvas: SurfaceCanvas):
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.canvas = canvas
        self.title = QLabel(canvas.name)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.info = QLabel("")
        self.info.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.info.setStyleSheet("color: #8a96a3;")
        self.info.setWordWrap(True)
        self.info.setMinimumHeight(2 * self.info.fontMetrics().height() + 2)  # views line up
        self.info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        lay.addWidget(self.title)
        lay.addWidget(canvas, 1)
        lay.addWidget(self.info)
