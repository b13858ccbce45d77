"""The controller's zero-shot SR (a mixin of :class:`gui.controller.Controller`).

ZSSR runs on the LR the window shows (the opened image, or the degraded one in ``degrade``
mode) on the ``zeroshot`` channel, with progress and Cancel. Every progress item goes out
through ``zssr_step`` (the tab draws the loss curve from it); the result joins the window's
results under :data:`gui.zeroshot_tasks.ZSSR_KEY`, so Compare, Swipe, the metrics table and
Save result show it like any model's. A result of an LR that is no longer on screen is dropped.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Signal

from . import zeroshot_tasks as zt
from .controller_lam import eta_text

__all__ = ["ZeroShotMixin"]


class ZeroShotMixin:
    zssr_progress = Signal(float, str)   # fraction, message (with the ETA)
    zssr_running = Signal(bool)
    zssr_step = Signal(object)           # every Progress of the job (ZSSRProgress: loss, lr)

    def run_zssr(self, scale: float, iters: int, kernel: str = "bicubic") -> bool:
        """ZSSR of the LR on screen by ``scale`` (> 1), ``iters`` iterations at most per stage,
        ``kernel`` one of :data:`gui.zeroshot_tasks.KERNELS`; supersedes a run in progress."""
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
        self._zssr_t0 = time.perf_counter()
        self._zssr_lr = s.lr
        self._submit("zeroshot", job, step=self._zssr_result, progress=self._zssr_progress,
                     done=self._zssr_done, failed=self._zssr_failed)
        self.zssr_running.emit(True)
        self.zssr_progress.emit(0.0, "starting")
        return True

    def cancel_zssr(self) -> None:
        if self._cancel_channel("zeroshot"):
            self.zssr_running.emit(False)
            self.zssr_progress.emit(0.0, "cancelled")
            self.message.emit("ZSSR cancelled")

    def _zssr_progress(self, p) -> None:
        self.zssr_step.emit(p)
        f = p.fraction
        self.zssr_progress.emit(f, p.message + eta_text(f, time.perf_counter() - self._zssr_t0))

    def _zssr_result(self, p) -> None:
        if p.key != "result":
            return
        if self.session.lr is not self._zssr_lr:
            self.message.emit("ZSSR result dropped: the input changed while it ran")
            return
        key, mr = p.value
        self.session.add_result(key, mr)
        self.schedule_metrics()

    def _zssr_done(self, result) -> None:
        elapsed = time.perf_counter() - self._zssr_t0
        self.zssr_running.emit(False)
        self.zssr_progress.emit(1.0, f"done in {elapsed:.1f} s")
        self.message.emit(f"ZSSR done in {elapsed:.1f} s: "
                          f"{result.result.notes[0] if result.result.notes else ''}")

    def _zssr_failed(self, message: str) -> None:
        self.zssr_running.emit(False)
        self.zssr_progress.emit(0.0, "failed")
        self.error.emit(message)
