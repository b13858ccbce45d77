"""Run a core Job on a QThreadPool thread, with progress signals and cancel between yields.

The job generator is created on the GUI thread (its inputs are frozen there) and iterated on a
pool thread. Each yielded Progress is emitted as a signal; ``cancel()`` sets a flag that is read
between yields, and the generator is then closed so its cleanup runs. Results carry the
request's generation number so the controller can drop stale ones.
"""

from __future__ import annotations

import threading
import traceback
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from core.errors import SRWError
from core.jobs import Job, Progress

__all__ = ["JobWorker", "start_job"]


class _Signals(QObject):
    progress = Signal(object)      # Progress
    finished = Signal(object)      # the job's return value
    failed = Signal(str)           # a readable message
    cancelled = Signal()


class JobWorker(QRunnable):
    """Iterates one Job on a pool thread."""

    def __init__(self, job: Job[Any], generation: int = 0):
        super().__init__()
        self.setAutoDelete(False)
        self.job = job
        self.generation = generation
        self.signals = _Signals()
        self._stop = threading.Event()
        self.done = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    @property
    def is_cancelled(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:  # runs on the pool thread
        try:
            while True:
                if self._stop.is_set():
                    self.job.close()
                    self.signals.cancelled.emit()
                    return
                progress: Progress = next(self.job)
                self.signals.progress.emit(progress)
        except StopIteration as stop:
            if self._stop.is_set():
                self.signals.cancelled.emit()
            else:
                self.signals.finished.emit(stop.value)
        except SRWError as exc:
            self.signals.failed.emit(str(exc))
        except MemoryError:
            self.signals.failed.emit("out of memory: try a smaller scale, a tile size or a crop")
        except Exception as exc:  # an unexpected bug: keep the app up and say what happened
            traceback.print_exc()
            self.signals.failed.emit(f"unexpected error: {type(exc).__name__}: {exc}")
        finally:
            self.done.set()


def start_job(job: Job[Any], generation: int = 0, pool: QThreadPool | None = None) -> JobWorker:
    worker = JobWorker(job, generation)
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker
