"""Small pieces that make plots read right: a colour bar with units, a "no data yet" message
instead of made-up axes, and a legend beside the data rather than over it.

Colour maps are perceptual (viridis, inferno, cividis, grey) or, for signed maps, diverging;
never jet.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

__all__ = ["ColourBar", "PlotMessage", "legend_outside", "gradient_css", "PERCEPTUAL"]

PERCEPTUAL = ("viridis", "inferno", "cividis", "magma", "plasma")


def gradient_css(colours: np.ndarray | Sequence[Sequence[float]]) -> str:
    """A left-to-right CSS gradient through ``colours`` (N x 3, 0-255)."""
    cols = np.asarray(colours, dtype=float)
    pos = np.linspace(0, 1, len(cols))
    stops = ", ".join(f"stop:{p:.3f} rgb({int(c[0])},{int(c[1])},{int(c[2])})"
                      for p, c in zip(pos, cols))
    return f"background: qlineargradient(x1:0, y1:0, x2:1, y2:0, {stops}); border: 1px solid #555;"


def cmap_colours(name: str, n: int = 9) -> np.ndarray:
    """``n`` colours (0-255) of a pyqtgraph colour map, or a grey ramp for ``grey``."""
    if name in ("grey", "gray"):
        return np.repeat(np.linspace(0, 255, n)[:, None], 3, axis=1)
    qcols = pg.colormap.get(name).map(np.linspace(0, 1, n), mode="qcolor")
    return np.array([(c.red(), c.green(), c.blue()) for c in qcols], dtype=float)


class ColourBar(QWidget):
    """``title [gradient] lo … hi unit``: what the colours of an image mean, in its units."""

    def __init__(self, title: str, colours: np.ndarray | str = "viridis",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel(title)
        self.bar = QLabel()
        self.bar.setFixedSize(140, 12)
        self.lo, self.hi = QLabel(""), QLabel("")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.lo)
        lay.addWidget(self.bar)
        lay.addWidget(self.hi)
        lay.addStretch(1)
        self.set_colours(colours)

    def set_colours(self, colours: np.ndarray | str) -> None:
        cols = cmap_colours(colours) if isinstance(colours, str) else np.asarray(colours)
        self.bar.setStyleSheet(gradient_css(cols))

    def set_range(self, lo: float | str, hi: float | str, unit: str = "") -> None:
        """``lo`` / ``hi``: numbers (3 significant digits) or words; ``unit`` after ``hi``."""
        def text(v):
            return v if isinstance(v, str) else f"{v:.3g}"
        self.lo.setText(text(lo))
        self.hi.setText(f"{text(hi)} {unit}".strip())

    def text(self) -> str:
        """What the bar says, e.g. ``height −2.1 … 3.4 px``."""
        return f"{self.title.text()} {self.lo.text()} … {self.hi.text()}"


class PlotMessage(QObject):
    """A centred message over a plot with no data: the axes, grid and ticks are hidden (no
    made-up 0-1 axes); :meth:`clear` brings them back when data arrives."""

    def __init__(self, plot: pg.PlotWidget, text: str = "no data yet"):
        super().__init__(plot)
        self.plot = plot
        self.label = QLabel(text, plot)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setStyleSheet("color: #8a96a3; font-size: 11pt; background: transparent;")
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        plot.installEventFilter(self)
        self.set(text)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt name
        if obj is self.plot and event.type() == QEvent.Type.Resize:
            self.label.setGeometry(self.plot.rect().adjusted(20, 20, -20, -20))
        return False

    @property
    def shown(self) -> bool:
        return not self.label.isHidden()

    def set(self, text: str) -> None:
        """Show ``text`` instead of axes."""
        self.label.setText(text)
        self.label.setGeometry(self.plot.rect().adjusted(20, 20, -20, -20))
        self.label.show()
        self.label.raise_()
        item = self.plot.getPlotItem()
        for side in ("left", "bottom"):
            item.hideAxis(side)
        item.vb.setVisible(False)
        if getattr(item, "legend", None) is not None:   # no empty legend frame either
            item.legend.setVisible(False)

    def clear(self) -> None:
        """Data arrived: axes back, message away."""
        self.label.hide()
        item = self.plot.getPlotItem()
        for side in ("left", "bottom"):
            item.showAxis(side)
        item.vb.setVisible(True)
        if getattr(item, "legend", None) is not None:
            item.legend.setVisible(True)


def legend_outside(plot: pg.PlotWidget) -> pg.LegendItem:
    """A legend in its own column right of the data (never over a point)."""
    legend = pg.LegendItem(brush=(20, 24, 28, 200), pen="#555", verSpacing=-4)
    item = plot.getPlotItem()
    item.layout.addItem(legend, 2, 3)
    item.layout.setColumnStretchFactor(3, 0)
    item.legend = legend        # PlotItem.plot(name=...) adds its curves to item.legend
    return legend
