"""The pieces of LAM that do not touch a model: blur path, objective, map, Gini / diffusion index.

Everything follows the official LAM code (X-Lowlevel-Vision/LAM_Demo) and its defaults:

* baseline path: progressive Gaussian blur of the LR input. Kernel ``K[i]`` is an ``l x l``
  isotropic Gaussian (``l = 9``) of sigma ``1.2 * (1 - i / fold)``, ``i = 0 .. fold`` (``fold =
  50``), so ``K[0]`` is the strongest blur and ``K[fold]`` (sigma 0 + 1e-5) the identity. Path
  step ``i`` (``0 .. fold - 1``) is the image blurred with ``K[i + 1]``, and its derivative the
  image filtered with ``(K[i + 1] - K[i]) * fold``. Filtering is ``cv2.filter2D`` with the
  reflect-101 border, as in the official code.
* objective: the sum over a ``window x window`` square of HR (output) pixels, top-left
  ``(x, y)``, of the gradient magnitude ``sqrt(dx^2 + dy^2)`` of every output channel, with
  forward differences (``dy = t[r, c] - t[r + 1, c]``, ``dx = t[r, c] - t[r, c + 1]``).
* attribution: the mean over path steps of ``d objective / d input * derivative`` (other
  rules for the same path integral: :mod:`.quadrature`); the map is
  ``|sum over channels|`` divided by its maximum, in [0, 1], one value per LR pixel.
* Gini index of the map (values shifted to be non-negative, plus 1e-7, sorted) and the
  diffusion index ``DI = (1 - Gini) * 100`` (large = the model draws on a wide area).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import Tensor

__all__ = [
    "SIGMA", "FOLD", "KERNEL_SIZE", "WINDOW",
    "gaussian_kernel", "path_kernels", "blur_path", "filter_path", "gradient_magnitude_sum",
    "normalised_map", "gini_index", "diffusion_index",
]

#: The official defaults: blur sigma at the start of the path, number of steps, kernel size
#: (pixels), window size (HR pixels).
SIGMA, FOLD, KERNEL_SIZE, WINDOW = 1.2, 50, 9, 16


def gaussian_kernel(size: int, sigma: float, epsilon: float = 1e-5) -> np.ndarray:
    """Normalised ``size x size`` isotropic Gaussian of ``sigma`` pixels (float64), as the
    official ``isotropic_gaussian_kernel`` (``epsilon`` keeps sigma 0 finite: a delta)."""
    ax = np.arange(-size // 2 + 1.0, size // 2 + 1.0)
    xx, yy = np.meshgrid(ax, ax)
    k = np.exp(-(xx ** 2 + yy ** 2) / (2.0 * (sigma + epsilon) ** 2))
    return k / np.sum(k)


def path_kernels(sigma: float = SIGMA, fold: int = FOLD,
                 size: int = KERNEL_SIZE) -> np.ndarray:
    """The ``fold + 1`` kernels ``K[i]`` of the blur path, sigma linear from ``sigma`` to 0."""
    sigmas = np.linspace(sigma, 0, fold + 1)
    return np.stack([gaussian_kernel(size, s) for s in sigmas])


def blur_path(lr: np.ndarray, steps: range | list[int], kernels: np.ndarray,
              box: tuple[int, int, int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Path images and their derivatives for the given ``steps``, inside ``box``.

    Args:
        lr: the LR input, ``h x w x C`` float32 (working range, e.g. [0, 1]).
        steps: path step indices in ``0 .. fold - 1``.
        kernels: :func:`path_kernels` (``fold + 1`` kernels).
        box: ``(y0, y1, x0, x1)`` LR pixels to return (default: the whole image). The filter
            sees the whole image around the box, so values equal the whole-image path.

    Returns:
        ``(images, derivatives)``, each ``(len(steps), C, y1 - y0, x1 - x0)`` float32.
    """
    fold = kernels.shape[0] - 1
    for i in steps:
        if not 0 <= i < fold:
            raise ValueError(f"path step {i} outside 0 .. {fold - 1}")
    idx = np.asarray(list(steps), dtype=np.int64)
    return filter_path(lr, kernels[idx + 1], (kernels[idx + 1] - kernels[idx]) * fold, box)


def filter_path(lr: np.ndarray, images: np.ndarray, derivs: np.ndarray,
                box: tuple[int, int, int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``lr`` filtered with each kernel of ``images`` and of ``derivs`` (``n x l x l``),
    inside ``box`` (as :func:`blur_path`, which is this with the official kernels).

    Returns ``(images, derivatives)``, each ``(n, C, y1 - y0, x1 - x0)`` float32.
    """
    h, w, c = lr.shape
    y0, y1, x0, x1 = box if box is not None else (0, h, 0, w)
    r = images.shape[-1] // 2
    src = np.ascontiguousarray(lr, dtype=np.float32)
    if box is not None and (y0, y1, x0, x1) != (0, h, 0, w):
        # reflect-101 padding (= cv2's default border) then the box plus the kernel radius:
        # the filtered interior equals the whole-image result
        padded = np.pad(src, ((r, r), (r, r), (0, 0)), mode="reflect")
        src = np.ascontiguousarray(padded[y0:y1 + 2 * r, x0:x1 + 2 * r])
        cut = (slice(r, r + y1 - y0), slice(r, r + x1 - x0))
    else:
        cut = (slice(None), slice(None))
    n = len(images)
    out_i = np.empty((n, c, y1 - y0, x1 - x0), np.float32)
    out_d = np.empty_like(out_i)
    for j in range(n):
        img = cv2.filter2D(src, -1, images[j]).reshape(src.shape)[cut]
        der = cv2.filter2D(src, -1, derivs[j]).reshape(src.shape)[cut]
        out_i[j] = np.moveaxis(img, 2, 0)
        out_d[j] = np.moveaxis(der, 2, 0)
    return out_i, out_d


def _safe_sqrt(x: Tensor) -> Tensor:
    """``sqrt`` with gradient 0 (not NaN) where ``x == 0``: the official code turns the NaNs
    that a zero gradient magnitude causes into 0 after the backward pass."""
    pos = x > 0
    return torch.where(pos, torch.sqrt(torch.where(pos, x, torch.ones_like(x))),
                       torch.zeros_like(x))


def gradient_magnitude_sum(out: Tensor, window: int, rows: int | None = None,
                           cols: int | None = None) -> Tensor:
    """The LAM objective on an output block whose top-left pixel is the window's.

    ``out`` is ``(B, C, n, m)``: the output rows/columns from the window's top-left corner
    (``window + 1`` of each, fewer at the image's bottom/right edge, where the official
    ``grad[h:h + window]`` is cut short by the image). ``rows``/``cols`` limit the window
    the same way. Returns the sum over batch, channels and window, in float32.
    """
    t = out.float()
    dy = t[:, :, :-1, :-1] - t[:, :, 1:, :-1]
    dx = t[:, :, :-1, :-1] - t[:, :, :-1, 1:]
    g = _safe_sqrt(dy * dy + dx * dx)
    return g[:, :, : (rows or window), : (cols or window)].sum()


def normalised_map(attribution: np.ndarray) -> np.ndarray:
    """``|sum over channels|`` of an ``h x w x C`` attribution, divided by its maximum
    (float32 in [0, 1]; all zeros stay zeros)."""
    m = np.abs(attribution.astype(np.float64).sum(axis=2))
    peak = m.max()
    return (m / peak if peak > 0 else m).astype(np.float32)


def gini_index(values: np.ndarray) -> float:
    """Gini coefficient of ``values`` (any shape), as the official LAM ``gini``: shifted to be
    non-negative, 1e-7 added, sorted ascending; ``sum((2 i - n - 1) x_i) / (n sum x_i)`` with
    ``i = 1 .. n``. 0 = spread evenly, towards 1 = concentrated on few pixels."""
    a = np.asarray(values, dtype=np.float64).ravel().copy()
    if a.size == 0:
        raise ValueError("the Gini index of an empty array is undefined")
    if a.min() < 0:
        a -= a.min()
    a += 1e-7
    a.sort()
    n = a.size
    i = np.arange(1, n + 1)
    return float(np.sum((2 * i - n - 1) * a) / (n * np.sum(a)))


def diffusion_index(gini: float) -> float:
    """LAM's diffusion index ``(1 - Gini) * 100`` (percent; larger = wider attention)."""
    return (1.0 - float(gini)) * 100.0
