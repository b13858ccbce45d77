"""Memory estimates, so that a request too large fails with a message instead of the machine."""

from __future__ import annotations

import os

from ..errors import ResourceError

__all__ = ["MEMORY_SHARE", "available_bytes", "human_bytes", "check_fits"]

#: Share of the free memory one run may use: the engine refuses beyond it, and the run plan
#: (:mod:`core.app.memory`) picks tiles to stay under it.
MEMORY_SHARE = 0.6


def available_bytes() -> int:
    """Memory the process can still use (``MemAvailable`` on Linux; total RAM elsewhere)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return 8 << 30


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} PB"  # pragma: no cover


def check_fits(needed: int, what: str, share: float = MEMORY_SHARE) -> None:
    """Raise :class:`ResourceError` when ``needed`` bytes exceed ``share`` of free memory."""
    free = available_bytes()
    if needed > share * free:
        raise ResourceError(
            f"{what} would need about {human_bytes(needed)} of memory but only "
            f"{human_bytes(free)} is free; choose a smaller scale or output size, or crop the input"
        )
