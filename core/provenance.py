"""How a result was made: one record that travels with every SR output and every score.

A :class:`Provenance` names the model and its weights (file name and the first 12 hex digits
of its SHA-256), the model's native scale, the resampling step if the output had to be
resized to reach the requested size, the precision and device, where the LR came from and
what it is measured against (reference, colour space, shave), and the settings of the
algorithm itself where it has some (``method``: LAM's path rule and steps; shown by
:meth:`note`, not an export column). The engine fills what it
knows (:func:`core.engine.super_resolve`); the caller that planned the run adds the rest
with :meth:`Provenance.with_`. :meth:`note` is the one-line text of tables and tile titles,
:meth:`row` the columns of CSV/JSON exports (:data:`FIELDS`, in that order).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["Provenance", "Resample", "FIELDS", "weights_digest"]

#: Export columns, in order (:meth:`Provenance.row`).
FIELDS = ("model", "weights", "weights_sha256", "native_scale", "resampled", "precision",
          "device", "lr_source", "reference", "color", "shave")


@dataclass(frozen=True)
class Resample:
    """A resize after the model: ``method`` from ``src_hw`` to ``dst_hw`` (height, width)."""

    method: str
    src_hw: tuple[int, int]
    dst_hw: tuple[int, int]

    @property
    def factor(self) -> float:
        """The (mean) resize factor: 512/384 = 1.333 for an x3 output resized to x4."""
        return 0.5 * (self.dst_hw[0] / self.src_hw[0] + self.dst_hw[1] / self.src_hw[1])

    def text(self) -> str:
        (sh, sw), (dh, dw) = self.src_hw, self.dst_hw
        return f"{self.method} {sw}x{sh}->{dw}x{dh} (x{self.factor:.3g})"


@dataclass(frozen=True)
class Provenance:
    """What made a result. Empty strings / None mean "not applicable" or "not known"."""

    model: str
    weights: str = ""                  # file name of the weights ("" for baselines)
    sha256: str = ""                   # first 12 hex digits of the weights file
    native_scale: str = ""             # "x4", "any" (arbitrary-scale / interpolation)
    resample: Resample | None = None   # a resize after the model, if any
    precision: str = ""
    device: str = ""
    lr_source: str = ""                # "input", "MATLAB bicubic x4 of the input", ...
    reference: str = ""                # "" (none), "the input (degrade)", "HR file hr.png"
    color: str = ""                    # "Y (BT.601)" or "RGB" when measured
    shave: int | None = None           # border pixels left out of the metrics
    method: str = ""                   # the algorithm's own settings, "LAM gauss 16 steps";
    #                                    in note(), not in FIELDS (export columns unchanged)

    @property
    def resampled(self) -> bool:
        """True when the output was resized after the model: not the model's own result at
        this scale, so it is marked everywhere and can be left out of a "best"."""
        return self.resample is not None

    def with_(self, **changes: Any) -> "Provenance":
        return dataclasses.replace(self, **changes)

    def note(self) -> str:
        """One line: ``native x3, resampled bicubic 384x384->512x512 (x1.33) · fp32 cpu · ...``."""
        parts = []
        scale = f"native {self.native_scale}" if self.native_scale else ""
        if self.resample is not None:
            scale = f"{scale}, RESAMPLED {self.resample.text()}".lstrip(", ")
        if scale:
            parts.append(scale)
        if self.weights:
            parts.append(f"{self.weights} {self.sha256}".strip())
        run = " ".join(p for p in (self.precision, self.device) if p)
        if run:
            parts.append(run)
        if self.lr_source:
            parts.append(f"LR: {self.lr_source}")
        if self.reference:
            parts.append(f"vs {self.reference}")
        measured = ", ".join(p for p in (self.color, "" if self.shave is None
                                         else f"shave {self.shave}") if p)
        if measured:
            parts.append(measured)
        if self.method:
            parts.append(self.method)
        return " · ".join(parts)

    def row(self) -> dict[str, str]:
        """The export columns (:data:`FIELDS`) as strings."""
        return {"model": self.model, "weights": self.weights, "weights_sha256": self.sha256,
                "native_scale": self.native_scale,
                "resampled": self.resample.text() if self.resample else "",
                "precision": self.precision, "device": self.device,
                "lr_source": self.lr_source, "reference": self.reference, "color": self.color,
                "shave": "" if self.shave is None else str(self.shave)}


def weights_digest(path: str | Path | None) -> str:
    """The first 12 hex digits of the SHA-256 of a weights file ("" for None or no file)."""
    if path is None:
        return ""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return ""
    return _digest(str(p.resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=256)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    """Cached per (path, size, mtime): a weights file is hashed once per change."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]
