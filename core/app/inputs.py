"""What an opened file is: the kind the window and the CLI give data they were not told about.

:func:`detect_kind` says whether an image that loaded as RGB is really a normal map (its
vectors are unit length on the foreground, :func:`core.normals.codec.looks_like_normals`), and
:func:`core.io.normals.sibling_mask` finds the mask beside it (DiLiGenT's ``mask.png``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.data import ImageData
from core.io.normals import sibling_mask
from core.normals.codec import looks_like_normals

__all__ = ["Detected", "detect_kind"]


@dataclass(frozen=True)
class Detected:
    """The kind to open a file as, why, and a mask file found beside a normal map."""

    kind: str
    reason: str = ""
    mask: Path | None = None


def detect_kind(data: ImageData, path: str | Path | None = None) -> Detected:
    """The kind ``data`` (loaded with the kind detected from its channels) should have."""
    if data.kind == "rgb" and data.channels >= 3 and looks_like_normals(data.pixels):
        mask = sibling_mask(path) if path is not None else None
        return Detected("normals", "its vectors are unit length on the foreground: a normal map",
                        mask)
    return Detected(data.kind)
