"""HDF5 arrays: plain ``.h5/.hdf5`` datasets and MATLAB v7.3 ``.mat`` variables (via h5py).

MATLAB v7.3 files are HDF5 files with a 512-byte user block (the MAT header) and column-major
storage: an ``a x b x c`` MATLAB array is an HDF5 dataset of shape ``(c, b, a)``. Arrays are
returned in MATLAB's own order (``a x b x c``) and written back the same way; complex MATLAB
data is a compound of ``real`` and ``imag``; each dataset carries a ``MATLAB_class`` attribute.
Struct fields are groups (``s/field``, also written ``s.field``). A cell array (a dataset of
object references into ``#refs#``) whose cells are numeric arrays of one shape is read as one
stacked array, non-singleton cell dimensions in front (as v5 cells, :mod:`.matlab`), and
written back into the same cells; other cells are refused with a message that says how to
extract them in MATLAB.

Writing back into an existing file copies it and replaces the one dataset, keeping every other
object, the attributes, the compression and the MAT header. HDF5 does not reclaim the old
dataset's space, so such a copy can be larger than the original.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from ..errors import FileFormatError, InputError
from ._arrayfile import VariableInfo, shape_usable, usable_dtype

__all__ = ["list_h5", "read_h5", "write_h5", "is_hdf5", "MAT73_HEADER_BYTES"]

MAT73_HEADER_BYTES = 128
_MATLAB_CLASSES = {
    "float64": "double", "float32": "single", "int8": "int8", "uint8": "uint8",
    "int16": "int16", "uint16": "uint16", "int32": "int32", "uint32": "uint32",
    "int64": "int64", "uint64": "uint64", "bool": "logical",
    "complex128": "double", "complex64": "single",
}
_SKIP = ("#refs#", "#subsystem#")


def _h5py():
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - h5py is a dependency
        raise FileFormatError("reading HDF5 / MATLAB v7.3 files needs h5py") from exc
    return h5py


def is_hdf5(path: Path) -> bool:
    try:
        return bool(_h5py().is_hdf5(str(path)))
    except (OSError, ValueError):
        return False


def _open(path: Path, mode: str = "r"):
    h5py = _h5py()
    try:
        return h5py.File(str(path), mode)
    except OSError as exc:
        raise FileFormatError(f"{path.name} is not a readable HDF5 file ({exc})") from exc


def _attr_text(obj, name: str) -> str:
    value = obj.attrs.get(name)
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(-1)[0]
        return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    return str(value)


def _complex_fields(dtype: np.dtype) -> tuple[str, str] | None:
    names = dtype.names or ()
    for pair in (("real", "imag"), ("r", "i"), ("re", "im")):
        if len(names) == 2 and tuple(n.lower() for n in names) == pair:
            return names[0], names[1]
    return None


def _logical_dtype(dset, matlab: bool) -> np.dtype:
    dt = dset.dtype
    fields = _complex_fields(dt)
    if fields is not None:
        base = np.result_type(dt[fields[0]], dt[fields[1]], np.float32)
        return np.dtype(np.complex128 if base == np.float64 else np.complex64)
    if matlab and _attr_text(dset, "MATLAB_class") == "logical":
        return np.dtype(bool)
    return dt


def _info(name: str, dset, matlab: bool) -> VariableInfo:
    shape = tuple(int(s) for s in dset.shape)
    if matlab:
        shape = shape[::-1]
    cls = _attr_text(dset, "MATLAB_class") if matlab else ""
    dt = _logical_dtype(dset, matlab)
    if dset.attrs.get("MATLAB_empty") is not None and np.any(dset.attrs.get("MATLAB_empty")):
        return VariableInfo(name, (0,), cls or dt.name, False, "empty")
    if cls == "cell" and matlab:
        leaf = _cell_leaf(dset)
        if leaf is None:
            return VariableInfo(name, shape, cls, False, _cell_note(name, shape, dset))
        dims = tuple(n for n in shape if n != 1)
        full = dims + leaf[0]
        if not usable_dtype(leaf[1]) or not shape_usable(full):
            return VariableInfo(name, full, leaf[1].name, False, "not an H x W array")
        n = int(np.prod(shape))
        return VariableInfo(name, full, leaf[1].name, True,
                            f"{n} cell{'s' if n != 1 else ''} stacked")
    if cls in ("cell", "char", "function_handle") or dt.kind == "O":
        what = {"char": "text"}.get(cls, f"a v7.3 {cls or 'reference'} array (not supported)")
        return VariableInfo(name, shape, cls or dt.name, False, what)
    if not usable_dtype(dt):
        return VariableInfo(name, shape, str(dt), False, "not numbers")
    if not shape_usable(shape):
        return VariableInfo(name, shape, dt.name, False, "not an H x W array (2 to 4 dimensions)")
    return VariableInfo(name, shape, dt.name)


def _cell_leaf(dset) -> tuple[tuple[int, ...], np.dtype] | None:
    """The MATLAB shape and dtype every cell of ``dset`` shares, or None (ragged, nested,
    empty, text, unreadable references)."""
    import h5py

    try:
        refs = dset[()].ravel()
        found = set()
        for r in refs:
            leaf = dset.file[r]
            if not isinstance(leaf, h5py.Dataset) or _attr_text(leaf, "MATLAB_class") in (
                    "cell", "char", "struct", "function_handle") or leaf.dtype.kind == "O" \
                    or leaf.attrs.get("MATLAB_empty") is not None:
                return None
            found.add((tuple(int(n) for n in leaf.shape[::-1]), _logical_dtype(leaf, True)))
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return found.pop() if len(found) == 1 else None


def _cell_refs(dset) -> np.ndarray:
    """The references in MATLAB order, flattened C-order: the order of the stacked cells."""
    return np.ascontiguousarray(dset[()].T).reshape(-1)


def _read_cell(dset, var: str) -> tuple[np.ndarray, dict]:
    cell_shape = tuple(int(n) for n in dset.shape[::-1])
    leaves = [_read_values(dset.file[r], True) for r in _cell_refs(dset)]
    dims = tuple(n for n in cell_shape if n != 1)
    arr = np.stack(leaves).reshape(dims + leaves[0].shape)
    first = dset.file[_cell_refs(dset)[0]]
    return arr, {"attrs": dict(dset.attrs), "cell": {"dims": dims, "file_dtype": first.dtype}}


def _write_cell(f, key: str, array: np.ndarray, cell: dict, var: str) -> None:
    """Replace the arrays of the cell ``key`` (same number of cells) by ``array``'s parts."""
    import h5py

    dims = tuple(cell["dims"])
    if tuple(array.shape[:len(dims)]) != dims:
        raise InputError(f"the {'x'.join(map(str, dims))} cells of {var} cannot change their "
                         f"number to {'x'.join(map(str, array.shape[:len(dims)]))}; choose H and "
                         "W among the axes the cells hold")
    dset = f[key]
    refs, attrs, h5_shape = _cell_refs(dset), dict(dset.attrs), dset.shape
    parts = array.reshape((-1,) + array.shape[len(dims):])
    new_refs = np.empty(len(refs), dtype=h5py.ref_dtype)
    cls = _MATLAB_CLASSES.get(array.dtype.name)
    if cls is None:
        raise InputError(f"MATLAB has no class for {array.dtype} data")
    for k, (ref, part) in enumerate(zip(refs, parts)):
        old = f[ref]
        path, old_attrs = old.name, dict(old.attrs)
        del f[path]
        leaf = f.create_dataset(path, data=_file_array(part, True, cell["file_dtype"]))
        for a, v in old_attrs.items():
            leaf.attrs[a] = v
        leaf.attrs["MATLAB_class"] = np.bytes_(cls)
        new_refs[k] = leaf.ref
    del f[key]
    matlab_shape = tuple(h5_shape[::-1])
    out = f.create_dataset(key, data=np.ascontiguousarray(new_refs.reshape(matlab_shape).T),
                           dtype=h5py.ref_dtype)
    for a, v in attrs.items():
        out.attrs[a] = v


def _cell_note(name: str, shape: tuple[int, ...], dset) -> str:
    """Why a v7.3 cell is not read, what it holds, and the MATLAB lines that make it readable."""
    held = ""
    try:
        refs = dset[()].ravel()
        first = dset.file[refs[0]] if refs.size else None
        if first is not None and hasattr(first, "shape"):
            cls = _attr_text(first, "MATLAB_class") or str(first.dtype)
            held = f" of {'x'.join(str(n) for n in first.shape[::-1])} {cls} arrays"
    except (OSError, ValueError, TypeError, KeyError):  # a reference h5py cannot follow
        pass
    cells = "x".join(str(n) for n in shape)
    var = name.split(".")[-1]
    return (f"a MATLAB v7.3 cell array ({cells} cells{held}), which is not read from v7.3 "
            f"files (not supported); in MATLAB either stack it, A = cat(ndims({var}{{1}}) + 1, {var}{{:}}); "
            f"save('{var}_stacked.mat', 'A', '-v7.3'), or save it as v7 (save(F, '{var}', "
            f"'-v7')), whose cells open as one stacked array")


def list_h5(path: Path, matlab: bool = False) -> list[VariableInfo]:
    """Every dataset in the file (recursively), with the shape it will have when read."""
    h5py = _h5py()
    infos: list[VariableInfo] = []
    with _open(path) as f:
        def visit(name: str, obj) -> None:
            if any(part in _SKIP for part in name.split("/")):
                return
            if isinstance(obj, h5py.Dataset):
                infos.append(_info(name.replace("/", ".") if matlab else name, obj, matlab))
        f.visititems(visit)
    return infos


def _key(var: str, matlab: bool) -> str:
    return var.replace(".", "/") if matlab else var


def _read_values(obj, matlab: bool) -> np.ndarray:
    """A dataset's values as numpy: complex compounds joined, logical as bool, MATLAB order."""
    try:
        raw = obj[()]
    except (OSError, ValueError) as exc:
        raise FileFormatError(f"{obj.name} could not be read ({exc})") from exc
    cdt = _logical_dtype(obj, matlab)
    fields = _complex_fields(raw.dtype)
    if fields is not None:
        arr = np.empty(raw.shape, dtype=cdt)
        arr.real, arr.imag = raw[fields[0]], raw[fields[1]]
        raw = arr
    elif cdt == np.dtype(bool):
        raw = raw.astype(bool)
    return raw.T if matlab else raw


def read_h5(path: Path, var: str, matlab: bool = False) -> tuple[np.ndarray, dict]:
    """The dataset ``var`` as numpy (MATLAB order for v7.3) and its write-back details."""
    h5py = _h5py()
    with _open(path) as f:
        obj = f.get(_key(var, matlab))
        if not isinstance(obj, h5py.Dataset):
            raise InputError(f"{path.name} has no dataset {var!r}")
        info = _info(var, obj, matlab)
        if not info.usable:
            raise InputError(f"{var!r} in {path.name} cannot be channel data: {info.note}")
        if matlab and _attr_text(obj, "MATLAB_class") == "cell":
            return _read_cell(obj, var)
        details = {
            "attrs": {k: v for k, v in obj.attrs.items() if k != "MATLAB_empty"},
            "compression": obj.compression, "compression_opts": obj.compression_opts,
            "shuffle": bool(obj.shuffle), "file_dtype": obj.dtype,
        }
        return _read_values(obj, matlab), details


def _file_array(array: np.ndarray, matlab: bool, file_dtype: np.dtype | None) -> np.ndarray:
    """The array as stored: transposed for MATLAB, complex as a real/imag compound."""
    a = np.ascontiguousarray(array.T) if matlab else np.ascontiguousarray(array)
    if a.dtype.kind == "c":
        fields = _complex_fields(file_dtype) if file_dtype is not None else None
        names = fields or (("real", "imag") if matlab else ("r", "i"))
        part = np.float64 if a.dtype == np.complex128 else np.float32
        out = np.empty(a.shape, dtype=[(names[0], part), (names[1], part)])
        out[names[0]], out[names[1]] = a.real, a.imag
        return out
    if a.dtype == bool and matlab:
        return a.astype(np.uint8)
    return a


def _mat73_header() -> bytes:
    text = (f"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: "
            f"{time.strftime('%a %b %d %H:%M:%S %Y')} HDF5 schema 1.00 .")
    return text.ljust(116).encode("ascii") + b"\x00" * 8 + b"\x00\x02IM"


def write_h5(tmp: Path, array: np.ndarray, var: str, *, matlab: bool = False,
             source: Path | None = None, details: dict | None = None) -> None:
    """Write ``array`` as dataset ``var`` into ``tmp`` (which the caller then moves in place).

    With ``source`` (an HDF5 file of the same kind) the file is copied and only ``var`` is
    replaced, keeping its attributes and compression; otherwise a new file holds ``var`` alone
    (with a MAT v7.3 header when ``matlab``).
    """
    h5py = _h5py()
    details = details or {}
    key = _key(var, matlab)
    if source is not None:
        shutil.copyfile(source, tmp)
        mode = "r+"
    else:
        mode = "w"
    kwargs = {"userblock_size": 512} if (matlab and source is None) else {}
    with h5py.File(str(tmp), mode, **kwargs) as f:
        if source is not None and details.get("cell") and key in f:
            _write_cell(f, key, array, details["cell"], var)
            return
        if key in f:
            del f[key]
        data = _file_array(array, matlab, details.get("file_dtype"))
        opts: dict = {}
        if details.get("compression"):
            opts = {"compression": details["compression"], "shuffle": details.get("shuffle"),
                    "compression_opts": details.get("compression_opts")}
        dset = f.create_dataset(key, data=data, **opts)
        attrs = details.get("attrs") or {}
        for k, v in attrs.items():
            dset.attrs[k] = v
        if matlab:
            cls = _MATLAB_CLASSES.get(array.dtype.name)
            if cls is None:
                raise InputError(f"MATLAB has no class for {array.dtype} data")
            dset.attrs["MATLAB_class"] = np.bytes_(cls)
            if cls == "logical":
                dset.attrs["MATLAB_int_decode"] = np.int32(1)
    if matlab and source is None:
        with open(tmp, "r+b") as fh:
            fh.write(_mat73_header())
