"""Job channels: one running job per channel, a generation counter, stale signals dropped.

A request submitted to a channel cancels the channel's running job and bumps the channel's
generation; every signal a worker sends carries its ``(channel, generation)`` tag, and a
signal whose generation is no longer the channel's is dropped (and counted in ``dropped``).
This is how a newer request supersedes an older one and a stale result never overwrites a
newer one (the pattern of ndv's controller).
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Callable

from PySide6.QtCore import QObject, QThreadPool, Signal

from core.jobs import Step
from .workers import JobWorker

__all__ = ["JobChannels"]


class JobChannels(QObject):
    """Base of the controller: submit Jobs to named channels on a QThreadPool."""

    error = Signal(str)              # a readable error: the window shows a dialog

    def __init__(self, pool: QThreadPool | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self.dropped = 0
        self._gen: dict[str, int] = defaultdict(int)
        self._workers: dict[str, JobWorker] = {}
        self._handlers: dict[str, dict[str, Callable]] = {}
        self._live: list[JobWorker] = []   # every started worker, until well after it ends

    # -- channels -----------------------------------------------------------------------------
    def generation(self, channel: str) -> int:
        return self._gen[channel]

    def is_busy(self, channel: str = "run") -> bool:
        return channel in self._workers

    def _submit(self, channel: str, job, **handlers: Callable) -> int:
        self._cancel_channel(channel)
        self._gen[channel] += 1
        gen = self._gen[channel]
        worker = JobWorker(job, (channel, gen))
        worker.signals.progress.connect(self._on_progress)
        worker.signals.finished.connect(self._on_finished)
        worker.signals.failed.connect(self._on_failed)
        worker.signals.cancelled.connect(self._on_cancelled)
        self._workers[channel] = worker
        self._handlers[channel] = handlers
        self._keep(worker)
        self.pool.start(worker)
        return gen

    def _keep(self, worker: JobWorker) -> None:
        """Hold a reference to every worker until its pool thread has surely left it: a
        QRunnable (and its signals) collected while running, or right after, crashes Qt."""
        now = time.monotonic()
        self._live = [w for w in self._live
                      if not (w.done.is_set() and now - w.finished_at > 2.0)]
        self._live.append(worker)

    def _cancel_channel(self, channel: str) -> bool:
        worker = self._workers.pop(channel, None)
        if worker is None:
            return False
        worker.cancel()
        self._gen[channel] += 1  # anything still in flight from it is now stale
        return True

    def _current(self, tag) -> Callable | None:
        channel, gen = tag
        if self._gen[channel] != gen:
            self.dropped += 1
            return None
        return self._handlers.get(channel, {}).get  # type: ignore[return-value]

    def _on_progress(self, tag, p) -> None:
        get = self._current(tag)
        if get is None:
            return
        if isinstance(p, Step) and get("step"):
            get("step")(p)
        if get("progress"):
            get("progress")(p)

    def _on_finished(self, tag, value) -> None:
        get = self._current(tag)
        if get is None:
            return
        self._workers.pop(tag[0], None)
        if get("done"):
            get("done")(value)

    def _on_failed(self, tag, message: str) -> None:
        get = self._current(tag)
        if get is None:
            return
        self._workers.pop(tag[0], None)
        (get("failed") or self.error.emit)(message)

    def _on_cancelled(self, tag) -> None:
        get = self._current(tag)
        if get is not None:
            self._workers.pop(tag[0], None)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel everything and wait for the pool threads to let go of the jobs."""
        for ch in list(self._workers):
            self._cancel_channel(ch)
        deadline = time.monotonic() + timeout_ms / 1000
        for w in list(self._live):
            w.done.wait(max(0.0, deadline - time.monotonic()))
        if all(w.done.is_set() for w in self._live):   # let the threads leave run() too
            self.pool.waitForDone(max(0, int(1000 * (deadline - time.monotonic()))))
