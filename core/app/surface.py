"""The 3D pane's work, as a core Job (Qt-free): integrate normal maps, build meshes, colour them.

The controller freezes a :class:`SurfaceRequest` on the GUI thread: the normal maps to show side
by side (``LR bicubic``, ``SR (split)``, ``SR (naive)``, ``GT``, all on the same HR grid, or the
input alone), the integration method, the camera intrinsics of that grid and the ground truth
for the angular-error colouring. :func:`surface_job` integrates each map
(:func:`core.surface.integrate`, progress per method iteration, cancellable between yields),
meshes it with a size cap (:func:`core.surface.mesh_from_surface`) and precomputes the vertex
colours of every colour mode, so that switching the colouring in the pane is instant. Each map's
:class:`SurfaceView` is sent as soon as it is ready (a :class:`core.jobs.Step`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from core.jobs import Job, Progress, sub_job
from core.normals import NormalMap, angular_error_map
from core.surface import Mesh, Surface, integrate, mesh_from_surface, scalar_colors

from core.jobs import Step

__all__ = ["COLOR_MODES", "SurfaceRequest", "SurfaceView", "surface_job", "vertex_colors",
           "VIEW_ORDER", "ERROR_MAX_DEG", "MESH_MAX_SIZE", "ERROR_STOPS", "error_rgb",
           "HEIGHT_CMAP", "height_range"]

#: The height colouring: perceptual (viridis), never jet or turbo.
HEIGHT_CMAP = "viridis"


def height_range(surface: Surface) -> tuple[float, float, str]:
    """``(lo, hi, unit)`` the height colouring spans: the 1st and 99th percentile of ``z``
    inside the mask; ``px`` (orthographic: heights in pixel widths) or ``depth units``
    (perspective: relative, median depth fixed)."""
    z = np.asarray(surface.z, dtype=np.float64)
    ok = np.isfinite(z) & np.asarray(surface.mask, dtype=bool)
    unit = "px" if surface.projection == "orthographic" else "depth units"
    if not ok.any():
        return 0.0, 1.0, unit
    return float(np.percentile(z[ok], 1)), float(np.percentile(z[ok], 99)), unit

#: Colourings of the 3D views (key -> menu text), in menu order.
COLOR_MODES: dict[str, str] = {
    "height": "colour by height",
    "error": "colour by angular error",
    "shaded": "plain grey (lighting only)",
    "normals": "normal-map colours",
    "image": "colours of an image (Image…)",
}
#: The side-by-side views, left to right (only those that exist are shown).
VIEW_ORDER: tuple[str, ...] = ("Input", "LR bicubic", "SR (split)", "SR (naive)", "GT")
#: The angular error at the top of the error colour scale (degrees).
ERROR_MAX_DEG = 30.0
#: Longest side of a mesh grid (larger maps are area-averaged): keeps rotation fluid.
MESH_MAX_SIZE = 384
GREY = (0.78, 0.78, 0.78)
#: The angular-error colour scale, 0 to ERROR_MAX_DEG: light grey (no error, so the shading of
#: the surface still reads), yellow, red, purple.
ERROR_STOPS: tuple[tuple[float, tuple[float, float, float]], ...] = (
    (0.0, GREY), (1 / 3, (0.98, 0.84, 0.25)), (2 / 3, (0.93, 0.33, 0.12)),
    (1.0, (0.55, 0.05, 0.45)))


def error_rgb(err_deg: np.ndarray) -> np.ndarray:
    """Angular errors (degrees, NaN = no normal) -> ``H x W x 3`` colours of ERROR_STOPS."""
    t = np.clip(np.nan_to_num(np.asarray(err_deg, dtype=np.float64), nan=0.0) / ERROR_MAX_DEG,
                0.0, 1.0)
    xs = [s for s, _ in ERROR_STOPS]
    return np.stack([np.interp(t, xs, [c[i] for _, c in ERROR_STOPS]) for i in range(3)],
                    axis=-1).astype(np.float32)


@dataclass(frozen=True, eq=False)
class SurfaceRequest:
    """What to build: ``maps`` = (view name, normals) pairs, all in the canonical frame."""

    maps: tuple[tuple[str, NormalMap], ...]
    method: str = "lsq"
    K: np.ndarray | None = None            # intrinsics of the maps' grid; None = orthographic
    reference: NormalMap | None = None     # ground truth (angular-error colouring)
    max_size: int = MESH_MAX_SIZE
    signature: tuple = ()                  # what the maps were made from (stale check)
    texture: np.ndarray | None = None      # H x W x 3 RGB in [0, 1] for the "image" colouring


@dataclass(frozen=True, eq=False)
class SurfaceView:
    """One view's mesh, its vertex colours per colour mode, and how it was made."""

    name: str
    mesh: Mesh
    colors: dict[str, np.ndarray] = field(default_factory=dict)   # mode -> N x 3 in [0, 1]
    surface: Surface | None = None
    error_deg: float | None = None      # mean angular error against the reference
    notes: tuple[str, ...] = ()

    def info(self) -> str:
        s = self.surface
        text = f"{len(self.mesh.triangles):,} triangles"
        if s is not None:
            text += f" · {s.method} in {s.seconds:.2f} s"
        if self.error_deg is not None:
            text += f"\nmean angular error {self.error_deg:.2f}°"
        return text


def vertex_colors(mesh: Mesh, rgb: np.ndarray) -> np.ndarray:
    """Per-vertex colours of a grid mesh from a per-pixel ``H x W x 3`` image in [0, 1]
    (area-averaged onto the mesh grid when the mesh was reduced)."""
    if mesh.grid is None:
        raise ValueError("vertex_colors needs a grid mesh (mesh_from_surface)")
    gh, gw = mesh.grid.shape
    img = np.ascontiguousarray(rgb[..., :3], dtype=np.float32)
    if img.shape[:2] != (gh, gw):
        img = cv2.resize(img, (gw, gh), interpolation=cv2.INTER_AREA)
    return np.clip(img[mesh.grid >= 0], 0.0, 1.0).astype(np.float32)


def _colors(mesh: Mesh, surf: Surface, nmap: NormalMap, reference: NormalMap | None,
            texture: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], float | None]:
    n = len(mesh.vertices)
    lo, hi, _unit = height_range(surf)
    out = {"shaded": np.tile(np.asarray(GREY, dtype=np.float32), (n, 1)),
           "height": vertex_colors(mesh, scalar_colors(surf.z, surf.mask, cmap=HEIGHT_CMAP,
                                                       lo=lo, hi=hi)),
           "normals": vertex_colors(mesh, (nmap.normals + 1.0) * 0.5)}
    if texture is not None:  # any size: area-averaged (or stretched) onto the mesh grid
        out["image"] = vertex_colors(mesh, texture)
    mean = None
    if reference is not None and reference.shape == nmap.shape:
        err = angular_error_map(nmap, reference)
        ok = np.isfinite(err)
        mean = float(err[ok].mean()) if ok.any() and nmap is not reference else None
        out["error"] = vertex_colors(mesh, error_rgb(err))
    return out, mean


def surface_job(req: SurfaceRequest) -> Job[dict[str, SurfaceView]]:
    """Integrate and mesh every map of ``req``; yields ``Step("surface", SurfaceView)`` each."""
    n = max(1, len(req.maps))
    total = 1000 * n
    views: dict[str, SurfaceView] = {}
    for i, (name, nmap) in enumerate(req.maps):
        start = 1000 * i
        yield Progress(start, total, f"{name}: integrating ({req.method})")
        surf = yield from sub_job(integrate(nmap, method=req.method, K=req.K), start, 800, total,
                                  f"{name}: ")
        yield Progress(start + 800, total, f"{name}: meshing")
        mesh = mesh_from_surface(surf, nmap, None, max_size=req.max_size)
        colors, err = _colors(mesh, surf, nmap, req.reference, req.texture)
        notes = []
        if mesh.grid is not None and mesh.grid.shape != nmap.shape:
            gh, gw = mesh.grid.shape
            notes.append(f"{nmap.shape[1]}x{nmap.shape[0]} map shown as a {gw}x{gh} mesh "
                         f"(size cap {req.max_size})")
        view = SurfaceView(name, mesh, colors, surf, err, tuple(notes))
        views[name] = view
        yield Step(start + 1000, total, f"{name}: {len(mesh.triangles):,} triangles",
                   key="surface", value=view)
    return views
