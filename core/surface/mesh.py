"""Triangle meshes from surfaces, as plain numpy arrays (what a 3D view needs), and Open3D.

:func:`mesh_from_surface` turns a :class:`~core.surface.geometry.Surface` into a masked grid
mesh: one vertex per (kept) pixel, two triangles per 2 x 2 block of valid pixels and one where
exactly three are valid (a cleaner silhouette). Large maps are reduced first (area averaging)
so that the longest side has at most ``max_size`` vertices: about 256-512 keeps rotation fluid.

Conventions: vertices in the canonical frame (x right, y up, z towards the camera), float32;
triangles int32, counter-clockwise when seen from the camera (so their face normals point
towards it); vertex normals unit float32 (by default the normal map's own normals, which shade
better than normals re-derived from the integrated heights); colours float32 RGB in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import InputError, ResourceError
from ..normals.codec import NormalMap, normalize
from .geometry import Surface

__all__ = ["Mesh", "mesh_from_surface", "vertex_normals", "scalar_colors", "to_open3d",
           "grid_triangles"]


@dataclass(frozen=True, eq=False)
class Mesh:
    """A triangle mesh as numpy arrays.

    Attributes:
        vertices: float32 ``(N, 3)``. triangles: int32 ``(M, 3)`` vertex indices.
        normals: float32 ``(N, 3)`` unit vertex normals, or ``None``.
        colors: float32 ``(N, 3)`` RGB in [0, 1], or ``None``.
        grid: ``(H, W)`` int32 vertex index of each grid cell (-1 = none) for grid meshes, so a
            view can map pixels to vertices (e.g. to recolour by a per-pixel error); else None.
    """

    vertices: np.ndarray
    triangles: np.ndarray
    normals: np.ndarray | None = None
    colors: np.ndarray | None = None
    grid: np.ndarray | None = None

    def __post_init__(self) -> None:
        v, t = self.vertices, self.triangles
        if v.ndim != 2 or v.shape[1] != 3:
            raise InputError(f"mesh vertices must be N x 3, got {v.shape}")
        if t.ndim != 2 or t.shape[1] != 3:
            raise InputError(f"mesh triangles must be M x 3, got {t.shape}")
        if t.size and (t.min() < 0 or t.max() >= len(v)):
            raise InputError("mesh triangles refer to vertices that do not exist")
        for name in ("normals", "colors"):
            a = getattr(self, name)
            if a is not None and a.shape != v.shape:
                raise InputError(f"mesh {name} must be N x 3 like the vertices, got {a.shape}")

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(min_xyz, max_xyz)`` of the vertices (float64)."""
        if len(self.vertices) == 0:
            return np.zeros(3), np.zeros(3)
        v = self.vertices.astype(np.float64)
        return v.min(axis=0), v.max(axis=0)

    def arrays(self) -> dict[str, np.ndarray | None]:
        """``{"vertices", "triangles", "normals", "colors"}``: what a renderer uploads."""
        return {"vertices": self.vertices, "triangles": self.triangles,
                "normals": self.normals, "colors": self.colors}


def grid_triangles(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Triangles of a masked grid: ``(index H x W (-1 = no vertex), triangles M x 3)``.

    Every 2 x 2 block with four valid cells gives two triangles, with three valid cells one.
    Orientation: counter-clockwise with rows going *down* the image and y going *up*.
    """
    h, w = valid.shape
    index = np.full((h, w), -1, dtype=np.int64)
    index[valid] = np.arange(int(valid.sum()))
    a, b = index[:-1, :-1], index[:-1, 1:]      # top-left, top-right
    c, d = index[1:, :-1], index[1:, 1:]        # bottom-left, bottom-right
    va, vb, vc, vd = a >= 0, b >= 0, c >= 0, d >= 0
    tris = []
    full = va & vb & vc & vd
    tris += [np.stack([a[full], c[full], d[full]], 1), np.stack([a[full], d[full], b[full]], 1)]
    three = (va.astype(int) + vb + vc + vd) == 3
    for miss, (p, q, r) in ((~va, (c, d, b)), (~vb, (a, c, d)), (~vc, (a, d, b)), (~vd, (a, c, b))):
        sel = three & miss
        tris.append(np.stack([p[sel], q[sel], r[sel]], 1))
    t = np.concatenate(tris, 0) if tris else np.zeros((0, 3), dtype=np.int64)
    return index, t.astype(np.int32)


def vertex_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals (float32 ``N x 3``, unit; zero for unused vertices)."""
    v = vertices.astype(np.float64)
    t = triangles.astype(np.int64)
    fn = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])
    acc = np.zeros_like(v)
    for i in range(3):
        np.add.at(acc, t[:, i], fn)
    n, _ = normalize(acc[:, None, :])
    return n[:, 0, :]


def _reduce(a: np.ndarray, m: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Area-average ``a`` (H x W x C) over the mask ``m`` onto ``size``; keep cells fully inside."""
    h2, w2 = size
    mf = m.astype(np.float64)
    src = np.where(m[..., None], a, 0.0).astype(np.float64)
    num = np.stack([cv2.resize(np.ascontiguousarray(src[..., c]), (w2, h2),
                               interpolation=cv2.INTER_AREA) for c in range(src.shape[2])], -1)
    den = cv2.resize(mf, (w2, h2), interpolation=cv2.INTER_AREA)
    keep = den > 0.999
    return num / np.maximum(den, 1e-12)[..., None], keep


def scalar_colors(values: np.ndarray, mask: np.ndarray | None = None, *, cmap: str = "turbo",
                  lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Colour a per-pixel scalar (height, angular error, ...): float32 ``H x W x 3`` RGB.

    ``lo``/``hi`` default to the 1st / 99th percentile inside the mask; ``cmap`` is an OpenCV
    colormap name (``turbo``, ``viridis``, ``inferno``, ``jet``, ...).
    """
    v = np.asarray(values, dtype=np.float64)
    m = np.isfinite(v) if mask is None else (np.asarray(mask, dtype=bool) & np.isfinite(v))
    code = getattr(cv2, f"COLORMAP_{cmap.upper()}", None)
    if code is None:
        raise InputError(f"unknown colour map {cmap!r}")
    if m.any():
        lo = float(np.percentile(v[m], 1)) if lo is None else float(lo)
        hi = float(np.percentile(v[m], 99)) if hi is None else float(hi)
    else:
        lo, hi = 0.0, 1.0
    t = np.clip((np.nan_to_num(v, nan=lo) - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    bgr = cv2.applyColorMap(np.round(t * 255).astype(np.uint8), code)
    return (bgr[..., ::-1].astype(np.float32) / 255.0)


def mesh_from_surface(surface: Surface, normals: NormalMap | np.ndarray | None = None,
                      colors: np.ndarray | None = None, *, max_size: int | None = 512,
                      max_edge_ratio: float | None = None) -> Mesh:
    """Masked grid mesh of ``surface``.

    Args:
        surface: the integrated surface (its ``points()`` become the vertices).
        normals: vertex normals per pixel (a NormalMap or ``H x W x 3``, e.g. the SR normal
            map); ``None`` = computed from the mesh itself.
        colors: optional ``H x W x 3`` RGB in [0, 1] (an image, or :func:`scalar_colors`).
        max_size: longest side of the vertex grid (larger surfaces are area-averaged); ``None``
            keeps every pixel.
        max_edge_ratio: drop triangles whose longest edge exceeds this many times the median
            edge (cuts the "curtains" across depth jumps); ``None`` keeps all.

    Raises:
        InputError: sizes do not match. ResourceError: more than 16 million vertices.
    """
    if max_size is not None and not (isinstance(max_size, (int, np.integer))
                                     and not isinstance(max_size, bool) and max_size >= 2):
        raise InputError(f"the mesh grid's longest side (max_size) must be a whole number of at "
                         f"least 2 pixels (or None: every pixel), got {max_size!r}")
    pts = surface.points()
    m = surface.mask & np.isfinite(pts).all(axis=2)
    h, w = m.shape
    extra: list[np.ndarray] = []
    if normals is not None:
        nv = normals.normals if isinstance(normals, NormalMap) else np.asarray(normals)
        if nv.shape[:2] != (h, w):
            raise InputError(f"normals {nv.shape[:2]} and surface {(h, w)} differ in size")
        if isinstance(normals, NormalMap):
            m = m & normals.mask
        extra.append(nv[..., :3].astype(np.float64))
    if colors is not None:
        cv = np.asarray(colors, dtype=np.float64)
        cv = cv[..., None].repeat(3, axis=2) if cv.ndim == 2 else cv[..., :3]
        if cv.shape[:2] != (h, w):
            raise InputError(f"colours {cv.shape[:2]} and surface {(h, w)} differ in size")
        extra.append(cv)
    stack = np.concatenate([np.nan_to_num(pts)] + extra, axis=2)
    if max_size is not None and max(h, w) > int(max_size):
        f = int(max_size) / max(h, w)
        size = (max(2, int(round(h * f))), max(2, int(round(w * f))))
        stack, m = _reduce(stack, m, size)
    if int(m.sum()) > 16_000_000:
        raise ResourceError(f"a mesh of {int(m.sum())} vertices is too large; use max_size")
    index, tris = grid_triangles(m)
    verts = stack[m][:, :3]
    if max_edge_ratio is not None and len(tris):
        e = np.stack([np.linalg.norm(verts[tris[:, i]] - verts[tris[:, (i + 1) % 3]], axis=1)
                      for i in range(3)], 1).max(axis=1)
        tris = tris[e <= float(max_edge_ratio) * np.median(e)]
    col = 3
    vn = None
    if normals is not None:
        vn, _ = normalize(stack[m][:, None, col:col + 3])
        vn = vn[:, 0, :]
        col += 3
    vc = None
    if colors is not None:
        vc = np.clip(stack[m][:, col:col + 3], 0.0, 1.0).astype(np.float32)
    if vn is None:
        vn = vertex_normals(verts, tris)
    return Mesh(verts.astype(np.float32), tris, vn.astype(np.float32), vc,
                index.astype(np.int32))


def to_open3d(mesh: Mesh):
    """An ``open3d.geometry.TriangleMesh`` of ``mesh`` (Open3D is imported only here).

    Raises :class:`InputError` with the install line when Open3D is not installed.
    """
    try:
        import open3d as o3d
    except ImportError as exc:
        raise InputError("the 3D view needs Open3D: pip install open3d-cpu==0.20.0 (on Debian "
                         "it also needs the system package libusb-1.0-0)") from exc
    out = o3d.geometry.TriangleMesh(
        o3d.utility.Vector3dVector(mesh.vertices.astype(np.float64)),
        o3d.utility.Vector3iVector(mesh.triangles.astype(np.int32)))
    if mesh.normals is not None:
        out.vertex_normals = o3d.utility.Vector3dVector(mesh.normals.astype(np.float64))
    if mesh.colors is not None:
        out.vertex_colors = o3d.utility.Vector3dVector(mesh.colors.astype(np.float64))
    return out
