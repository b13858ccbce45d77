"""Long work as generators.

A :data:`Job` is a generator that yields :class:`Progress` at natural chunk boundaries (a tile,
a query batch, a training step) and *returns* its result. Whoever drives it decides when to
stop: the GUI worker stops between yields when the user presses Cancel, the CLI and the tests
drain it with :func:`run_sync`. Closing a generator runs its ``finally`` blocks, so a cancelled
job frees its memory and removes any partial output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generator, TypeVar

from .errors import Cancelled

__all__ = ["Progress", "Step", "Job", "run_sync", "Cancelled", "sub_job"]

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """One step of a long job: ``done`` of ``total`` units, with an optional message."""

    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        """Completed share in [0, 1] (0 when the total is unknown)."""
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0


@dataclass(frozen=True)
class Step(Progress):
    """A :class:`Progress` that carries a partial result: ``key`` says what ``value`` is."""

    key: str = ""
    value: Any = None


Job = Generator[Progress, None, T]


def run_sync(
    job: Job[T],
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> T:
    """Drive ``job`` to completion and return its result.

    ``on_progress`` is called with every yielded :class:`Progress`. If ``should_stop()`` turns
    true between two yields, the generator is closed (its cleanup runs) and :class:`Cancelled`
    is raised.
    """
    try:
        while True:
            progress = next(job)
            if on_progress is not None:
                on_progress(progress)
            if should_stop():
                job.close()
                raise Cancelled("stopped by the user")
    except StopIteration as stop:
        return stop.value


def sub_job(job: Job[T], start: int, span: int, total: int, prefix: str = "") -> Job[T]:
    """Re-yield a nested job's progress mapped onto ``[start, start + span)`` of ``total``.

    Lets a job made of several stages report one progress bar, whatever units each stage
    counts in: ``result = yield from sub_job(stage(), start=i * 100, span=100, total=n * 100)``.
    """
    try:
        while True:
            p = next(job)
            yield Progress(start + int(round(p.fraction * span)), total, prefix + p.message)
    except StopIteration as stop:
        return stop.value
