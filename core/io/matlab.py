"""MATLAB ``.mat`` files: v4/v5/v7 through scipy, v7.3 (HDF5) through :mod:`.hdf5`.

Arrays come back in MATLAB's own axis order (``size(A)`` in MATLAB == ``shape`` here) and
dtype (``mat_dtype``: a double array stored compactly as integers is still float64).

Variables may be *paths* into cells and structs, as CSI tools export them: ``csi_scaled``
(a 26 x 1 cell of 2 x 3 x 30 complex arrays) opens as one 26 x 2 x 3 x 30 array (non-singleton
cell dimensions in front); ``csi.csi`` takes the field ``csi`` of the struct in every cell.
Writing back rebuilds the same cells and structs around the new arrays and keeps every other
variable; a plain cell may change its length (e.g. SR along the cell axis), a struct may not.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import FileFormatError, InputError
from ._arrayfile import VariableInfo, shape_usable, usable_dtype
from .hdf5 import is_hdf5, list_h5, read_h5, write_h5

__all__ = ["mat_version", "list_mat", "read_mat", "write_mat"]

_PEEK_VALUES = 2**22  # listing reads numeric variables up to this size to tell complex from real
_NUMERIC_CLASSES = {
    "double": "float64", "single": "float32", "int8": "int8", "uint8": "uint8",
    "int16": "int16", "uint16": "uint16", "int32": "int32", "uint32": "uint32",
    "int64": "int64", "uint64": "uint64", "logical": "bool",
}


def mat_version(path: Path) -> str:
    """``"4"``, ``"5"`` (v5/v6/v7) or ``"7.3"``; FileFormatError if it is no MAT-file."""
    with open(path, "rb") as fh:
        head = fh.read(128)
    if head.startswith(b"MATLAB 7.3") or is_hdf5(path):
        if not is_hdf5(path):
            raise FileFormatError(f"{path.name} says it is a MATLAB v7.3 file but has no valid "
                                  "HDF5 structure (damaged or truncated)")
        return "7.3"
    from scipy.io.matlab import matfile_version  # lazy: scipy.io (~200 ms), .mat only

    try:
        major, _ = matfile_version(str(path))
    except Exception as exc:  # scipy raises several types for foreign files
        raise FileFormatError(f"{path.name} is not a MATLAB .mat file ({exc})") from exc
    return {0: "4", 1: "5", 2: "7.3"}.get(major, "5")


def _compressed_v5(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(136)
    if len(head) < 136:
        return False
    order = "<" if head[126:128] == b"IM" else ">"
    return int(np.frombuffer(head[128:132], dtype=order + "u4")[0]) == 15  # miCOMPRESSED


def _loadmat(path: Path, names: list[str] | None = None, numeric: bool = False) -> dict:
    """Variables with their MATLAB classes and complex values kept. ``numeric``: the names are
    plain numeric arrays, so one read with the stored types (then cast to the class) does."""
    from scipy.io import loadmat  # lazy: scipy.io (~200 ms), .mat only

    kw = dict(variable_names=names, squeeze_me=False, struct_as_record=True)
    try:
        if numeric:
            classes = {w[0]: w[2] for w in _whos(path)}
            raw = loadmat(str(path), mat_dtype=False, **kw)
            return {k: v if k.startswith("__") else _as_class(v, classes.get(k))
                    for k, v in raw.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
            typed = loadmat(str(path), mat_dtype=True, **kw)
        raw = loadmat(str(path), mat_dtype=False, **kw)
        return {k: (v if k.startswith("__") else _combine(v, raw[k])) for k, v in typed.items()}
    except MemoryError:
        raise
    except Exception as exc:
        raise FileFormatError(f"{path.name} could not be read as a MATLAB file ({exc})") from exc


def _as_class(arr: np.ndarray, cls: str | None) -> np.ndarray:
    """A numeric array in its MATLAB class (MATLAB may store a double array as integers)."""
    want = np.dtype(_NUMERIC_CLASSES.get(cls or "", arr.dtype.name))
    if arr.dtype.kind == "c":
        return arr.astype(np.complex64 if want == np.float32 else np.complex128)
    return arr.astype(want) if arr.dtype != want else arr


# --- cells and structs -----------------------------------------------------------------------

def _is_struct(obj: object) -> bool:
    return isinstance(obj, np.ndarray) and obj.dtype.names is not None


def _is_cell(obj: object) -> bool:
    return isinstance(obj, np.ndarray) and obj.dtype == object


def _gather(obj: object, fields: list[str], where: str) -> tuple[tuple[int, ...], list]:
    """``(cell_dims, leaves)``: non-singleton cell/struct-array dims and numeric leaves."""
    if _is_struct(obj):
        if not fields:
            names = ", ".join(f"{where}.{n}" for n in obj.dtype.names)
            raise InputError(f"{where} is a struct; choose one of its fields: {names}")
        if fields[0] not in obj.dtype.names:
            raise InputError(f"{where} has no field {fields[0]!r}; fields: "
                             f"{', '.join(obj.dtype.names)}")
        return _gather_over(obj[fields[0]], obj.shape, fields[1:], f"{where}.{fields[0]}")
    if _is_cell(obj):
        return _gather_over(obj, obj.shape, fields, where)
    arr = np.asarray(obj)
    if fields:
        raise InputError(f"{where} is an array, it has no field {fields[0]!r}")
    if not usable_dtype(arr.dtype) or arr.dtype.kind == "U":
        raise InputError(f"{where} holds {arr.dtype} values, not numbers")
    return (), [arr]


def _gather_over(items: np.ndarray, dims: tuple[int, ...], fields: list[str],
                 where: str) -> tuple[tuple[int, ...], list]:
    if items.size == 0:
        raise InputError(f"{where} is empty")
    inner: tuple[int, ...] | None = None
    leaves: list = []
    for item in items.flat:
        d, got = _gather(item, fields, where)
        if inner is not None and d != inner:
            raise InputError(f"the elements of {where} differ in structure")
        inner = d
        leaves.extend(got)
    return tuple(s for s in dims if s != 1) + (inner or ()), leaves


def _stack(leaves: list, where: str, cell_dims: tuple[int, ...]
           ) -> tuple[np.ndarray, list[tuple[int, ...]] | None]:
    """Leaves stacked behind the cell dims; ragged leaves (same ndim) are padded at the end
    with NaN (0 for integers) and their own shapes returned, else ``None``."""
    shapes = [leaf.shape for leaf in leaves]
    if len({len(sh) for sh in shapes}) > 1:
        raise InputError(f"the cells of {where} hold arrays with different numbers of "
                         "dimensions; they cannot be stacked into one array")
    if not cell_dims:
        return leaves[0], None
    dtype = np.result_type(*{leaf.dtype for leaf in leaves})
    top = tuple(max(dim) for dim in zip(*shapes))
    ragged = any(sh != top for sh in shapes)
    if ragged and dtype.kind not in "fc":
        fill = 0
    else:
        fill = np.nan
    out = np.full((len(leaves),) + top, fill if ragged else 0, dtype=dtype)
    for i, leaf in enumerate(leaves):
        out[(i,) + tuple(slice(0, n) for n in leaf.shape)] = leaf
    return out.reshape(cell_dims + top), (shapes if ragged else None)


def _combine(typed: object, raw: object) -> object:
    """Merge ``loadmat(mat_dtype=True)`` (MATLAB classes, but complex lost: a scipy quirk)
    with ``mat_dtype=False`` (complex kept) into MATLAB classes with complex values."""
    if _is_struct(typed):
        out = typed.copy()
        for name in typed.dtype.names:
            view = out[name]
            for i in range(typed.size):
                view.flat[i] = _combine(typed[name].flat[i], raw[name].flat[i])
        return out
    if _is_cell(typed):
        out = np.empty(typed.shape, dtype=object)
        for i in range(typed.size):
            out.flat[i] = _combine(typed.flat[i], raw.flat[i])
        return out
    if isinstance(raw, np.ndarray) and raw.dtype.kind == "c" and typed.dtype.kind != "c":
        return raw.astype(np.complex64 if typed.dtype == np.float32 else np.complex128)
    return typed


def _rebuild(obj: object, fields: list[str], leaves: Iterator[np.ndarray]) -> object:
    """``obj`` with the same cells/structs and its numeric leaves taken from ``leaves``."""
    if _is_struct(obj):
        new = obj.copy()
        new[fields[0]] = _rebuild_over(obj[fields[0]], fields[1:], leaves)
        return new
    if _is_cell(obj):
        return _rebuild_over(obj, fields, leaves)
    return next(leaves)


def _rebuild_over(items: np.ndarray, fields: list[str], leaves: Iterator) -> np.ndarray:
    out = np.empty(items.shape, dtype=object)
    for i, item in enumerate(items.flat):
        out.flat[i] = _rebuild(item, fields, leaves)
    return out


def _crop(part: np.ndarray, own: tuple[int, ...], top: tuple[int, ...], where: str) -> np.ndarray:
    """A padded leaf cut back to its own size (axes that kept their padded size)."""
    cut = []
    for new, mine, big in zip(part.shape, own, top):
        if new == big:
            cut.append(slice(0, mine))
        elif mine == big:
            cut.append(slice(None))
        else:
            raise InputError(f"the cells of {where} have different sizes along an axis whose "
                             "size changed; choose H and W among the axes all cells share")
    return part[tuple(cut)]


def _replace(obj: object, fields: list[str], array: np.ndarray, where: str,
             shapes: list | None = None) -> object:
    """The variable ``obj`` with the array at path ``fields`` replaced by ``array``.

    ``shapes``: the cells' own shapes when they were padded to stack (ragged cells).
    """
    cell_dims, old = _gather(obj, fields, where)
    new_cells = tuple(array.shape[:len(cell_dims)])
    leaf_shape = tuple(array.shape[len(cell_dims):])
    if len(leaf_shape) != old[0].ndim:
        raise InputError(f"the new array {array.shape} does not fit the cells of {where}")
    parts = iter(array.reshape((-1,) + leaf_shape))
    if new_cells == cell_dims:
        if shapes:
            top = tuple(max(d) for d in zip(*[tuple(sh) for sh in shapes]))
            parts = iter([_crop(p, tuple(sh), top, where) for p, sh in zip(parts, shapes)])
        return _rebuild(obj, fields, parts)
    if shapes is None and _is_cell(obj) and not fields and all(
            not _is_cell(e) and not _is_struct(e) for e in obj.flat):
        dims = iter(new_cells)
        shape = tuple(next(dims) if s != 1 else 1 for s in obj.shape)
        out = np.empty(shape, dtype=object)
        for i in range(out.size):
            out.flat[i] = next(parts)
        return out
    raise InputError(f"the cells/structs of {where} ({'x'.join(map(str, cell_dims))}) cannot "
                     f"change their number to {'x'.join(map(str, new_cells))}; choose H and W "
                     "inside the arrays, or save as .npy / .npz")


# --- the public functions --------------------------------------------------------------------

def list_mat(path: Path) -> list[VariableInfo]:
    """The arrays a .mat file offers, including stackable paths into cells and structs."""
    version = mat_version(path)
    if version == "7.3":
        return list_h5(path, matlab=True)
    whos = _whos(path)
    small = [w[0] for w in whos if w[2] in _NUMERIC_CLASSES and np.prod(w[1]) <= _PEEK_VALUES]
    # whosmat cannot tell complex from real: small numeric variables are read to find out
    peek = _loadmat(path, small, numeric=True) if small else {}
    infos: list[VariableInfo] = []
    for name, shape, cls in whos:
        shape = tuple(int(s) for s in shape)
        if cls in _NUMERIC_CLASSES:
            ok = shape_usable(shape)
            dtype = peek[name].dtype.name if name in peek else _NUMERIC_CLASSES[cls]
            infos.append(VariableInfo(name, shape, dtype, ok, "" if ok else "not an H x W array"))
        elif cls in ("cell", "struct"):
            infos.extend(_explore(name, _loadmat(path, [name]).get(name)))
        else:
            infos.append(VariableInfo(name, shape, cls, False, f"a MATLAB {cls}, not numbers"))
    return infos


def _whos(path: Path) -> list:
    from scipy.io import whosmat  # lazy: scipy.io (~200 ms), .mat only

    try:
        return whosmat(str(path))
    except Exception as exc:
        raise FileFormatError(f"{path.name} could not be read as a MATLAB file ({exc})") from exc


def _explore(name: str, obj: object) -> list[VariableInfo]:
    """The variable itself if it stacks into one array, else its stackable struct fields."""
    def info(path: str, fields: list[str]) -> VariableInfo:
        dims, leaves = _gather(obj, fields, name)
        arr, shapes = _stack(leaves, path, dims)
        ok = shape_usable(arr.shape)
        note = (f"{len(leaves)} cells stacked" if dims else "") if ok else "not an H x W array"
        if ok and shapes:
            note += f", sizes differ: padded with {'NaN' if arr.dtype.kind in 'fc' else 0}"
        return VariableInfo(path, arr.shape, arr.dtype.name, ok, note)

    try:
        return [info(name, [])]
    except InputError as exc:
        first = obj.flat[0] if _is_cell(obj) and obj.size else obj
        if not _is_struct(first):
            kind = "cell" if _is_cell(obj) else "struct"
            return [VariableInfo(name, tuple(np.shape(obj)), kind, False, str(exc))]
    out: list[VariableInfo] = []
    for field in first.dtype.names:
        try:
            out.append(info(f"{name}.{field}", [field]))
        except InputError as err:
            out.append(VariableInfo(f"{name}.{field}", (), "field", False, str(err)))
    return out


def read_mat(path: Path, var: str) -> tuple[np.ndarray, dict]:
    """The array at ``var`` (a name or a ``name.field`` path) and its write-back details."""
    version = mat_version(path)
    if version == "7.3":
        arr, details = read_h5(path, var, matlab=True)
        details["version"] = "7.3"
        return arr, details
    top, *fields = var.split(".")
    classes = {w[0]: w[2] for w in _whos(path)}
    data = _loadmat(path, [top], classes.get(top) in _NUMERIC_CLASSES)
    if top not in data:
        names = ", ".join(w[0] for w in _whos(path)) or "no variables"
        raise InputError(f"{path.name} has no variable {top!r}; it holds: {names}")
    dims, leaves = _gather(data[top], fields, top)
    arr, shapes = _stack(leaves, var, dims)
    details = {"version": version, "compressed": version == "5" and _compressed_v5(path),
               "cells": bool(dims) or bool(fields), "cell_shapes": shapes}
    return arr, details


def write_mat(tmp: Path, array: np.ndarray, var: str, *, details: dict,
              source: Path | None) -> None:
    """Write ``array`` as ``var`` into ``tmp`` in the version of ``details``.

    With ``source`` (the MAT-file it was read from) every other variable is copied and cells
    and structs around ``var`` are rebuilt; without it the file holds ``var`` alone (as a valid
    MATLAB name: ``a.b`` or ``grp/a`` become ``a_b`` / ``grp_a``).
    """
    version = details.get("version", "5")
    if version == "7.3":
        write_h5(tmp, array, var, matlab=True, source=source, details=details)
        return
    from scipy.io import savemat  # lazy: scipy.io (~200 ms), .mat only

    top, *fields = var.split(".")
    if source is not None:
        plain = all(w[2] in _NUMERIC_CLASSES for w in _whos(source))
        mdict = {k: v for k, v in _loadmat(source, None, plain).items() if not k.startswith("__")}
        if top in mdict and (details.get("cells") or fields):
            mdict[top] = _replace(mdict[top], fields, array, var, details.get("cell_shapes"))
        else:
            mdict[top] = array
    else:  # a MATLAB name: letters, digits and underscores, starting with a letter
        name = re.sub(r"\W", "_", var)
        mdict = {name if name[:1].isalpha() else f"v_{name}": array}
    try:
        with open(tmp, "wb") as fh:
            savemat(fh, mdict, format="4" if version == "4" else "5",
                    do_compression=bool(details.get("compressed")), oned_as="column",
                    long_field_names=True)
    except ValueError as exc:
        raise InputError(f"cannot write {var!r} as MATLAB v{version}: {exc}") from exc
