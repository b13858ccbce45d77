"""Fine-tune a model on the loaded channel data ("Fine-tune on this data").

Trains a copy of a model on the channels themselves on the run's handle (the window's
progress bar and Cancel apply) and lists it as ``<model> (fine-tuned)``, ticked, so the next
run uses it. The data learnt from is the run's input (the LR): in degrade mode the degraded
stack, never the ground truth, so the scores of the next run stay honest. The weights are
written to the user's application-data folder (``finetuned/``; Qt's AppDataLocation), so a
saved session that lists them still finds them after the window closes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from core.app import channels as ct
from core.channels import FinetuneOptions
from core.session import Session

from ..jobs import Notices
from .channels import ChannelsController
from .models import ModelsController
from .run import RunController

__all__ = ["FinetuneController"]


class FinetuneController:
    def __init__(self, session: Session, notices: Notices, models: ModelsController,
                 channels: ChannelsController, run: RunController):
        self.session = session
        self.notices = notices
        self.models = models
        self.channels = channels
        self.run = run
        self.jobs = run.jobs               # shared on purpose: one progress bar, one Cancel
        self.finetuned: dict = {}          # checkpoint path -> FinetuneDone of this window's
        self._dir: str | None = None
        self._count = 0

    def available(self) -> bool:
        """Whether channel data is open (there is something to learn from)."""
        return self.channels.data_mode()

    def candidates(self) -> list[str]:
        """Catalog keys of models that can learn (everything but interpolation)."""
        return [k for k, e in self.session.catalog.items() if getattr(e, "kind", "") != "interp"]

    def _folder(self) -> Path:
        if self._dir is None:
            base = Path(QStandardPaths.writableLocation(
                QStandardPaths.StandardLocation.AppDataLocation) or tempfile.gettempdir())
            (base / "finetuned").mkdir(parents=True, exist_ok=True)
            self._dir = tempfile.mkdtemp(prefix="run-", dir=base / "finetuned")
        self._count += 1
        folder = Path(self._dir) / str(self._count)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def finetune_channels(self, key: str, steps: int = 200, learning_rate: float = 1e-4) -> bool:
        """Fine-tune model ``key`` on the loaded channels (LR made by ``degrade`` from them)."""
        s = self.session
        if not self.channels.data_mode():
            self.notices.error.emit("open channel data first: fine-tuning learns from its "
                                    "channels")
            return False
        if key not in s.catalog or key not in self.candidates():
            self.notices.error.emit(f"{s.label(key)} cannot be fine-tuned: choose a trained "
                                    "model")
            return False
        if int(steps) < 1 or not float(learning_rate) > 0:
            self.notices.error.emit("fine-tuning needs at least one step and a positive "
                                    "learning rate")
            return False
        folder = self._folder()
        opts = FinetuneOptions(steps=int(steps), learning_rate=float(learning_rate),
                               rgb_mode=self.channels.rgb_mode())
        job = ct.finetune_job(key, s.label(key), self.run.prepared_lr(), self.run.request([]),
                              opts, str(folder))
        self.jobs.submit(job, on_done=self._done, start=f"fine-tuning {s.label(key)}")
        return True

    def _done(self, done: ct.FinetuneDone) -> str:
        s, st = self.session, self.session.state
        elapsed = self.jobs.elapsed()
        if done.path not in st.checkpoints:
            st.checkpoints.append(done.path)
        problems = self.models.refresh_catalog()
        if done.path not in s.catalog:
            self.notices.error.emit("the fine-tuned model could not be listed: "
                                    + "; ".join(problems))
            return "failed"
        if done.path not in st.models:
            st.models.append(done.path)
        self.finetuned = {**self.finetuned, done.path: done}
        s.notify("models")
        self.notices.message.emit(f"{s.label(done.path)}: {done.steps} steps, L1 "
                                  f"{done.losses[0]:.4f} -> {done.losses[-1]:.4f}; ticked for "
                                  "the next run")
        return f"fine-tuned in {elapsed:.1f} s"
