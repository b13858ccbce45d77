"""The Zero-shot tab: ZSSR or MZSR on the image on screen, with the loss curve drawn live.

A bar holds the method (ZSSR / MZSR), the scale, the maximum iterations (per stage, ZSSR only),
the blur-kernel preset (bicubic = no kernel), Run / Cancel and a progress bar. A second row
holds MZSR's adaptation steps and its meta-weights (the bundled file, or one picked with
Weights…). Below, a pyqtgraph plot of the training L1 loss against the iteration (log y): for
ZSSR one point per progress report of the job (every 10 iterations) and a dashed vertical line
where the learning rate dropped (labelled with the new rate); for MZSR one point per adaptation
step (the L1 on the image's son -> LR pair before that step). The result joins the window's
results (Compare, Swipe, metrics, Save result) as "ZSSR" or "MZSR(n)" (n adaptation steps).
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QFileDialog, QHBoxLayout, QLabel, QPushButton,
    QSpinBox, QVBoxLayout, QWidget,
)

from core.session import Session
from core.app.zeroshot import KERNELS, METHODS, NO_MZSR_WEIGHTS, curve_point, mzsr_weights
from .plots import PlotMessage
from ..widgets.job_widgets import JobControls, notice_label, show_notice
from ..controllers.zeroshot import ZeroShotController

__all__ = ["ZeroShotView"]

NO_CURVE = "no data yet: the training loss appears here while ZSSR or MZSR runs"


class ZeroShotView(QWidget):
    scale_chosen = Signal(float)     # the scale box is the window's scale: the window sets it
    def __init__(self, controller: "ZeroShotController", session: Session,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.session = session
        self.scale = QDoubleSpinBox()
        self.scale.setRange(1.1, 16.0)
        self.scale.setDecimals(2)
        self.scale.setSingleStep(0.5)
        self.scale.setPrefix("×")
        self.scale.setValue(max(1.1, controller.scale()))
        self.scale.setKeyboardTracking(False)
        self.scale.setToolTip("The window's scale (HR / LR with a reference); changing it here "
                              "changes it there. A kernel needs a whole number; MZSR: the "
                              "weights' scale")
        self.method = QComboBox()
        self.method.addItems(list(METHODS))
        self.method.setToolTip("ZSSR: a small CNN trained on the image alone (thousands of "
                               "steps). MZSR: meta-learnt weights adapted in a few steps")
        self.iters = QSpinBox()
        self.iters.setRange(1, 100000)
        self.iters.setValue(3000)
        self.iters.setSingleStep(100)
        self.iters.setToolTip("Maximum training iterations per stage (paper: 3000); training "
                              "stops earlier when the learning rate falls under 9e-6")
        self.kernel = QComboBox()
        self.kernel.addItems(list(KERNELS))
        self.kernel.setToolTip("The blur kernel of the degradation (bicubic: none); MZSR adapts "
                               "to it")
        self.steps = QSpinBox()
        self.steps.setRange(0, 100)
        self.steps.setValue(10)
        self.steps.setToolTip("MZSR adaptation steps on the image's own LR pair before SR "
                              "(the paper uses 1 or 10)")
        self.weights: Path | None = None   # picked by the user; None: the bundled file
        self.weights_label = QLabel()
        self.weights_button = QPushButton("Weights…")
        self.weights_button.setToolTip("Choose MZSR meta-weights (mzsr.pt of python main.py "
                                       "mzsr train)")
        self.run_button = QPushButton("Run ZSSR")
        self.job = JobControls()
        self.cancel_button, self.progress, self.status = (
            self.job.cancel_button, self.job.progress, self.job.status)
        self.status.setStyleSheet("color: #8a96a3;")
        bar = QHBoxLayout()
        for w in (QLabel("method"), self.method, QLabel("scale"), self.scale,
                  QLabel("iterations"), self.iters, QLabel("kernel"), self.kernel):
            bar.addWidget(w)
        bar.addStretch(1)
        for w in (self.run_button, self.cancel_button, self.progress):
            bar.addWidget(w)
        self.mzsr_row = QWidget()
        row = QHBoxLayout(self.mzsr_row)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (QLabel("MZSR steps"), self.steps, QLabel("weights"), self.weights_label,
                  self.weights_button):
            row.addWidget(w)
        row.addStretch(1)

        self.plot = pg.PlotWidget()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLogMode(y=True)
        self.plot.setLabel("left", "L1 loss")
        self.plot.setLabel("bottom", "iteration")
        for side in ("left", "bottom"):   # plain numbers, no "(x0.001)" on the axis
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.curve = self.plot.plot([], [], pen=pg.mkPen((76, 158, 255), width=2),
                                    symbol="o", symbolSize=4, symbolBrush=(76, 158, 255))
        self.message = PlotMessage(self.plot, NO_CURVE)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        self.notice = notice_label()
        lay.addLayout(bar)
        lay.addWidget(self.mzsr_row)
        lay.addWidget(self.notice)
        lay.addWidget(self.status)
        lay.addWidget(self.plot, 1)
        self.curve_method = ""               # the method the plot is for
        self.run_method = ""                 # the method of the last run started here
        self.xs: list[int] = []
        self.losses: list[float] = []
        self.lrs: list[float] = []
        self.drops: list[pg.InfiniteLine] = []

        self.run_button.clicked.connect(self.run)
        self.scale.valueChanged.connect(self.scale_chosen)
        self.kernel.currentTextChanged.connect(lambda _t: self.refresh_notice())
        self.method.currentTextChanged.connect(self._on_method)
        self.weights_button.clicked.connect(self.pick_weights)
        self.cancel_button.clicked.connect(controller.cancel_zssr)
        controller.jobs.running.connect(self.set_running)
        controller.jobs.progress.connect(self.set_progress)
        controller.step.connect(self.add_step)
        self._unsubscribe = self.session.subscribe(self._on_session)
        self._on_method(self.method.currentText())

    def _on_session(self, topic: str) -> None:
        if topic in ("params", "inputs", "all"):
            self.scale.blockSignals(True)     # the window's scale shown, not written back
            self.scale.setValue(max(1.1, self.controller.scale()))
            self.scale.blockSignals(False)
            self.refresh_notice()

    def refresh_notice(self) -> None:
        """Say in place when the chosen method cannot run on the input (its kind, or MZSR
        weights of another scale than the window's)."""
        reason = self.controller.unavailable(self.method.currentText(),
                                             self.kernel.currentText(), self.weights)
        show_notice(self.notice, reason)
        self.run_button.setEnabled(not reason)

    # -- method and weights -------------------------------------------------------------------
    def set_method(self, name: str) -> None:
        """Choose ``"ZSSR"`` or ``"MZSR"``."""
        self.method.setCurrentText(name)

    def _on_method(self, name: str) -> None:
        mzsr = name == "MZSR"
        self.iters.setEnabled(not mzsr)
        self.mzsr_row.setEnabled(mzsr)
        self.run_button.setText(f"Run {name}")
        if self.curve_method != name:     # the curve belongs to its run: another method's goes
            self.clear_curve()
            self.curve_method = name
        self.refresh_notice()
        self.plot.setTitle("MZSR: L1 on (son -> LR) at each adaptation step" if mzsr else None,
                           color="#8a96a3", size="9pt")
        self.plot.setLabel("bottom", "adaptation step" if mzsr else "iteration")
        self.refresh_weights()

    def refresh_weights(self) -> None:
        """Show the weights MZSR would use: the picked file's name, else the bundled one's."""
        path = mzsr_weights(self.weights)
        if path is None:
            self.weights_label.setText("none bundled yet")
            self.weights_label.setToolTip(NO_MZSR_WEIGHTS)
        else:
            self.weights_label.setText(path.name if self.weights else f"{path.name} (bundled)")
            self.weights_label.setToolTip(str(path))

    def set_weights(self, path: str | Path | None) -> bool:
        """Use the MZSR checkpoint ``path`` (None: the bundled file again); False, with an error
        message and the weights unchanged, when it cannot be read as MZSR weights."""
        if path is not None and self.controller.load_mzsr_weights(path) is None:
            return False
        self.weights = Path(path) if path is not None else None
        self.refresh_weights()
        self.refresh_notice()
        return True

    def pick_weights(self) -> None:
        start = str(self.weights.parent) if self.weights else ""
        path, _ = QFileDialog.getOpenFileName(self, "MZSR weights", start,
                                              "MZSR checkpoints (*.pt *.pth);;All files (*)")
        if path:
            self.set_weights(path)

    # -- running ------------------------------------------------------------------------------
    def run(self) -> bool:
        method, scale = self.method.currentText(), self.controller.scale()
        if method == "MZSR":
            self.refresh_weights()
            started = self.controller.run_mzsr(scale, self.steps.value(),
                                               self.kernel.currentText(), self.weights)
        else:
            started = self.controller.run_zssr(scale, self.iters.value(),
                                               self.kernel.currentText())
        if started:
            self.clear_curve()
            self.run_method = method
        return started

    def set_running(self, running: bool) -> None:
        self.job.set_running(running)

    def set_progress(self, fraction: float, text: str) -> None:
        self.job.set_progress(fraction, text)

    # -- the curve ----------------------------------------------------------------------------
    def clear_curve(self) -> None:
        self.xs, self.losses, self.lrs = [], [], []
        for line in self.drops:
            self.plot.removeItem(line)
        self.drops = []
        self.curve.setData([], [])
        self.message.set(NO_CURVE)

    def add_step(self, p) -> None:
        """A progress item of the job: a training report adds a point (and a learning-rate
        line when the rate changed since the previous point)."""
        point = curve_point(p)
        if point is None:
            return
        if self.run_method and self.run_method != self.curve_method:
            return                        # a run of the other method: not this plot's
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
        self.message.clear()

