"""What an architecture module exports for the registry: one :class:`ArchSpec`.

Each ``archs/<family>.py`` defines ``SPEC = ArchSpec(...)`` with its ``detect(state_dict)``
(hyperparameters read from key names and tensor shapes, or ``None``) and ``build(**hparams)``;
:mod:`core.models.registry` lists them explicitly. The small helpers below read shapes and
count indexed keys without building anything (they work on ``meta`` tensors too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from torch import Tensor, nn

__all__ = ["ArchSpec", "StateDict", "has_key", "shape_of", "count_seq", "indices"]

StateDict = Mapping[str, Tensor]


@dataclass(frozen=True)
class ArchSpec:
    """One architecture family.

    ``detect(state_dict)`` returns the keyword arguments of ``build`` read from the state dict,
    or ``None`` when the state dict is not this architecture. ``required_keys`` are keys every
    checkpoint of the family has (an entry ending in ``.`` means "some key with this prefix");
    ``key_patterns`` are regular expressions that every key of the family matches. Both only
    serve the "closest architecture" error message. ``needs_scale`` marks families whose scale
    cannot be read from the tensor shapes (FSRCNN's transposed convolution): ``detect`` then
    leaves ``scale`` out and the loader takes it from the file name or the user's hint.
    ``any_scale`` marks fixed-scale families that run at any scale because their input is
    bicubic-upscaled first (SRCNN, VDSR): their ``scale`` is only the training scale.
    """

    name: str
    kind: str  # "fixed" | "arbitrary" | "interp"
    detect: Callable[[StateDict], dict[str, Any] | None]
    build: Callable[..., nn.Module]
    required_keys: tuple[str, ...] = ()
    description: str = ""
    key_patterns: tuple[str, ...] = ()
    needs_scale: bool = False
    any_scale: bool = False

    def share_present(self, state_dict: StateDict) -> float:
        """Share of ``required_keys`` present in ``state_dict`` (0 when it has none)."""
        if not self.required_keys:
            return 0.0
        return sum(has_key(state_dict, k) for k in self.required_keys) / len(self.required_keys)

    def missing_keys(self, state_dict: StateDict) -> list[str]:
        return [k for k in self.required_keys if not has_key(state_dict, k)]

    def unexpected_keys(self, state_dict: StateDict) -> list[str]:
        pats = [re.compile(p) for p in self.key_patterns]
        return [k for k in state_dict if not any(p.search(k) for p in pats)]


def has_key(sd: StateDict, key: str) -> bool:
    """``key`` is in ``sd``; a key ending in ``.`` means "some key with this prefix"."""
    if key.endswith("."):
        return any(k.startswith(key) for k in sd)
    return key in sd


def shape_of(sd: StateDict, key: str) -> tuple[int, ...] | None:
    """The shape of ``sd[key]``, or None when absent (or not a tensor)."""
    t = sd.get(key)
    return tuple(t.shape) if isinstance(t, Tensor) else None


def count_seq(sd: StateDict, fmt: str) -> int:
    """Number of consecutive ``i = 0, 1, ...`` with ``fmt.format(i)`` in ``sd``."""
    n = 0
    while fmt.format(n) in sd:
        n += 1
    return n


def indices(sd: StateDict, pattern: str) -> list[int]:
    """Sorted integers ``i`` of the keys that fully match ``pattern`` (one ``(\\d+)`` group)."""
    rx = re.compile(pattern)
    return sorted({int(m.group(1)) for k in sd if (m := rx.fullmatch(k))})
