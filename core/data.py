"""Typed containers for pixel data.

:class:`ImageData` holds float32 ``H x W x C`` pixels in a *working range* plus everything
needed to return exactly to the file's own units. The mapping is affine per channel::

    file_value = pixels * (hi - lo) + lo        (then cast to ``dtype``; integers are rounded)

For an 8-bit PNG ``lo = 0, hi = 255`` so the working range is [0, 1]; for a float EXR
``lo = 0, hi = 1`` (identity); for channel matrices ``lo``/``hi`` are the per-channel min/max
(MATLAB ``imagesc`` style), so each channel works in [0, 1] and maps back exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from .errors import InputError

__all__ = ["Kind", "Units", "ImageData", "Region"]

Kind = Literal["rgb", "gray", "channels", "normals"]
KINDS: tuple[str, ...] = ("rgb", "gray", "channels", "normals")


@dataclass(frozen=True)
class Units:
    """How working-range pixels map back to the values stored in the file.

    ``lo`` and ``hi`` have one entry per channel (or one for all). ``dtype`` is the numpy dtype
    name of the file's samples (``uint8``, ``uint16``, ``float32``, ...). ``complex_layout`` is
    ``"none"`` for real data; channel loaders use ``"real_imag"`` or ``"mag_phase"``.
    """

    dtype: str = "float32"
    lo: tuple[float, ...] = (0.0,)
    hi: tuple[float, ...] = (1.0,)
    complex_layout: str = "none"

    @staticmethod
    def for_dtype(dtype: np.dtype | str) -> "Units":
        """Units of a whole-range integer type (0..255, 0..65535) or identity for floats."""
        dt = np.dtype(dtype)
        if dt.kind in "ui":
            info = np.iinfo(dt)
            lo = 0.0 if dt.kind == "u" else float(info.min)
            return Units(dtype=dt.name, lo=(lo,), hi=(float(info.max),))
        if dt.kind == "b":
            return Units(dtype=dt.name, lo=(0.0,), hi=(1.0,))
        return Units(dtype=dt.name if dt.kind == "f" else "float32")

    def _bounds(self, channels: int) -> tuple[np.ndarray, np.ndarray]:
        lo = np.asarray(self.lo, dtype=np.float64)
        hi = np.asarray(self.hi, dtype=np.float64)
        if lo.size not in (1, channels) or hi.size not in (1, channels):
            raise InputError(
                f"units describe {lo.size} channels but the data has {channels}"
            )
        return lo, hi

    def to_working(self, raw: np.ndarray) -> np.ndarray:
        """File values (``H x W x C``) -> float32 working range."""
        lo, hi = self._bounds(raw.shape[-1])
        span = np.where(hi > lo, hi - lo, 1.0)
        return ((raw.astype(np.float64) - lo) / span).astype(np.float32)

    def to_file(self, pixels: np.ndarray) -> np.ndarray:
        """Working-range pixels (``H x W x C``) -> file values in ``dtype`` (rounded, clipped)."""
        lo, hi = self._bounds(pixels.shape[-1])
        span = np.where(hi > lo, hi - lo, 1.0)
        raw = pixels.astype(np.float64) * span + lo
        dt = np.dtype(self.dtype)
        if dt.kind in "uib":
            if dt.kind == "b":
                return raw >= 0.5
            info = np.iinfo(dt)
            raw = np.nan_to_num(raw, nan=0.0)
            return np.clip(np.rint(raw), info.min, info.max).astype(dt)
        return raw.astype(dt)


@dataclass(frozen=True, eq=False)
class ImageData:
    """Pixel data in working range with its provenance.

    Attributes:
        pixels: float32 array ``H x W x C`` (C = 3 for rgb, 1 for gray, any for channels,
            3 for normals). For rgb/gray the working range is [0, 1].
        kind: what the data is; decides which models and views apply.
        units: the affine map back to the file's values (see :class:`Units`).
        alpha: optional float32 ``H x W`` alpha in [0, 1], kept aside from the colour
            channels, resized with bicubic and written back on save.
        source: the file it came from (``None`` for made-up data).
        meta: format details the savers need (e.g. EXR channel names, npz key).
    """

    pixels: np.ndarray
    kind: Kind = "rgb"
    units: Units = field(default_factory=Units)
    alpha: np.ndarray | None = None
    source: Path | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        px = self.pixels
        if px.ndim == 2:
            object.__setattr__(self, "pixels", px[:, :, None])
            px = self.pixels
        if px.ndim != 3:
            raise InputError(f"pixel data must be H x W x C, got shape {px.shape}")
        if px.shape[0] == 0 or px.shape[1] == 0 or px.shape[2] == 0:
            raise InputError(f"the image is empty (shape {px.shape})")
        if px.dtype != np.float32:
            object.__setattr__(self, "pixels", px.astype(np.float32))
        if self.kind not in KINDS:
            raise InputError(f"unknown data kind {self.kind!r}; expected one of {KINDS}")
        if self.alpha is not None and self.alpha.shape[:2] != px.shape[:2]:
            raise InputError(
                f"alpha {self.alpha.shape[:2]} does not match pixels {px.shape[:2]}"
            )

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def channels(self) -> int:
        return int(self.pixels.shape[2])

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.pixels.shape)  # type: ignore[return-value]

    def with_pixels(self, pixels: np.ndarray, alpha: np.ndarray | None = None) -> "ImageData":
        """A copy with new pixels (e.g. an SR result) and the same kind and units."""
        return replace(self, pixels=pixels, alpha=alpha, source=None)

    def file_values(self) -> np.ndarray:
        """Pixels mapped back to the file's units and dtype (``H x W x C``)."""
        return self.units.to_file(self.pixels)

    def has_nonfinite(self) -> bool:
        return not bool(np.isfinite(self.pixels).all())


@dataclass(frozen=True)
class Region:
    """A rectangle in pixel coordinates: top-left ``(x, y)``, size ``w x h``."""

    x: int
    y: int
    w: int
    h: int

    def __post_init__(self) -> None:
        if self.w <= 0 or self.h <= 0:
            raise InputError(f"region must have a positive size, got {self.w} x {self.h}")
        if self.x < 0 or self.y < 0:
            raise InputError(f"region origin must be non-negative, got ({self.x}, {self.y})")

    def slices(self) -> tuple[slice, slice]:
        """``(rows, cols)`` slices for ``array[rows, cols]``."""
        return slice(self.y, self.y + self.h), slice(self.x, self.x + self.w)

    def fits(self, height: int, width: int) -> bool:
        return self.x + self.w <= width and self.y + self.h <= height

    def scaled(self, factor: float) -> "Region":
        """The same region in an image ``factor`` times larger (rounded outwards)."""
        x0, y0 = int(np.floor(self.x * factor)), int(np.floor(self.y * factor))
        x1 = int(np.ceil((self.x + self.w) * factor))
        y1 = int(np.ceil((self.y + self.h) * factor))
        return Region(x0, y0, x1 - x0, y1 - y0)
