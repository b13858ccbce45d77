"""Scale-out: run the units of a planned batch here (:class:`LocalExecutor`) or on a Ray
cluster (:class:`RayExecutor`), with one interface and the same function computing each unit,
so that both give the same rows. Qt-free; ``ray`` is imported only by the Ray executor."""

from .executor import (CLUSTER_HINT, EXECUTORS, Executor, LocalExecutor, Outcome, RayExecutor,
                       Unit, check_available, make_executor)
from .driver import RunStats, run_units
from .worker import cached_model, execute

__all__ = ["Unit", "Outcome", "Executor", "LocalExecutor", "RayExecutor", "make_executor",
           "EXECUTORS", "CLUSTER_HINT", "check_available", "run_units", "RunStats", "cached_model", "execute"]
