"""The controller's zero-shot SR (a mixin of :class:`gui.controller.Controller`).

ZSSR or MZSR (:meth:`run_mzsr`: meta-weights adapted in a few steps) runs on the LR the window
shows (the opened image, or the degraded one in ``degrade`` mode) on the ``zeroshot`` channel,
with progress and Cancel. Every progress item goes out through ``zssr_step`` (the tab draws the
loss curve from it); the result joins the window's results under
:data:`core.app.zeroshot.ZSSR_KEY` (MZSR: ``"MZSR(n)"``), so Compare, Swipe, the metrics table
and Save result show it like any model's. A result of an LR no longer on screen is dropped.
Inputs MZSR cannot take (no weights, a file that is not MZSR, another scale than the weights',
channel data) are refused with a message before anything runs.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Signal

from core.app import zeroshot as zt
from .controller_lam import eta_text

__all__ = ["ZeroShotMixin"]


class ZeroShotMixin:
    zssr_progress = Signal(float, str)   # fraction, message (with the ETA)
    zssr_running = Signal(bool)
    zssr_step = Signal(object)           # every Progress of the job (ZSSRProgress: loss, lr)
    _zssr_method, _zssr_done_head = "ZSSR", ""

    def run_zssr(self, scale: float, iters: int, kernel: str = "bicubic") -> bool:
        """ZSSR of the LR on screen by ``scale`` (> 1), ``iters`` iterations at most per stage,
        ``kernel`` one of :data:`core.app.zeroshot.KERNELS`; supersedes a run in progress."""
        s, st = self.session, self.session.state
        if s.lr is None:
            self.error.emit("open an image first (File > Open)")
            return False
        if iters < 1:
            self.error.emit("ZSSR needs at least 1 iteration")
            return False
        req = zt.ZeroShotRequest(s.lr, s.hr, float(scale), int(iters), kernel,
                                 int(st.layout.get("channel", 0)), st.device, st.precision)
        job = zt.zssr_job(req)   # bad scales and too small images fail on the pool, as messages
        return self._start_zeroshot(job, "ZSSR")

    def load_mzsr_weights(self, path: str | Path | None = None):
        """``(path, net, info)`` of the MZSR weights (``path``, else the bundled file), or None
        after an error message (none there, or not an MZSR checkpoint)."""
        from core.errors import CheckpointError
        from core.zeroshot.mzsr import load_mzsr

        weights = zt.mzsr_weights(path)
        if weights is None:
            self.error.emit(zt.NO_MZSR_WEIGHTS)
            return None
        try:
            net, info = load_mzsr(weights)
        except CheckpointError as exc:
            self.error.emit(str(exc))
            return None
        return weights, net, info

    def run_mzsr(self, scale: float, steps: int, kernel: str = "bicubic",
                 weights: str | Path | None = None) -> bool:
        """MZSR of the LR on screen: the meta-weights ``weights`` (None: the bundled file)
        adapted in ``steps`` SGD steps, then SR by their scale, which ``scale`` must equal;
        ``kernel`` one of :data:`core.app.zeroshot.KERNELS`. Supersedes a run in progress."""
        s, st = self.session, self.session.state
        if s.lr is None:
            self.error.emit("open an image first (File > Open)")
            return False
        if steps < 0:
            self.error.emit("MZSR needs 0 or more adaptation steps")
            return False
        loaded = self.load_mzsr_weights(weights)
        if loaded is None:
            return False
        path, net, info = loaded
        problem = zt.mzsr_problem(s.lr, scale, kernel, info)
        if problem:
            self.error.emit(problem)
            return False
        req = zt.MZSRRequest(s.lr, s.hr, net, info, path, int(steps), kernel,
                             int(st.layout.get("channel", 0)), st.device, st.precision)
        n = int(steps)
        return self._start_zeroshot(zt.mzsr_job(req), "MZSR",
                                    f"MZSR: {n} adaptation step{'' if n == 1 else 's'}, ")

    def _start_zeroshot(self, job, method: str, done_head: str = "") -> bool:
        """Run ``job`` on the ``zeroshot`` channel; ``method`` names it in the messages,
        ``done_head`` starts the tab's status when it is done."""
        self._zssr_method, self._zssr_done_head = method, done_head
        self._zssr_t0 = time.perf_counter()
        self._zssr_lr = self.session.lr
        self._submit("zeroshot", job, step=self._zssr_result, progress=self._zssr_progress,
                     done=self._zssr_done, failed=self._zssr_failed)
        self.zssr_running.emit(True)
        self.zssr_progress.emit(0.0, "starting")
        return True

    def cancel_zssr(self) -> None:
        if self._cancel_channel("zeroshot"):
            self.zssr_running.emit(False)
            self.zssr_progress.emit(0.0, "cancelled")
            self.message.emit(f"{self._zssr_method} cancelled")

    def _zssr_progress(self, p) -> None:
        self.zssr_step.emit(p)
        f = p.fraction
        self.zssr_progress.emit(f, p.message + eta_text(f, time.perf_counter() - self._zssr_t0))

    def _zssr_result(self, p) -> None:
        if p.key != "result":
            return
        if self.session.lr is not self._zssr_lr:
            self.message.emit(f"{self._zssr_method} result dropped: the input changed while it "
                              "ran")
            return
        key, mr = p.value
        self.session.add_result(key, mr)
        self.schedule_metrics()

    def _zssr_done(self, result) -> None:
        elapsed = time.perf_counter() - self._zssr_t0
        self.zssr_running.emit(False)
        self.zssr_progress.emit(1.0, f"{self._zssr_done_head}done in {elapsed:.1f} s")
        self.message.emit(f"{self._zssr_method} done in {elapsed:.1f} s: "
                          f"{result.result.notes[0] if result.result.notes else ''}")

    def _zssr_failed(self, message: str) -> None:
        self.zssr_running.emit(False)
        self.zssr_progress.emit(0.0, "failed")
        self.error.emit(message)
