"""LAM pictures as pure functions returning RGB ``uint8`` arrays (no Qt, no matplotlib).

As in the official demo: the map in [0, 1] is coloured with the *seismic* colour map at
``map * 0.5 + 0.5`` (0 = white, 1 = dark red), enlarged to the SR size with nearest
neighbours, and blended over the LR input enlarged to the same size (bicubic); the window is a
red square on the SR image. The GUI can use :func:`colorize` / :func:`lam_overlay` directly.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..data import Region

__all__ = ["SEISMIC", "colorize", "heatmap", "lam_overlay", "draw_window", "lam_panel", "to_rgb8"]

#: matplotlib's ``seismic`` colour map: these 5 colours evenly spaced, linear in between.
_SEISMIC_STOPS = np.array([(0.0, 0.0, 0.3), (0.0, 0.0, 1.0), (1.0, 1.0, 1.0),
                           (1.0, 0.0, 0.0), (0.5, 0.0, 0.0)])
#: The 256-entry lookup table (float64 RGB in [0, 1]), as matplotlib samples it.
SEISMIC = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, 5), _SEISMIC_STOPS[:, c])
                    for c in range(3)], axis=1)
WINDOW_COLOUR = (255, 0, 0)


def colorize(values: np.ndarray) -> np.ndarray:
    """``h x w`` map in [0, 1] -> ``h x w x 3`` uint8 RGB (seismic at ``values * 0.5 + 0.5``)."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0) * 0.5 + 0.5
    idx = np.clip((v * 256).astype(np.int64), 0, 255)
    return (255 * SEISMIC[idx]).astype(np.uint8)


def heatmap(amap: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """The coloured map enlarged to ``out_hw`` (SR pixels) with nearest neighbours."""
    rgb = colorize(amap)
    return cv2.resize(rgb, (int(out_hw[1]), int(out_hw[0])), interpolation=cv2.INTER_NEAREST)


def to_rgb8(pixels: np.ndarray) -> np.ndarray:
    """Working-range pixels (``h x w x C``, C = 1 or 3, [0, 1]) -> uint8 RGB for display."""
    p = np.asarray(pixels, dtype=np.float32)
    if p.ndim == 2:
        p = p[:, :, None]
    if p.shape[2] == 1:
        p = np.repeat(p, 3, axis=2)
    return np.clip(np.rint(np.clip(p[:, :, :3], 0, 1) * 255), 0, 255).astype(np.uint8)


def draw_window(rgb: np.ndarray, window: Region, colour: tuple[int, int, int] = WINDOW_COLOUR,
                thickness: int = 2) -> np.ndarray:
    """A copy of ``rgb`` (uint8) with the window's square drawn (corners ``(x, y)`` and
    ``(x + size, y + size)``, as the official demo draws it)."""
    out = np.ascontiguousarray(rgb).copy()
    cv2.rectangle(out, (int(window.x), int(window.y)),
                  (int(window.x + window.w), int(window.y + window.h)), colour, int(thickness))
    return out


def lam_overlay(amap: np.ndarray, lr: np.ndarray, out_hw: tuple[int, int], alpha: float = 0.5,
                window: Region | None = None) -> np.ndarray:
    """Heat map over the LR input, at the SR size ``out_hw``, as uint8 RGB.

    ``alpha`` in [0, 1] is the heat map's opacity (0.5 = the official blend); ``lr`` is the
    LR input (``h x w x C`` in [0, 1]), enlarged with bicubic. The window is drawn if given.
    """
    a = float(np.clip(alpha, 0.0, 1.0))
    under = cv2.resize(to_rgb8(lr), (int(out_hw[1]), int(out_hw[0])),
                       interpolation=cv2.INTER_CUBIC).astype(np.float64)
    over = heatmap(amap, out_hw).astype(np.float64)
    out = np.clip(over * a + under * (1.0 - a), 0, 255).astype(np.uint8)
    return draw_window(out, window) if window is not None else out


def lam_panel(result, lr: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """The official demo's strip for a :class:`~core.attribution.LAMResult`: SR with the
    window | heat map | overlay (each at the SR size; the SR part is the enlarged LR when the
    result has no SR image)."""
    hw = result.out_size
    if result.sr is not None:
        sr = to_rgb8(result.sr.pixels)
    else:
        sr = cv2.resize(to_rgb8(lr), (hw[1], hw[0]), interpolation=cv2.INTER_CUBIC)
    parts = [draw_window(sr, result.window), heatmap(result.map, hw),
             lam_overlay(result.map, lr, hw, alpha, result.window)]
    return np.concatenate(parts, axis=1)
