"""The driver loop: submit the planned units, hand each outcome to the caller as it arrives
(who writes its rows at once), report progress, and cancel what is left when stopped."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from ..jobs import Job, Progress
from .executor import Executor, Outcome, Unit

__all__ = ["RunStats", "run_units"]


@dataclass
class RunStats:
    """How the run went: units done, failed (``(label, error)``), per-worker ``(units,
    busy seconds)``, and the wall time."""

    done: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    workers: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    task_seconds: list[float] = field(default_factory=list)

    def throughput_lines(self) -> list[str]:
        """One line per worker: units, units per second of its busy time."""
        out = []
        for w, (n, busy) in sorted(self.workers.items()):
            rate = n / busy if busy > 0 else float("inf")
            out.append(f"worker {w}: {int(n)} unit(s), {busy:.1f} s busy, {rate:.2f} units/s")
        return out


def run_units(executor: Executor, units: Sequence[Unit], on_outcome: Callable[[Outcome], None],
              what: str = "units") -> Job[RunStats]:
    """Run ``units`` on ``executor``; ``on_outcome`` receives every outcome once, in the
    order they finish (the caller sorts by :attr:`Outcome.index` when it merges). Closing the
    job (Ctrl-C, Cancel) cancels the remaining units; the outcomes already handed over stay."""
    stats = RunStats()
    total = len(units)
    t0 = time.perf_counter()
    yield Progress(0, total, f"{total} {what} on {executor.name}"
                             f"{f' ({executor.workers} workers)' if executor.name != 'local' else ''}")
    try:
        executor.submit(units)
        for out in executor.as_completed():
            on_outcome(out)
            stats.done += 1
            if out.error:
                stats.failed.append((out.label, out.error))
            if out.worker:
                w = stats.workers.setdefault(out.worker, [0, 0.0])
                w[0] += 1
                w[1] += out.seconds
                stats.task_seconds.append(out.seconds)
            yield Progress(stats.done, total, f"{out.label}" + (" failed" if out.error else ""))
    except BaseException:
        executor.cancel()
        raise
    finally:
        stats.seconds = time.perf_counter() - t0
    return stats
