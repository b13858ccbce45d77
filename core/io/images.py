"""Image files: PNG, JPEG, TIFF, BMP, WebP, and EXR where OpenCV was built with OpenEXR.

Pixels are decoded with OpenCV (``IMREAD_UNCHANGED``, so 8/16-bit and float samples come back
as stored), turned from BGR(A) into RGB(A), and mapped to the float32 working range by
:class:`~core.data.Units` (8-bit: /255, 16-bit: /65535, float: identity). Alpha is kept aside
in ``ImageData.alpha`` with the same scaling. Saving reverses the mapping exactly, so
8- and 16-bit files round-trip bit for bit.

OpenCV cannot store gray + alpha; those are written by :mod:`core.io._codecs` (PNG) or
``tifffile`` (TIFF, :mod:`core.io.tiff`) and read back here. TIFF layouts OpenCV mis-reads
(gray + alpha, more than 4 samples, float16, multi-page stacks) are read by :mod:`core.io.tiff`.
"""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")

from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from ..data import ImageData, Units  # noqa: E402
from ..errors import DataLossWarning, FileFormatError, InputError  # noqa: E402
from . import _codecs  # noqa: E402
from ._common import (  # noqa: E402
    check_not_empty,
    check_output,
    check_working_size,
    detect_kind,
    resolve_kind,
    source_meta,
    working,
)
from . import tiff  # noqa: E402
from .atomic import atomic_path  # noqa: E402
from .headers import image_header  # noqa: E402

__all__ = [
    "IMAGE_EXTENSIONS",
    "EIGHT_BIT_ONLY",
    "exr_available",
    "load_image",
    "save_image",
    "resize_alpha",
]

IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".exr",
)
#: Formats that store only 8 bits per channel.
EIGHT_BIT_ONLY = frozenset({".jpg", ".jpeg", ".bmp", ".webp"})
_NO_ALPHA = frozenset({".jpg", ".jpeg"})
_TIFF = frozenset({".tif", ".tiff"})
FORMAT_NAMES = {
    ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF",
    ".bmp": "BMP", ".webp": "WebP", ".exr": "EXR",
}


def exr_available() -> bool:
    """Whether this OpenCV build can write (and so read) OpenEXR files."""
    try:
        return bool(cv2.haveImageWriter("probe.exr"))
    except cv2.error:  # pragma: no cover
        return False


def _no_exr(path: Path) -> FileFormatError:
    return FileFormatError(
        f"cannot handle {path.name}: this OpenCV build ({cv2.__version__}) has no OpenEXR "
        "support; use a float TIFF (.tif) or .npy for floating-point images"
    )


# --------------------------------------------------------------------------- loading


def _decode(buf: np.ndarray) -> np.ndarray | None:
    with _codecs.quiet_decoders():
        try:
            return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        except cv2.error:
            return None


def load_image(path: Path, kind: str | None = None) -> ImageData:
    """Load an image file (the path is already known to exist) as :class:`ImageData`."""
    ext = path.suffix.lower()
    name = FORMAT_NAMES.get(ext, "image")
    if ext == ".exr" and not exr_available():
        raise _no_exr(path)
    try:
        buf = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if buf.size == 0:
        raise FileFormatError(f"{path.name} is empty (0 bytes), not a {name} image")

    claimed = image_header(buf.tobytes(), ext)  # JPEG, BMP, WebP, EXR (by their magic)
    if claimed is not None:
        w0, h0, c0 = claimed
        check_not_empty(path, (h0, w0))
        check_working_size(path, h0, w0, c0)
    png = _codecs.read_png_header(buf)
    if png is not None:
        check_not_empty(path, (png.height, png.width))
        check_working_size(path, png.height, png.width, png.channels)
    is_tiff = ext in _TIFF or bytes(buf[:4]) in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")
    tiff_head = tiff.tiff_header(path) if is_tiff else None
    if tiff_head is not None:
        check_not_empty(path, (tiff_head["height"], tiff_head["width"]))
        check_working_size(path, tiff_head["height"], tiff_head["width"], tiff_head["spp"])
    if claimed is None and png is None and tiff_head is None:
        # Only what we can size before decoding is decoded: OpenCV also reads PxM, HDR,
        # Sun raster, JPEG 2000..., whose size would be known only after the allocation.
        raise FileFormatError(
            f"{path.name} could not be decoded as {name}: the file is corrupt, truncated "
            "or not an image (its header is not one of PNG, JPEG, TIFF, BMP, WebP, EXR)"
        )

    if tiff_head is not None and tiff_head["pages"] > 1:
        # every page is data (a channel stack): reading page 1 alone would drop the others
        del buf
        arr = tiff.read_tiff_stack(path, tiff_head)
    else:
        arr = _decode(buf)
        del buf
    stack = tiff_head is not None and tiff_head["pages"] > 1  # channels: no alpha, no BGR
    rgb_order = stack
    if tiff_head is not None and tiff_head["pages"] == 1 and (
        arr is None or tiff_head["spp"] == 2 or tiff_head["spp"] > 4
        or tiff_head["bits"] > arr.dtype.itemsize * 8
    ):
        # OpenCV fails on these, drops the alpha of gray + alpha, or narrows 16 to 8 bits.
        try:
            arr = tiff.read_tiff_page(path)
            rgb_order = True
        except FileFormatError:
            if arr is None:
                raise
    if arr is None:
        raise FileFormatError(
            f"{path.name} could not be decoded as {name}: the file is corrupt, truncated "
            "or not an image"
        )
    check_not_empty(path, arr.shape)
    arr = working(arr)

    channels = arr.shape[2]
    alpha = None
    if channels > 4 or stack:
        colour = arr
    elif channels == 4:
        if not rgb_order:
            arr = arr[:, :, [2, 1, 0, 3]]
        gray_alpha = png is not None and png.color_type in (0, 4)
        colour, alpha = (arr[:, :, :1] if gray_alpha else arr[:, :, :3]), arr[:, :, 3]
    elif channels == 3:
        colour = arr if rgb_order else arr[:, :, ::-1]
    elif channels == 2:
        colour, alpha = arr[:, :, :1], arr[:, :, 1]
    else:
        colour = arr
    h, w, c = colour.shape
    check_working_size(path, h, w, c + (alpha is not None))

    units = Units.for_dtype(arr.dtype)
    kind = resolve_kind(c, kind, path, detect_kind(c))
    pixels = units.to_working(np.ascontiguousarray(colour))
    alpha_w = None if alpha is None else units.to_working(alpha[:, :, None])[:, :, 0]
    meta = source_meta(path, ext, bit_depth=int(arr.dtype.itemsize * 8))
    return ImageData(pixels, kind, units, alpha_w, source=path.resolve(), meta=meta)


# --------------------------------------------------------------------------- saving


def resize_alpha(alpha: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an ``H x W`` alpha in [0, 1] to ``height x width`` (bicubic), clipped to [0, 1].

    Uses :func:`core.resize.imresize` when that module exists, else OpenCV's bicubic.
    """
    a = np.asarray(alpha, dtype=np.float32)
    if a.shape[:2] == (height, width):
        return np.clip(a, 0.0, 1.0)
    try:
        from ..resize import imresize
    except ImportError:  # pragma: no cover - resize module absent
        out = cv2.resize(a, (int(width), int(height)), interpolation=cv2.INTER_CUBIC)
    else:
        out = imresize(a, size=(int(height), int(width)), method="bicubic")
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _target_units(data: ImageData, ext: str, bit_depth: int | None) -> Units:
    name = FORMAT_NAMES[ext]
    src = np.dtype(data.units.dtype)
    if bit_depth is not None:
        if bit_depth not in (8, 16):
            raise InputError(f"bit_depth must be 8 or 16, got {bit_depth!r}")
        if ext == ".exr":
            raise InputError("EXR files hold floating-point values; bit_depth applies to "
                             "PNG, TIFF, JPEG, BMP and WebP")
        if bit_depth == 16 and ext in EIGHT_BIT_ONLY:
            raise InputError(f"{name} files hold only 8 bits per channel; save as PNG or TIFF "
                             "for 16 bits")
        target = np.dtype(np.uint8 if bit_depth == 8 else np.uint16)
    elif ext == ".exr":
        target = np.dtype(np.float16 if src == np.float16 else np.float32)
    elif src.kind == "f" and ext in _TIFF:
        target = np.dtype(np.float64 if src == np.float64 else np.float32)
    elif src.kind in "iu" and src.itemsize > 1 and ext not in EIGHT_BIT_ONLY:
        target = np.dtype(np.uint16)
    else:
        target = np.dtype(np.uint8)
    return data.units if src == target else Units.for_dtype(target)


def _params(ext: str, dtype: np.dtype) -> list[int]:
    if ext == ".png":
        return [cv2.IMWRITE_PNG_COMPRESSION, 3]
    if ext in (".jpg", ".jpeg"):
        return [cv2.IMWRITE_JPEG_QUALITY, 95]
    if ext == ".webp":
        # Quality > 100 selects lossless. OpenCV 5 also needs PRESERVE_COLOR, otherwise libwebp
        # rewrites the colour of fully transparent pixels.
        params = [cv2.IMWRITE_WEBP_QUALITY, 101]
        if hasattr(cv2, "IMWRITE_WEBP_LOSSLESS_MODE"):
            params += [cv2.IMWRITE_WEBP_LOSSLESS_MODE, cv2.IMWRITE_WEBP_LOSSLESS_PRESERVE_COLOR]
        return params
    if ext == ".exr":
        half = dtype == np.float16
        return [cv2.IMWRITE_EXR_TYPE,
                cv2.IMWRITE_EXR_TYPE_HALF if half else cv2.IMWRITE_EXR_TYPE_FLOAT]
    return []


def _encode(ext: str, arr: np.ndarray, params: list[int]) -> np.ndarray:
    """OpenCV-encode ``arr`` (BGR(A) or 2-D gray) into the bytes of an ``ext`` file."""
    name = FORMAT_NAMES[ext]
    with _codecs.quiet_decoders():
        try:
            ok, buf = cv2.imencode(ext, arr, params)
        except cv2.error as exc:
            ok, buf = False, str(exc).strip().splitlines()[-1:]
    if not ok:
        hint = " (WebP images are at most 16383 x 16383)" if ext == ".webp" else ""
        raise FileFormatError(f"OpenCV could not encode a {arr.shape} {arr.dtype} image as "
                              f"{name}{hint}")
    return buf


def data_loss(data: ImageData, units: Units, path: Path) -> str | None:
    """What writing ``data`` in ``units`` (the format's) loses, in one sentence, or None:
    float (HDR) data clipped to an integer range and quantised, 16 bits cut to 8."""
    src, dst = np.dtype(data.units.dtype), np.dtype(units.dtype)
    name = FORMAT_NAMES[path.suffix.lower()]
    if src.kind == "f" and dst.kind in "ui":
        info = np.iinfo(dst)   # the working range [0, 1] maps onto [0, info.max]
        half = 0.5 / info.max
        px = data.pixels
        clipped = float(np.mean((px < -half) | (px > 1.0 + half) | np.isnan(px)))
        what = (f"{clipped:.1%} of the values lie outside the {info.bits}-bit range and were "
                f"clipped, the rest quantised to {info.bits} bits" if clipped > 0 else
                f"quantised to {info.bits} bits")
        return (f"{path.name}: floating-point data written as {info.bits}-bit {name}: {what}; "
                "save as .exr, .tif or .npy to keep the values")
    if src.kind in "ui" and dst.kind in "ui" and src.itemsize > dst.itemsize:
        return (f"{path.name}: {src.itemsize * 8}-bit data quantised to {dst.itemsize * 8} bits "
                f"({name} holds {dst.itemsize * 8}); save as .png or .tif to keep "
                f"{src.itemsize * 8} bits")
    return None


def _write(ext: str, values: np.ndarray, alpha: np.ndarray | None, tmp: Path) -> None:
    """Write file values (``H x W x C``, RGB order) and optional alpha (``H x W x 1``)."""
    if ext in _TIFF:
        tiff.write_tiff(values, alpha, tmp)
        return
    if alpha is not None and values.shape[2] == 1:
        if ext == ".png":
            tmp.write_bytes(_codecs.encode_png_gray_alpha(values[:, :, 0], alpha[:, :, 0]))
            return
        values = np.repeat(values, 3, axis=2)  # no gray + alpha in this format: store RGBA
    if values.shape[2] == 3:
        arr = values[:, :, ::-1]
    else:
        arr = values
    if alpha is not None:
        arr = np.concatenate([arr, alpha], axis=2)
    elif arr.shape[2] == 1:
        arr = arr[:, :, 0]
    buf = _encode(ext, np.ascontiguousarray(arr), _params(ext, values.dtype))
    with open(tmp, "wb") as f:
        f.write(buf.tobytes())


def save_image(
    data: ImageData,
    path: Path,
    *,
    overwrite: bool = False,
    bit_depth: int | None = None,
    allow_input_overwrite: bool = False,
) -> Path:
    """Write ``data`` as an image file in the format of ``path``'s extension (atomically)."""
    ext = path.suffix.lower()
    name = FORMAT_NAMES[ext]
    if ext == ".exr" and not exr_available():
        raise _no_exr(path)
    if data.channels not in (1, 3):
        raise InputError(f"{name} files hold 1 or 3 colour channels (plus alpha) but the data "
                         f"has {data.channels}; save it as .npy")
    units = _target_units(data, ext, bit_depth)
    check_output(path, data, overwrite=overwrite, allow_input_overwrite=allow_input_overwrite)
    loss = data_loss(data, units, path) if bit_depth is None else None
    if loss:
        warnings.warn(loss, DataLossWarning, stacklevel=3)

    values = units.to_file(data.pixels)
    alpha = None
    if data.alpha is not None and ext not in _NO_ALPHA:
        a = resize_alpha(data.alpha, data.height, data.width)
        a_units = units if len(units.lo) == 1 and len(units.hi) == 1 else Units.for_dtype(
            units.dtype)
        alpha = a_units.to_file(a[:, :, None])
    try:
        with atomic_path(path, overwrite=overwrite) as tmp:
            _write(ext, values, alpha, tmp)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
