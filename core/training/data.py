"""Training batches from image folders, made in the main process with numpy.

The images are read once into memory as uint8 ``H x W x 3`` arrays (the 291 images of T91 +
BSD200 take 109 MB). Each batch is drawn with its own generator, seeded by ``(seed, step)``:
the batch of step ``k`` is the same whether the run was interrupted or not, so a resumed run
needs no data-loader state. No worker processes, no threads.

* Fixed-scale (EDSR recipe): HR crop of ``lr_patch * scale`` pixels, random flips and 90-degree
  rotation (transpose), LR = :func:`core.resize.degrade` (MATLAB bicubic) of the crop, rounded
  to 8 bit as the benchmark LR files are. Models that take a bicubic-upscaled input (SRCNN,
  VDSR) get the LR upscaled back to the HR size with the same MATLAB bicubic the engine uses;
  Y-channel models get the Y of BT.601 (MATLAB ``rgb2ycbcr``) of both, as the engine feeds them.
* Arbitrary-scale (LIIF's ``sr-implicit-downsampled`` wrapper): one scale ``s ~ U(min, max)``
  per batch, HR crop of ``round(lr_patch * s)`` pixels, LR = :func:`core.resize.imresize`
  (bicubic) of it to ``lr_patch x lr_patch``, then ``sample_q`` HR pixels without repetition
  with their coordinates (:func:`core.models.contracts.make_coord`) and cells ``2 / crop``.

An image smaller than the crop is skipped for that sample (for x4 LIIF batches and EDSR x4
this leaves out the T91 images under 192 pixels). All samples of a batch share one crop size,
so the whole batch is resized in a single :func:`imresize` call (channels stacked).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..errors import ConfigError
from ..resize import degrade, imresize

__all__ = ["ImageSet", "load_images", "batch_rng", "FixedBatch", "QueryBatch",
           "sample_fixed_batch", "sample_query_batch"]

_EXTS = {".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"}


@dataclass
class ImageSet:
    """Preloaded training images: uint8 RGB arrays and their names."""

    images: list[np.ndarray]
    names: list[str]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.images)

    def min_sides(self) -> np.ndarray:
        return np.array([min(a.shape[:2]) for a in self.images])


def _read_rgb8(path: Path) -> np.ndarray:
    import cv2

    buf = np.fromfile(str(path), dtype=np.uint8)  # works for any file name
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)      # 8-bit, 3 channels (gray replicated)
    if img is None:
        raise ConfigError(f"training image {path} cannot be decoded")
    return np.ascontiguousarray(img[:, :, ::-1])


def load_images(folders: list[Path]) -> ImageSet:
    """Read every image of ``folders`` (non-recursive, sorted) as uint8 RGB."""
    images, names = [], []
    for folder in folders:
        files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in _EXTS)
        if not files:
            raise ConfigError(f"training folder {folder} holds no images")
        for f in files:
            images.append(_read_rgb8(f))
            names.append(f"{Path(folder).name}/{f.name}")
    return ImageSet(images, names)


def batch_rng(seed: int, step: int) -> np.random.Generator:
    """The generator of step ``step``: independent of any earlier step (exact resume)."""
    return np.random.default_rng([int(seed), int(step), 0x5157])


def _eligible(images: ImageSet, crop: int) -> np.ndarray:
    ok = np.flatnonzero(images.min_sides() >= crop)
    if ok.size == 0:
        raise ConfigError(f"no training image is at least {crop} x {crop} pixels "
                          f"(the HR crop size); use a smaller data.lr_patch")
    return ok


def _crops(images: ImageSet, rng: np.random.Generator, n: int, crop: int,
           augment: bool) -> np.ndarray:
    """``n`` random ``crop x crop`` uint8 crops, augmented: ``(n, crop, crop, 3)``."""
    pool = _eligible(images, crop)
    out = np.empty((n, crop, crop, 3), dtype=np.uint8)
    for i in range(n):
        img = images.images[pool[rng.integers(pool.size)]]
        y = int(rng.integers(img.shape[0] - crop + 1))
        x = int(rng.integers(img.shape[1] - crop + 1))
        patch = img[y:y + crop, x:x + crop]
        if augment:
            hflip, vflip, transpose = rng.random(3) < 0.5
            if hflip:
                patch = patch[:, ::-1]
            if vflip:
                patch = patch[::-1]
            if transpose:
                patch = patch.transpose(1, 0, 2)
        out[i] = patch
    return out


def _stack_channels(crops: np.ndarray) -> np.ndarray:
    """``(n, h, w, 3)`` -> ``(h, w, 3n)`` float32 in [0, 1] (one resize for the whole batch)."""
    n, h, w, c = crops.shape
    return (crops.transpose(1, 2, 0, 3).reshape(h, w, n * c).astype(np.float32) / 255.0)


def _unstack_channels(a: np.ndarray, n: int) -> np.ndarray:
    """``(h, w, 3n)`` -> ``(n, 3, h, w)``."""
    h, w, _ = a.shape
    return np.ascontiguousarray(a.reshape(h, w, n, 3).transpose(2, 3, 0, 1))


def _quantize(a: np.ndarray) -> np.ndarray:
    return np.round(np.clip(a, 0.0, 1.0) * 255.0) / 255.0


@dataclass
class FixedBatch:
    """``lr (B, C, p, p)`` (``p*s`` when pre-upsampled) and ``hr (B, C, p*s, p*s)``, float32
    in [0, 1]; C = 3, or 1 for Y-channel models."""

    lr: Tensor
    hr: Tensor


@dataclass
class QueryBatch:
    """LIIF batch: ``lr (B, 3, p, p)``; ``coord``, ``cell (B, Q, 2)``; ``gt (B, Q, 3)`` in [0, 1];
    ``scale`` the batch's scale."""

    lr: Tensor
    coord: Tensor
    cell: Tensor
    gt: Tensor
    scale: float


def _to_y(x: Tensor) -> Tensor:
    """``(B, 3, h, w)`` RGB in [0, 1] -> ``(B, 1, h, w)`` BT.601 luma (:func:`rgb_to_y`)."""
    from ..metrics import _Y_ROW

    w = torch.as_tensor(_Y_ROW, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True) + 16.0 / 255.0


def sample_fixed_batch(images: ImageSet, rng: np.random.Generator, batch: int, lr_patch: int,
                       scale: int, augment: bool = True, quantize_lr: bool = True, *,
                       y_only: bool = False, pre_upsample: bool = False) -> FixedBatch:
    """One fixed-scale batch (see the module docstring). ``pre_upsample``: the LR is bicubic-
    upscaled back to the HR size; ``y_only``: both are reduced to the Y channel."""
    crop = lr_patch * scale
    hr8 = _crops(images, rng, batch, crop, augment)
    hr = _stack_channels(hr8)
    lr = degrade(hr, scale)
    if quantize_lr:
        lr = _quantize(lr)
    if pre_upsample:
        lr = imresize(lr, size=(crop, crop), method="bicubic")
    lr_t = torch.from_numpy(_unstack_channels(lr.astype(np.float32), batch))
    hr_t = torch.from_numpy(_unstack_channels(hr, batch))
    if y_only:
        lr_t, hr_t = _to_y(lr_t), _to_y(hr_t)
    return FixedBatch(lr_t, hr_t)


def sample_query_batch(images: ImageSet, rng: np.random.Generator, batch: int, lr_patch: int,
                       scale_min: float, scale_max: float, sample_q: int, augment: bool = True,
                       quantize_lr: bool = True) -> QueryBatch:
    """One LIIF batch (see the module docstring)."""
    from ..models.contracts import make_coord

    s = float(rng.uniform(scale_min, scale_max))
    crop = int(round(lr_patch * s))
    hr8 = _crops(images, rng, batch, crop, augment)
    hr = _stack_channels(hr8)
    lr = imresize(hr, size=(lr_patch, lr_patch), method="bicubic")
    if quantize_lr:
        lr = _quantize(lr)
    n_pix = crop * crop
    idx = np.stack([rng.choice(n_pix, sample_q, replace=False) for _ in range(batch)])
    coord_all = make_coord((crop, crop))                                   # (n_pix, 2)
    idx_t = torch.from_numpy(idx)
    coord = coord_all[idx_t]                                               # (B, Q, 2)
    cell = torch.full_like(coord, 2.0 / crop)
    gt = torch.from_numpy(hr8.reshape(batch, n_pix, 3)[np.arange(batch)[:, None], idx])
    gt = gt.float() / 255.0
    return QueryBatch(torch.from_numpy(_unstack_channels(lr.astype(np.float32), batch)),
                      coord, cell, gt, s)
