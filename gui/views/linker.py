"""One zoom/pan shared by several image views."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF

__all__ = ["ViewLinker"]


class ViewLinker:
    """One zoom/pan for several ViewBoxes: the *target* rectangle (HR pixels) of the view the
    user changed is given to all the others. (pyqtgraph's own X/Y links line views up by their
    screen positions, which suits stacked plots but not a grid of images.) A resize keeps the
    target rectangle, so it does not spread to the other views."""

    def __init__(self) -> None:
        self.views: list[pg.ViewBox] = []
        self.rect: QRectF | None = None
        self._busy = False

    def add(self, vb: pg.ViewBox) -> None:
        self.views.append(vb)
        vb.sigRangeChanged.connect(lambda *_a, v=vb: self._changed(v))
        if self.rect is not None:
            self._apply(vb, self.rect)

    def remove(self, vb: pg.ViewBox) -> None:
        if vb in self.views:
            self.views.remove(vb)

    def _apply(self, vb: pg.ViewBox, rect: QRectF) -> None:
        self._busy = True
        try:
            vb.setRange(rect=rect, padding=0)
        finally:
            self._busy = False

    def _changed(self, vb: pg.ViewBox) -> None:
        if self._busy:
            return
        rect = vb.targetRect()
        if self.rect is not None and rect == self.rect:
            return
        self.rect = QRectF(rect)
        for other in self.views:
            if other is not vb:
                self._apply(other, self.rect)
