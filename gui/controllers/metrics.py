"""Region and metrics: the ROI, the metric options, and PSNR / SSIM (or angular error, NMSE).

The region belongs to its image: when the output changes (a new image, another scale or
size) a region that no longer fits entirely is cleared, with a message, never clipped; a
typed region that does not fit is refused. The metrics follow the session: new results, a
new region or new options schedule a computation (debounced 40 ms) on ``jobs``; cleared
results cancel it and clear the cache.
RGB / gray results are measured with PSNR / SSIM, normal maps with angular errors against
the GT map the run made (:class:`NormalsController`), channel data with NMSE / PSNR.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from core.app import channels as ct
from core.app import normals as nt
from core.app import run as tasks
from core.session import Session

from ..jobs import JobPool, Notices
from .channels import ChannelsController, is_channel_data
from .normals import NormalsController

__all__ = ["MetricsController"]


def _fits(roi: tuple[int, int, int, int], out_hw: tuple[int, int]) -> bool:
    x, y, w, h = roi
    return x >= 0 and y >= 0 and x + w <= out_hw[1] and y + h <= out_hw[0]


class MetricsController(QObject):
    """Owns the region, the metric options, the metric cache and the metrics job."""

    def __init__(self, session: Session, notices: Notices, pool: JobPool,
                 normals: NormalsController, channels: ChannelsController,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.notices = notices
        self.normals = normals
        self.channels = channels
        self.jobs = pool.handle("metrics", notices, parent=self)
        self.cache: dict = {}
        self.timer = QTimer(self, singleShot=True, interval=40)
        self.timer.timeout.connect(self._start)
        session.subscribe(self._on_session)

    def _on_session(self, topic: str) -> None:
        if topic == "results":
            if not self.session.results:       # a new run or new inputs: start afresh
                self.jobs.cancel()
                self.cache.clear()
            self.schedule()
        elif topic in ("roi", "all"):
            self.schedule()
        if topic in ("inputs", "params", "all"):
            self._drop_region_outside()

    def _drop_region_outside(self) -> None:
        roi, out = self.session.state.roi, self.session.output_hw()
        if roi is None or out is None or self.session.lr is None or _fits(roi, out):
            return
        x, y, w, h = roi
        self.session.set_roi(None)
        self.notices.message.emit(f"Region {w}x{h} at ({x}, {y}) cleared: it does not fit the "
                                  f"{out[1]}x{out[0]} image")

    @property
    def busy(self) -> bool:
        """A computation is scheduled or running."""
        return self.timer.isActive() or self.jobs.busy

    # -- choices ------------------------------------------------------------------------------
    def set_roi(self, roi: tuple[int, int, int, int] | None) -> bool:
        """Measure in ``roi`` (x, y, w, h in output pixels; None: no region). A region that
        does not fit the output entirely is refused (False, with a message)."""
        if roi is not None and (roi[2] <= 0 or roi[3] <= 0):
            roi = None
        out = self.session.output_hw()
        if roi is not None and out is not None and not _fits(roi, out):
            self.notices.message.emit(f"Region not set: {roi[2]}x{roi[3]} at ({roi[0]}, "
                                      f"{roi[1]}) does not fit the {out[1]}x{out[0]} image")
            self.session.notify("roi")       # the region box shows the region again
            return False
        if roi != self.session.state.roi:
            self.session.set_roi(roi)
        return True

    def set_options(self, y_channel: bool | None = None,
                    shave: int | None | str = "keep") -> None:
        st = self.session.state
        if y_channel is not None:
            st.y_channel = bool(y_channel)
        if shave != "keep":
            st.shave = None if shave is None or int(shave) < 0 else int(shave)
        self.session.notify("params")
        self.schedule()

    # -- computing ----------------------------------------------------------------------------
    def schedule(self) -> None:
        self.timer.start()

    def _start(self) -> None:
        s = self.session
        if self.normals.mode():
            gt = self.normals.gt()
            maps = {k: (k, r.normals.normals) for k, r in s.results.items()
                    if isinstance(r, nt.NormalsResult)}
            job = nt.angular_metrics_job(maps, gt, s.roi_region(), self.cache) \
                if gt is not None and maps else None
        elif self.channels.data_mode():
            images = {k: (s.label(k), r.image) for k, r in s.results.items()}
            job = ct.channel_metrics_job(images, s.hr, s.roi_region(), s.shave(), self.cache) \
                if s.results and is_channel_data(s.hr) else None
        else:
            images = {k: (s.label(k), r.image) for k, r in s.results.items()}
            made = {k: r.provenance for k, r in s.results.items()}
            job = tasks.metrics_job(images, s.hr, s.roi_region(), s.state.y_channel, s.shave(),
                                    self.cache, made) if s.hr is not None and s.results else None
        if job is None:
            self.jobs.cancel()
            s.set_metrics([])
            return
        self.jobs.submit(job, on_done=s.set_metrics)
