"""Which kinds of input a tab handles, and the sentence it shows in place when it cannot."""

from __future__ import annotations

from core.data import ImageData

__all__ = ["kind_text", "needs_image", "needs_kind"]

_KIND_TEXT = {"rgb": "an RGB image", "gray": "a gray image", "channels": "channel data",
              "normals": "a normal map"}


def kind_text(kind: str) -> str:
    """``"channel data"``, ``"a normal map"``... for a data kind."""
    return _KIND_TEXT.get(kind, kind)


def needs_image(what: str, data: ImageData | None) -> str | None:
    """Why ``what`` (e.g. ``"LAM"``) cannot run on ``data``: it needs an RGB or gray image.
    None when it can (or when nothing is open: the tab says that itself)."""
    if data is None or data.kind in ("rgb", "gray"):
        return None
    return f"{what} needs an RGB (or gray) image; the input is {kind_text(data.kind)}"


def needs_kind(what: str, kind: str, data: ImageData | None, how: str) -> str:
    """Why ``what`` has nothing to show unless the input is of ``kind``; ``how`` says how to
    open one."""
    there = f" (the input is {kind_text(data.kind)})" if data is not None else ""
    return f"{what} needs {kind_text(kind)}{there}: {how}"
