"""One training step and the batch it learns from (the loop is :mod:`.loop`).

``make_batch(cfg, images, step)`` draws the batch of ``step`` from its own seeded generator
(so a resumed run sees the same batches), in the form the model takes: query batches for
LIIF, image-loss patches for IPF, and for fixed-scale models LR/HR pairs in the colour space
and size the engine feeds them (:func:`input_flags`). ``train_step`` is one loss / optimiser
step (the pixel loss ``train.loss``: L1 or MSE), with bf16 autocast when asked.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models.registry import get_arch
from .config import TrainConfig
from .ipf_config import LOSS_DEFAULTS
from .data import ImageSet, batch_rng, sample_fixed_batch, sample_ipf_batch, sample_query_batch

__all__ = ["input_flags", "make_batch", "pixel_loss", "train_step"]


def input_flags(cfg: TrainConfig) -> dict[str, bool]:
    """``y_only`` and ``pre_upsample`` of a fixed-scale model: what its batches must hold.
    Read from the module built on the meta device (no memory, no use of the torch RNG)."""
    with torch.device("meta"):
        module = get_arch(cfg.model.arch).build(**cfg.model.args)
    return {"y_only": bool(getattr(module, "y_only", False)),
            "pre_upsample": bool(getattr(module, "pre_upsampled", False))}


def make_batch(cfg: TrainConfig, images: ImageSet, step: int,
               flags: dict[str, bool] | None = None) -> Any:
    """The batch of ``step`` (same for every run with the same seed). ``flags``: the result
    of :func:`input_flags` for fixed-scale models (computed when not given)."""
    d = cfg.data
    rng = batch_rng(cfg.seed, step)
    if cfg.model.arch == "ipf":  # HR patches of queries (image losses)
        hr_patch = int(cfg.train.losses.get("hr_patch", LOSS_DEFAULTS["hr_patch"]))
        return sample_ipf_batch(images, rng, d.batch_size, d.lr_patch, d.scale_min,
                                d.scale_max, hr_patch, d.augment, d.quantize_lr)
    if cfg.model.arbitrary:
        return sample_query_batch(images, rng, d.batch_size, d.lr_patch, d.scale_min,
                                  d.scale_max, d.sample_q, d.augment, d.quantize_lr)
    scale = int(rng.choice(d.scales)) if d.scales else cfg.model.scale
    return sample_fixed_batch(images, rng, d.batch_size, d.lr_patch, scale, d.augment,
                              d.quantize_lr, **(flags if flags is not None else input_flags(cfg)))


def pixel_loss(name: str, pred: Tensor, target: Tensor) -> Tensor:
    """``train.loss`` of ``pred`` against ``target``: mean absolute or mean squared error."""
    return F.mse_loss(pred, target) if name == "mse" else F.l1_loss(pred, target)


def _loss(model: nn.Module, batch: Any, device: torch.device, channels_last: bool,
          name: str = "l1") -> Tensor:
    lr = batch.lr.to(device)
    if channels_last:
        lr = lr.contiguous(memory_format=torch.channels_last)
    if hasattr(batch, "coord"):
        pred = model(lr, batch.coord.to(device), batch.cell.to(device))
        return pixel_loss(name, pred.float(), batch.gt.to(device))
    return pixel_loss(name, model(lr).float(), batch.hr.to(device))


def train_step(model: nn.Module, opt: torch.optim.Optimizer, batch: Any, cfg: TrainConfig,
               autocast_dtype: torch.dtype | None, device: torch.device = torch.device("cpu"),
               ) -> float:
    """One optimiser step on ``batch``; returns the (scaled) loss. ``autocast_dtype``: bf16 for
    autocast, None for plain float32."""
    o = cfg.train
    opt.zero_grad(set_to_none=True)
    with torch.autocast(device.type, dtype=autocast_dtype or torch.bfloat16,
                        enabled=autocast_dtype is not None):
        loss = _loss(model, batch, device, o.channels_last, o.loss) * o.loss_scale
    loss.backward()
    if o.grad_clip:
        nn.utils.clip_grad_norm_(model.parameters(), o.grad_clip)
    opt.step()
    return float(loss.detach())
