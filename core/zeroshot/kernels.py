"""Blur kernels for zero-shot SR: Gaussian presets, user kernels, and the degradation they define.

A kernel is a 2-D float32 array summing to 1 (odd or even size, at most 63 x 63). The
degradation of an image ``x`` with kernel ``k`` at integer scale ``s`` is the usual
"blur then direct subsampling": ``y = (x * k)[off::s, off::s]`` with reflect padding and
``off = (s - 1) // 2`` (the centre of each s x s cell). Without a kernel the degradation is
MATLAB bicubic (:func:`core.resize.imresize_torch`), any scale. Sigmas are in HR pixels.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch.nn.functional as F
from torch import Tensor

from ..errors import InputError, ScaleError
from ..resize import imresize_torch
from .presets import PRESETS

__all__ = ["gaussian_kernel", "random_gaussian_kernel", "PRESETS", "preset_kernel",
           "check_kernel", "load_kernel", "blur", "downscale", "upscale"]

MAX_KERNEL = 63


def gaussian_kernel(sigma_x: float, sigma_y: float | None = None, theta: float = 0.0,
                    size: int | None = None) -> np.ndarray:
    """A normalised (an)isotropic Gaussian, sigmas in pixels, ``theta`` in radians.

    ``size`` defaults to the odd number covering +-3 of the largest sigma (at least 3).
    """
    sy = sigma_x if sigma_y is None else sigma_y
    if sigma_x <= 0 or sy <= 0:
        raise InputError(f"Gaussian sigmas must be > 0, got {sigma_x}, {sy}")
    if size is None:
        size = max(3, 2 * math.ceil(3 * max(sigma_x, sy)) + 1)
    r = (np.arange(size, dtype=np.float64) - (size - 1) / 2)
    xx, yy = np.meshgrid(r, r)
    c, s = math.cos(theta), math.sin(theta)
    u, v = c * xx + s * yy, -s * xx + c * yy
    k = np.exp(-0.5 * ((u / sigma_x) ** 2 + (v / sy) ** 2))
    return (k / k.sum()).astype(np.float32)


def random_gaussian_kernel(rng: np.random.Generator, scale: int, size: int = 15,
                           sigma_range: tuple[float, float] = (0.2, 4.0),
                           anisotropic_p: float = 0.5) -> np.ndarray:
    """A random Gaussian for meta-learning tasks: isotropic, or (probability
    ``anisotropic_p``) anisotropic with a random angle; sigmas in HR pixels."""
    lo, hi = sigma_range
    sx = float(rng.uniform(lo, hi))
    if rng.random() < anisotropic_p:
        sy = float(rng.uniform(lo, hi))
        return gaussian_kernel(sx, sy, float(rng.uniform(0, math.pi)), size)
    return gaussian_kernel(sx, sx, 0.0, size)


def preset_kernel(name: str) -> np.ndarray:
    """The preset kernel ``name`` (see :data:`PRESETS`), 15 x 15."""
    if name not in PRESETS:
        raise InputError(f"unknown kernel preset {name!r}; use one of {', '.join(PRESETS)}")
    sx, sy, th = PRESETS[name]
    return gaussian_kernel(sx, sy, th, 15)


def check_kernel(k: object, what: str = "kernel") -> np.ndarray:
    """``k`` as a float32 2-D kernel; InputError if not 2-D, not finite, too large or not
    normalised (sum 1 within 1e-3)."""
    a = np.asarray(k)
    if a.ndim != 2:
        raise InputError(f"the {what} must be a 2-D array, got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise InputError(f"the {what} must be real numbers, got {a.dtype}")
    a = a.astype(np.float32)
    if a.size == 0 or max(a.shape) > MAX_KERNEL:
        raise InputError(f"the {what} must be 1x1 to {MAX_KERNEL}x{MAX_KERNEL}, got {a.shape}")
    if not np.isfinite(a).all():
        raise InputError(f"the {what} has NaN or infinite values")
    total = float(a.sum(dtype=np.float64))
    if abs(total - 1.0) > 1e-3:
        raise InputError(f"the {what} must be normalised (sum to 1), its sum is {total:.6g}; "
                         "divide it by its sum")
    return a


def load_kernel(spec: str) -> np.ndarray:
    """A preset name or a ``.npy`` file holding a 2-D normalised kernel."""
    if spec in PRESETS:
        return preset_kernel(spec)
    p = Path(spec)
    if p.suffix.lower() != ".npy":
        raise InputError(f"kernel {spec!r} is neither a preset ({', '.join(PRESETS)}) nor a "
                         ".npy file")
    if not p.is_file():
        raise InputError(f"kernel file not found: {p}")
    try:
        a = np.load(p, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read kernel {p.name}: {exc}") from None
    return check_kernel(a, f"kernel in {p.name}")


def blur(x: Tensor, kernel: Tensor) -> Tensor:
    """``x`` (B, C, H, W) convolved with the 2-D ``kernel`` per channel, reflect padded
    ('same' size; even kernels shift by half a pixel, as in ZSSR)."""
    kh, kw = kernel.shape
    c = x.shape[1]
    pt, pl = (kh - 1) // 2, (kw - 1) // 2
    pb, pr = kh - 1 - pt, kw - 1 - pl
    mode = "reflect" if min(x.shape[-2:]) > max(pt, pb, pl, pr) else "replicate"
    xp = F.pad(x, (pl, pr, pt, pb), mode=mode)
    w = kernel.flip(0, 1).to(x.dtype).expand(c, 1, kh, kw)
    return F.conv2d(xp, w, groups=c)


def downscale(x: Tensor, scale: float, kernel: Tensor | None = None,
              size: tuple[int, int] | None = None) -> Tensor:
    """Degrade ``x`` (B, C, H, W) by ``scale`` >= 1: bicubic (kernel None, output ``size`` or
    ``ceil(H / scale)``), or blur with ``kernel`` and subsample (integer ``scale`` only)."""
    if kernel is None:
        if size is not None:
            return imresize_torch(x, size)
        return imresize_torch(x, scale=1.0 / scale)
    s = int(round(scale))
    if abs(scale - s) > 1e-6 or s < 1:
        raise ScaleError(f"a blur kernel needs a whole-number scale, got {scale:g}")
    y = blur(x, kernel)
    off = (s - 1) // 2
    y = y[..., off::s, off::s]
    if size is not None:
        y = y[..., :size[0], :size[1]]
    return y


def upscale(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Bicubic (MATLAB) interpolation of ``x`` (B, C, h, w) to ``size`` (H, W)."""
    return imresize_torch(x, size)
