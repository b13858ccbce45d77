"""Image data shared by the core.io tests: random file values, files written with OpenCV
directly, and ImageData built from file values (one generator for all of them)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from core.data import ImageData, Units

H, W = 6, 7
RNG = np.random.default_rng(1234)


def raw_image(channels: int, dtype) -> np.ndarray:
    """Random file values H x W x C in RGB(A) order, with some fully transparent pixels."""
    top = np.iinfo(dtype).max
    raw = RNG.integers(0, top + 1, size=(H, W, channels), dtype=dtype)
    raw[0, 0] = 0
    raw[-1, -1] = top
    if channels in (2, 4):
        raw[1, :, -1] = 0  # transparent pixels whose colour must survive
    return raw


def write_cv2(path: Path, raw: np.ndarray, params=()) -> None:
    """Write RGB(A) file values with OpenCV directly (independent of core.io.save)."""
    arr = raw
    if raw.shape[2] == 3:
        arr = raw[:, :, ::-1]
    elif raw.shape[2] == 4:
        arr = raw[:, :, [2, 1, 0, 3]]
    elif raw.shape[2] == 1:
        arr = raw[:, :, 0]
    ok, buf = cv2.imencode(path.suffix, np.ascontiguousarray(arr), list(params))
    assert ok
    path.write_bytes(buf.tobytes())


def from_raw(raw: np.ndarray) -> ImageData:
    """ImageData with file values ``raw`` (colour + optional trailing alpha)."""
    units = Units.for_dtype(raw.dtype)
    c = raw.shape[2]
    colour, alpha = (raw[:, :, : c - 1], raw[:, :, c - 1]) if c in (2, 4) else (raw, None)
    kind = "gray" if colour.shape[2] == 1 else "rgb"
    a = None if alpha is None else units.to_working(alpha[:, :, None])[:, :, 0]
    return ImageData(units.to_working(colour), kind, units, a)


def file_values(data: ImageData) -> np.ndarray:
    """Colour (+ alpha) file values of loaded data, H x W x C."""
    vals = data.file_values()
    if data.alpha is not None:
        vals = np.concatenate([vals, data.units.to_file(data.alpha[:, :, None])], axis=2)
    return vals
