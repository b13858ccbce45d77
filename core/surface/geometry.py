"""Camera geometry shared by the integrators: the linear equations normals impose on depth,
and the :class:`Surface` result with its 3D points.

Frames. Normals are in the canonical frame (x right, y up, z towards the camera). Internally
the integrators work in OpenCV's camera frame (X right, Y down, Z forward), where a surface
point at pixel (u, v) (column, row; pixel centres at integers, as in ``K``) is

* orthographic: ``P = (u * step, v * step, d)``, unknown ``w = d``;
* perspective:  ``P = d * K^-1 (u, v, 1)``,       unknown ``w = log d`` (so the depth is known
  up to a scale factor, the classical ambiguity).

A tangent ``dP/du`` is orthogonal to the normal ``n_c = (n_x, -n_y, -n_z)``, which gives one
linear equation per pixel and direction::

    a_u * dw/du = b_u,   a_v * dw/dv = b_v

orthographic: ``a_u = a_v = n_cz``, ``b_u = -n_cx * step``, ``b_v = -n_cy * step``;
perspective:  ``a_u = f_x (n_c . r)``, ``a_v = f_y (n_c . r)``, ``b_u = -f_x (n_c . K^-1 e_1)``,
``b_v = -f_y (n_c . K^-1 e_2)`` with ``r = K^-1 (u, v, 1)`` (Durou et al.; the "log-depth"
formulation of BiNI, Cao et al. ECCV 2022). Gradient-based methods divide (``dw/du = b_u /
a_u``) with a floor on the grazing factor (``-a`` at least ``nz_floor`` times its scale);
the bilateral method keeps the products and needs no floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..errors import InputError

__all__ = ["Equations", "equations", "Surface", "finish", "check_step", "check_depth_scale",
           "scale_intrinsics"]


@dataclass(frozen=True, eq=False)
class Equations:
    """``a_u dw/du = b_u`` and ``a_v dw/dv = b_v`` per pixel (float64 ``H x W`` each)."""

    au: np.ndarray
    av: np.ndarray
    bu: np.ndarray
    bv: np.ndarray
    scale_u: float          # |a_u| of a surface facing the camera (1 or f_x)
    scale_v: float

    def gradients(self, nz_floor: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
        """``(dw/du, dw/dv)`` with ``a`` clamped to at most ``-nz_floor * scale``.

        Front-facing normals have ``a < 0``; grazing or back-facing ones are treated as
        grazing at ``nz_floor`` (a steep but finite slope of the same direction).
        """
        au = np.minimum(self.au, -nz_floor * self.scale_u)
        av = np.minimum(self.av, -nz_floor * self.scale_v)
        return self.bu / au, self.bv / av


def scale_intrinsics(K: np.ndarray, scale: float | tuple[float, float]) -> np.ndarray:
    """``K`` of the same camera for an image resized by ``scale`` (or ``(sy, sx)``), e.g. an SR
    normal map: focal lengths times the scale, principal point ``(c + 0.5) * s - 0.5`` (pixel
    centres at integers, the OpenCV convention)."""
    sy, sx = (scale, scale) if np.isscalar(scale) else scale
    k = np.asarray(K, dtype=np.float64).copy()
    k[0, :2] *= float(sx)
    k[1, 1] *= float(sy)
    k[0, 2] = (k[0, 2] + 0.5) * float(sx) - 0.5
    k[1, 2] = (k[1, 2] + 0.5) * float(sy) - 0.5
    return k


def check_step(step: float) -> float:
    s = float(step)
    if not np.isfinite(s) or s <= 0:
        raise InputError(f"the pixel size (step) must be a positive number, got {step!r}")
    return s


def check_depth_scale(depth_scale: float) -> float:
    """The perspective median depth: a positive finite number (NaN, inf, 0 or < 0 would give
    an all-NaN or mirrored surface)."""
    try:
        d = float(depth_scale)
    except (TypeError, ValueError):
        raise InputError(f"the depth scale must be a positive number, got {depth_scale!r}") \
            from None
    if not np.isfinite(d) or d <= 0:
        raise InputError(f"the depth scale must be a positive finite number, got {depth_scale!r}")
    return d


def equations(normals: np.ndarray, K: np.ndarray | None = None, step: float = 1.0) -> Equations:
    """The per-pixel equations of module docstring for canonical-frame unit ``normals``."""
    n = np.asarray(normals, dtype=np.float64)
    ncx, ncy, ncz = n[..., 0], -n[..., 1], -n[..., 2]
    if K is None:
        s = check_step(step)
        return Equations(ncz, ncz, -ncx * s, -ncy * s, 1.0, 1.0)
    k = np.asarray(K, dtype=np.float64)
    kinv = np.linalg.inv(k)
    h, w = n.shape[:2]
    v, u = np.mgrid[0:h, 0:w].astype(np.float64)
    rx = kinv[0, 0] * u + kinv[0, 1] * v + kinv[0, 2]
    ry = kinv[1, 1] * v + kinv[1, 2]
    nr = ncx * rx + ncy * ry + ncz                      # n_c . r  (r_z = 1)
    e1 = kinv[:, 0]
    e2 = kinv[:, 1]
    fx, fy = float(k[0, 0]), float(k[1, 1])
    bu = -fx * (ncx * e1[0] + ncy * e1[1] + ncz * e1[2])
    bv = -fy * (ncx * e2[0] + ncy * e2[1] + ncz * e2[2])
    return Equations(fx * nr, fy * nr, bu, bv, fx, fy)


@dataclass(frozen=True, eq=False)
class Surface:
    """A surface recovered from normals.

    Attributes:
        z: float64 ``H x W``, NaN outside ``mask``: the coordinate towards the camera of the
            surface point seen at each pixel. Orthographic: the *height* in units of ``step``
            (1 = pixels), mean 0 over each connected part. Perspective: ``-depth`` along the
            optical axis, in arbitrary units scaled so that the median depth is
            ``depth_scale`` (absolute scale is not recoverable from normals).
        mask: bool ``H x W``, the pixels with a value.
        method: the integrator's name. projection: ``orthographic`` or ``perspective``.
        K: the intrinsics (perspective) or ``None``. step: pixel size (orthographic).
        seconds: wall time of the solve. iterations: solver iterations (0 for direct methods).
    """

    z: np.ndarray
    mask: np.ndarray
    method: str
    projection: str
    K: np.ndarray | None = None
    step: float = 1.0
    seconds: float = 0.0
    iterations: int = 0

    @property
    def depth(self) -> np.ndarray:
        """Distance along the viewing axis (``-z``); NaN outside the mask."""
        return -self.z

    def points(self) -> np.ndarray:
        """float64 ``H x W x 3`` surface points in the canonical frame (x right, y up, z
        towards the camera); NaN outside the mask. Orthographic grids are centred on 0."""
        h, w = self.z.shape
        v, u = np.mgrid[0:h, 0:w].astype(np.float64)
        if self.K is None:
            x = (u - (w - 1) / 2.0) * self.step
            y = -(v - (h - 1) / 2.0) * self.step
            pts = np.stack([x, y, self.z], axis=-1)
        else:
            kinv = np.linalg.inv(np.asarray(self.K, dtype=np.float64))
            d = self.depth
            rx = kinv[0, 0] * u + kinv[0, 1] * v + kinv[0, 2]
            ry = kinv[1, 1] * v + kinv[1, 2]
            pts = np.stack([d * rx, -d * ry, -d], axis=-1)
        pts[~self.mask] = np.nan
        return pts


def _components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    return ndimage.label(mask)


def finish(w: np.ndarray, mask: np.ndarray, *, K: np.ndarray | None, step: float, method: str,
           seconds: float, iterations: int = 0, depth_scale: float = 1.0,
           per_component: bool = True) -> Surface:
    """Turn the solved unknown ``w`` (``d`` or ``log d``) into a :class:`Surface`.

    The free constant of each 4-connected part of the mask (one for the whole map when
    ``per_component`` is false) is fixed: orthographic heights get mean 0, perspective depths
    median ``depth_scale``.
    """
    w = np.asarray(w, dtype=np.float64).copy()
    w[~mask] = np.nan
    if per_component:
        labels, count = _components(mask)
    else:
        labels, count = mask.astype(np.int32), 1
    for c in range(1, count + 1):
        sel = labels == c
        vals = w[sel]
        if K is None:
            w[sel] = vals - np.mean(vals)
        else:
            w[sel] = vals - np.median(vals)
    if K is None:
        z = -w                                           # height towards the camera
    else:
        z = -np.exp(w) * check_depth_scale(depth_scale)
    return Surface(z=z, mask=mask.copy(), method=method,
                   projection="orthographic" if K is None else "perspective",
                   K=None if K is None else np.asarray(K, dtype=np.float64),
                   step=float(step), seconds=float(seconds), iterations=int(iterations))
