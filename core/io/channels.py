"""Channel-data files: ``.npy``, ``.npz``, MATLAB ``.mat`` (v4/v5/v7 and v7.3) and ``.h5``.

:func:`load_channels` reads one array (``var`` picks the ``.npz`` key, the MATLAB variable
or path, the HDF5 dataset; default: the largest usable one) and turns it into channel data
with :func:`core.channels.channels_from_array` (axes, complex split, normalisation).
:func:`save_channels` writes an :class:`ImageData` made from it (the input itself or an SR
result) in the format of the output's extension; to the same format as the input it keeps
the variable name, the other variables, the axis order, the dtype, the complex type, the MAT
version and the compression. Writes are atomic and never replace the input file.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from ..channels import array_from_channels, channel_meta, channels_from_array
from ..data import ImageData
from ..errors import FileFormatError, InputError, ResourceError
from ._arrayfile import ArraySource, VariableInfo, pick_variable, shape_usable, usable_dtype
from . import _common
from ._common import as_path, check_output, check_readable, source_meta
from .atomic import atomic_path
from .hdf5 import is_hdf5, list_h5, read_h5, write_h5
from .matlab import list_mat, mat_version, read_mat, write_mat

__all__ = [
    "CHANNEL_EXTENSIONS", "ArraySource", "VariableInfo", "list_variables", "read_array",
    "load_channels", "save_channels", "write_array", "array_source", "npy_is_channel_data",
]

#: Extensions channel files use (``.npy`` is shared with the plain array loader).
CHANNEL_EXTENSIONS: tuple[str, ...] = (".npy", ".npz", ".mat", ".h5", ".hdf5")
_FORMAT_OF = {".npy": "npy", ".npz": "npz", ".mat": "mat", ".h5": "h5", ".hdf5": "h5"}


def _ext(path: Path) -> str:
    ext = path.suffix.lower()
    if ext not in _FORMAT_OF:
        raise InputError(f"{path.name}: channel data is read from and saved to "
                         f"{' '.join(CHANNEL_EXTENSIONS)} files")
    return ext


def _npy_info(path: Path) -> VariableInfo:
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:
        raise FileFormatError(f"{path.name} is not a readable .npy array ({exc})") from exc
    ok = usable_dtype(arr.dtype) and shape_usable(arr.shape)
    info = VariableInfo(path.stem, tuple(arr.shape), str(arr.dtype), ok,
                        "" if ok else "not a 2-D to 4-D array of numbers")
    del arr
    return info


def _npz_infos(path: Path) -> list[VariableInfo]:
    infos = []
    try:
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                if not member.endswith(".npy"):
                    continue
                with zf.open(member) as fh:
                    version = np.lib.format.read_magic(fh)
                    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                            else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read(fh)
                ok = usable_dtype(dtype) and shape_usable(shape)
                infos.append(VariableInfo(member[:-4], tuple(shape), str(dtype), ok,
                                          "" if ok else "not a 2-D to 4-D array of numbers"))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileFormatError(f"{path.name} is not a readable .npz archive ({exc})") from exc
    return infos


def npy_is_channel_data(path: Path) -> bool:
    """Whether a ``.npy`` file is channel data rather than an image (complex or 4-D)."""
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception:  # the image loader reports unreadable files
        return False
    return isinstance(arr, np.ndarray) and (arr.dtype.kind == "c" or arr.ndim == 4)


def list_variables(path: str | os.PathLike[str]) -> list[VariableInfo]:
    """The arrays ``path`` offers (for a variable picker); ``usable`` marks channel candidates."""
    p = as_path(path)
    check_readable(p)
    ext = _ext(p)
    if ext == ".npy":
        return [_npy_info(p)]
    if ext == ".npz":
        return _npz_infos(p)
    if ext == ".mat":
        return list_mat(p)
    if not is_hdf5(p):
        raise FileFormatError(f"{p.name} is not a readable HDF5 file")
    return list_h5(p)


def _check_size(path: Path, info: VariableInfo) -> None:
    per = 8 if "complex" in info.dtype else 4
    need = info.size * per
    limit = _common.MAX_WORKING_BYTES  # read at call time (tests lower it)
    if need > limit:
        raise ResourceError(
            f"{info.name} in {path.name} ({'x'.join(map(str, info.shape))} {info.dtype}) would "
            f"need {need / 2**30:.1f} GiB as float32 working data (limit "
            f"{limit / 2**30:.1f} GiB); slice or crop it first")


def read_array(path: str | os.PathLike[str], var: str | None = None
               ) -> tuple[np.ndarray, ArraySource]:
    """The raw array (own dtype, MATLAB order for .mat) and where it came from."""
    p = as_path(path)
    check_readable(p)
    ext = _ext(p)
    src = str(p.resolve())
    if ext == ".mat" and var is not None and mat_version(p) != "7.3":
        arr, details = read_mat(p, var)  # paths into cells/structs need not be listed
        _check_size(p, VariableInfo(var, tuple(arr.shape), arr.dtype.name))
        return arr, ArraySource("mat", var, src, details)
    info = pick_variable(list_variables(p), var, p.name)
    _check_size(p, info)
    if ext == ".npy":
        try:
            arr = np.array(np.load(p, allow_pickle=False))
        except (OSError, ValueError) as exc:
            raise FileFormatError(f"{p.name} could not be read ({exc})") from exc
        return arr, ArraySource("npy", None, src)
    if ext == ".npz":
        try:
            with np.load(p, allow_pickle=False) as z:
                arr = np.array(z[info.name])
            with zipfile.ZipFile(p) as zf:
                packed = any(i.compress_type != zipfile.ZIP_STORED for i in zf.infolist())
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise FileFormatError(f"{info.name!r} in {p.name} could not be read ({exc})") from exc
        return arr, ArraySource("npz", info.name, src, {"compressed": packed})
    if ext == ".mat":
        arr, details = read_mat(p, info.name)
        return arr, ArraySource("mat", info.name, src, details)
    arr, details = read_h5(p, info.name)
    return arr, ArraySource("h5", info.name, src, details)


def load_channels(path: str | os.PathLike[str], *, var: str | None = None,
                  axes: str | None = None, complex_mode: str = "real_imag",
                  norm: str = "channel", percentiles: tuple[float, float] = (1.0, 99.0),
                  db_floor: float | None = None) -> ImageData:
    """Open a channel matrix file as normalised channel data (see :mod:`core.channels`).

    ``meta`` gets ``format``, ``var``, ``source_path`` and ``array_source`` (for saving back)
    besides ``channels`` (the layout). Raises InputError / FileFormatError / ResourceError with
    a readable message for unusable files, variables, axes or sizes.
    """
    p = as_path(path)
    arr, src = read_array(p, var)
    meta = source_meta(p, src.fmt, var=src.var, array_source=src)
    where = f"{src.var!r} in {p.name}" if src.var else p.name
    return channels_from_array(arr, axes=axes, complex_mode=complex_mode, norm=norm,
                               percentiles=percentiles, db_floor=db_floor, name=where,
                               source=p.resolve(), meta=meta)


def array_source(data: ImageData) -> ArraySource | None:
    src = data.meta.get("array_source") if isinstance(data.meta, dict) else None
    return src if isinstance(src, ArraySource) else None


def _same_kind_source(src: ArraySource | None, fmt: str) -> Path | None:
    """The source file to copy other variables from, if it has the output's format."""
    if src is None or not os.path.isfile(src.path):
        return None
    return Path(src.path) if src.fmt == fmt else None


def write_array(array: np.ndarray, path: str | os.PathLike[str], *, var: str | None = None,
                like: ArraySource | None = None, overwrite: bool = False) -> Path:
    """Write a raw array atomically in the format of ``path``'s extension.

    ``like`` (the :class:`ArraySource` of the input) gives the variable name, the MAT version,
    the compression and the file whose other variables are kept; ``var`` overrides the name.
    No input-file protection here: :func:`save_channels` checks that.
    """
    p = as_path(path)
    fmt = _FORMAT_OF[_ext(p)]
    base = _same_kind_source(like, fmt)
    details = dict(like.details) if (like is not None and like.fmt == fmt) else {}
    name = var or (like.var if like is not None and like.var else "data")
    arr = np.asarray(array)
    try:
        with atomic_path(p, overwrite=overwrite) as tmp:
            if fmt == "npy":
                with open(tmp, "wb") as fh:
                    np.save(fh, arr, allow_pickle=False)
            elif fmt == "npz":
                arrays = {}
                if base is not None:
                    with np.load(base, allow_pickle=False) as z:
                        arrays = {k: z[k] for k in z.files}
                arrays[name] = arr
                save = np.savez_compressed if details.get("compressed") else np.savez
                with open(tmp, "wb") as fh:
                    save(fh, **arrays)
            elif fmt == "mat":  # v5 unless the input was v7.3 or v5 cannot hold it (2 GiB)
                details.setdefault("version", "7.3" if arr.nbytes >= 2**31 - 2**20 else "5")
                details.setdefault("compressed", True)
                if base is not None and mat_version(base) != details["version"]:
                    base = None
                write_mat(tmp, arr, name, details=details, source=base)
            else:
                write_h5(tmp, arr, name, source=base, details=details)
    except OSError as exc:
        raise InputError(f"cannot write {p}: {exc.strerror or exc}") from exc
    return p


def save_channels(data: ImageData, path: str | os.PathLike[str], *, overwrite: bool = False,
                  allow_input_overwrite: bool = False, var: str | None = None) -> Path:
    """Write channel data (loaded, or an SR result of it) back in the file's own terms.

    The array is rebuilt by :func:`core.channels.array_from_channels` (same axis order, dtype,
    complex type; H and W may have a new size); the format follows ``path``'s extension. Refuses
    the input file itself (also for results made from it) and existing files unless
    ``overwrite``.
    """
    if not isinstance(data, ImageData):
        raise InputError(f"save expects ImageData, got {type(data).__name__}")
    channel_meta(data)
    p = as_path(path)
    _ext(p)
    check_output(p, data, overwrite=overwrite, allow_input_overwrite=allow_input_overwrite)
    arr = array_from_channels(data)
    return write_array(arr, p, var=var, like=array_source(data), overwrite=overwrite)
