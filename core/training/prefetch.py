"""Batches made ahead of time in worker processes (``python main.py train --workers N``).

The batch of a step depends only on the seed and the step (:func:`.steps.make_batch`), so
workers can make them in any order and the loop still sees exactly the batches of a run
without workers: a resumed or re-run run learns from the same data, whatever ``N``.

Making a batch (crops, MATLAB-bicubic degradation, 8-bit rounding) takes 8-40 ms of one CPU
core; on a GPU the step itself takes less, so without workers the GPU would wait on the CPU.
Workers are forked after the images are loaded (they share them copy-on-write); they run
CPU code only and never touch the GPU. At most ``2 * N`` batches wait in memory. Where
``fork`` is not available (Windows) batches are made in the loop as before.

Stopping early (cancel, an error in the loop) lets the batches already asked for arrive before
the workers go: a batch's tensors come back as file descriptors that the parent fetches from
the worker while it unpickles them, so stopping a worker with a batch in flight killed the
pool's result thread ("Cannot have cache with result handler not alive" from ``terminate``).
That costs at most ``2 * N`` batch times; a worker that hangs is stopped after a minute.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import time
from collections import deque
from typing import Any, Iterator

import torch

from .config import TrainConfig
from .data import ImageSet
from .steps import make_batch

__all__ = ["batches", "fork_available"]

_DRAIN_SECONDS = 60.0  # how long a stop waits for the batches in flight

_job: tuple[TrainConfig, ImageSet, dict[str, bool] | None] | None = None


def fork_available() -> bool:
    return "fork" in mp.get_all_start_methods()


def _init(cfg: TrainConfig, images: ImageSet, flags: dict[str, bool] | None) -> None:
    global _job
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C / pkill -INT stop the loop, not us
    torch.set_num_threads(1)  # N workers use N cores, not N x all of them
    _job = (cfg, images, flags)


def _make(step: int) -> Any:
    assert _job is not None
    cfg, images, flags = _job
    return make_batch(cfg, images, step, flags)


def batches(cfg: TrainConfig, images: ImageSet, start: int, total: int,
            flags: dict[str, bool] | None, workers: int = 0) -> Iterator[Any]:
    """The batches of steps ``start .. total - 1`` in order. With ``workers`` > 0 (and fork
    available) they are made by that many processes, at most ``2 * workers`` ahead."""
    if workers <= 0 or not fork_available():
        for step in range(start, total):
            yield make_batch(cfg, images, step, flags)
        return
    ctx = mp.get_context("fork")
    pool = ctx.Pool(workers, initializer=_init, initargs=(cfg, images, flags))
    pending: deque = deque()
    try:
        nxt = start
        while nxt < total or pending:
            while nxt < total and len(pending) < 2 * workers:
                pending.append(pool.apply_async(_make, (nxt,)))
                nxt += 1
            batch = pending[0].get()  # still pending (and drained below) until it arrived
            pending.popleft()
            yield batch
    finally:
        _stop(pool, pending)


def _stop(pool: Any, pending: deque) -> None:
    """Let the batches in flight arrive (at most :data:`_DRAIN_SECONDS`), then close the pool;
    terminate it when one did not arrive or the wait itself was interrupted (Ctrl-C again)."""
    try:
        deadline = time.monotonic() + _DRAIN_SECONDS
        for result in pending:
            result.wait(max(0.0, deadline - time.monotonic()))
        drained = all(result.ready() for result in pending)
    except BaseException:
        pool.terminate()
        raise
    if drained:
        pool.close()  # workers finish and exit; nothing is in flight
    else:
        pool.terminate()
    pool.join()
