"""NumPy ``.npy`` arrays as image data.

A 2-D array is one gray channel (``meta["squeeze"] = True`` so it saves back 2-D); a 3-D array
is ``H x W x C``. Integer arrays work in [0, 1] of their type's full range
(:meth:`Units.for_dtype`), float arrays keep their raw values (identity units). Complex arrays
are channel data and belong to the channel loader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import ImageData, Units
from ..errors import FileFormatError, InputError
from ._common import (
    check_not_empty,
    check_output,
    check_working_size,
    detect_kind,
    resolve_kind,
    source_meta,
)
from .atomic import atomic_path

__all__ = ["ARRAY_EXTENSIONS", "load_npy", "save_npy"]

ARRAY_EXTENSIONS: tuple[str, ...] = (".npy",)


def load_npy(path: Path, kind: str | None = None) -> ImageData:
    """Load a ``.npy`` file (the path is already known to exist) as :class:`ImageData`."""
    try:
        # Memory-map first: shape and dtype are known before anything large is read.
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)
    except MemoryError:
        raise
    except Exception as exc:
        reason = str(exc).split(".")[0] or type(exc).__name__
        if "pickle" in reason or "Python objects" in reason:
            reason = "it holds Python objects, not numbers"
        raise FileFormatError(f"{path.name} is not a readable .npy array ({reason})") from exc
    if not isinstance(mapped, np.ndarray):  # pragma: no cover - np.load of .npz
        raise FileFormatError(f"{path.name} is not a single .npy array")
    dt = mapped.dtype
    if dt.kind == "c":
        raise InputError("complex arrays are channel data; open them as channel data")
    if dt.names is not None or dt.kind not in "biuf":
        raise InputError(f"{path.name} holds {dt} values; expected real numbers")
    if mapped.ndim not in (2, 3):
        raise InputError(
            f"{path.name} has shape {mapped.shape}; expected H x W or H x W x C"
        )
    check_not_empty(path, mapped.shape)
    squeeze = mapped.ndim == 2
    h, w = mapped.shape[:2]
    c = 1 if squeeze else mapped.shape[2]
    check_working_size(path, h, w, c)
    try:
        raw = np.array(mapped)
    except (OSError, ValueError) as exc:
        raise FileFormatError(f"{path.name} could not be read ({exc})") from exc
    finally:
        del mapped
    if squeeze:
        raw = raw[:, :, None]

    units = Units.for_dtype(raw.dtype)
    kind = resolve_kind(c, kind, path, detect_kind(c))
    meta = source_meta(path, ".npy")
    if squeeze:
        meta["squeeze"] = True
    return ImageData(units.to_working(raw), kind, units, None, source=path.resolve(), meta=meta)


def save_npy(
    data: ImageData,
    path: Path,
    *,
    overwrite: bool = False,
    bit_depth: int | None = None,
    allow_input_overwrite: bool = False,
) -> Path:
    """Write the file values of ``data`` as ``.npy`` (atomically).

    The dtype is the one recorded in ``data.units`` (``bit_depth`` 8/16 forces uint8/uint16);
    a 2-D input is written 2-D again. An alpha channel, if any, is appended as the last channel
    (``.npy`` has no separate alpha).
    """
    if bit_depth is not None:
        if bit_depth not in (8, 16):
            raise InputError(f"bit_depth must be 8 or 16, got {bit_depth!r}")
        units = Units.for_dtype(np.uint8 if bit_depth == 8 else np.uint16)
    else:
        units = data.units
    check_output(path, data, overwrite=overwrite, allow_input_overwrite=allow_input_overwrite)
    values = units.to_file(data.pixels)
    if data.alpha is not None:
        a_units = units if len(units.lo) == 1 and len(units.hi) == 1 else Units.for_dtype(
            units.dtype)
        values = np.concatenate([values, a_units.to_file(data.alpha[:, :, None])], axis=2)
    elif data.meta.get("squeeze") and values.shape[2] == 1:
        values = values[:, :, 0]
    try:
        with atomic_path(path, overwrite=overwrite) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, np.ascontiguousarray(values), allow_pickle=False)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
