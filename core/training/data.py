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

Normal maps (``data.kind: normals``, :func:`load_normal_images`): each map is split into shape
and detail (:mod:`core.normals.split`), the chosen part(s) are encoded as images ``(n + 1) / 2``
and kept as float32 (not quantised). Float images are stored on the uint8 scale, ``255 v``, so
every sampler's ``/ 255`` applies to both kinds unchanged (float32 keeps 24 bits: a 16-bit map
loses nothing). Flips and transposes of an encoded normal map also transform the vectors
(:func:`augment_patch`), so augmented maps are still normal maps of the flipped surface.

An image smaller than the crop is skipped for that sample (for x4 LIIF batches and EDSR x4
this leaves out the T91 images under 192 pixels). All samples of a batch share one crop size,
so the whole batch is resized in a single :func:`imresize` call (channels stacked).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor

from ..errors import ConfigError, InputError
from ..io.normals import load_normal_map
from ..metrics import Y_ROW
from ..models.contracts import make_coord
from ..normals import encode, fill_masked, split
from ..resize import degrade, imresize

__all__ = ["ImageSet", "load_images", "load_normal_images", "find_normal_maps", "batch_rng",
           "augment_patch", "FixedBatch", "QueryBatch", "sample_fixed_batch",
           "sample_query_batch", "NORMAL_PARTS", "PatchBatch", "sample_ipf_batch"]

_EXTS = {".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"}


@dataclass
class ImageSet:
    """Preloaded training images: RGB arrays and their names.

    ``images`` are uint8, or float32 on the same 0..255 scale (not rounded; normal maps).
    ``normals``: the images are encoded normal maps, so geometric augmentation also transforms
    the vector components (:func:`augment_patch`).
    """

    images: list[np.ndarray]
    names: list[str]
    normals: bool = False

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.images)

    @property
    def dtype(self) -> type:
        """``np.uint8`` when every image is uint8, else ``np.float32`` (the crops' dtype)."""
        return np.uint8 if all(a.dtype == np.uint8 for a in self.images) else np.float32

    def min_sides(self) -> np.ndarray:
        return np.array([min(a.shape[:2]) for a in self.images])


def _read_rgb8(path: Path) -> np.ndarray:
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


#: Normal-map parts a training set can hold (``data.part``).
NORMAL_PARTS = ("detail", "shape", "both")
_MASK_NAMES = ("mask.png", "mask.tif", "mask.tiff", "mask.bmp")
_NORMAL_EXTS = _EXTS | {".exr"}


def find_normal_maps(folder: Path) -> list[tuple[Path, Path | None]]:
    """Normal maps under ``folder`` (recursive, sorted) with their mask file or None.

    A normal map is an image whose file name contains ``normal`` (``normal_map.png`` of
    DiLiGenT and the figures, ``*_normal.png/.jpg`` textures); height, displacement and colour
    maps beside them are ignored. Its mask is ``<stem>_mask.*`` or ``mask.*`` in the same folder
    (DiLiGenT layout); without one the alpha channel or the valid vectors make the mask
    (:func:`core.io.normals.load_normal_map`).
    """
    found = []
    for f in sorted(Path(folder).rglob("*")):
        if (not f.is_file() or f.suffix.lower() not in _NORMAL_EXTS
                or "normal" not in f.stem.lower() or "mask" in f.stem.lower()):
            continue
        masks = [f.with_name(f"{f.stem}_mask{f.suffix}"), f.with_name(f"{f.stem}_mask.png")]
        masks += [f.with_name(n) for n in _MASK_NAMES]
        found.append((f, next((m for m in masks if m.is_file()), None)))
    return found


def _normal_parts(path: Path, mask: Path | None, part: str,
                  sigmas: list[float]) -> list[tuple[str, np.ndarray]]:
    """The encoded part(s) of one map: ``(label, float32 H x W x 3 on the 0..255 scale)``.

    The map is cropped to its mask's bounding box, pixels outside the mask get their nearest
    valid normal (as :func:`core.normals.super_resolve_normals` prepares its input), then it is
    split at each sigma.
    """
    try:
        nmap = load_normal_map(path, mask=mask)
    except InputError as exc:
        raise ConfigError(f"training normal map {path} cannot be used: {exc}") from None
    rows, cols = np.flatnonzero(nmap.mask.any(axis=1)), np.flatnonzero(nmap.mask.any(axis=0))
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    sub = nmap.with_normals(nmap.normals[y0:y1, x0:x1], nmap.mask[y0:y1, x0:x1])
    filled = sub.with_normals(fill_masked(sub), np.ones(sub.shape, dtype=bool))
    out = []
    for sigma in sigmas:
        parts = split(filled, sigma)
        for name in (("shape", "detail") if part == "both" else (part,)):
            px = encode(getattr(parts, name).normals, y_up=True) * np.float32(255.0)
            out.append((f"{name}@{sigma:g}", np.ascontiguousarray(px, dtype=np.float32)))
    return out


def load_normal_images(folders: list[Path], part: str = "detail",
                       sigma: float | list[float] = 4.0) -> ImageSet:
    """Normal maps of ``folders`` (recursive, :func:`find_normal_maps`) as training images:
    the ``part`` (detail | shape | both) of the shape/detail split at ``sigma`` (pixels; a
    list splits every map at each), encoded ``(n + 1) / 2`` as float32 on the 0..255 scale."""
    if part not in NORMAL_PARTS:
        raise ConfigError(f"unknown normal-map part {part!r}; use one of {', '.join(NORMAL_PARTS)}")
    sigmas = [float(v) for v in (sigma if isinstance(sigma, (list, tuple)) else [sigma])]
    images, names = [], []
    for folder in folders:
        maps = find_normal_maps(Path(folder))
        if not maps:
            raise ConfigError(f"training folder {folder} holds no normal maps (image files "
                              "whose name contains 'normal')")
        for f, m in maps:
            for label, px in _normal_parts(f, m, part, sigmas):
                images.append(px)
                names.append(f"{Path(folder).name}/{f.relative_to(folder)}:{label}")
    return ImageSet(images, names, normals=True)


def batch_rng(seed: int, step: int) -> np.random.Generator:
    """The generator of step ``step``: independent of any earlier step (exact resume)."""
    return np.random.default_rng([int(seed), int(step), 0x5157])


def _eligible(images: ImageSet, crop: int) -> np.ndarray:
    ok = np.flatnonzero(images.min_sides() >= crop)
    if ok.size == 0:
        raise ConfigError(f"no training image is at least {crop} x {crop} pixels "
                          f"(the HR crop size); use a smaller data.lr_patch")
    return ok


def augment_patch(patch: np.ndarray, hflip: bool, vflip: bool, transpose: bool,
                  normals: bool = False) -> np.ndarray:
    """Flip left-right, then up-down, then transpose an ``H x W x 3`` patch.

    With ``normals`` the patch is an encoded normal map (``v = (n + 1) / 2`` on the 0..255
    scale; x right, y up) and the vectors turn with the image: a left-right flip negates
    ``n_x``, an up-down flip ``n_y``, a transpose maps ``(n_x, n_y)`` to ``(-n_y, -n_x)``;
    ``n_z`` is kept. (The shape/detail split commutes with these reflections, so this holds
    for shape and detail parts as for whole maps.)
    """
    if hflip:
        patch = patch[:, ::-1]
    if vflip:
        patch = patch[::-1]
    if transpose:
        patch = patch.transpose(1, 0, 2)
    if not normals or not (hflip or vflip or transpose):
        return patch
    # new x / y channel = sign * old channel
    (cx, sx), (cy, sy) = (0, -1 if hflip else 1), (1, -1 if vflip else 1)
    if transpose:
        (cx, sx), (cy, sy) = (cy, -sy), (cx, -sx)
    out = np.array(patch, dtype=np.float32)
    for c, (src, sign) in enumerate(((cx, sx), (cy, sy))):
        out[..., c] = patch[..., src] if sign > 0 else 255.0 - patch[..., src]
    return out


def _crops(images: ImageSet, rng: np.random.Generator, n: int, crop: int,
           augment: bool) -> np.ndarray:
    """``n`` random ``crop x crop`` crops, augmented: ``(n, crop, crop, 3)``, uint8 (or float32
    on the 0..255 scale for float image sets)."""
    pool = _eligible(images, crop)
    out = np.empty((n, crop, crop, 3), dtype=images.dtype)
    for i in range(n):
        img = images.images[pool[rng.integers(pool.size)]]
        y = int(rng.integers(img.shape[0] - crop + 1))
        x = int(rng.integers(img.shape[1] - crop + 1))
        patch = img[y:y + crop, x:x + crop]
        if augment:
            hflip, vflip, transpose = rng.random(3) < 0.5
            patch = augment_patch(patch, hflip, vflip, transpose, images.normals)
        out[i] = patch
    return out


def _stack_channels(crops: np.ndarray) -> np.ndarray:
    """``(n, h, w, 3)`` (0..255) -> ``(h, w, 3n)`` float32 in [0, 1] (one resize for the whole
    batch)."""
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
    w = torch.as_tensor(Y_ROW, dtype=x.dtype).view(1, 3, 1, 1)
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


# ---------------------------------------------------------------------------------------------
# Data: HR patches of queries
# ---------------------------------------------------------------------------------------------

@dataclass
class PatchBatch:
    """``lr (B, 3, p, p)``; ``coord``, ``cell (B, P*P, 2)`` of a ``P x P`` window of HR pixel
    centres (row-major); ``gt (B, P*P, 3)``; ``patch`` = P; ``scale`` the batch's scale."""

    lr: Tensor
    coord: Tensor
    cell: Tensor
    gt: Tensor
    patch: int
    scale: float


def sample_ipf_batch(images: ImageSet, rng: np.random.Generator, batch: int, lr_patch: int,
                     scale_min: float, scale_max: float, hr_patch: int, augment: bool = True,
                     quantize_lr: bool = True) -> PatchBatch:
    """LIIF's batch recipe (scale ~ U(min, max), HR crop ``round(p * s)``, bicubic LR), but the
    queries are a random ``hr_patch`` square window of the HR crop, so losses see images."""
    s = float(rng.uniform(scale_min, scale_max))
    crop = int(round(lr_patch * s))
    hr8 = _crops(images, rng, batch, crop, augment)
    lr = imresize(_stack_channels(hr8), size=(lr_patch, lr_patch), method="bicubic")
    if quantize_lr:
        lr = _quantize(lr)
    p = min(hr_patch, crop)
    grid = make_coord((crop, crop), flatten=False)                          # (crop, crop, 2)
    coords, gts = [], []
    for i in range(batch):
        y0 = int(rng.integers(crop - p + 1))
        x0 = int(rng.integers(crop - p + 1))
        coords.append(grid[y0:y0 + p, x0:x0 + p].reshape(-1, 2))
        gts.append(torch.from_numpy(np.ascontiguousarray(hr8[i, y0:y0 + p, x0:x0 + p]))
                   .reshape(-1, 3))
    coord = torch.stack(coords)
    return PatchBatch(torch.from_numpy(_unstack_channels(lr.astype(np.float32), batch)), coord,
                      torch.full_like(coord, 2.0 / crop), torch.stack(gts).float() / 255.0, p, s)
