"""The channel browser's "Fine-tune on this data" row: model, steps, learning rate, button.

The training runs on the run's job handle (:meth:`gui.controllers.finetune.FinetuneController.
finetune_channels`), so the window's progress bar and Cancel apply; when it ends the trained
copy is listed (and ticked) as ``<model> (fine-tuned)`` and the next Super-resolve uses it.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget,
)

from core.session import Session
from ..controllers.finetune import FinetuneController

__all__ = ["FinetuneBar"]


class FinetuneBar(QWidget):
    def __init__(self, controller: FinetuneController, session: Session,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.session = session
        self._running = False
        self.model = QComboBox()
        self.model.setMinimumContentsLength(14)
        self.model.setToolTip("The model to train on the channels (a copy: the original stays)")
        self.steps = QSpinBox()
        self.steps.setRange(1, 100000)
        self.steps.setValue(200)
        self.steps.setToolTip("Adam steps of 8 patches each (HR patches of the channels, their "
                              "LR made with the benchmark bicubic degradation)")
        self.learning_rate = QDoubleSpinBox()
        self.learning_rate.setDecimals(6)
        self.learning_rate.setRange(1e-6, 1.0)
        self.learning_rate.setSingleStep(1e-5)
        self.learning_rate.setValue(1e-4)
        self.learning_rate.setToolTip("Adam learning rate")
        self.button = QPushButton("Fine-tune on this data")
        self.button.setToolTip("Train a copy of the model on the loaded channels; it is listed "
                               "as '<model> (fine-tuned)' and used by the next run")
        self.result = QLabel("")
        self.result.setStyleSheet("color: #8a96a3;")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (QLabel("Fine-tune"), self.model, QLabel("steps"), self.steps,
                  QLabel("learning rate"), self.learning_rate, self.button, self.result):
            row.addWidget(w)
        row.addStretch(1)
        self._chosen: str | None = None
        self.model.activated.connect(lambda _i: setattr(self, "_chosen", self.model.currentData()))
        self.button.clicked.connect(self.start)
        controller.jobs.running.connect(self._on_running)
        self._unsubscribe = self.session.subscribe(self._on_session)
        self.refresh()

    def refresh(self) -> None:
        """The trainable models of the catalog (the ticked one first chosen) and the button."""
        c, s = self.controller, self.session
        keys = c.candidates()
        ticked = [k for k in s.state.models if k in keys]
        if self._chosen in keys:                  # the user's pick stays
            current = self._chosen
        else:                                     # else follow the ticks of the Models list
            current = self.model.currentData()
            if current not in ticked:
                current = ticked[0] if ticked else (current if current in keys else None)
        if [self.model.itemData(i) for i in range(self.model.count())] != keys:
            self.model.blockSignals(True)
            self.model.clear()
            for k in keys:
                self.model.addItem(s.label(k), k)
            self.model.blockSignals(False)
        self.model.setCurrentIndex(max(0, self.model.findData(current)))
        on = c.available() and bool(keys)
        self.setEnabled(c.available())
        self.button.setEnabled(on and not self._running)

    def start(self) -> bool:
        key = self.model.currentData()
        if key is None:
            return False
        self.result.setText("")
        return self.controller.finetune_channels(key, self.steps.value(),
                                                 self.learning_rate.value())

    def _on_running(self, running: bool) -> None:
        self._running = bool(running)
        self.refresh()

    def _on_session(self, topic: str) -> None:
        if topic in ("models", "inputs", "all"):
            self.refresh()
        if topic == "models":
            done = self.controller.finetuned
            last = list(done.values())[-1] if done else None
            if last is not None:
                self.result.setText(f"{self.session.label(last.path)}: L1 "
                                    f"{last.losses[0]:.4f} → {last.losses[-1]:.4f}")

    def closeEvent(self, event) -> None:  # noqa: N802
        self._unsubscribe()
        super().closeEvent(event)
