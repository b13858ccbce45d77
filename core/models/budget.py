"""The memory budget of a checkpoint, checked before anything is allocated.

A checkpoint declares its architecture's hyperparameters (our format, LIIF's spec); a hostile
or broken file can declare ``n_feats=2048, n_resblocks=64`` next to 2 MB of tensors, and
building that model first would take gigabytes. :func:`check_budget` therefore

* refuses hyperparameters that are nonsense on their face (negative or zero sizes, integers
  above :data:`MAX_HPARAM_INT`, non-finite numbers);
* builds the module on PyTorch's ``meta`` device (shapes only, no storage) and returns the
  shapes of its state dict, so the caller can compare them with the file's tensors;
* refuses a model whose weights would need more than :data:`MODEL_BYTES_FACTOR` times the
  file's tensor bytes (plus :data:`MODEL_BYTES_SLACK`), or more than the memory available.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import torch
from torch import Tensor

from ..errors import CheckpointError, short_message

__all__ = ["check_budget", "available_memory", "MAX_HPARAM_INT", "MODEL_BYTES_FACTOR",
           "MODEL_BYTES_SLACK"]

#: Largest integer hyperparameter accepted (feature counts, block counts, hidden widths).
MAX_HPARAM_INT = 65536
#: A model may need at most this multiple of the file's tensor bytes (float16 files load into
#: float32 models: 2x; the rest is buffers) ...
MODEL_BYTES_FACTOR = 4
#: ... plus this many bytes (small files with buffers computed at build time).
MODEL_BYTES_SLACK = 64 * 2**20
#: Hyperparameter names whose value is a size that must be at least 1.
_POSITIVE = ("feat", "hidden", "dim", "chan", "colors", "block", "depth", "group", "embed",
             "head", "window", "width", "in_", "out_", "num_")


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _check_values(value: Any, key: str, name: str, depth: int = 0) -> None:
    if depth > 8:
        raise CheckpointError(f"{name}: hyperparameter {key!r} is nested too deeply")
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        low = key.rsplit(".", 1)[-1].lower()
        positive = any(p in low for p in _POSITIVE) and "drop" not in low
        if value < 0 or (positive and value == 0) or value > MAX_HPARAM_INT:
            raise CheckpointError(f"{name}: hyperparameter {key}={value} is out of range "
                                  f"(expected {'1' if positive else '0'}..{MAX_HPARAM_INT})")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CheckpointError(f"{name}: hyperparameter {key}={value} is not a finite number")
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            _check_values(v, f"{key}.{k}" if key else str(k), name, depth + 1)
        return
    if isinstance(value, (list, tuple)):
        if len(value) > 4096:
            raise CheckpointError(f"{name}: hyperparameter {key} has {len(value)} entries")
        for v in value:
            _check_values(v, key, name, depth + 1)


def _mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def check_budget(arch: Any, hp: Mapping[str, Any], sd: Mapping[str, Tensor], name: str,
                 ) -> dict[str, tuple[int, ...]]:
    """Check that ``arch`` built with ``hp`` fits the budget of ``sd``; return its state-dict
    shapes (read from a ``meta``-device build, so nothing is allocated).

    Raises:
        CheckpointError: nonsense hyperparameters, a build that fails, or a model that would
            need more memory than the file justifies or than is available.
    """
    _check_values(dict(hp), "", name)
    try:
        with torch.device("meta"):
            module = arch.build(**hp)
    except CheckpointError:
        raise
    except Exception as exc:  # noqa: BLE001 - every build failure is the file's problem
        raise CheckpointError(f"{name}: cannot build {arch.name} with these hyperparameters "
                              f"({short_message(exc)})") from None
    state = module.state_dict()
    need = sum(t.numel() * t.element_size() for t in state.values())
    need += sum(b.numel() * b.element_size() for n, b in module.named_buffers() if n not in state)
    have = sum(t.numel() * t.element_size() for t in sd.values())
    if need > MODEL_BYTES_FACTOR * have + MODEL_BYTES_SLACK:
        raise CheckpointError(
            f"{name}: its hyperparameters describe {_mib(need)} of {arch.name} weights but "
            f"the file holds only {_mib(have)}; expected hyperparameters that match the "
            f"tensors")
    free = available_memory()
    if free is not None and need > free:
        raise CheckpointError(f"{name}: the {arch.name} it describes needs {_mib(need)}, more "
                              f"than the {_mib(free)} of memory available")
    return {k: tuple(int(s) for s in v.shape) for k, v in state.items()}
