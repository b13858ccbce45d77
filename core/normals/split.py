"""Shape/detail split of a normal field and its exact recombination.

* **shape** = renormalised Gaussian low-pass of the normal field (standard deviation ``sigma``
  in pixels). The filter is mask-aware (normalised convolution: ``blur(n * m) / blur(m)``), so
  masked-out pixels do not pull the shape normals towards zero.
* **detail** = the normal expressed relative to the shape normal: ``d = R(s)^T n``, where
  ``R(s)`` is the rotation that takes +z onto the shape normal ``s`` (about the axis
  ``z x s``). A flat detail is (0, 0, 1).
* **recombine**: ``n = R(s) d``, renormalised. With no processing in between it returns the
  input to float rounding (~1e-5 degrees in float32).

``R(s) v = v + k x v + k x (k x v) / (1 + c)`` with ``k = z x s = (-s_y, s_x, 0)`` and
``c = s_z`` (Rodrigues' formula without trigonometry). For ``s`` within 1e-6 of -z the rotation
by pi about x is used, so it is defined for every unit ``s`` and split/recombine stay inverse.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import InputError
from .codec import NormalMap, normalize

__all__ = ["lowpass", "rotate_from_z", "rotate_to_z", "split", "recombine", "Split"]

_NEAR_MINUS_Z = -1.0 + 1e-6


def _check_sigma(sigma: float) -> float:
    try:
        s = float(sigma)
    except (TypeError, ValueError):
        raise InputError(f"sigma must be a number of pixels, got {sigma!r}") from None
    if not np.isfinite(s) or s <= 0:
        raise InputError(f"sigma must be a positive number of pixels, got {sigma!r}")
    if s > 1000:
        raise InputError(f"sigma {s:g} px is larger than the supported maximum of 1000 px")
    return s


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    k = int(2 * int(np.ceil(3 * sigma)) + 1)
    return cv2.GaussianBlur(a, (k, k), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)


def lowpass(nmap: NormalMap, sigma: float) -> np.ndarray:
    """Mask-aware Gaussian low-pass of the normals, renormalised: float32 ``H x W x 3``.

    Inside the mask the result is a unit vector; where the blurred vector is (near) zero
    (opposite normals cancelling) the input normal is kept. Outside the mask: zero.
    """
    s = _check_sigma(sigma)
    m = nmap.mask.astype(np.float64)
    num = _blur(nmap.normals.astype(np.float64) * m[..., None], s)
    den = _blur(m, s)
    avg = num / np.maximum(den, 1e-12)[..., None]
    length = np.sqrt((avg * avg).sum(axis=2))
    weak = (den < 1e-6) | (length < 1e-3)
    avg = np.where(weak[..., None], nmap.normals, avg)
    out, _ = normalize(avg, nmap.mask)
    return out


def _cross_z0(k: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``k x v`` for ``k`` with zero z component (cheaper than ``np.cross``)."""
    out = np.empty(np.broadcast_shapes(k.shape, v.shape), dtype=np.float64)
    out[..., 0] = k[..., 1] * v[..., 2]
    out[..., 1] = -k[..., 0] * v[..., 2]
    out[..., 2] = k[..., 0] * v[..., 1] - k[..., 1] * v[..., 0]
    return out


def _rotate(s: np.ndarray, v: np.ndarray, inverse: bool) -> np.ndarray:
    s = np.asarray(s, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    k = np.zeros_like(s)
    k[..., 0], k[..., 1] = -s[..., 1], s[..., 0]
    c = s[..., 2]
    flip = c < _NEAR_MINUS_Z
    if inverse:
        k = -k                                  # R^T = I - [k]x + [k]x^2 / (1 + c)
    kv = _cross_z0(k, v)
    kkv = _cross_z0(k, kv)
    scale = 1.0 / np.where(flip, 1.0, 1.0 + c)
    out = v + kv + kkv * scale[..., None]
    if flip.any():                              # rotation by pi about x: (x, -y, -z)
        out[flip] = v[flip] * np.array([1.0, -1.0, -1.0])
    return out


def rotate_from_z(s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``R(s) v``: rotate ``v`` by the rotation taking +z onto unit ``s`` (float64)."""
    return _rotate(s, v, inverse=False)


def rotate_to_z(s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``R(s)^T v``: express ``v`` relative to ``s`` (``s`` itself becomes +z), float64."""
    return _rotate(s, v, inverse=True)


@dataclass(frozen=True, eq=False)
class Split:
    """The two parts of a normal map. Both are :class:`NormalMap` with the input's mask."""

    shape: NormalMap
    detail: NormalMap
    sigma: float


def split(nmap: NormalMap, sigma: float = 3.0) -> Split:
    """Split ``nmap`` into a low-pass *shape* and a *detail* relative to it.

    Args:
        nmap: unit normals (canonical frame) with a mask.
        sigma: Gaussian standard deviation in pixels (of this map's grid); larger = smoother
            shape and more in the detail.
    """
    s = _check_sigma(sigma)
    shape = lowpass(nmap, s)
    detail = rotate_to_z(shape, nmap.normals)
    d, _ = normalize(detail, nmap.mask)
    return Split(shape=nmap.with_normals(shape), detail=nmap.with_normals(d), sigma=s)


def recombine(shape: NormalMap | np.ndarray, detail: NormalMap | np.ndarray,
              mask: np.ndarray | None = None) -> NormalMap:
    """Rotate ``detail`` back onto ``shape`` and renormalise: the inverse of :func:`split`.

    Inputs are :class:`NormalMap` or ``H x W x 3`` arrays (renormalised first; they may come
    straight out of an SR model). The mask is ``mask`` if given, else the intersection of the
    parts' masks (arrays count as valid where non-zero).
    """
    def parts(x: NormalMap | np.ndarray) -> tuple[np.ndarray, np.ndarray, NormalMap | None]:
        if isinstance(x, NormalMap):
            return x.normals, x.mask, x
        n, ok = normalize(x)
        return n, ok, None

    sn, sm, s_map = parts(shape)
    dn, dm, d_map = parts(detail)
    if sn.shape != dn.shape:
        raise InputError(f"shape part {sn.shape[:2]} and detail part {dn.shape[:2]} differ in size")
    sn, ok_s = normalize(sn)
    dn, ok_d = normalize(dn)
    m = (sm & dm & ok_s & ok_d) if mask is None else (np.asarray(mask, dtype=bool) & ok_s & ok_d)
    n = rotate_from_z(sn, dn)
    base = s_map or d_map
    if base is not None:
        return base.with_normals(n, m)
    out, ok = normalize(n, m)
    return NormalMap(out, ok)
