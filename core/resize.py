"""MATLAB-compatible ``imresize`` and the SR benchmark degradation.

A port of MATLAB's ``imresize`` (Image Processing Toolbox) for float data:

* kernels ``nearest`` (box, width 1), ``bilinear`` (triangle, width 2), ``bicubic`` (Keys cubic,
  a = -0.5, width 4), ``lanczos2`` (width 4) and ``lanczos3`` (width 6), as MATLAB defines them;
* antialiasing when shrinking: the kernel is stretched to ``h(x) = s * k(s * x)`` and its width
  to ``width / s`` (MATLAB's default for every method except ``nearest``);
* MATLAB's index mapping ``u = x / s + 0.5 * (1 - 1 / s)`` for 1-based output pixels ``x``,
  taps ``floor(u - width / 2) + (0 .. ceil(width) + 1)``, weights normalised per output pixel,
  taps whose weight is zero for every output pixel dropped;
* the boundary handled by mirroring indices: ``aux = [1:n, n:-1:1]`` (symmetric padding);
* the dimension with the smaller scale is resized first (rows first on ties).

Each axis is resampled with an ``(out_len, taps)`` index array and a weight array of the same
shape (a gather and a weighted sum per output pixel, run as a CSR sparse product), never with
a dense ``out x in`` matrix, so a 4000 px wide image costs ``out_len * taps`` weights per axis.
Arithmetic is float64 (as MATLAB's), the result float32; values are neither clipped nor rounded
(the caller decides).

:func:`degrade` is the LR of the EDSR / LIIF / SwinIR benchmark protocol: crop HR to a
multiple of the scale, then ``imresize(hr, 1 / s)`` bicubic.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
from scipy import sparse

from .errors import InputError, ScaleError

if TYPE_CHECKING:  # torch is only needed by imresize_torch; import it lazily
    from torch import Tensor

__all__ = ["METHODS", "imresize", "imresize_torch", "degrade", "degrade_pair", "modcrop",
           "contributions"]

#: Largest number of output elements accepted (beyond it the request is surely a mistake).
MAX_OUTPUT_ELEMENTS = 2**31
#: Largest weight table (``out_len * taps``) built for one axis.
MAX_WEIGHTS = 2**27

ScaleArg = float | Sequence[float] | None
SizeArg = Sequence[int] | None


# --- MATLAB's kernels --------------------------------------------------------------------

def _box(x: np.ndarray) -> np.ndarray:
    return ((-0.5 <= x) & (x < 0.5)).astype(np.float64)


def _triangle(x: np.ndarray) -> np.ndarray:
    return (x + 1) * ((-1 <= x) & (x < 0)) + (1 - x) * ((0 <= x) & (x <= 1))


def _cubic(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return (1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1) + (
        -0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2
    ) * ((1 < ax) & (ax <= 2))


_EPS = np.finfo(np.float64).eps  # MATLAB's eps


def _lanczos2(x: np.ndarray) -> np.ndarray:
    f = (np.sin(np.pi * x) * np.sin(np.pi * x / 2) + _EPS) / (np.pi**2 * x * x / 2 + _EPS)
    return f * (np.abs(x) < 2)


def _lanczos3(x: np.ndarray) -> np.ndarray:
    f = (np.sin(np.pi * x) * np.sin(np.pi * x / 3) + _EPS) / (np.pi**2 * x * x / 3 + _EPS)
    return f * (np.abs(x) < 3)


_KERNELS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], float]] = {
    "nearest": (_box, 1.0),
    "bilinear": (_triangle, 2.0),
    "bicubic": (_cubic, 4.0),
    "lanczos2": (_lanczos2, 4.0),
    "lanczos3": (_lanczos3, 6.0),
}
_ALIASES = {"box": "nearest", "triangle": "bilinear", "cubic": "bicubic"}
#: Accepted method names (MATLAB's; ``box``/``triangle``/``cubic`` are accepted as aliases).
METHODS: tuple[str, ...] = tuple(_KERNELS)


def _kernel(method: str) -> tuple[Callable[[np.ndarray], np.ndarray], float, bool]:
    """``(kernel, width, default_antialias)`` for a method name."""
    name = _ALIASES.get(str(method).lower(), str(method).lower())
    if name not in _KERNELS:
        raise InputError(f"unknown resize method {method!r}; expected one of {METHODS}")
    kernel, width = _KERNELS[name]
    # MATLAB: antialiasing defaults to true except for 'nearest' (but not for 'box').
    return kernel, width, str(method).lower() != "nearest"


# --- weights -----------------------------------------------------------------------------

def contributions(
    in_len: int,
    out_len: int,
    scale: float,
    method: str = "bicubic",
    antialias: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """MATLAB's ``contributions``: weights and 0-based source indices for one axis.

    Returns ``(weights, indices)``, both ``(out_len, taps)``; ``weights`` float64 rows sum to 1,
    ``indices`` int64 in ``[0, in_len)`` (mirrored at the borders). Output pixel ``i`` is
    ``sum_t weights[i, t] * src[indices[i, t]]``.
    """
    kernel, width, aa_default = _kernel(method)
    aa = aa_default if antialias is None else bool(antialias)
    if scale < 1 and aa:
        def h(x: np.ndarray) -> np.ndarray:
            return scale * kernel(scale * x)

        kernel_width = width / scale
    else:
        h, kernel_width = kernel, width
    if not math.isfinite(kernel_width) or (math.ceil(kernel_width) + 2) * out_len > MAX_WEIGHTS:
        raise ScaleError(
            f"scale {scale:g} is too extreme: resampling {in_len} -> {out_len} pixels "
            f"would need a kernel {kernel_width:g} pixels wide"
        )
    taps = math.ceil(kernel_width) + 2
    x = np.arange(1, out_len + 1, dtype=np.float64)          # 1-based, as MATLAB
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kernel_width / 2)
    idx = left[:, None] + np.arange(taps, dtype=np.float64)  # 1-based source indices
    weights = h(u[:, None] - idx)
    weights = weights / weights.sum(axis=1, keepdims=True)
    # Mirror out-of-range indices: aux = [1:n, n:-1:1]; idx = aux(mod(idx - 1, 2n) + 1).
    m = np.mod(idx.astype(np.int64) - 1, 2 * in_len)
    indices = np.where(m < in_len, m, 2 * in_len - 1 - m)
    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], indices[:, keep]


# --- argument checking -------------------------------------------------------------------

def _as_pair(value: object, what: str) -> tuple[float, float]:
    if isinstance(value, (str, bytes)):
        raise ScaleError(f"{what} must be a number or a pair of numbers, got {value!r}")
    try:
        if np.ndim(value) == 0:
            v = float(value)  # type: ignore[arg-type]
            return v, v
        seq = [float(v) for v in value]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ScaleError(f"{what} must be a number or a pair of numbers, got {value!r}") from None
    if len(seq) != 2:
        raise ScaleError(f"{what} must have 2 entries (rows, cols), got {len(seq)}")
    return seq[0], seq[1]


def _plan(
    in_hw: tuple[int, int], channels: int, scale: ScaleArg, size: SizeArg
) -> tuple[tuple[float, float], tuple[int, int]]:
    """Check ``scale``/``size`` and return MATLAB's ``(scale_yx, out_hw)``."""
    if (scale is None) == (size is None):
        raise ScaleError("give either a scale or an output size (not both, not neither)")
    if scale is not None:
        sc = _as_pair(scale, "scale")
        for s in sc:
            if not math.isfinite(s) or s <= 0:
                raise ScaleError(f"scale must be a finite number > 0, got {s}")
        prod = [s * n for s, n in zip(sc, in_hw)]
        if (not all(math.isfinite(p) for p in prod)
                or prod[0] * prod[1] * channels > MAX_OUTPUT_ELEMENTS):
            raise ScaleError(
                f"scale {scale} on a {in_hw[0]} x {in_hw[1]} image gives an output of more than "
                f"2**31 values"
            )
        out = (math.ceil(prod[0]), math.ceil(prod[1]))  # MATLAB: ceil(scale .* in)
    else:
        fo = _as_pair(size, "size")
        if not all(math.isfinite(v) and v == int(v) and v >= 1 for v in fo):
            raise ScaleError(f"output size must be two whole numbers >= 1, got {size}")
        out = (int(fo[0]), int(fo[1]))
        sc = (out[0] / in_hw[0], out[1] / in_hw[1])  # MATLAB: scale = out ./ in
    if out[0] * out[1] * channels > MAX_OUTPUT_ELEMENTS:
        raise ScaleError(
            f"output {out[0]} x {out[1]} x {channels} has more than 2**31 values"
        )
    return sc, out


def _check_image(img: np.ndarray) -> np.ndarray:
    a = np.asarray(img)
    if a.ndim not in (2, 3):
        raise InputError(f"image must be H x W or H x W x C, got shape {a.shape}")
    if a.size == 0:
        raise InputError(f"the image is empty (shape {a.shape})")
    if a.dtype.kind not in "fiub":
        raise InputError(f"image must hold real numbers, got dtype {a.dtype}")
    return a


def _axis_plan(
    in_hw: tuple[int, int], sc: tuple[float, float], out: tuple[int, int],
    method: str, antialias: bool | None,
) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """``[(axis, weights, indices), ...]`` in MATLAB's order (smaller scale first)."""
    order = (0, 1) if sc[0] <= sc[1] else (1, 0)
    return [
        (ax, *contributions(in_hw[ax], out[ax], sc[ax], method, antialias)) for ax in order
    ]


def _resize_axis(x: np.ndarray, axis: int, w: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Resample ``x`` (float64, ``H x W [x C]``) along ``axis`` with MATLAB's taps.

    Output pixel ``i`` is ``sum_t w[i, t] * x[idx[i, t]]``: the ``(out_len, taps)`` tables are
    packed as a CSR matrix with ``out_len * taps`` entries (never a dense ``out x in`` one)
    and scipy's compiled sparse product does the gather and the weighted sum.
    """
    out_len, taps = w.shape
    n = x.shape[axis]
    rows = np.repeat(np.arange(out_len), taps)
    m = sparse.csr_matrix((w.ravel(), (rows, idx.ravel())), shape=(out_len, n))
    if axis == 0:
        return (m @ x.reshape(n, -1)).reshape((out_len,) + x.shape[1:])
    t = np.ascontiguousarray(np.swapaxes(x, 0, 1))           # W x H [x C]
    y = (m @ t.reshape(n, -1)).reshape((out_len,) + t.shape[1:])
    return np.swapaxes(y, 0, 1)


def _resize(
    a: np.ndarray, sc: tuple[float, float], out: tuple[int, int],
    method: str, antialias: bool | None,
) -> np.ndarray:
    x = a.astype(np.float64, copy=False)
    for ax, w, idx in _axis_plan(a.shape[:2], sc, out, method, antialias):
        x = _resize_axis(x, ax, w, idx)
    return np.ascontiguousarray(x, dtype=np.float32)


# --- public API --------------------------------------------------------------------------

def imresize(
    img: np.ndarray,
    scale: ScaleArg = None,
    size: SizeArg = None,
    method: str = "bicubic",
    antialias: bool | None = None,
) -> np.ndarray:
    """Resize like MATLAB ``imresize(img, scale)`` or ``imresize(img, [out_h, out_w])``.

    Args:
        img: ``H x W`` or ``H x W x C`` (any C) real array, values in any range (float32 or
            float64 expected; integers are treated as plain numbers, not rescaled).
        scale: factor > 0, or ``(scale_y, scale_x)``. Output size is ``ceil(scale * size)``
            and the kernel uses ``scale`` itself, as MATLAB does.
        size: ``(out_h, out_w)`` instead of ``scale``; the scale per axis is then
            ``out / in``, as in MATLAB.
        method: ``nearest``, ``bilinear``, ``bicubic``, ``lanczos2`` or ``lanczos3``
            (MATLAB's ``box``, ``triangle``, ``cubic`` also accepted).
        antialias: stretch the kernel when shrinking. ``None`` = MATLAB's default: on for
            every method except ``nearest``.

    Returns:
        float32 array ``out_h x out_w`` (x C), same ndim as ``img``; not clipped, not rounded.

    Raises:
        InputError: empty input, ndim not 2/3, non-real dtype, unknown method.
        ScaleError: scale <= 0, NaN or inf, size < 1, or an output over 2**31 values.
    """
    a = _check_image(img)
    channels = a.shape[2] if a.ndim == 3 else 1
    sc, out = _plan(a.shape[:2], channels, scale, size)
    return _resize(a, sc, out, method, antialias)


def imresize_torch(
    x: "Tensor",
    size: SizeArg = None,
    method: str = "bicubic",
    *,
    scale: ScaleArg = None,
    antialias: bool | None = None,
) -> "Tensor":
    """:func:`imresize` on the last two dims of a tensor ``(..., H, W)`` (e.g. ``B x C x H x W``).

    Uses the same MATLAB weights (computed once in float64, then cast to ``x``'s dtype) and
    the same axis order, as a gather and weighted sum per tap on ``x``'s device and dtype, so
    it runs on the GPU; matches :func:`imresize` to ~1e-6 in float32 for data in [0, 1].
    ``x`` must be a floating-point tensor; gradients flow through it.
    """
    # lazy: torch; core.resize is on the CLI's start-up path (numpy/scipy only)
    import torch

    if not isinstance(x, torch.Tensor) or not torch.is_floating_point(x):
        raise InputError("imresize_torch needs a floating-point torch tensor")
    if x.ndim < 2 or x.numel() == 0:
        raise InputError(f"tensor must be (..., H, W) and non-empty, got shape {tuple(x.shape)}")
    in_hw = (int(x.shape[-2]), int(x.shape[-1]))
    lead = int(np.prod(x.shape[:-2])) if x.ndim > 2 else 1
    sc, out = _plan(in_hw, lead, scale, size)
    y = x
    for ax, w, idx in _axis_plan(in_hw, sc, out, method, antialias):
        dim = x.ndim - 2 + ax
        wt = torch.as_tensor(w, dtype=x.dtype, device=x.device)
        it = torch.as_tensor(idx, device=x.device)
        shape = (-1, 1) if ax == 0 else (-1,)
        acc = y.index_select(dim, it[:, 0]) * wt[:, 0].reshape(shape)
        for t in range(1, w.shape[1]):
            acc = acc + y.index_select(dim, it[:, t]) * wt[:, t].reshape(shape)
        y = acc
    return y


def _int_scale(scale: object, what: str) -> int:
    try:
        s = float(scale)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ScaleError(f"{what} must be a number, got {scale!r}") from None
    if not math.isfinite(s) or s < 1 or s != int(s):
        raise ScaleError(f"{what} must be a whole number >= 1, got {scale!r}")
    return int(s)


def modcrop(img: np.ndarray, scale: int) -> np.ndarray:
    """Crop ``img`` (``H x W [x C]``) to a multiple of the integer ``scale``, top-left anchored.

    Returns the view ``img[:H - H % s, :W - W % s]``.
    """
    a = _check_image(img)
    s = _int_scale(scale, "modcrop scale")
    h, w = a.shape[0] - a.shape[0] % s, a.shape[1] - a.shape[1] % s
    if h == 0 or w == 0:
        raise ScaleError(f"a {a.shape[0]} x {a.shape[1]} image is smaller than the scale {s}")
    return a[:h, :w]


def degrade_pair(hr: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``(hr_aligned, lr)``: the benchmark pair of ``hr``. For a whole-number scale the HR is
    cropped to a multiple of it (:func:`modcrop`, a view when nothing is cut) so that it is
    exactly ``lr`` times the scale; the LR is :func:`degrade` of it. The one place the
    modcrop + degrade pair is written."""
    s = float(scale)
    aligned = modcrop(hr, int(s)) if math.isfinite(s) and s == int(s) and s >= 1 else hr
    return np.ascontiguousarray(aligned), degrade(aligned, s)


def degrade(hr: np.ndarray, scale: float, method: str = "bicubic") -> np.ndarray:
    """The benchmark LR of ``hr`` (``H x W [x C]``, any range): float32, not rounded.

    * Whole-number ``scale`` s (``4`` or ``4.0``): ``modcrop(hr, s)`` then MATLAB
      ``imresize(hr_cropped, 1 / s)`` (bicubic, antialiased) -> ``(H // s) x (W // s)``.
      This is the LR of the EDSR / LIIF / SwinIR protocol; round ``lr * 255`` to compare with
      the official 8-bit files.
    * Fractional ``scale`` > 1 (arbitrary-scale training): no crop (a multiple of a
      fractional scale is not defined); output size ``round(H / s) x round(W / s)`` (half up),
      resized with ``imresize(hr, size=...)``, i.e. the kernel scale is ``out / in`` per axis.

    Raises:
        ScaleError: scale < 1, NaN/inf, or an output of 0 pixels.
    """
    a = _check_image(hr)
    try:
        s = float(scale)
    except (TypeError, ValueError):
        raise ScaleError(f"degradation scale must be a number, got {scale!r}") from None
    if not math.isfinite(s) or s < 1:
        raise ScaleError(f"degradation scale must be a finite number >= 1, got {scale!r}")
    channels = a.shape[2] if a.ndim == 3 else 1
    if s == int(s):
        si = int(s)
        crop = modcrop(a, si)
        out = (crop.shape[0] // si, crop.shape[1] // si)
        return _resize(crop, (1 / si, 1 / si), out, method, None)
    out = (math.floor(a.shape[0] / s + 0.5), math.floor(a.shape[1] / s + 0.5))
    if min(out) < 1:
        raise ScaleError(
            f"scale {s:g} shrinks a {a.shape[0]} x {a.shape[1]} image to nothing"
        )
    sc, out = _plan(a.shape[:2], channels, None, out)
    return _resize(a, sc, out, method, None)
