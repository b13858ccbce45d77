"""Fine-tune an SR model on the loaded channel data itself, as a Job.

Models trained on photos transfer poorly to channel data, but the data can teach the model:
HR patches are cut from the normalised channels, their LR made with MATLAB bicubic
(:func:`core.resize.degrade`, the benchmark degradation), and the model trained with L1 and
Adam, with the augmentation and pixel loss of the model zoo's training loop
(:mod:`core.training`):

* fixed-scale models (EDSR, FSRCNN, ...) at their own scale; pre-upsampling ones (SRCNN, VDSR)
  on bicubic-upscaled LR;
* arbitrary-scale models (LIIF) on query batches at scales drawn from ``[1, scale_max]``.

Channels enter the model as :func:`core.channels.sr.plan_channels` runs them: single-channel
models one channel per sample; ``k``-channel models one channel replicated ``k`` times
(``replicate``) or ``k`` consecutive channels (``groups``). The model passed in is not changed:
the Job returns a trained copy (eval mode), ready for
:func:`core.channels.sr.super_resolve_channels`. Same seed, same batches.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..data import ImageData
from ..engine.run import model_kind
from ..errors import InputError
from ..jobs import Job, Progress
from ..models.contracts import make_coord
from ..resize import degrade, imresize
from ..training.data import augment_patch
from ..training.steps import pixel_loss
from .sr import plan_channels

__all__ = ["FinetuneOptions", "FinetuneResult", "finetune_channels"]


@dataclass(frozen=True)
class FinetuneOptions:
    """``steps`` optimiser steps of ``batch`` patches of ``lr_patch`` LR pixels (shrunk to fit
    small data); ``learning_rate`` for Adam; ``scale_max`` for arbitrary-scale models;
    ``sample_q`` queried HR pixels per patch (LIIF); ``rgb_mode`` as in channel SR."""

    steps: int = 200
    batch: int = 8
    lr_patch: int = 24
    learning_rate: float = 1e-4
    scale_max: float = 4.0
    sample_q: int = 1024
    rgb_mode: str = "replicate"
    augment: bool = True
    seed: int = 0


@dataclass
class FinetuneResult:
    """The trained copy (eval mode), the loss of every step, and the time taken (s)."""

    model: nn.Module
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _augment(patch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The training loop's flips and transpose (:func:`core.training.data.augment_patch`), each
    with probability 1/2."""
    hflip, vflip, transpose = (rng.random() < 0.5 for _ in range(3))
    return np.ascontiguousarray(augment_patch(patch, hflip, vflip, transpose))


def _crops(px: np.ndarray, groups: tuple, rng: np.random.Generator, n: int, size: int,
           augment: bool) -> np.ndarray:
    """``n`` HR crops ``(n, size, size, k)`` of random channel groups at random places."""
    h, w, _ = px.shape
    out = []
    for _ in range(n):
        g = groups[int(rng.integers(len(groups)))]
        y, x = int(rng.integers(h - size + 1)), int(rng.integers(w - size + 1))
        patch = px[y:y + size, x:x + size][:, :, list(g)]
        out.append(_augment(patch, rng) if augment else patch)
    return np.stack(out)


def _to_nchw(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2))).float()


def _fixed_loss(net: nn.Module, hr: np.ndarray, scale: int, pre: bool) -> torch.Tensor:
    n, s_hr, _, k = hr.shape
    stacked = hr.transpose(1, 2, 0, 3).reshape(s_hr, s_hr, n * k)
    lr = degrade(stacked, scale)
    if pre:
        lr = imresize(lr, size=(s_hr, s_hr))
    lr = lr.reshape(lr.shape[0], lr.shape[1], n, k).transpose(2, 0, 1, 3)
    return pixel_loss("l1", net(_to_nchw(lr)), _to_nchw(hr))


def _query_loss(net: nn.Module, hr: np.ndarray, p: int, rng: np.random.Generator,
                sample_q: int) -> torch.Tensor:
    n, crop, _, k = hr.shape
    stacked = hr.transpose(1, 2, 0, 3).reshape(crop, crop, n * k)
    lr = imresize(stacked, size=(p, p)).reshape(p, p, n, k).transpose(2, 0, 1, 3)
    n_pix = crop * crop
    q = min(sample_q, n_pix)
    idx = torch.from_numpy(np.stack([rng.choice(n_pix, q, replace=False) for _ in range(n)]))
    coord = make_coord((crop, crop))[idx]
    cell = torch.full_like(coord, 2.0 / crop)
    gt = torch.from_numpy(hr.reshape(n, n_pix, k))[torch.arange(n)[:, None], idx].float()
    return pixel_loss("l1", net(_to_nchw(lr), coord, cell), gt)


def finetune_channels(model: nn.Module, data: ImageData,
                      options: FinetuneOptions = FinetuneOptions()) -> Job[FinetuneResult]:
    """Train a copy of ``model`` on ``data``'s channels (CPU, float32); see the module doc.

    Yields ``Progress(step, steps, "step i/N: L1 ...")``; stopping between yields cancels.
    Raises InputError for interpolation models, bad options, or data too small to crop.
    """
    kind = model_kind(model)
    if kind == "interp":
        raise InputError("interpolation has nothing to learn; choose a trained model to fine-tune")
    o = options
    if o.steps < 1 or o.batch < 1 or o.lr_patch < 2 or not o.learning_rate > 0:
        raise InputError("fine-tuning needs steps >= 1, batch >= 1, lr_patch >= 2 and a "
                         f"positive learning rate, got {o}")
    px = data.pixels
    h, w, c = px.shape
    plan = plan_channels(model, c, o.rgb_mode)
    scale = int(getattr(model, "scale", 2)) if kind == "fixed" else None
    pre = bool(getattr(model, "pre_upsampled", False))
    if kind == "fixed":
        p = min(o.lr_patch, min(h, w) // scale)
        if p < 2:
            raise InputError(f"the data ({w}x{h}) is too small to cut x{scale} training patches")
    elif min(h, w) < 4:
        raise InputError(f"the data ({w}x{h}) is too small to cut training patches")
    rng = np.random.default_rng(o.seed)
    torch.manual_seed(o.seed)
    net = copy.deepcopy(model).float().cpu().train()
    for prm in net.parameters():
        prm.requires_grad_(True)
    opt = torch.optim.Adam(net.parameters(), lr=o.learning_rate)
    result = FinetuneResult(net)
    t0 = time.perf_counter()
    yield Progress(0, o.steps, f"fine-tuning on {c} channels: {plan.note}")
    for step in range(1, o.steps + 1):
        if kind == "fixed":
            hr = _crops(px, plan.groups, rng, o.batch, p * scale, o.augment)
            loss = _fixed_loss(net, hr, scale, pre)
        else:
            s = float(rng.uniform(1.0, max(1.0, o.scale_max)))
            lp = max(2, min(o.lr_patch, int(min(h, w) / s)))
            crop = min(min(h, w), int(round(lp * s)))
            hr = _crops(px, plan.groups, rng, o.batch, crop, o.augment)
            loss = _query_loss(net, hr, lp, rng, o.sample_q)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        result.losses.append(float(loss.detach()))
        yield Progress(step, o.steps, f"step {step}/{o.steps}: L1 {result.losses[-1]:.4f}")
    net.eval()
    for prm in net.parameters():
        prm.requires_grad_(False)
    result.seconds = time.perf_counter() - t0
    return result
