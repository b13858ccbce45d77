"""The Zero-shot tab: ZSSR on the image on screen, with its loss curve drawn live.

A bar holds the scale, the maximum iterations (per stage), the blur-kernel preset (bicubic = no
kernel), Run ZSSR / Cancel and a progress bar. Below, a pyqtgraph plot of the training L1 loss
against the iteration (log y), one point per progress report of the job (every 10 iterations),
and a dashed vertical line where the learning rate dropped (labelled with the new rate). The
result joins the window's results (Compare, Swipe, metrics, Save result) as "ZSSR".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton,
    QSpinBox, QVBoxLayout, QWidget,
)

from ..zeroshot_tasks import KERNELS, curve_point
from ..widgets.job_widgets import slim_progress, status_label

if TYPE_CHECKING:  # pragma: no cover
    from ..main_window import MainWindow

__all__ = ["ZeroShotView", "install_zeroshot"]


class ZeroShotView(QWidget):
    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.session = controller.session
        self.scale = QDoubleSpinBox()
        self.scale.setRange(1.1, 16.0)
        self.scale.setDecimals(2)
        self.scale.setSingleStep(0.5)
        self.scale.setPrefix("×")
        self.scale.setValue(max(1.1, float(self.session.state.scale)))
        self.scale.setToolTip("ZSSR scale (follows the window's scale; a kernel needs a whole "
                              "number)")
        self.iters = QSpinBox()
        self.iters.setRange(1, 100000)
        self.iters.setValue(3000)
        self.iters.setSingleStep(100)
        self.iters.setToolTip("Maximum training iterations per stage (paper: 3000); training "
                              "stops earlier when the learning rate falls under 9e-6")
        self.kernel = QComboBox()
        self.kernel.addItems(list(KERNELS))
        self.kernel.setToolTip("The blur kernel of the degradation (bicubic: none)")
        self.run_button = QPushButton("Run ZSSR")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = slim_progress()
        self.status = status_label()
        self.status.setStyleSheet("color: #8a96a3;")
        bar = QHBoxLayout()
        for w in (QLabel("scale"), self.scale, QLabel("iterations"), self.iters,
                  QLabel("kernel"), self.kernel):
            bar.addWidget(w)
        bar.addStretch(1)
        for w in (self.run_button, self.cancel_button, self.progress):
            bar.addWidget(w)

        self.plot = pg.PlotWidget()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLogMode(y=True)
        self.plot.setLabel("left", "L1 loss")
        self.plot.setLabel("bottom", "iteration")
        for side in ("left", "bottom"):   # plain numbers, no "(x0.001)" on the axis
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.curve = self.plot.plot([], [], pen=pg.mkPen((76, 158, 255), width=2),
                                    symbol="o", symbolSize=4, symbolBrush=(76, 158, 255))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(bar)
        lay.addWidget(self.status)
        lay.addWidget(self.plot, 1)
        self.xs: list[int] = []
        self.losses: list[float] = []
        self.lrs: list[float] = []
        self.drops: list[pg.InfiniteLine] = []

        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(controller.cancel_zssr)
        controller.zssr_running.connect(self.set_running)
        controller.zssr_progress.connect(self.set_progress)
        controller.zssr_step.connect(self.add_step)
        self._unsubscribe = self.session.subscribe(self._on_session)

    def _on_session(self, topic: str) -> None:
        if topic in ("params", "all"):
            self.scale.setValue(max(1.1, float(self.session.state.scale)))

    # -- running ------------------------------------------------------------------------------
    def run(self) -> bool:
        started = self.controller.run_zssr(self.scale.value(), self.iters.value(),
                                           self.kernel.currentText())
        if started:
            self.clear_curve()
        return started

    def set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)

    def set_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(round(fraction * 1000)))
        self.status.setText(text)
        self.status.setToolTip(text)

    # -- the curve ----------------------------------------------------------------------------
    def clear_curve(self) -> None:
        self.xs, self.losses, self.lrs = [], [], []
        for line in self.drops:
            self.plot.removeItem(line)
        self.drops = []
        self.curve.setData([], [])

    def add_step(self, p) -> None:
        """A progress item of the job: a training report adds a point (and a learning-rate
        line when the rate changed since the previous point)."""
        point = curve_point(p)
        if point is None:
            return
        it, loss, lr = point
        if self.lrs and lr != self.lrs[-1]:
            line = pg.InfiniteLine(it, angle=90, pen=pg.mkPen((255, 140, 50), width=1,
                                                              style=Qt.PenStyle.DashLine),
                                   label=f"lr {lr:.0e}",
                                   labelOpts={"position": 0.92, "color": (255, 140, 50)})
            self.plot.addItem(line)
            self.drops.append(line)
        self.xs.append(it)
        self.losses.append(max(loss, 1e-12))   # log axis: no zero
        self.lrs.append(lr)
        self.curve.setData(self.xs, self.losses)


def install_zeroshot(w: "MainWindow") -> None:
    """Add the Zero-shot tab and its View-menu entry (Ctrl+8) to ``w``."""
    w.zeroshot = ZeroShotView(w.controller)
    w.tabs.addTab(w.zeroshot, "Zero-shot")
    menus = {a.text().replace("&", ""): a.menu() for a in w.menuBar().actions()}
    view = menus.get("View")
    if view is not None:
        a = QAction("&Zero-shot (ZSSR)", w)
        a.setShortcut(QKeySequence("Ctrl+8"))
        a.triggered.connect(lambda: w.tabs.setCurrentWidget(w.zeroshot))
        view.addAction(a)
