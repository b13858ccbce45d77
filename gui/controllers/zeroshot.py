"""Zero-shot SR: ZSSR or MZSR (meta-weights adapted in a few steps) on the LR on screen.

The job runs on ``jobs`` with progress and Cancel. Every progress item goes out through
``step`` (the tab draws the loss curve from it); the result joins the window's results under
:data:`core.app.zeroshot.ZSSR_KEY` (MZSR: ``"MZSR(n)"``), so Compare, Swipe, the metrics
table and Save result show it like any model's. A result of an LR no longer on screen is
dropped. The scale is the window's (:meth:`ZeroShotController.scale`: HR / LR when an HR is
on screen), so the result is measured against the window's HR. What MZSR cannot take (channel
data, another scale than the weights', a kernel at a fractional scale) is said in place
(:meth:`ZeroShotController.unavailable`, shown by the tab; a run asked anyway is refused on
the tab's status line); weights that cannot be read are an error message.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from core.app import zeroshot as zt
from core.app.plan import lr_source_text
from core.errors import CheckpointError
from core.session import Session
from core.zeroshot.mzsr import load_mzsr

from ..jobs import JobPool, Notices
from .kinds import needs_image

__all__ = ["ZeroShotController"]


class ZeroShotController(QObject):
    step = Signal(object)           # every Progress of the job (ZSSRProgress: loss, lr)

    def __init__(self, session: Session, notices: Notices, pool: JobPool,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.notices = notices
        self.jobs = pool.handle("zeroshot", notices, eta=True, parent=self)
        self.method = "ZSSR"            # of the last job started
        self._weights_info: dict[str, dict] = {}   # weights path -> their info (scale...)
        self._done_head = ""
        self._lr = None

    def scale(self) -> float:
        """The window's scale: HR / LR width with an attached HR reference, else the scale
        chosen in the side panel (degrade and no reference)."""
        s = self.session
        if s.state.reference == "hr" and s.hr is not None and s.lr is not None:
            return s.hr.width / s.lr.width
        return float(s.state.scale)

    def unavailable(self, method: str = "ZSSR", kernel: str = "bicubic",
                    weights: str | Path | None = None) -> str | None:
        """Why ``method`` cannot run on the input that is open at the window's scale (None:
        it can, as far as can be told before loading). ZSSR learns from any data; MZSR's
        meta-weights are of RGB images at one scale."""
        if method != "MZSR":
            return None
        reason = needs_image("MZSR", self.session.source)
        if reason:
            return f"{reason}: use ZSSR for it"
        info = self._info(weights)
        if self.session.lr is None or info is None:
            return None
        return zt.mzsr_problem(self.session.lr, self.scale(), kernel, info)

    def _info(self, weights: str | Path | None) -> dict | None:
        """The info of the MZSR weights (cached; None when they cannot be read)."""
        path = zt.mzsr_weights(weights)
        if path is None:
            return None
        key = str(path)
        if key not in self._weights_info:
            try:
                self._weights_info[key] = load_mzsr(path)[1]
            except CheckpointError:
                return None
        return self._weights_info[key]

    def run_zssr(self, scale: float, iters: int, kernel: str = "bicubic") -> bool:
        """ZSSR of the LR on screen by ``scale`` (> 1), ``iters`` iterations at most per stage,
        ``kernel`` one of :data:`core.app.zeroshot.KERNELS`; supersedes a run in progress."""
        s, st = self.session, self.session.state
        if s.lr is None:
            self.notices.error.emit("open an image first (File > Open)")
            return False
        if iters < 1:
            self.notices.error.emit("ZSSR needs at least 1 iteration")
            return False
        req = zt.ZeroShotRequest(s.lr, s.hr, float(scale), int(iters), kernel,
                                 int(st.layout.get("channel", 0)), st.device, st.precision,
                                 lr_source_text(st.reference, st.scale))
        job = zt.zssr_job(req)   # bad scales and too small images fail on the pool, as messages
        return self._start(job, "ZSSR")

    def load_mzsr_weights(self, path: str | Path | None = None):
        """``(path, net, info)`` of the MZSR weights (``path``, else the bundled file), or None
        after an error message (none there, or not an MZSR checkpoint)."""
        weights = zt.mzsr_weights(path)
        if weights is None:
            self.notices.error.emit(zt.NO_MZSR_WEIGHTS)
            return None
        try:
            net, info = load_mzsr(weights)
        except CheckpointError as exc:
            self.notices.error.emit(str(exc))
            return None
        return weights, net, info

    def run_mzsr(self, scale: float, steps: int, kernel: str = "bicubic",
                 weights: str | Path | None = None) -> bool:
        """MZSR of the LR on screen: the meta-weights ``weights`` (None: the bundled file)
        adapted in ``steps`` SGD steps, then SR by their scale, which ``scale`` must equal;
        ``kernel`` one of :data:`core.app.zeroshot.KERNELS`. Supersedes a run in progress."""
        s, st = self.session, self.session.state
        if s.lr is None:
            self.notices.error.emit("open an image first (File > Open)")
            return False
        reason = self.unavailable("MZSR")
        if reason:
            return self.jobs.refuse(reason)
        if steps < 0:
            self.notices.error.emit("MZSR needs 0 or more adaptation steps")
            return False
        loaded = self.load_mzsr_weights(weights)
        if loaded is None:
            return False
        path, net, info = loaded
        problem = zt.mzsr_problem(s.lr, scale, kernel, info)
        if problem:
            return self.jobs.refuse(problem)
        req = zt.MZSRRequest(s.lr, s.hr, net, info, path, int(steps), kernel,
                             int(st.layout.get("channel", 0)), st.device, st.precision,
                             lr_source_text(st.reference, st.scale))
        n = int(steps)
        return self._start(zt.mzsr_job(req), "MZSR",
                           f"MZSR: {n} adaptation step{'' if n == 1 else 's'}, ")

    def _start(self, job, method: str, done_head: str = "") -> bool:
        """Run ``job``; ``method`` names it in the messages, ``done_head`` starts the tab's
        status when it is done."""
        self.method, self._done_head = method, done_head
        self._lr = self.session.lr
        self.jobs.submit(job, on_step=self._result, on_progress=self.step.emit,
                         on_done=self._done)
        return True

    def cancel_zssr(self) -> None:
        self.jobs.cancel(f"{self.method} cancelled")

    def _result(self, p) -> None:
        if p.key != "result":
            return
        if self.session.lr is not self._lr:
            self.notices.message.emit(f"{self.method} result dropped: the input changed while "
                                      "it ran")
            return
        key, mr = p.value
        self.session.add_result(key, mr)

    def _done(self, result) -> str:
        elapsed = self.jobs.elapsed()
        self.notices.message.emit(f"{self.method} done in {elapsed:.1f} s: "
                                  f"{result.result.notes[0] if result.result.notes else ''}")
        return f"{self._done_head}done in {elapsed:.1f} s"
