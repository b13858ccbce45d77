"""Will a run fit in memory? A rough peak estimate per model kind and the tile size that fits.

A run may plan to use :data:`MEMORY_SHARE` of the free memory (the engine refuses beyond it
too, :func:`core.engine.memory.check_fits`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.engine.arbitrary import block_size
from core.engine.memory import MEMORY_SHARE, available_bytes

__all__ = ["MEMORY_SHARE", "MemoryPlan", "estimate_bytes", "memory_plan"]


def _find(d: Any, name: str) -> Any:
    if isinstance(d, dict):
        if name in d:
            return d[name]
        for v in d.values():
            found = _find(v, name)
            if found is not None:
                return found
    return None


def estimate_bytes(lr_hw: tuple[int, int], channels: int, out_hw: tuple[int, int],
                   models: list[tuple[str, dict]], tile: int | None,
                   chunk: int = 65536) -> int:
    """A rough upper estimate of the peak memory of a run (bytes).

    ``models``: (kind, hparams) per model; models run one after the other, so the largest
    working set counts once, plus the output buffers (result, display, |diff|) of all.
    """
    h, w = lr_hw
    oh, ow = out_hw
    c = max(3, channels)
    outputs = oh * ow * c * 4 * (3 + len(models))
    work = 0
    for kind, hp in models:
        feats = int(_find(hp, "n_feats") or 64)
        if kind == "interp":
            m = oh * ow * c * 4 * 3
        elif kind == "fixed":
            s = int(_find(hp, "scale") or 4)
            t = tile or 384
            th, tw = min(h, t) + 32, min(w, t) + 32
            m = th * tw * feats * 4 * 6 + th * tw * s * s * (feats + c) * 4 * 2
        else:
            hidden = _find(hp, "hidden_list") or [256]
            hid = int(max(hidden)) if isinstance(hidden, (list, tuple)) and hidden else 256
            block = block_size(h, w, tile)
            bh, bw = (h, w) if block is None else (min(h, block) + 84, min(w, block) + 84)
            m = bh * bw * (feats * 4 * 6 + hid * 4 * 2) + min(chunk, oh * ow) * 4 * hid * 4 * 3
        work = max(work, m)
    return int(outputs + work)


@dataclass(frozen=True)
class MemoryPlan:
    needed: int
    free: int
    fits: bool
    tile: int | None = None          # a tile size that would fit (when ``fits`` is False)
    tiled_needed: int = 0


def memory_plan(lr_hw: tuple[int, int], channels: int, out_hw: tuple[int, int],
                models: list[tuple[str, dict]], tile: int | None) -> MemoryPlan:
    """Whether the run fits in free memory; if not, the largest tile size that would."""
    free = available_bytes()
    need = estimate_bytes(lr_hw, channels, out_hw, models, tile)
    if need <= MEMORY_SHARE * free:
        return MemoryPlan(need, free, True, tile)
    for t in (512, 256, 128, 64):
        if tile is not None and t >= tile:
            continue
        tn = estimate_bytes(lr_hw, channels, out_hw, models, t)
        if tn <= MEMORY_SHARE * free:
            return MemoryPlan(need, free, False, t, tn)
    return MemoryPlan(need, free, False, None, 0)
