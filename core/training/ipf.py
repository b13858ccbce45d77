"""IPF fine-tuning: the losses, the discriminator, and the loop hooks.

The training loop (:mod:`.loop`) calls four hooks here when ``model.arch`` is ``ipf``:
:func:`build_ipf` (a fresh IPF around the LIIF of ``model.init_liif``, LIIF frozen),
:func:`~.data.sample_ipf_batch` (HR *patches* of queries, so image losses apply),
:class:`IPFTrainer` (one optimiser step of F/g/C and of the discriminator; its state rides in
``last.pt``'s ``extra`` so runs resume exactly) and :func:`~.ipf_config.check_ipf_config`.

Losses (``train.losses``), for both outputs: ``L = L^f + L^d``, each
``pixel * L1 * loss_scale + gamma_adv * adversarial + perceptual * L_perc (+ gradient * L_grad)``.

* adversarial: a small patch discriminator (:class:`PatchDiscriminator`, 4 convs, ~0.2 M
  parameters) with the non-saturating (BCE with logits) GAN loss; it is trained on the HR patch
  (real) against I^f and I^d (fake).
* perceptual: with ``losses.vgg: <path to a torchvision VGG16/VGG19 state dict>`` the L1 between
  VGG features (before ReLU of the last conv used, ``vgg_layer``, default conv5_4 / conv5_3,
  ESRGAN's choice) of SR and HR, inputs ImageNet-normalised. Without it (no pretrained VGG can be
  downloaded here) the **substitute**: the L1 between the frozen LIIF encoder's features of SR
  and HR (our own trained feature extractor), and ``losses.gradient`` weights an SPSR-style
  gradient-domain loss, the L1 between the finite-difference gradient magnitudes of SR and HR.
  :attr:`IPFTrainer.perceptual_kind` says which was used; the model card must state it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import CheckpointError, ConfigError
from ..models.archs.ipf import ipf_from_liif
from ..models.archs.liif import LIIF
from ..models.catalog import load_model
from ..models.state_dict_io import load_state_dict_file
from .ipf_config import LOSS_DEFAULTS
from .steps import pixel_loss

__all__ = ["build_ipf", "PatchDiscriminator", "VGGFeatures", "gradient_magnitude", "IPFTrainer"]


def build_ipf(cfg: Any) -> tuple[nn.Module, dict[str, Any]]:
    """A fresh IPF (zero flow) around the LIIF of ``model.init_liif``, and its model_info."""
    path = cfg.resolve(str(cfg.model.init_liif))
    if not path.is_file():
        raise ConfigError(f"'model.init_liif' {cfg.model.init_liif} does not exist (looked for "
                          f"{path}); train LIIF first (configs/liif_edsr_baseline.yaml)")
    try:
        loaded = load_model(path)
    except CheckpointError as exc:
        raise ConfigError(f"'model.init_liif' cannot be loaded: {exc}") from None
    if not isinstance(loaded.module, LIIF):
        raise ConfigError(f"'model.init_liif' {path.name} holds a {loaded.arch} model, not LIIF")
    a = cfg.model.args
    model = ipf_from_liif(loaded.module.float(), n_resblocks=int(a.get("n_resblocks", 8)),
                          n_feats=int(a.get("n_feats", 64)), flow_hidden=a.get("flow_hidden"),
                          conf_hidden=a.get("conf_hidden"))
    return model, {"spec": model.spec}


# ---------------------------------------------------------------------------------------------
# Loss modules
# ---------------------------------------------------------------------------------------------

class PatchDiscriminator(nn.Module):
    """A small PatchGAN: logits per ~22x22 receptive field of a [0, 1] RGB patch."""

    def __init__(self, nf: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, nf, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(nf, nf * 2, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(nf * 2, nf * 4, 3, 1, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(nf * 4, 1, 3, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x * 2 - 1)


class VGGFeatures(nn.Module):
    """``features`` of a torchvision VGG16/VGG19 built from its state dict (keys
    ``features.{i}.weight``), up to the conv ``layer`` (its output before ReLU)."""

    def __init__(self, sd: dict[str, Tensor], layer: int | None = None, name: str = "vgg"):
        super().__init__()
        conv_idx = sorted(int(m.group(1)) for k in sd
                          if (m := re.fullmatch(r"(?:module\.)?features\.(\d+)\.weight", k)))
        shapes = [tuple(sd[self._key(sd, i)].shape) for i in conv_idx]
        if len(conv_idx) not in (13, 16) or shapes[0] != (64, 3, 3, 3) or any(
                len(s) != 4 or s[2:] != (3, 3) for s in shapes):
            raise ConfigError(f"{name} is not a torchvision VGG16/VGG19 state dict (expected 13 "
                              f"or 16 3x3 convs under features.*, found {len(conv_idx)})")
        last = conv_idx[-1] if layer is None else int(layer)
        if last not in conv_idx:
            raise ConfigError(f"'train.losses.vgg_layer' {layer} is not a conv of {name} "
                              f"(convs at {conv_idx})")
        mods: list[nn.Module] = []
        prev = -1
        for i in conv_idx:
            if i > last:
                break
            if i - prev > 2 and prev >= 0:   # conv, relu, [maxpool] between consecutive convs
                mods.append(nn.MaxPool2d(2))
            conv = nn.Conv2d(sd[self._key(sd, i)].shape[1], sd[self._key(sd, i)].shape[0], 3,
                             padding=1)
            conv.weight.data.copy_(sd[self._key(sd, i)])
            conv.bias.data.copy_(sd[self._key(sd, i).replace("weight", "bias")])
            mods.append(conv)
            if i != last:
                mods.append(nn.ReLU())
            prev = i
        self.features = nn.Sequential(*mods)
        self.requires_grad_(False)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    @staticmethod
    def _key(sd: dict[str, Tensor], i: int) -> str:
        k = f"features.{i}.weight"
        return k if k in sd else f"module.{k}"

    def forward(self, x: Tensor) -> Tensor:
        return self.features((x - self.mean) / self.std)


def load_vgg(path: Path, layer: int | None = None) -> VGGFeatures:
    """A :class:`VGGFeatures` from a user-supplied VGG16/19 weight file (clear error otherwise)."""
    try:
        sd, _ = load_state_dict_file(path)
    except CheckpointError as exc:
        raise ConfigError(f"'train.losses.vgg': {exc}") from None
    return VGGFeatures(dict(sd), layer, name=Path(path).name)


def gradient_magnitude(x: Tensor) -> Tensor:
    """Finite-difference gradient magnitude per channel (SPSR's gradient map), ``(B, C, H, W)``."""
    dx = F.pad(x[..., :, 2:] - x[..., :, :-2], (1, 1, 0, 0))
    dy = F.pad(x[..., 2:, :] - x[..., :-2, :], (0, 0, 1, 1))
    return torch.sqrt(dx * dx + dy * dy + 1e-6)


# ---------------------------------------------------------------------------------------------
# The step
# ---------------------------------------------------------------------------------------------

class IPFTrainer:
    """Losses, discriminator and its optimiser; :meth:`step` replaces ``loop.train_step``."""

    def __init__(self, cfg: Any, model: nn.Module, device: torch.device):
        self.cfg = cfg
        self.model = model
        self.losses = {**LOSS_DEFAULTS, **dict(cfg.train.losses or {})}
        L = self.losses
        self.disc = PatchDiscriminator().to(device) if L["gamma_adv"] > 0 else None
        self.d_opt = (torch.optim.Adam(self.disc.parameters(), lr=float(L["d_lr"]),
                                       betas=tuple(cfg.train.betas))
                      if self.disc is not None else None)
        self.vgg: nn.Module | None = None
        if L["vgg"]:
            self.vgg = load_vgg(cfg.resolve(str(L["vgg"])), L["vgg_layer"]).to(device)
            self.perceptual_kind = f"VGG features ({Path(str(L['vgg'])).name})"
        else:
            self.perceptual_kind = ("substitute: frozen LIIF encoder features + gradient-domain "
                                    "L1 (no VGG weights given)")
        self.last_terms: dict[str, float] = {}

    # -- resumable state (stored in last.pt's ``extra``)
    def state_dict(self) -> dict[str, Any]:
        if self.disc is None:
            return {}
        return {"disc": {k: v.detach().cpu().clone() for k, v in self.disc.state_dict().items()},
                "d_opt": self.d_opt.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.disc is not None and state:
            self.disc.load_state_dict(state["disc"])
            self.d_opt.load_state_dict(state["d_opt"])

    def _features(self, img: Tensor) -> Tensor:
        if self.vgg is not None:
            return self.vgg(img)
        return self.model.liif.encode(img)

    def generator_loss(self, batch: PatchBatch, device: torch.device
                       ) -> tuple[Tensor, dict[str, Tensor]]:
        """``L^f + L^d`` and the SR patches ``{'sr', 'sr_raw', 'gt'}`` ``(B, 3, P, P)``."""
        L, o = self.losses, self.cfg.train
        lr = batch.lr.to(device)
        if o.channels_last:
            lr = lr.contiguous(memory_format=torch.channels_last)
        out = self.model.query_all(self.model.encode(lr), batch.coord.to(device),
                                   batch.cell.to(device))
        b, p = lr.shape[0], batch.patch
        gt = batch.gt.to(device).float()
        gt_img = gt.transpose(1, 2).reshape(b, 3, p, p)
        with torch.no_grad():
            gt_feat = self._features(gt_img) if L["perceptual"] > 0 else None
            gt_grad = gradient_magnitude(gt_img) if L["gradient"] > 0 and self.vgg is None \
                else None
        total = 0
        imgs = {"gt": gt_img}
        terms: dict[str, float] = {}
        for key in ("sr", "sr_raw"):
            pred = out[key].float()
            img = pred.transpose(1, 2).reshape(b, 3, p, p)
            imgs[key] = img
            part = L["pixel"] * o.loss_scale * pixel_loss(o.loss, pred, gt)
            if gt_feat is not None:
                part = part + L["perceptual"] * F.l1_loss(self._features(img).float(),
                                                          gt_feat.float())
            if gt_grad is not None:
                part = part + L["gradient"] * F.l1_loss(gradient_magnitude(img), gt_grad)
            if self.disc is not None:
                logits = self.disc(img).float()
                part = part + L["gamma_adv"] * F.binary_cross_entropy_with_logits(
                    logits, torch.ones_like(logits))
            terms[key] = float(part.detach())
            total = total + part
        self.last_terms = terms
        return total, imgs

    def step(self, batch: PatchBatch, autocast_dtype: torch.dtype | None,
             device: torch.device, opt: torch.optim.Optimizer) -> float:
        """One step of F/g/C (``opt``) then one of the discriminator; returns ``L^f + L^d``."""
        o = self.cfg.train
        ctx = dict(device_type=device.type, dtype=autocast_dtype or torch.bfloat16,
                   enabled=autocast_dtype is not None)
        opt.zero_grad(set_to_none=True)
        if self.disc is not None:
            self.disc.requires_grad_(False)
        with torch.autocast(**ctx):
            loss, imgs = self.generator_loss(batch, device)
        loss.backward()
        if o.grad_clip:
            nn.utils.clip_grad_norm_(self.model.trainable_parameters(), o.grad_clip)
        opt.step()
        if self.disc is not None:
            self.disc.requires_grad_(True)
            self.d_opt.zero_grad(set_to_none=True)
            with torch.autocast(**ctx):
                real = self.disc(imgs["gt"]).float()
                fake = torch.cat([self.disc(imgs[k].detach()).float()
                                  for k in ("sr", "sr_raw")])
                d_loss = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                          + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
            d_loss.backward()
            self.d_opt.step()
            self.last_terms["d"] = float(d_loss.detach())
        return float(loss.detach())
