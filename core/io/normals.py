"""Normal maps, masks and camera intrinsics in and out of files.

* :func:`load_normal_map`: 8/16-bit PNG/TIFF, EXR, ``.npy`` (through :func:`core.io.load`) and
  MATLAB ``.mat`` (the first H x W x 3 array, e.g. DiLiGenT's ``Normal_gt.mat``). The mask
  comes from, in this order: the ``mask`` argument (a file or an array), the file's alpha
  channel, otherwise the pixels whose vectors are not (near) zero.
* :func:`save_normal_map`: ``(n + 1) / 2`` in 8 or 16 bits (PNG/TIFF; default 16), or floats for
  EXR/``.npy`` (signed components when the source stored them signed). Masked-out pixels are
  written as the zero vector (grey 0.5), which loads back as masked. The y convention of the
  source (OpenGL / DirectX) is kept.
* :func:`load_intrinsics`: a 3 x 3 ``K`` text file (OpenCV layout: fx, 0, cx / 0, fy, cy / 0 0 1).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..data import ImageData, Units
from ..errors import FileFormatError, InputError
from ..normals.codec import Convention, NormalMap, check_mask, decode, encode
from ._common import as_path, check_readable
from .images import EIGHT_BIT_ONLY

__all__ = ["load_normal_map", "save_normal_map", "load_mask", "load_intrinsics",
           "to_image_data", "from_image_data", "sibling_mask"]

#: Mask file names looked for beside a normal map (DiLiGenT: ``mask.png``), ``{stem}`` = its
#: stem.
MASK_NAMES = ("{stem}_mask.png", "{stem}.mask.png", "mask.png", "Mask.png", "mask.tif")

PathLike = str | os.PathLike[str]


def sibling_mask(path: PathLike) -> Path | None:
    """The mask file beside a normal map (``cat/normal_map.png`` -> ``cat/mask.png``), if any."""
    p = Path(path)
    for name in MASK_NAMES:
        m = p.with_name(name.format(stem=p.stem))
        if m.is_file() and m.resolve() != p.resolve():
            return m
    return None


def _load_mat(path: Path) -> np.ndarray:
    from scipy.io import loadmat  # lazy: scipy.io (~200 ms), .mat only

    try:
        d = loadmat(path)
    except NotImplementedError:  # v7.3 = HDF5
        import h5py  # lazy: h5py (~100 ms), MATLAB v7.3 only

        with h5py.File(path, "r") as f:
            d = {k: np.array(v).T for k, v in f.items() if isinstance(v, h5py.Dataset)}
    except Exception as exc:
        raise FileFormatError(f"{path.name} could not be read as a MATLAB file: {exc}") from exc
    for k, v in d.items():
        if not k.startswith("__") and isinstance(v, np.ndarray) and v.ndim == 3 \
                and v.shape[2] == 3 and v.dtype.kind in "fiu":
            return v.astype(np.float64)
    raise InputError(f"{path.name} holds no H x W x 3 array of normals")


def load_mask(mask: PathLike | np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A mask file (any image: alpha if present, else its first channel) or array -> bool."""
    if isinstance(mask, np.ndarray):
        return check_mask(mask, shape)
    from . import load  # lazy: load() is core.io's __init__ facade

    data = load(as_path(mask))
    arr = data.alpha if data.alpha is not None else data.pixels[:, :, 0]
    return check_mask(arr, shape, what=f"mask {Path(mask).name}")


def from_image_data(data: ImageData, *, mask: PathLike | np.ndarray | None = None,
                    convention: Convention | None = None) -> NormalMap:
    """Decode an :class:`ImageData` (as :func:`core.io.load` returns it) into a NormalMap."""
    conv = convention or Convention.from_meta(data.meta.get("normal_convention"))
    shape = (data.height, data.width)
    if mask is not None:
        m = load_mask(mask, shape)
    elif data.alpha is not None:
        m = check_mask(data.alpha, shape, what="alpha channel")
    else:
        m = None
    integer = np.dtype(data.units.dtype).kind in "ui"
    nmap = decode(data.pixels, convention=conv, mask=m, integer=integer)
    meta = {"source": str(data.source) if data.source else None,
            "bit_depth": int(data.meta.get("bit_depth", 0)) or None}
    return NormalMap(nmap.normals, nmap.mask, nmap.convention, nmap.warnings, meta)


def load_normal_map(path: PathLike, *, mask: PathLike | np.ndarray | None = None,
                    convention: Convention | None = None) -> NormalMap:
    """Load a normal map file as unit normals (x right, y up, z towards the viewer).

    Raises:
        InputError: missing file, wrong channel count, a mask of another size, no valid normal.
        FileFormatError: the file cannot be decoded.
    """
    p = as_path(path)
    check_readable(p)
    if p.suffix.lower() == ".mat":
        arr = _load_mat(p)
        m = load_mask(mask, arr.shape[:2]) if mask is not None else None
        nmap = decode(arr, convention=convention or Convention(), mask=m, integer=False)
        return NormalMap(nmap.normals, nmap.mask, nmap.convention, nmap.warnings,
                         {"source": str(p.resolve()), "bit_depth": None})
    from . import load  # lazy: load() is core.io's __init__ facade

    data = load(p, kind="normals")
    return from_image_data(data, mask=mask, convention=convention)


def to_image_data(nmap: NormalMap, *, bits: int | None = 16, signed: bool = False,
                  alpha_mask: bool = False) -> ImageData:
    """Encode a NormalMap as an :class:`ImageData` of kind ``normals``.

    ``bits`` 8 or 16 gives integer units (pixels ``(n + 1) / 2`` in [0, 1]); ``None`` gives
    float units (pixels ``(n + 1) / 2``, or ``n`` itself with ``signed=True``). With
    ``alpha_mask`` the mask is stored as alpha as well.
    """
    if bits not in (None, 8, 16):
        raise InputError(f"bits must be 8 or 16 (or None for floats), got {bits!r}")
    px = encode(nmap, signed=signed and bits is None)
    units = Units.for_dtype(np.uint8 if bits == 8 else np.uint16) if bits else Units()
    meta = {"normal_convention": nmap.convention.as_meta()}
    if nmap.meta.get("source"):
        meta["source_path"] = nmap.meta["source"]   # so save() refuses to overwrite the input
    alpha = nmap.mask.astype(np.float32) if alpha_mask else None
    return ImageData(px, kind="normals", units=units, alpha=alpha, meta=meta)


def save_normal_map(nmap: NormalMap, path: PathLike, *, bits: int | None = None,
                    overwrite: bool = False, alpha_mask: bool = False) -> Path:
    """Write a normal map; the format comes from the extension (see the module docstring).

    ``bits`` (8/16) applies to integer formats; default: the source's depth if it was 8 or 16
    bits, else 16 (JPEG/BMP/WebP: 8). EXR/``.npy``/float TIFF are written as float32 unless
    ``bits`` is given.
    """
    from . import save  # lazy: as load above

    p = as_path(path)
    ext = p.suffix.lower()
    float_ok = ext in (".exr", ".npy") or (ext in (".tif", ".tiff") and bits is None
                                          and nmap.meta.get("bit_depth") not in (8, 16))
    if bits is None and not float_ok:
        src = nmap.meta.get("bit_depth")
        bits = 8 if ext in EIGHT_BIT_ONLY else (src if src in (8, 16) else 16)
    if bits is not None and ext == ".exr":
        raise InputError("EXR files hold floating-point values; bits applies to PNG and TIFF")
    signed = bits is None and nmap.convention.encoding == "signed"
    data = to_image_data(nmap, bits=bits, signed=signed, alpha_mask=alpha_mask)
    return save(data, p, overwrite=overwrite, bit_depth=bits)


def load_intrinsics(path: PathLike | np.ndarray) -> np.ndarray:
    """Camera intrinsics ``K`` (3 x 3 float64) from a text file (or an array, checked).

    Raises :class:`InputError` unless it is 3 x 3 with finite values, fx > 0, fy > 0 and a
    last row of (0, 0, 1).
    """
    if isinstance(path, np.ndarray):
        k, name = np.asarray(path, dtype=np.float64), "K"
    else:
        p = as_path(path)
        check_readable(p)
        name = p.name
        try:
            k = np.loadtxt(p, dtype=np.float64, ndmin=2)
        except ValueError as exc:
            raise InputError(f"{name} is not a table of numbers: {exc}") from exc
    if k.shape != (3, 3):
        raise InputError(f"{name} must hold a 3 x 3 intrinsics matrix K, got shape "
                         f"{k.shape[0]} x {k.shape[1] if k.ndim > 1 else 1}")
    if not np.isfinite(k).all():
        raise InputError(f"{name} holds NaN or infinite values")
    if k[0, 0] <= 0 or k[1, 1] <= 0:
        raise InputError(f"{name}: the focal lengths K[0,0] and K[1,1] must be positive")
    if not np.allclose(k[2], [0.0, 0.0, 1.0], atol=1e-6) or abs(k[1, 0]) > 1e-9:
        raise InputError(f"{name}: expected the OpenCV layout "
                         "[[fx, s, cx], [0, fy, cy], [0, 0, 1]]")
    return k
