"""ZSSR (Shocher et al. 2018): super-resolution learnt from the test image alone, as a Job.

Training pairs come from the LR image itself: an "HR father" is a random crop of the LR (or of
a randomly downscaled copy, scale augmentation 0.5..1, or, in gradual mode, of an earlier
output), flipped/rotated at random (8 ways); its "LR son" is the father degraded by the scale
(bicubic, or a known blur kernel then direct subsampling). The net (:class:`ZSSRNet`, residual
over bicubic) learns son -> father with L1 and Adam at lr 1e-3. Every ``lr_check_every``
iterations a line is fitted to the last ``lr_window`` training losses; when the fall it
predicts is within ``lr_ratio`` standard errors of zero (``-ratio * slope < std``) the lr is
divided by 10; training stops under ``min_lr`` or at ``max_iters`` (paper: 3000).
The image is then super-resolved with the 8-way geometric self-ensemble (median) and
iterative back-projection (to each of the 8 and to the median), as in the paper's code.
Gradual mode (default above x4 without a kernel): x2 steps (x8 = 2, 4, 8; x20 = 2, 4, 8, 16,
20), each net warm-started from the previous one, earlier outputs added as father sources.

Units: scales are plain factors, crops in pixels, iterations are optimiser steps, seconds are
wall time. Pixels stay in the input's range (no clipping: channel data is not [0, 1]).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..budget import MAX_SCALE, check_output_pixels
from ..engine.device import pick_device, pick_dtype
from ..errors import InputError, ScaleError
from ..jobs import Job, Progress
from .kernels import check_kernel, downscale, upscale
from .net import ZSSRNet, geometric, inverse_geometric

__all__ = ["ZSSRConfig", "ZSSRProgress", "ZSSRResult", "MIN_SON", "stage_scales",
           "check_input", "train_zssr", "super_resolve", "zssr", "zssr_stack", "with_iters"]

MIN_SON = 4  # the smallest side (pixels) an LR son may have


@dataclass(frozen=True)
class ZSSRConfig:
    """Settings (paper defaults). ``scale``: factor > 1; ``gradual``: None = auto (scale > 4
    and no kernel); ``precision``: auto/fp32/bf16 (bf16 = autocast, fp32 master weights)."""

    scale: float = 2.0
    max_iters: int = 3000
    lr: float = 1e-3
    min_lr: float = 9e-6
    lr_check_every: int = 60
    lr_window: int = 256
    lr_ratio: float = 1.5
    crop: int = 128
    width: int = 64
    depth: int = 8
    scale_aug: float = 0.5
    noise_std: float = 0.0
    gradual: bool | None = None
    gradual_step: float = 2.0
    back_projection: int = 10
    ensemble: bool = True
    seed: int = 0
    device: str = "cpu"
    precision: str = "auto"


@dataclass(frozen=True)
class ZSSRProgress(Progress):
    """Progress with the training state: ``loss`` (L1 of the last step, input units; NaN on
    non-training steps) and the current ``lr``."""

    loss: float = float("nan")
    lr: float = 0.0


@dataclass
class ZSSRResult:
    """The SR pixels (``H*s x W*s x C`` float32), the trained net (float32, CPU), per-iteration
    ``losses`` and ``lrs``, the iterations run and the wall seconds (training, inference)."""

    image: np.ndarray
    net: ZSSRNet
    losses: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    iterations: int = 0
    train_seconds: float = 0.0
    sr_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def stage_scales(scale: float, gradual: bool, step: float = 2.0) -> list[float]:
    """Cumulative scales of the stages: ``[scale]``, or ``step, step^2, ..., scale``."""
    if not gradual or scale <= step:
        return [float(scale)]
    out, s = [], step
    while s < scale - 1e-9:
        out.append(s)
        s *= step
    return out + [float(scale)]


def check_input(shape: tuple[int, ...], scale: float, kernel: np.ndarray | None,
                gradual: bool) -> None:
    """InputError / ScaleError for a scale <= 1, a bad kernel, or an image too small for sons."""
    if not math.isfinite(scale) or scale <= 1:
        raise ScaleError(f"the ZSSR scale must be a number > 1, got {scale:g}")
    if scale > MAX_SCALE:
        raise ScaleError(f"the ZSSR scale {scale:g} is larger than the supported maximum "
                         f"{MAX_SCALE:g}")
    # the output budget (one rule with sr): x1e6 would plan ~20 x2 stages of training
    check_output_pixels(round(shape[0] * scale), round(shape[1] * scale),
                        f"the ZSSR x{scale:g} output of the {shape[1]}x{shape[0]} input")
    if kernel is not None:
        check_kernel(kernel)
        if abs(scale - round(scale)) > 1e-6:
            raise ScaleError(f"a blur kernel needs a whole-number scale, got {scale:g}")
        if gradual:
            raise InputError("a blur kernel describes one scale: gradual mode is not available "
                             "with a kernel (use --no-gradual)")
    first = stage_scales(scale, gradual)[0]
    need = math.ceil(MIN_SON * first)
    if min(shape[:2]) < need:
        raise InputError(f"the image ({shape[1]} x {shape[0]}) is too small to make LR sons at "
                         f"x{first:g}: it needs at least {need} x {need} pixels")


def _to_tensor(a: np.ndarray, device: torch.device) -> Tensor:
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))[None].to(device)


def _son_size(h: int, w: int, s: float) -> tuple[int, int]:
    return max(1, round(h / s)), max(1, round(w / s))


def make_pair(sources: list[Tensor], rng: np.random.Generator, s: float, kernel: Tensor | None,
              cfg: ZSSRConfig) -> tuple[Tensor, Tensor]:
    """One (interpolated son, father) pair, both (1, C, h, w)."""
    areas = np.array([t.shape[-1] * t.shape[-2] for t in sources], dtype=np.float64)
    src = sources[int(rng.choice(len(sources), p=areas / areas.sum()))]
    h, w = src.shape[-2:]
    f = 1.0 if rng.random() < 0.5 else float(rng.uniform(cfg.scale_aug, 1.0))
    f = max(f, MIN_SON * s / min(h, w))  # keep sons at least MIN_SON pixels
    region = min(math.ceil(cfg.crop / f), h), min(math.ceil(cfg.crop / f), w)
    y0 = int(rng.integers(h - region[0] + 1))
    x0 = int(rng.integers(w - region[1] + 1))
    father = src[..., y0:y0 + region[0], x0:x0 + region[1]]
    if f < 1.0:
        father = upscale(father, (max(1, round(region[0] * f)), max(1, round(region[1] * f))))
    father = geometric(father, int(rng.integers(8)))
    fh, fw = father.shape[-2:]
    if kernel is not None:  # whole multiple of the scale: exact subsampling
        si = int(round(s))
        fh, fw = max(si, fh - fh % si), max(si, fw - fw % si)
        father = father[..., :fh, :fw]
    son = downscale(father, s, kernel, size=_son_size(fh, fw, s))
    if cfg.noise_std > 0:
        son = son + cfg.noise_std * torch.randn_like(son)
    return upscale(son, (fh, fw)), father


def _lr_should_drop(losses: list[float], window: int, ratio: float) -> bool:
    y = np.asarray(losses[-window:], dtype=np.float64)
    x = np.arange(y.size, dtype=np.float64)
    (slope, _), cov = np.polyfit(x, y, 1, cov=True)
    return bool(-ratio * slope < math.sqrt(max(cov[0, 0], 0.0)))


def train_zssr(net: ZSSRNet, sources: list[Tensor], s: float, kernel: Tensor | None,
               cfg: ZSSRConfig, rng: np.random.Generator, autocast: torch.dtype | None,
               iters: int, offset: int = 0, total: int | None = None, label: str = "",
               log: tuple[list, list] | None = None) -> Job[int]:
    """Train ``net`` in place for up to ``iters`` steps on pairs from ``sources``; yields
    :class:`ZSSRProgress` (``offset + iteration`` of ``total``) every 10 iterations; returns
    the iterations run (fewer when the lr fell under ``cfg.min_lr``)."""
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    lr, last_change = cfg.lr, 0
    losses, lrs = log if log is not None else ([], [])
    recent: list[float] = []
    total = total or iters
    net.train()
    it = 0
    for it in range(1, iters + 1):
        inp, target = make_pair(sources, rng, s, kernel, cfg)
        with torch.autocast(inp.device.type, dtype=autocast or torch.bfloat16,
                            enabled=autocast is not None):
            out = net(inp.contiguous(memory_format=torch.channels_last))
        loss = F.l1_loss(out.float(), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        lv = float(loss.detach())
        losses.append(lv)
        lrs.append(lr)
        recent.append(lv)
        if (it - last_change >= cfg.lr_window and it % cfg.lr_check_every == 0
                and _lr_should_drop(recent, cfg.lr_window, cfg.lr_ratio)):
            lr /= 10.0
            last_change, recent = it, []
            for g in opt.param_groups:
                g["lr"] = lr
        stop = lr < cfg.min_lr
        if it % 10 == 0 or it == iters or stop:
            yield ZSSRProgress(offset + it, total, f"{label}iter {it} loss {lv:.4g} lr {lr:.1e}",
                               loss=lv, lr=lr)
        if stop:
            break
    return it


def _forward(net: ZSSRNet, x: Tensor, out_hw: tuple[int, int],
             autocast: torch.dtype | None) -> Tensor:
    with torch.autocast(x.device.type, dtype=autocast or torch.bfloat16,
                        enabled=autocast is not None):
        return net(upscale(x, out_hw).contiguous(memory_format=torch.channels_last)).float()


def back_project(y: Tensor, x: Tensor, s: float, kernel: Tensor | None, iters: int) -> Tensor:
    """``iters`` steps of ``y += up(x - down(y))`` (bicubic up, the degradation down)."""
    for _ in range(iters):
        y = y + upscale(x - downscale(y, s, kernel, size=tuple(x.shape[-2:])), tuple(y.shape[-2:]))
    return y


@torch.no_grad()
def super_resolve(net: ZSSRNet, x: Tensor, s: float, kernel: Tensor | None, cfg: ZSSRConfig,
                  autocast: torch.dtype | None = None) -> Tensor:
    """SR of ``x`` (1, C, h, w) by ``s`` with the (optional) self-ensemble and back-projection;
    output ``round(h * s) x round(w * s)``."""
    net.eval()
    h, w = x.shape[-2:]
    oh, ow = round(h * s), round(w * s)
    if not cfg.ensemble:
        return back_project(_forward(net, x, (oh, ow), autocast), x, s, kernel,
                            cfg.back_projection)
    outs = []
    for t in range(8):
        xt = geometric(x, t)
        hw = (oh, ow) if t % 2 == 0 else (ow, oh)
        y = inverse_geometric(_forward(net, xt, hw, autocast), t)
        outs.append(back_project(y, x, s, kernel, cfg.back_projection))
    y = torch.stack(outs).median(dim=0).values
    return back_project(y, x, s, kernel, cfg.back_projection)


def zssr_stack(images: list[np.ndarray], cfg: ZSSRConfig, kernel: np.ndarray | None = None,
               finetune_iters: int = 0, init: ZSSRNet | None = None) -> Job[ZSSRResult]:
    """ZSSR of a stack of same-size images (``H x W x C`` float32 each) with one shared net.

    The net (C channels) trains ``cfg.max_iters`` steps per stage on fathers from every image
    of the stack; with ``finetune_iters`` > 0 a copy is then fine-tuned on each image alone
    before it is super-resolved. One image = plain ZSSR. ``kernel``: the known blur kernel
    (2-D, normalised) at ``cfg.scale``, or None (bicubic). ``init``: a net to start from
    (copied). Yields :class:`ZSSRProgress`; returns :class:`ZSSRResult` whose ``image`` is
    ``H*s x W*s x C`` for one input and ``H*s x W*s x C x N`` for N > 1.
    """
    if not images:
        raise InputError("no image to super-resolve")
    imgs = [np.asarray(a, dtype=np.float32) for a in images]
    imgs = [a[:, :, None] if a.ndim == 2 else a for a in imgs]
    if any(a.ndim != 3 or a.shape != imgs[0].shape for a in imgs):
        raise InputError("ZSSR needs H x W x C images of one shape")
    if not all(np.isfinite(a).all() for a in imgs):
        raise InputError("the image has NaN or infinite values")
    gradual = cfg.gradual if cfg.gradual is not None else (cfg.scale > 4 and kernel is None)
    check_input(imgs[0].shape, cfg.scale, kernel, gradual)
    if finetune_iters < 0:
        raise InputError(f"fine-tuning iterations must be >= 0, got {finetune_iters}")
    device = pick_device(cfg.device)
    dtype = pick_dtype(device, cfg.precision)
    autocast = dtype if dtype != torch.float32 else None
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    k = torch.from_numpy(check_kernel(kernel)).to(device) if kernel is not None else None
    c = imgs[0].shape[2]
    net = copy.deepcopy(init) if init is not None else ZSSRNet(c, cfg.width, cfg.depth)
    net = net.to(device).float().to(memory_format=torch.channels_last)
    scales = stage_scales(cfg.scale, gradual, cfg.gradual_step)
    n = len(imgs)
    per_stage = cfg.max_iters + n * (finetune_iters + 1)
    total = per_stage * len(scales)
    current = [_to_tensor(a, device) for a in imgs]
    sources = list(current)
    res = ZSSRResult(image=imgs[0], net=net)
    res.notes.append(f"{'gradual ' + ', '.join(f'x{s:g}' for s in scales) if gradual else 'direct'}"
                     f"; {'kernel' if k is not None else 'bicubic'} degradation; "
                     f"{'bf16 autocast' if autocast else 'fp32'} on {device.type}"
                     + (f"; {n} images, one net" if n > 1 else "")
                     + (f", fine-tuned {finetune_iters} iterations each" if finetune_iters else ""))
    prev = 1.0
    for i, sc in enumerate(scales):
        rel, base = sc / prev, i * per_stage
        stage = f"stage {i + 1}/{len(scales)} " if len(scales) > 1 else ""
        t0 = time.perf_counter()
        res.iterations += yield from train_zssr(net, sources, rel, k, cfg, rng, autocast,
                                                cfg.max_iters, base, total, stage,
                                                (res.losses, res.lrs))
        res.train_seconds += time.perf_counter() - t0
        outs = []
        for j, x in enumerate(current):
            done = base + cfg.max_iters + j * (finetune_iters + 1)
            use = net
            if finetune_iters:
                t0 = time.perf_counter()
                use = copy.deepcopy(net)
                yield from train_zssr(use, [x], rel, k, replace(cfg, lr=cfg.lr * 0.1), rng,
                                      autocast, finetune_iters, done, total,
                                      f"{stage}image {j + 1}/{n} fine-tune ")
                res.train_seconds += time.perf_counter() - t0
            t0 = time.perf_counter()
            outs.append(super_resolve(use, x, rel, k, cfg, autocast))
            res.sr_seconds += time.perf_counter() - t0
            yield ZSSRProgress(done + finetune_iters + 1, total,
                               f"{stage}image {j + 1}/{n} super-resolved")
        current = outs
        sources = outs + sources
        prev = sc
    yield ZSSRProgress(total, total, f"done: {res.iterations} iterations",
                       loss=res.losses[-1] if res.losses else float("nan"),
                       lr=res.lrs[-1] if res.lrs else 0.0)
    arrs = [t[0].permute(1, 2, 0).cpu().numpy().astype(np.float32) for t in current]
    res.image = arrs[0] if n == 1 else np.stack(arrs, axis=-1)
    res.net = net.cpu().to(memory_format=torch.contiguous_format)
    return res


def zssr(image: np.ndarray, cfg: ZSSRConfig, kernel: np.ndarray | None = None,
         init: ZSSRNet | None = None) -> Job[ZSSRResult]:
    """ZSSR of one ``H x W x C`` float32 image (the net has C channels); see
    :func:`zssr_stack`. Returns the ``H*s x W*s x C`` result in :class:`ZSSRResult`."""
    return (yield from zssr_stack([image], cfg, kernel, 0, init))


def with_iters(cfg: ZSSRConfig, iters: int) -> ZSSRConfig:
    """``cfg`` with another ``max_iters``."""
    return replace(cfg, max_iters=int(iters))
