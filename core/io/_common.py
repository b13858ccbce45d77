"""Checks shared by the loaders and savers: paths, kinds, memory, input protection."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

# the pixel budget lives in core.budget (stdlib only: the engine checks outputs against it)
from ..budget import DEFAULT_MAX_PIXELS, MAX_PIXELS_ENV, max_pixels, set_max_pixels  # noqa: F401
from ..data import KINDS, ImageData
from ..errors import InputError, ResourceError
from .atomic import check_output_path

#: Largest float32 working array (pixels + alpha) a loader accepts, in bytes. Larger inputs
#: are refused with :class:`ResourceError` before (or right after) decoding.
MAX_WORKING_BYTES: int = int(1.5 * 2**30)

#: Channel counts a forced kind needs (``None``: any).
KIND_CHANNELS: dict[str, int | None] = {"rgb": 3, "gray": 1, "normals": 3, "channels": None}

#: ``meta`` key under which loaders record the resolved input path. It survives
#: ``ImageData.with_pixels`` (which clears ``source``), so results derived from an input are
#: also refused as writers over that input.
SOURCE_KEY = "source_path"


def as_path(path: object) -> Path:
    if isinstance(path, (str, os.PathLike)):
        return Path(path)
    raise InputError(f"expected a file path, got {type(path).__name__}")


def check_readable(path: Path) -> None:
    """Raise :class:`InputError` unless ``path`` is an existing regular file."""
    if not path.exists():
        raise InputError(f"{path} does not exist")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a file")
    if not path.is_file():
        raise InputError(f"{path} is not a regular file")


def check_kind_name(kind: str | None) -> None:
    if kind is not None and kind not in KINDS:
        raise InputError(f"unknown data kind {kind!r}; expected one of {', '.join(KINDS)}")


def resolve_kind(channels: int, forced: str | None, path: Path, default: str) -> str:
    """``forced`` if it fits ``channels`` (else :class:`InputError`), otherwise ``default``."""
    if forced is None:
        return default
    check_kind_name(forced)
    need = KIND_CHANNELS[forced]
    if need is not None and need != channels:
        raise InputError(
            f"{path.name} has {channels} channel{'s' if channels != 1 else ''} but kind "
            f"{forced!r} needs {need}"
        )
    return forced


def detect_kind(channels: int) -> str:
    return {3: "rgb", 1: "gray"}.get(channels, "channels")


def check_working_size(path: Path, height: int, width: int, channels: int) -> None:
    """Refuse inputs above the pixel budget (:func:`max_pixels`) or whose float32 working copy
    would exceed :data:`MAX_WORKING_BYTES`; called with the size a header claims, before
    decoding."""
    pixels, budget = int(height) * int(width), max_pixels()
    if pixels > budget:
        raise ResourceError(
            f"{path.name} claims {width} x {height} pixels ({pixels / 1e6:.1f} megapixels), "
            f"above the budget of {budget / 1e6:.1f} megapixels; raise it with --max-pixels "
            f"(or in Preferences) if the image is real")
    limit = MAX_WORKING_BYTES  # module global, read at call time
    need = int(height) * int(width) * int(channels) * 4
    if need > limit:
        raise ResourceError(
            f"{path.name} is {width} x {height} x {channels} and would need "
            f"{need / 2**30:.1f} GiB as float32 working data (limit "
            f"{limit / 2**30:.1f} GiB); crop it or process it in tiles"
        )


def check_not_empty(path: Path, shape: tuple[int, ...]) -> None:
    if any(int(s) == 0 for s in shape):
        raise InputError(f"{path.name} holds an empty image (shape {tuple(shape)})")


def input_paths(data: ImageData) -> list[Path]:
    paths = []
    if data.source is not None:
        paths.append(Path(data.source))
    src = data.meta.get(SOURCE_KEY) if isinstance(data.meta, dict) else None
    if src:
        paths.append(Path(src))
    return paths


def same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def check_output(
    path: Path, data: ImageData, *, overwrite: bool, allow_input_overwrite: bool
) -> None:
    """Refuse writes over the input file, over folders, devices, FIFOs and sockets, into
    missing or unwritable folders, and over existing files unless ``overwrite``
    (:func:`core.io.atomic.check_output_path`)."""
    inputs = [] if allow_input_overwrite else input_paths(data)
    check_output_path(path, inputs, overwrite=overwrite, flag="overwrite=True")


def source_meta(path: Path, fmt: str, **extra: object) -> dict:
    meta: dict = {"format": fmt, SOURCE_KEY: str(path.resolve())}
    meta.update(extra)
    return meta


def working(values: np.ndarray) -> np.ndarray:
    """Make ``values`` ``H x W x C``."""
    return values[:, :, None] if values.ndim == 2 else values
