"""Loading and saving pixel data.

``load(path)`` picks the reader from the extension and returns :class:`~core.data.ImageData`
whose ``units`` record how to get back to the file's own values; ``save(data, path)`` writes
those values back (8-bit stays 8-bit, 16-bit stays 16-bit, float stays float), atomically,
never over an existing file unless asked, and never over the input file.

Supported: images (.png .jpg .jpeg .tif .tiff .bmp .webp, and .exr when OpenCV has OpenEXR),
NumPy arrays (.npy), and channel matrices (.npz .mat .h5 .hdf5, complex or 4-D .npy, or any of
them with ``kind="channels"``), which go to :mod:`core.io.channels`.
"""

from __future__ import annotations

import os

# Must be set before cv2 is imported anywhere (OpenCV reads it once).
os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")

from pathlib import Path  # noqa: E402

from ..data import ImageData  # noqa: E402
from ..errors import InputError  # noqa: E402
from ._common import (  # noqa: E402
    DEFAULT_MAX_PIXELS,
    as_path,
    check_kind_name,
    check_readable,
    max_pixels,
    set_max_pixels,
)
from .arrays import ARRAY_EXTENSIONS, load_npy, save_npy  # noqa: E402
from .atomic import atomic_path  # noqa: E402
from .channels import (  # noqa: E402
    CHANNEL_EXTENSIONS,
    load_channels,
    npy_is_channel_data,
    save_channels,
)
from .images import (  # noqa: E402
    EIGHT_BIT_ONLY,
    IMAGE_EXTENSIONS,
    exr_available,
    load_image,
    resize_alpha,
    save_image,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "max_pixels",
    "set_max_pixels",
    "SUPPORTED_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "ARRAY_EXTENSIONS",
    "EIGHT_BIT_ONLY",
    "is_supported",
    "exr_available",
    "load",
    "save",
    "atomic_path",
    "resize_alpha",
]

#: Every extension :func:`load` and :func:`save` accept (lower case, with the dot).
SUPPORTED_EXTENSIONS: tuple[str, ...] = IMAGE_EXTENSIONS + ARRAY_EXTENSIONS + tuple(
    e for e in CHANNEL_EXTENSIONS if e not in ARRAY_EXTENSIONS)


def is_supported(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` has an extension this module reads and writes (case-insensitive)."""
    return Path(path).suffix.lower() in SUPPORTED_EXTENSIONS


def _check_extension(path: Path) -> str:
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        shown = f"'{path.suffix}'" if path.suffix else "no extension"
        raise InputError(
            f"{path.name} has {shown}; supported file types are "
            f"{' '.join(SUPPORTED_EXTENSIONS)}"
        )
    return ext


def load(path: str | os.PathLike[str], kind: str | None = None, **channel_options) -> ImageData:
    """Load an image or array file as :class:`ImageData`.

    Args:
        path: the file; its extension picks the reader (see :data:`SUPPORTED_EXTENSIONS`).
        kind: ``None`` to detect (3 channels -> ``"rgb"``, 1 -> ``"gray"``, other ``.npy``
            channel counts -> ``"channels"``), or a kind to force (``"normals"`` ...); a forced
            kind that does not fit the channel count raises :class:`InputError`.
        channel_options: for channel data only: ``var``, ``axes``, ``complex_mode``, ``norm``,
            ``percentiles``, ``db_floor`` (see :func:`core.io.channels.load_channels`).

    Returns:
        float32 ``H x W x C`` pixels in the working range (8/16-bit: [0, 1]; float: the raw
        values), alpha (if any) aside in ``alpha``, ``units`` to map back, ``source`` = the
        resolved path. NaN/Inf in float files load; ``has_nonfinite()`` reports them.

    Raises:
        InputError: missing file, a folder, unsupported extension, empty image, wrong kind.
        FileFormatError: the file cannot be decoded (corrupt, truncated, no EXR support).
        ResourceError: the working copy would be too large (crop or tile the input).
    """
    p = as_path(path)
    check_kind_name(kind)
    check_readable(p)
    ext = _check_extension(p)
    if channel_options and kind not in (None, "channels"):
        raise InputError(f"{', '.join(channel_options)} apply to channel data only, not to "
                         f"kind {kind!r}")
    if ext in CHANNEL_EXTENSIONS and (ext != ".npy" or kind == "channels"
                                      or channel_options or npy_is_channel_data(p)):
        if kind not in (None, "channels"):
            raise InputError(f"{p.name} holds channel data; it cannot be opened as {kind!r}")
        return load_channels(p, **channel_options)
    if channel_options:
        raise InputError(f"{', '.join(channel_options)} apply to channel data only")
    if ext in ARRAY_EXTENSIONS:
        return load_npy(p, kind)
    return load_image(p, kind)


def save(
    data: ImageData,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    bit_depth: int | None = None,
    allow_input_overwrite: bool = False,
) -> Path:
    """Write ``data`` in the format of ``path``'s extension and return the path.

    Pixels go back through ``data.units.to_file`` (8-bit input -> 8-bit file, 16-bit -> 16-bit,
    float -> float for TIFF/EXR/.npy; float to PNG/JPEG/BMP/WebP -> 8-bit). ``bit_depth`` 8 or
    16 overrides the integer depth (JPEG, BMP and WebP hold 8 bits only). WebP is written
    lossless, JPEG at quality 95 (alpha dropped: JPEG has none). The write is atomic.

    Raises :class:`InputError` if ``path`` exists and ``overwrite`` is false, or if it is the
    file ``data`` was loaded from (also for results derived from it) unless
    ``allow_input_overwrite=True`` (together with ``overwrite=True``).
    """
    if not isinstance(data, ImageData):
        raise InputError(f"save expects ImageData, got {type(data).__name__}")
    p = as_path(path)
    if data.kind == "channels" and "channels" in data.meta:  # loaded by the channel loader
        return save_channels(data, p, overwrite=overwrite,
                             allow_input_overwrite=allow_input_overwrite)
    ext = _check_extension(p)
    kwargs = dict(overwrite=overwrite, bit_depth=bit_depth,
                  allow_input_overwrite=allow_input_overwrite)
    if ext in ARRAY_EXTENSIONS:
        return save_npy(data, p, **kwargs)
    return save_image(data, p, **kwargs)
