"""The "Normal parts" tab: the opened normal map next to its shape and detail parts.

The split is :func:`core.normals.split` at the sigma of the Normal map box (the spin box here
is the same option): *shape* = renormalised low-pass, *detail* = the normal relative to the
shape normal (flat = (0, 0, 1), light blue). All three are shown encoded as ``(n + 1) / 2``,
with one zoom/pan. The split runs on the normals controller's ``parts_jobs`` handle (progress,
stale results dropped) whenever the tab is on screen and the map or sigma changed. "Save parts…"
writes ``STEM_shape.png`` and ``STEM_detail.png`` in 8 or 16 bit into a folder.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout,
    QWidget,
)

from core.session import Session
from core.app.normals import PART_NAMES
from ..widgets.job_widgets import JobControls
from .linker import ViewLinker
from .image_panel import ImagePanel
from ..controllers.normals import NormalsController

__all__ = ["NormalPartsView"]

_TITLES = {"input": "Input", "shape": "Shape (σ = {s:g} px)",
           "detail": "Detail (relative to the shape)"}


class NormalPartsView(QWidget):
    save_requested = Signal(int)       # bits (8 or 16)
    hovered = Signal(str)

    def __init__(self, controller: "NormalsController", session: Session,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.session = session
        self.sigma = QDoubleSpinBox()
        self.sigma.setRange(0.3, 64.0)
        self.sigma.setDecimals(1)
        self.sigma.setSingleStep(0.5)
        self.sigma.setKeyboardTracking(False)
        self.sigma.setToolTip("Gaussian sigma (pixels) of the shape low-pass")
        self.bits = QComboBox()
        self.bits.addItem("16-bit PNG", 16)
        self.bits.addItem("8-bit PNG", 8)
        self.save_button = QPushButton("Save parts…")
        self.save_button.setToolTip("Write STEM_shape.png and STEM_detail.png into a folder")
        self.job = JobControls(cancellable=False, elastic=False)
        self.progress, self.status = self.job.progress, self.job.status
        bar = QHBoxLayout()
        for w in (QLabel("Sigma"), self.sigma, QLabel("  "), self.bits, self.save_button,
                  self.progress):
            bar.addWidget(w)
        bar.addWidget(self.status, 1)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.linker = ViewLinker()
        self.panels: dict[str, ImagePanel] = {}
        for name in PART_NAMES:
            panel = ImagePanel(name, name)
            panel.hovered.connect(self.hovered)
            self.linker.add(panel.vb)
            self.panels[name] = panel
            row.addWidget(panel, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addLayout(row, 1)
        self._shown = None
        self._guard = False
        self._timer = QTimer(self, singleShot=True, interval=60)
        self._timer.timeout.connect(self._compute)
        self.sigma.valueChanged.connect(self._sigma_chosen)
        self.save_button.clicked.connect(lambda: self.save_requested.emit(self.bits.currentData()))
        controller.parts_jobs.progress.connect(self._on_progress)
        self.session.subscribe(self._on_session)
        self.refresh()

    # -- requests -----------------------------------------------------------------------------
    def _sigma_chosen(self, value: float) -> None:
        if not self._guard:
            self.controller.set_options(sigma=float(value))

    def _compute(self) -> None:
        c = self.controller
        if self.isVisible() and c.mode() and not c.parts_current():
            c.compute_parts()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        self._timer.start()

    def _on_session(self, topic: str) -> None:
        if topic in ("inputs", "normals", "all", "normal_parts"):
            self.refresh()
            if topic != "normal_parts":
                self._timer.start()

    def _on_progress(self, fraction: float, message: str) -> None:
        self.job.set_progress(fraction, message)

    # -- display ------------------------------------------------------------------------------
    def refresh(self) -> None:
        c = self.controller
        on = c.mode()
        self.save_button.setEnabled(on)
        self._guard = True
        self.sigma.setValue(float(c.options()["sigma"]))
        self._guard = False
        parts = c.normal_parts
        if not on:
            self._shown = None
            for p in self.panels.values():
                p.set_title(p.key.capitalize())
                p.show_message(c.unavailable() or "")
            return
        if parts is None or parts.source is not c.decoded():
            self._shown = None
            for p in self.panels.values():
                p.show_message("splitting…")
            return
        if self._shown is parts:
            return
        first = self._shown is None
        self._shown = parts
        maps = {"input": parts.source, "shape": parts.split.shape, "detail": parts.split.detail}
        for name, panel in self.panels.items():
            panel.set_title(_TITLES[name].format(s=parts.sigma))
            panel.set_image(parts.images[name], levels=(0.0, 1.0),
                            readout=lambda col, row, n=maps[name].normals:
                            "n = ({:+.3f}, {:+.3f}, {:+.3f})".format(*n[row, col]))
        if first:
            self.panels["input"].vb.autoRange(padding=0)

    def image(self, name: str):
        """The array the ``name`` panel shows (None when it shows a message)."""
        return self.panels[name].array

