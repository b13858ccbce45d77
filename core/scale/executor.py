"""Two executors with one interface: ``submit(units)``, ``as_completed()`` (outcomes in the
order they finish), ``cancel()``, ``close()``.

* :class:`LocalExecutor` runs the units one after another in this process, in plan order.
* :class:`RayExecutor` runs each unit as a Ray task: a local Ray started for the run with
  ``workers`` processes, or an existing cluster (``address``: ``auto`` or ``HOST:PORT``).
  Tasks of a killed worker are retried by Ray (``max_retries``); their outcome is taken once.
  Workers read inputs from the paths in the units, so on a cluster those paths must be the
  same on every machine (a shared folder); nothing but results travels through the object
  store.

Both call :func:`core.scale.worker.execute` with the same function and arguments, so a unit
computes the same value wherever it runs.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, Sequence

from ..errors import InputError
from .worker import execute

__all__ = ["Unit", "Outcome", "Executor", "LocalExecutor", "RayExecutor", "make_executor",
           "EXECUTORS", "CLUSTER_HINT", "check_available"]

EXECUTORS = ("local", "ray")
#: The one line shown when ``--executor ray`` finds no Ray.
CLUSTER_HINT = ("--executor ray needs Ray: pip install 'sr-workbench[cluster]' "
                "(or: pip install ray==2.60.0)")


@dataclass(frozen=True)
class Unit:
    """One piece of planned work: ``fn(*args)`` (a module-level function, so a worker imports
    it by name), its place ``index`` in the plan, and a ``label`` (the image) for messages."""

    index: int
    label: str
    fn: Callable[..., Any]
    args: tuple = ()


@dataclass(frozen=True)
class Outcome:
    """What became of a unit: its ``value``, or the one-line ``error`` of a bad input."""

    index: int
    label: str
    value: Any = None
    error: str = ""
    worker: str = ""
    seconds: float = 0.0


class Executor(Protocol):
    name: str
    workers: int

    def submit(self, units: Sequence[Unit]) -> None: ...
    def as_completed(self) -> Iterator[Outcome]: ...
    def cancel(self) -> None: ...
    def close(self) -> None: ...


class LocalExecutor:
    """Runs the units in this process, in the order submitted."""

    name = "local"
    workers = 1

    def __init__(self) -> None:
        self._todo: list[Unit] = []

    def submit(self, units: Sequence[Unit]) -> None:
        self._todo.extend(units)

    def as_completed(self) -> Iterator[Outcome]:
        while self._todo:
            u = self._todo.pop(0)
            worker, value, error, seconds = execute(u.fn, u.args)
            yield Outcome(u.index, u.label, value, error, worker, seconds)

    def cancel(self) -> None:
        self._todo.clear()

    def close(self) -> None:
        self._todo.clear()


def _nothing() -> None:
    return None


def _checkout_root() -> str:
    """The folder that holds the ``core`` package (workers of a local Ray import it from
    there when the package is not installed)."""
    return str(Path(__file__).resolve().parents[2])


class RayExecutor:
    """Units as Ray tasks. ``address=None`` starts a local Ray with ``workers`` CPUs for this
    run (shut down by :meth:`close`); ``address='auto'`` or ``'HOST:PORT'`` joins a running
    cluster (left running). ``gpus_per_worker`` reserves GPUs per task (fractions share one);
    ``threads``: torch threads per task (default: the cores divided among the workers)."""

    name = "ray"

    def __init__(self, *, address: str | None = None, workers: int | None = None,
                 gpus_per_worker: float = 0.0, threads: int | None = None,
                 max_retries: int = 3, object_store_mb: int = 256) -> None:
        try:
            import ray  # lazy: the optional [cluster] extra; only --executor ray needs it
        except ImportError:
            raise InputError(CLUSTER_HINT) from None
        if workers is not None and workers < 1:
            raise InputError(f"--workers must be at least 1, got {workers}")
        if gpus_per_worker < 0:
            raise InputError(f"--gpus-per-worker must be >= 0, got {gpus_per_worker}")
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            job = ray.job_config.JobConfig(code_search_path=[_checkout_root()])
            kwargs: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False,
                                          configure_logging=False, job_config=job)
            if address:
                kwargs["address"] = address
            else:
                cores = os.cpu_count() or 1
                kwargs.update(num_cpus=workers or cores,
                              object_store_memory=object_store_mb * 1024 * 1024)
                if gpus_per_worker:
                    kwargs["num_gpus"] = None   # Ray detects them
            try:
                ray.init(**kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise InputError(f"could not start or join Ray ({address or 'local'}): "
                                 f"{' '.join(str(exc).split())[:200]}") from None
            self._started = not address
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = min(workers, cpus) if workers else cpus
        cores = os.cpu_count() or 1
        self.threads = threads or max(1, cores // self.workers if not address else 1)
        opts: dict[str, Any] = dict(num_cpus=1, max_retries=max_retries,
                                    retry_exceptions=False)
        if gpus_per_worker:
            opts["num_gpus"] = gpus_per_worker
        self._remote = ray.remote(**opts)(execute)
        self._pending: dict[Any, Unit] = {}
        self._queue: list[Unit] = []
        # tasks in flight: two per worker keep a Ray started here busy (its CPUs cap what
        # runs); on a cluster, --workers N caps the run at N tasks at once. Few in flight
        # also means Ctrl-C has few to cancel.
        self._in_flight = workers if (address and workers) else 2 * self.workers

    def submit(self, units: Sequence[Unit]) -> None:
        self._queue.extend(units)
        self._fill()

    def round_trip(self, n: int = 30) -> float:
        """Median seconds of an empty task, one at a time on a warm worker: Ray's own cost
        per unit (``bench/scale_out.py``)."""
        self._ray.get(self._remote.remote(_nothing, (), self.threads))   # warm a worker
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            self._ray.get(self._remote.remote(_nothing, (), self.threads))
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    def _fill(self) -> None:
        while self._queue and len(self._pending) < self._in_flight:
            u = self._queue.pop(0)
            ref = self._remote.remote(u.fn, u.args, self.threads)
            self._pending[ref] = u

    def as_completed(self) -> Iterator[Outcome]:
        ray = self._ray
        while self._pending:
            ready, _ = ray.wait(list(self._pending), num_returns=1)
            for ref in ready:
                u = self._pending.pop(ref)
                try:
                    worker, value, error, seconds = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:   # a bug, not a bad input
                    raise exc.as_instanceof_cause() from None
                except ray.exceptions.RayError as exc:      # retries used up, worker lost
                    worker, value, error, seconds = "", None, \
                        f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}", 0.0
                self._fill()
                yield Outcome(u.index, u.label, value, error, worker, seconds)

    def cancel(self) -> None:
        self._queue.clear()
        for ref in list(self._pending):
            try:
                self._ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - a task that just finished cannot be cancelled
                pass
        self._pending.clear()

    def close(self) -> None:
        self.cancel()
        if self._started:
            self._ray.shutdown()
            self._started = False


def check_available(kind: str) -> None:
    """Before any output is touched: InputError (:data:`CLUSTER_HINT`) when ``kind`` is
    ``ray`` and Ray is not installed, or ``kind`` is unknown."""
    if kind == "ray":
        try:
            import ray  # noqa: F401  # lazy: the optional [cluster] extra
        except ImportError:
            raise InputError(CLUSTER_HINT) from None
    elif kind != "local":
        raise InputError(f"unknown executor {kind!r}; use one of {', '.join(EXECUTORS)}")


def make_executor(kind: str = "local", *, address: str | None = None,
                  workers: int | None = None, gpus_per_worker: float = 0.0) -> Executor:
    """``local`` or ``ray`` (:data:`EXECUTORS`); InputError with :data:`CLUSTER_HINT` when
    Ray is asked for and not installed."""
    if kind == "local":
        if address:
            raise InputError("--address joins a Ray cluster: add --executor ray")
        return LocalExecutor()
    if kind == "ray":
        return RayExecutor(address=address, workers=workers, gpus_per_worker=gpus_per_worker)
    raise InputError(f"unknown executor {kind!r}; use one of {', '.join(EXECUTORS)}")
