"""A small software renderer for meshes (numpy only): previews, ``surface --render`` and a
fallback view where Open3D is not installed.

Orthographic camera looking along -z of the view frame, after rotating the mesh by
``elevation`` (about x) and ``azimuth`` (about y), degrees; ``(0, 0)`` looks at the mesh from
the camera that took the normal map. Triangles are rasterised by dense barycentric sampling
(spacing below 0.7 px, so there are no holes) with a z-buffer, Lambert shading with a light
near the viewer (two-sided), interpolated vertex normals and colours. About 0.3 s for 250k
triangles at 512 x 512.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .mesh import Mesh

__all__ = ["render_mesh", "view_rotation"]

_MAX_SUB = 48


def view_rotation(azimuth: float, elevation: float) -> np.ndarray:
    """3 x 3 rotation: first ``azimuth`` degrees about y, then ``elevation`` about x."""
    a, e = np.radians(float(azimuth)), np.radians(float(elevation))
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(e), -np.sin(e)], [0, np.sin(e), np.cos(e)]])
    return rx @ ry


def _bary(k: int) -> np.ndarray:
    i, j = np.meshgrid(np.arange(k + 1), np.arange(k + 1), indexing="ij")
    keep = i + j <= k
    b1, b2 = i[keep] / k, j[keep] / k
    return np.stack([1.0 - b1 - b2, b1, b2], axis=1)


def render_mesh(mesh: Mesh, *, size: tuple[int, int] = (512, 512), azimuth: float = 0.0,
                elevation: float = 0.0, zoom: float = 1.0,
                background: tuple[float, float, float] = (0.12, 0.12, 0.14),
                base_color: tuple[float, float, float] = (0.8, 0.8, 0.8),
                ambient: float = 0.25) -> np.ndarray:
    """Render ``mesh`` to a uint8 ``H x W x 3`` RGB image (``size`` = (H, W)).

    The mesh is centred and scaled so that its bounding sphere fills 90% of the shorter side
    at ``zoom = 1``. Vertex colours are used when present, else ``base_color``.
    """
    for name, value in (("azimuth", azimuth), ("elevation", elevation), ("zoom", zoom)):
        if not np.isfinite(float(value)):
            raise InputError(f"the render {name} must be a finite number, got {value!r}")
    if not float(zoom) > 0:
        raise InputError(f"the render zoom must be positive, got {zoom!r}")
    h, w = int(size[0]), int(size[1])
    if h < 2 or w < 2 or h * w > 64_000_000:
        raise InputError(f"render size must be between 2 x 2 and 64 megapixels, got {w} x {h}")
    img = np.empty((h, w, 3), dtype=np.float32)
    img[:] = np.asarray(background, dtype=np.float32)
    if len(mesh.triangles) == 0:
        return np.round(img * 255).astype(np.uint8)
    rot = view_rotation(azimuth, elevation)
    v = mesh.vertices.astype(np.float64)
    lo, hi = v.min(axis=0), v.max(axis=0)
    centre = (lo + hi) / 2.0
    radius = max(float(np.linalg.norm(hi - lo)) / 2.0, 1e-12)
    scale = 0.45 * min(h, w) * float(zoom) / radius
    pv = (v - centre) @ rot.T * scale
    sx = pv[:, 0] + (w - 1) / 2.0
    sy = (h - 1) / 2.0 - pv[:, 1]
    sz = pv[:, 2]
    nrm = (mesh.normals.astype(np.float64) @ rot.T) if mesh.normals is not None else None
    col = mesh.colors.astype(np.float64) if mesh.colors is not None else None
    light = np.array([0.3, 0.4, 1.0]) / np.linalg.norm([0.3, 0.4, 1.0])
    t = mesh.triangles.astype(np.int64)
    edge = np.zeros(len(t))
    for a, b in ((0, 1), (1, 2), (2, 0)):
        edge = np.maximum(edge, np.hypot(sx[t[:, a]] - sx[t[:, b]], sy[t[:, a]] - sy[t[:, b]]))
    if nrm is None:   # flat shading from face normals
        p0, p1, p2 = (pv[t[:, i]] for i in range(3))
        fn = np.cross(p1 - p0, p2 - p0)
        fn /= np.maximum(np.linalg.norm(fn, axis=1, keepdims=True), 1e-30)
    levels = np.clip(np.ceil(edge * 1.5).astype(np.int64), 1, _MAX_SUB)
    pix_all, z_all, shade_all = [], [], []
    for k in np.unique(levels):
        sel = np.nonzero(levels == k)[0]
        bw = _bary(int(k))                                  # S x 3
        tt = t[sel]                                         # T x 3

        def interp(a: np.ndarray) -> np.ndarray:
            return np.einsum("sc,tc...->ts...", bw, a[tt])

        x = np.rint(interp(sx)).astype(np.int64).ravel()
        y = np.rint(interp(sy)).astype(np.int64).ravel()
        z = interp(sz).ravel()
        if nrm is not None:
            nn = interp(nrm).reshape(-1, 3)
            nn /= np.maximum(np.linalg.norm(nn, axis=1, keepdims=True), 1e-30)
        else:
            nn = np.repeat(fn[sel], len(bw), axis=0)
        lam = ambient + (1.0 - ambient) * np.abs(nn @ light)
        base = interp(col).reshape(-1, 3) if col is not None else np.asarray(base_color)[None]
        shade = base * lam[:, None]
        ok = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        pix_all.append(y[ok] * w + x[ok])
        z_all.append(z[ok])
        shade_all.append(np.broadcast_to(shade, (len(ok), 3))[ok])
    pix = np.concatenate(pix_all)
    z = np.concatenate(z_all)
    shade = np.concatenate(shade_all)
    order = np.lexsort((-z, pix))                           # by pixel, nearest first
    pix, shade = pix[order], shade[order]
    first = np.ones(len(pix), dtype=bool)
    first[1:] = pix[1:] != pix[:-1]
    flat = img.reshape(-1, 3)
    flat[pix[first]] = shade[first]
    return np.round(np.clip(img, 0.0, 1.0) * 255).astype(np.uint8)
