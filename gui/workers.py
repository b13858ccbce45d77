"""Run a core Job on a QThreadPool thread, with progress signals and cancel between yields.

The job generator is created on the GUI thread (its inputs are frozen there) and iterated on a
pool thread. Each yielded Progress is emitted as a signal; ``cancel()`` sets a flag that is read
between yields, and the generator is then closed so its cleanup runs. Every signal carries the
worker's ``tag`` (a :class:`gui.jobs.JobHandle` uses its generation) so that a receiver can drop
the signals of a request that a newer one has superseded.

Connect the signals to methods of a QObject that lives on the GUI thread (not to lambdas):
Qt then queues the call onto the GUI thread.
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from core.errors import SRWError
from core.jobs import Job, Progress

__all__ = ["JobWorker", "start_job"]


class _Signals(QObject):
    progress = Signal(object, object)      # tag, Progress
    finished = Signal(object, object)      # tag, the job's return value
    failed = Signal(object, str)           # tag, a readable message
    cancelled = Signal(object)             # tag


class JobWorker(QRunnable):
    """Iterates one Job on a pool thread."""

    def __init__(self, job: Job[Any], tag: Any = 0):
        super().__init__()
        self.setAutoDelete(False)
        self.job = job
        self.tag = tag
        self.signals = _Signals()
        self._stop = threading.Event()
        self.done = threading.Event()
        self.finished_at = 0.0

    def cancel(self) -> None:
        self._stop.set()

    @property
    def is_cancelled(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:  # runs on the pool thread
        tag = self.tag
        try:
            while True:
                if self._stop.is_set():
                    self.job.close()
                    self.signals.cancelled.emit(tag)
                    return
                progress: Progress = next(self.job)
                self.signals.progress.emit(tag, progress)
        except StopIteration as stop:
            if self._stop.is_set():
                self.signals.cancelled.emit(tag)
            else:
                self.signals.finished.emit(tag, stop.value)
        except SRWError as exc:
            self.signals.failed.emit(tag, str(exc))
        except MemoryError:
            self.signals.failed.emit(tag, "out of memory: try a smaller scale, a tile size or "
                                          "a crop")
        except Exception as exc:  # an unexpected bug: keep the app up and say what happened
            traceback.print_exc()
            self.signals.failed.emit(tag, f"unexpected error: {type(exc).__name__}: {exc}")
        finally:
            self.job = None  # free the generator's frames (and the arrays they hold)
            self.finished_at = time.monotonic()
            self.done.set()


def start_job(job: Job[Any], tag: Any = 0, pool: QThreadPool | None = None) -> JobWorker:
    worker = JobWorker(job, tag)
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker
