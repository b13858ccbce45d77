"""Small types shared by the array-file readers: what a file holds and where an array came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod

import numpy as np

from ..errors import InputError

__all__ = ["VariableInfo", "ArraySource", "pick_variable", "usable_dtype", "shape_usable"]


@dataclass(frozen=True)
class VariableInfo:
    """One array a file offers.

    ``name``: what to pass as ``var`` (``"H"``, ``"grp/H"`` in HDF5, ``"csi.csi"`` for a field
    of a MATLAB struct held in cells); ``shape``: the array it gives (cells stacked in front,
    MATLAB order for .mat); ``dtype``: numpy dtype name; ``usable``: real or complex numbers
    with 2 to 4 dimensions; ``note``: e.g. ``"26 cells stacked"`` or why it is not usable.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    usable: bool = True
    note: str = ""

    @property
    def size(self) -> int:
        return prod(self.shape) if self.shape else 0

    def describe(self) -> str:
        dims = "x".join(str(s) for s in self.shape) or "scalar"
        text = f"{self.name} ({dims} {self.dtype})"
        return f"{text}, {self.note}" if self.note else text


@dataclass(frozen=True, eq=False)
class ArraySource:
    """Where a channel array came from, so it can be written back the same way.

    ``fmt``: ``npy``, ``npz``, ``mat`` (``details["version"]``: ``"4"``, ``"5"`` or ``"7.3"``)
    or ``h5``; ``var``: the variable/dataset/key (None for .npy); ``path``: the resolved source
    file; ``details``: format specifics (compression, cell structure, HDF5 dataset attributes).
    """

    fmt: str
    var: str | None
    path: str
    details: dict = field(default_factory=dict)


def usable_dtype(dtype: np.dtype) -> bool:
    return dtype.names is None and dtype.kind in "biufc"


def shape_usable(shape: tuple[int, ...]) -> bool:
    """2 to 4 dimensions, nothing empty, and at least two axes of 2 or more (H and W)."""
    return 2 <= len(shape) <= 4 and 0 not in shape and sum(int(s) >= 2 for s in shape) >= 2


def pick_variable(infos: list[VariableInfo], var: str | None, filename: str) -> VariableInfo:
    """The variable called ``var``, or (``var`` None) the largest usable one.

    Raises InputError naming what the file holds when ``var`` is unknown or nothing is usable.
    """
    listing = "; ".join(i.describe() for i in infos) or "nothing"
    if var is not None:
        for info in infos:
            if info.name == var:
                if not info.usable:
                    raise InputError(f"{var!r} in {filename} cannot be channel data: "
                                     f"{info.note or info.dtype}")
                return info
        raise InputError(f"{filename} has no variable {var!r}; it holds: {listing}")
    usable = [i for i in infos if i.usable]
    if not usable:
        raise InputError(f"{filename} has no numeric array of 2 to 4 dimensions to open as "
                         f"channel data; it holds: {listing}")
    return max(usable, key=lambda i: (i.size, "." not in i.name))  # ties: plain variables
