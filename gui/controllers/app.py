"""The window's controllers, composed: one small controller per feature on a shared session.

:class:`AppController` builds them bottom-up, each with only the collaborators it needs
(passed to its constructor) and its own :class:`gui.jobs.JobHandle`; they otherwise talk
through the Qt-free :class:`core.session.Session` (topics). Nothing here is a mixin and no
controller reaches another through ``self``.

    models    ModelsController     catalog, checkpoints, ticked models
    normals   NormalsController    normal-map options, decoding, parts      (parts_jobs)
    channels  ChannelsController   channel files, replicate/groups, browser (plan/browse/stats)
    run       RunController        scale/size/device, LR/HR inputs, run     (jobs, inputs_jobs)
    metrics   MetricsController    region, metric options, PSNR/SSIM/...    (jobs)
    inputs    InputsController     open/attach/kind/sample, save, sessions
    finetune  FinetuneController   fine-tune on channel data                (run.jobs, shared)
    figure    FigureController     the paper figure of the results (metrics' options)  (jobs)
    folder    FolderController     a folder: every ticked model on every image, one table (jobs)
    zoom, lam, study, ipf, surface, zeroshot: one tab each                  (jobs)
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QThreadPool

from core.session import Session

from ..jobs import JobPool, Notices
from .channels import ChannelsController
from .figure import FigureController
from .folder import FolderController
from .finetune import FinetuneController
from .inputs import InputsController
from .ipf import IpfController
from .lam import LamController
from .metrics import MetricsController
from .models import ModelsController
from .normals import NormalsController
from .run import RunController
from .study import StudyController
from .surface import SurfaceController
from .zeroshot import ZeroShotController
from .zoom import ZoomController

__all__ = ["AppController"]


class AppController(QObject):
    """Owns the session, the job pool, the notices and every feature controller."""

    def __init__(self, session: Session | None = None, settings: Any = None,
                 pool: QThreadPool | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.session = s = session or Session()
        self.settings = settings
        if settings is not None:
            st = s.state
            st.device, st.precision, st.tile = settings.device, settings.precision, settings.tile
        self.notices = n = Notices(self)
        self.pool = p = JobPool(pool)
        self.models = ModelsController(s, n, settings)
        self.normals = NormalsController(s, n, p, settings, parent=self)
        self.channels = ChannelsController(s, n, p)
        self.run = RunController(s, n, p, self.models, self.normals, self.channels, parent=self)
        self.metrics = MetricsController(s, n, p, self.normals, self.channels, parent=self)
        self.figure = FigureController(s, n, p, self.metrics, parent=self)
        self.inputs = InputsController(s, n, self.models, self.channels, self.normals, self.run,
                                       settings)
        self.folder = FolderController(s, n, p, self.inputs, parent=self)
        self.finetune = FinetuneController(s, n, self.models, self.channels, self.run)
        self.zoom = ZoomController(s, n, p, parent=self)
        self.lam = LamController(s, n, p, parent=self)
        self.study = StudyController(s, n, p, parent=self)
        self.ipf = IpfController(s, n, p, parent=self)
        self.surface = SurfaceController(s, n, p, self.normals, self.run.jobs, parent=self)
        self.zeroshot = ZeroShotController(s, n, p, parent=self)
        self.normals.redecoded.connect(self.run.inputs_changed)

    def idle(self) -> bool:
        """No job in flight and no metrics pending (what tests wait for)."""
        return not self.pool.busy() and not self.metrics.busy

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel every job and wait for the pool threads to let go of them."""
        self.metrics.timer.stop()
        self.pool.shutdown(timeout_ms)
