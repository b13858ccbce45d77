"""What runs on a worker (a Ray worker process, or this process for the local executor):
:func:`execute` runs one unit's function and times it; :func:`cached_model` loads a model once
per worker process, keyed by its name and weights digest, never once per task."""

from __future__ import annotations

import os
import socket
import time
from typing import Any, Callable

from ..errors import SRWError

__all__ = ["execute", "cached_model", "worker_id", "remember_model"]

_MODELS: dict[tuple[str, int | None, str], Any] = {}


def worker_id() -> str:
    """``host:pid`` of this process: the per-worker throughput of the summary is keyed by it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def remember_model(spec: str, scale_hint: int | None, loaded: Any) -> None:
    """Put a model the driver already loaded into this process's cache (the local executor
    then loads nothing twice)."""
    from ..provenance import weights_digest  # lazy: hashlib only, but keeps imports light

    _MODELS[(spec, scale_hint, weights_digest(loaded.source))] = loaded


def cached_model(spec: str, scale_hint: int | None = None, digest: str = "") -> Any:
    """The :class:`core.models.LoadedModel` of ``spec`` in this process, loaded on first use.

    ``digest`` (:func:`core.provenance.weights_digest` of the weights the driver planned with)
    is part of the key: a changed weights file is a different model, and a worker whose file
    differs from the driver's refuses to run (its numbers would not be the planned ones).
    """
    key = (spec, scale_hint, digest)
    if key not in _MODELS:
        # lazy: torch; a worker loads what its tasks need
        from ..models import load_model
        from ..provenance import weights_digest

        loaded = load_model(spec, scale=scale_hint)
        found = weights_digest(loaded.source)
        if found != digest:
            raise SRWError(f"{spec}: the weights on {socket.gethostname()} ({found or 'none'}) "
                           f"are not the driver's ({digest or 'none'}); share one weights file")
        _MODELS[key] = loaded
    return _MODELS[key]


def execute(fn: Callable[..., Any], args: tuple, threads: int | None = None
            ) -> tuple[str, Any, str, float]:
    """Run ``fn(*args)``: ``(worker, value, error, seconds)``.

    A unit that fails on its input (a :class:`core.errors.SRWError`, or an ``OSError`` /
    ``ValueError`` from a file no reader expected) returns its one-line error instead of
    raising: the batch reports it with its image and goes on. ``threads``: torch's intra-op
    threads for this unit (the Ray executor gives each worker its share of the cores).
    """
    if threads:
        import torch  # lazy: only workers that compute import torch

        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
    t0 = time.perf_counter()
    try:
        value, error = fn(*args), ""
    except SRWError as exc:
        value, error = None, str(exc)
    except (OSError, ValueError, RuntimeError) as exc:
        value, error = None, f"{type(exc).__name__}: {exc}"
    return worker_id(), value, error, time.perf_counter() - t0
