"""``--executor local|ray --address --workers --gpus-per-worker --resume`` for the batch
commands, and running their planned units under one progress bar (:mod:`core.scale`).

Stdlib and light core modules only at import time (``ray`` and torch load when a run starts).
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from core.errors import InputError
from core.scale import (EXECUTORS, Outcome, RunStats, Unit, check_available, make_executor,
                        run_units)

from .batch import Item, prepare_item
from .options import float_range, int_range
from .progress import run_with_bar

__all__ = ["add_executor_options", "check_executor", "executor_from", "run_planned", "print_failures"]


def add_executor_options(p: argparse.ArgumentParser, *, resume: bool = True) -> None:
    """The scale-out options of a batch command (README "Scale out")."""
    g = p.add_argument_group("scale out (README: Scale out)")
    g.add_argument("--executor", choices=EXECUTORS, default="local",
                   help="where the units (image x model x scale) run: local (this process, "
                        "default) or ray (a Ray cluster; pip install 'sr-workbench[cluster]')")
    g.add_argument("--address", default=None, metavar="ADDR",
                   help="join a running Ray cluster: auto, or the head's HOST:PORT (default: "
                        "start a local Ray for this run with --workers processes)")
    g.add_argument("--workers", type=int_range(1, 1024), default=None, metavar="N",
                   help="Ray worker processes started for the run (default: one per CPU "
                        "core; torch threads per worker = cores / workers); with --address: "
                        "at most N tasks at once (default: the cluster's CPUs)")
    g.add_argument("--gpus-per-worker", type=float_range(0, 64), default=0.0, metavar="G",
                   help="GPUs each Ray task reserves (0.5: two tasks share a GPU; default 0)")
    if resume:
        g.add_argument("--resume", action="store_true",
                       help="continue an interrupted run: keep the rows already in the output "
                            "file and run only the missing ones")


def check_executor(args: argparse.Namespace) -> None:
    """Refuse ``--executor ray`` without Ray (one line: how to install it), and ``--address``
    without it, before any output is written."""
    check_available(args.executor)
    if args.address and args.executor != "ray":
        raise InputError("--address joins a Ray cluster: add --executor ray")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")


def executor_from(args: argparse.Namespace):
    """The executor the options ask for (InputError with the install line without Ray)."""
    return make_executor(args.executor, address=args.address, workers=args.workers,
                         gpus_per_worker=args.gpus_per_worker)


def run_planned(args: argparse.Namespace, units: Sequence[Unit],
                on_outcome: Callable[[Outcome], None], desc: str, what: str = "units"
                ) -> RunStats:
    """Run ``units`` on the executor of ``args`` with a progress bar (rows done / total, ETA);
    Ctrl-C cancels what is left (the caller's rows so far stay). Per-worker throughput goes
    to stderr after a Ray run."""
    if not units:
        return RunStats()
    executor = executor_from(args)
    try:
        stats = run_with_bar(run_units(executor, units, on_outcome, what), desc=desc,
                             quiet=getattr(args, "quiet", False))
    finally:
        executor.close()
    if executor.name != "local" and not getattr(args, "quiet", False):
        print(f"{executor.name}: {stats.done} {what} in {stats.seconds:.1f} s on "
              f"{len(stats.workers)} worker(s)", file=sys.stderr)
        for line in stats.throughput_lines():
            print(f"  {line}", file=sys.stderr)
    return stats


def run_items(args: argparse.Namespace, items: list[Item], fn: Callable[..., dict],
              desc: str, what: str, extra: Callable[[Item], tuple] = lambda item: ()
              ) -> RunStats:
    """Batch items (:class:`cli.batch.Item`) as units ``fn(args, input, output, *extra(item))``
    on the executor of ``args``: which run, skip or fail before running is decided here on the
    driver (:func:`cli.batch.prepare_item`), and each outcome sets its item's status."""
    run = {k: it for k, it in enumerate(items) if prepare_item(it, args.overwrite)}
    remote = argparse.Namespace(**{k: v for k, v in vars(args).items() if k != "func"})
    units = [Unit(k, str(it.input), fn, (remote, it.input, it.output, *extra(it)))
             for k, it in run.items()]

    def arrived(o: Outcome) -> None:
        it = items[o.index]
        if o.error:
            it.status, it.error = "failed", o.error
        else:
            it.info, it.status = o.value, "written"

    return run_planned(args, units, arrived, desc, what=what)


def print_failures(stats: RunStats) -> None:
    """One ``error: IMAGE: why`` line per failed unit (stderr)."""
    for label, error in stats.failed:
        print(f"error: {label}: {error}", file=sys.stderr)
