"""One job lifecycle for every feature: :class:`JobHandle` on a shared :class:`JobPool`.

Each feature controller owns one handle per kind of request (the run, the metrics, a LAM
run, a live-zoom query...). A handle runs at most one core Job at a time on the pool:

* ``submit(job, on_step=, on_progress=, on_done=, on_failed=)`` cancels the job in flight and
  bumps the handle's *generation*; every signal a worker sends carries the generation it was
  started with, and a signal of an older generation is dropped and counted (``dropped``), so a
  stale result never overwrites a newer one (ndv's generation counter);
* ``cancel()`` stops the job between two yields; whatever it still sends is dropped;
* ``running`` and ``progress`` (fraction, message with an ETA) drive the feature's progress
  bar; a failure goes to ``on_failed``, else to the shared :class:`Notices` ``error`` signal;
  ``refuse(reason)`` says on the same status line why a request was not started.

The pool keeps every worker alive until its thread has surely let go of it (a QRunnable
collected while or right after it runs crashes Qt), and ``shutdown`` cancels every handle and
waits for the threads. :class:`Notices` carries what the window shows: errors (a dialog),
status-bar messages, and the one question (``ask``: yes / no).
"""

from __future__ import annotations

import time
from typing import Any, Callable

from PySide6.QtCore import QObject, QThreadPool, Signal

from core.jobs import Job, Progress, Step
from .workers import JobWorker

__all__ = ["JobHandle", "JobPool", "Notices", "eta_text"]

#: Plain progress updates closer together than this are not shown (a Step always is).
PROGRESS_INTERVAL_S = 0.05


def eta_text(fraction: float, elapsed: float) -> str:
    """`` · 12 s left`` once a job is far enough along to guess, else ``""``."""
    if 0.02 < fraction < 1 and elapsed > 0.3:
        left = elapsed * (1 - fraction) / fraction
        return f" · {left:.0f} s left" if left >= 1 else " · <1 s left"
    return ""


class Notices(QObject):
    """What the controllers tell the user; the window connects it to dialogs and the status
    bar and sets :attr:`ask` (tests and headless use keep the default: "no")."""

    error = Signal(str)       # a readable error: the window shows a dialog
    message = Signal(str)     # status-bar text

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.ask: Callable[[str, str], bool] = lambda title, text: False


class JobPool:
    """The thread pool the handles share, the workers kept alive, and shutdown."""

    def __init__(self, pool: QThreadPool | None = None):
        self.pool = pool or QThreadPool.globalInstance()
        self.handles: list[JobHandle] = []
        self._live: list[JobWorker] = []   # every started worker, until well after it ends

    def handle(self, name: str, notices: Notices, eta: bool = False,
               parent: QObject | None = None) -> "JobHandle":
        """A new handle on this pool (``eta``: add the time left to progress messages)."""
        h = JobHandle(name, self, notices, eta=eta, parent=parent)
        self.handles.append(h)
        return h

    def start(self, worker: JobWorker) -> None:
        now = time.monotonic()
        self._live = [w for w in self._live
                      if not (w.done.is_set() and now - w.finished_at > 2.0)]
        self._live.append(worker)
        self.pool.start(worker)

    def busy(self) -> bool:
        """Whether any handle has a job in flight."""
        return any(h.busy for h in self.handles)

    def settled(self) -> bool:
        """Whether every started worker has left its job (cancelled ones included)."""
        return all(w.done.is_set() for w in self._live)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel everything and wait for the pool threads to let go of the jobs."""
        for h in self.handles:
            h.cancel()
        deadline = time.monotonic() + timeout_ms / 1000
        for w in list(self._live):
            w.done.wait(max(0.0, deadline - time.monotonic()))
        if all(w.done.is_set() for w in self._live):   # let the threads leave run() too
            self.pool.waitForDone(max(0, int(1000 * (deadline - time.monotonic()))))


class JobHandle(QObject):
    """At most one job in flight; newer submits and cancels make older signals stale."""

    progress = Signal(float, str)    # fraction in [0, 1], message (with the ETA when asked)
    running = Signal(bool)

    def __init__(self, name: str, pool: JobPool, notices: Notices, eta: bool = False,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self.notices = notices
        self.eta = eta
        self.generation = 0
        self.dropped = 0
        self.started_at = 0.0
        self._pool = pool
        self._worker: JobWorker | None = None
        self._handlers: dict[str, Callable | None] = {}
        self._last_emit = 0.0

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def elapsed(self) -> float:
        """Seconds since the job in flight (or the last one) was submitted."""
        return time.perf_counter() - self.started_at

    def submit(self, job: Job[Any], on_step: Callable[[Step], None] | None = None,
               on_progress: Callable[[Progress], None] | None = None,
               on_done: Callable[[Any], Any] | None = None,
               on_failed: Callable[[str], None] | None = None,
               start: str = "starting") -> int:
        """Run ``job``, superseding the one in flight; returns the new generation.

        ``on_done(value)`` may return the progress message to show (a string), else
        ``done in N s`` is shown."""
        self._stop()
        self.generation += 1
        worker = JobWorker(job, self.generation)
        worker.signals.progress.connect(self._on_progress)
        worker.signals.finished.connect(self._on_finished)
        worker.signals.failed.connect(self._on_failed)
        worker.signals.cancelled.connect(self._on_cancelled)
        self._worker = worker
        self._handlers = {"step": on_step, "progress": on_progress, "done": on_done,
                          "failed": on_failed}
        self.started_at = time.perf_counter()
        self._last_emit = 0.0
        self._pool.start(worker)
        self.running.emit(True)
        self.progress.emit(0.0, start)
        return self.generation

    def cancel(self, message: str | None = None) -> bool:
        """Stop the job in flight (``message`` to the status bar); False when none was."""
        if not self._stop():
            return False
        self.running.emit(False)
        self.progress.emit(0.0, "cancelled")
        if message:
            self.notices.message.emit(message)
        return True

    def refuse(self, reason: str) -> bool:
        """Say in place (the feature's status line, no dialog) why nothing was started;
        False, for ``return self.jobs.refuse(...)``."""
        self.running.emit(False)
        self.progress.emit(0.0, reason)
        return False

    def _stop(self) -> bool:
        worker, self._worker = self._worker, None
        if worker is None:
            return False
        worker.cancel()
        self.generation += 1   # anything still in flight from it is now stale
        return True

    def _current(self, gen: int) -> bool:
        if gen != self.generation:
            self.dropped += 1
            return False
        return True

    # -- worker signals (queued onto the GUI thread) -------------------------------------------
    def _on_progress(self, gen: int, p: Progress) -> None:
        if not self._current(gen):
            return
        step, progress = self._handlers["step"], self._handlers["progress"]
        if isinstance(p, Step) and step is not None:
            step(p)
        if progress is not None:
            progress(p)
        now = time.perf_counter()
        if now - self._last_emit < PROGRESS_INTERVAL_S and not isinstance(p, Step):
            return
        self._last_emit = now
        f = p.fraction
        self.progress.emit(f, p.message + (eta_text(f, self.elapsed()) if self.eta else ""))

    def _on_finished(self, gen: int, value: Any) -> None:
        if not self._current(gen):
            return
        self._worker = None
        done = self._handlers["done"]
        text = done(value) if done is not None else None
        self.running.emit(False)
        self.progress.emit(1.0, text if isinstance(text, str) else
                           f"done in {self.elapsed():.1f} s")

    def _on_failed(self, gen: int, message: str) -> None:
        if not self._current(gen):
            return
        self._worker = None
        self.running.emit(False)
        self.progress.emit(0.0, "failed")
        (self._handlers["failed"] or self.notices.error.emit)(message)

    def _on_cancelled(self, gen: int) -> None:
        if self._current(gen):
            self._worker = None
