"""Small synthetic normal maps for the GUI tests (a bumpy dome on a masked background)."""

from __future__ import annotations

import numpy as np


def dome_normals(size: int = 48, bumps: float = 0.04) -> tuple[np.ndarray, np.ndarray]:
    """``(normals H x W x 3, mask)`` of a dome with ripples (canonical frame, unit length)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    r = size * 0.42
    cx, cy = (x - size / 2 + 0.5) / r, (size / 2 - 0.5 - y) / r
    r2 = cx ** 2 + cy ** 2
    mask = r2 < 0.95
    z = np.sqrt(np.clip(1.0 - r2, 0.0, 1.0)) * r * 0.6 + bumps * r * np.sin(x / 2.5) * np.cos(y / 3)
    gy, gx = np.gradient(z)
    n = np.dstack([-gx, gy, np.ones_like(z)])
    n /= np.linalg.norm(n, axis=2, keepdims=True)
    n[~mask] = 0.0
    return n.astype(np.float32), mask


def save_dome(path, size: int = 48) -> None:
    from core.io.normals import save_normal_map
    from core.normals import from_vectors

    n, m = dome_normals(size)
    save_normal_map(from_vectors(n, m), path, bits=16)
