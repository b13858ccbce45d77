"""Histogram and line profile of any image the window shows (Qt-free).

Values are in the working range [0, 1] scaled to 8-bit grey levels (0-255), the units the
window's readouts use for 8-bit images; ``Y`` is BT.601 luma as the metrics use it
(:func:`core.metrics.rgb_to_y`, 16-235 on the 8-bit scale).
"""

from __future__ import annotations

import math

import numpy as np

from core.errors import InputError
from core.metrics import rgb_to_y

__all__ = ["CHANNELS", "channel_values", "line_profile", "histograms", "default_line"]

#: What a profile / histogram shows: luma or one colour channel.
CHANNELS = ("Y", "R", "G", "B")


def channel_values(pixels: np.ndarray, channel: str) -> np.ndarray:
    """``H x W`` values (0-255) of ``channel`` (``Y``, ``R``, ``G``, ``B``) of ``pixels``
    (``H x W x C`` in [0, 1]; gray images give the same values for every channel)."""
    px = np.asarray(pixels, dtype=np.float64)
    if px.ndim == 2:
        px = px[:, :, None]
    if channel not in CHANNELS:
        raise InputError(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}")
    if px.shape[2] < 3:
        return px[:, :, 0] * 255.0
    if channel == "Y":
        return rgb_to_y(px[:, :, :3]) * 255.0
    return px[:, :, "RGB".index(channel)] * 255.0


def line_profile(pixels: np.ndarray, p0: tuple[float, float], p1: tuple[float, float],
                 channel: str = "Y") -> tuple[np.ndarray, np.ndarray]:
    """Values along the segment ``p0 -> p1`` (``(x, y)`` pixel coordinates, pixel centres at
    integers), sampled bilinearly once per pixel of length: ``(distance in px, values)``."""
    v = channel_values(pixels, channel)
    h, w = v.shape
    (x0, y0), (x1, y1) = p0, p1
    length = math.hypot(x1 - x0, y1 - y0)
    n = max(2, int(math.ceil(length)) + 1)
    t = np.linspace(0.0, 1.0, n)
    xs = np.clip(x0 + t * (x1 - x0), 0, w - 1)
    ys = np.clip(y0 + t * (y1 - y0), 0, h - 1)
    xi, yi = np.minimum(np.floor(xs).astype(int), w - 2 if w > 1 else 0), \
        np.minimum(np.floor(ys).astype(int), h - 2 if h > 1 else 0)
    fx, fy = xs - xi, ys - yi
    xj, yj = np.minimum(xi + 1, w - 1), np.minimum(yi + 1, h - 1)
    vals = (v[yi, xi] * (1 - fx) * (1 - fy) + v[yi, xj] * fx * (1 - fy)
            + v[yj, xi] * (1 - fx) * fy + v[yj, xj] * fx * fy)
    return t * length, vals


def histograms(pixels: np.ndarray, channels: tuple[str, ...] = ("R", "G", "B"),
               bins: int = 64) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``channel -> (counts, edges)`` over 0-255 (``bins`` equal bins) for each channel."""
    edges = np.linspace(0.0, 255.0, bins + 1)
    return {c: (np.histogram(channel_values(pixels, c), bins=edges)[0], edges) for c in channels}


def default_line(out_hw: tuple[int, int], roi: tuple[int, int, int, int] | None = None
                 ) -> tuple[tuple[float, float], tuple[float, float]]:
    """A horizontal line through the middle of the region (or of the image)."""
    h, w = out_hw
    if roi is not None:
        x, y, rw, rh = roi
        return (float(x), y + rh / 2.0), (float(x + rw - 1), y + rh / 2.0)
    return (0.0, h / 2.0), (float(w - 1), h / 2.0)
