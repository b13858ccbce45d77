"""LRFNet: large receptive field networks (Seif & Androutsos, CVPR-W 2018), our own key names.

Both variants are the EDSR baseline (``sub_mean``, ``head.0``, ``body.{i}.body.{0,2}``,
``body.{n}``, ``tail.0.*``, ``tail.1``, ``add_mean``; 64 features) with different residual blocks:

* **LRFNet-S** (``variant='separable'``, 16 blocks): every 3x3 convolution of a block becomes a
  ``1 x k`` convolution followed by a ``k x 1`` one (``body.{i}.body.0.0`` / ``body.{i}.body.0.1``),
  ``k`` = 9 or 11: the receptive field grows by ``k - 1`` per convolution instead of 2, for
  ``2 k`` instead of 9 weights per channel pair.
* **LRFNet-A** (``variant='atrous'``, 12 blocks): 3x3 convolutions dilated block by block. Our
  reading of the paper's "1-4-8" scheme: the blocks are split into three equal runs with dilation
  1, 4 and 8 (``[1, 1, 1, 1, 4, 4, 4, 4, 8, 8, 8, 8]`` for 12 blocks; both convolutions of a
  block share its dilation). Dilations are not visible in weight shapes, so the model keeps them
  in a ``dilations`` buffer (saved in the state dict: an atrous checkpoint says what it is and
  is never mistaken for a 12-block EDSR) and in our checkpoint's hparams.

Input and output in [0, 1]; computed in [0, ``rgb_range``] with EDSR's mean shift.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor, nn

from ..contracts import FixedScaleSR
from ..spec import ArchSpec, StateDict, count_seq, shape_of
from .common import (MeanShift, Upsampler, default_conv, read_edsr_tail, read_rgb_range,
                     upsampler_radius)

__all__ = ["LRFNet", "default_dilations", "detect_lrfnet", "SPEC"]


def default_dilations(n_resblocks: int) -> list[int]:
    """The 1-4-8 scheme over ``n_resblocks`` blocks: three runs as equal as possible."""
    n = int(n_resblocks)
    return [1] * (n - 2 * (n // 3)) + [4] * (n // 3) + [8] * (n // 3)


def _separable(n: int, k: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(n, n, (1, k), padding=(0, k // 2)),
                         nn.Conv2d(n, n, (k, 1), padding=(k // 2, 0)))


class _Block(nn.Module):
    """EDSR residual block with custom convolutions: keys ``body.0`` and ``body.2``."""

    def __init__(self, conv1: nn.Module, conv2: nn.Module, res_scale: float):
        super().__init__()
        self.body = nn.Sequential(conv1, nn.ReLU(True), conv2)
        self.res_scale = res_scale

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x).mul(self.res_scale) + x


class LRFNet(FixedScaleSR):
    """LRFNet-S / LRFNet-A: ``x (B, n_colors, H, W)`` in [0, 1] -> ``(B, n_colors, sH, sW)``."""

    arch_name = "lrfnet"

    def __init__(self, variant: str = "separable", k: int = 9, n_resblocks: int | None = None,
                 n_feats: int = 64, scale: int = 2, n_colors: int = 3, rgb_range: float = 255.0,
                 res_scale: float = 1.0, dilations: Sequence[int] | None = None):
        super().__init__()
        if variant not in ("separable", "atrous"):
            raise ValueError(f"LRFNet variant must be 'separable' or 'atrous', got {variant!r}")
        atrous = variant == "atrous"
        if n_resblocks is None:
            n_resblocks = len(dilations) if (atrous and dilations) else (12 if atrous else 16)
        n_resblocks = int(n_resblocks)
        if atrous:
            dil = [int(d) for d in (dilations or default_dilations(n_resblocks))]
            if len(dil) != n_resblocks or min(dil, default=1) < 1:
                raise ValueError(f"need {n_resblocks} positive dilations, got {list(dil)}")
        elif int(k) < 1 or int(k) % 2 == 0:
            raise ValueError(f"LRFNet-S kernel length k must be odd, got {k}")
        self.hparams: dict[str, Any] = dict(
            variant=variant, n_resblocks=n_resblocks, n_feats=int(n_feats), scale=int(scale),
            n_colors=int(n_colors), rgb_range=float(rgb_range), res_scale=float(res_scale))
        if atrous:
            self.hparams["dilations"] = dil
        else:
            self.hparams["k"] = int(k)
        self.scale = int(scale)
        self.in_channels = int(n_colors)
        self.rgb_range = float(rgb_range)
        n = int(n_feats)

        self.sub_mean = MeanShift(rgb_range, n_colors=n_colors)
        self.add_mean = MeanShift(rgb_range, sign=1, n_colors=n_colors)
        self.head = nn.Sequential(default_conv(n_colors, n, 3))
        blocks: list[nn.Module] = []
        for i in range(n_resblocks):
            if atrous:
                d = dil[i]
                c1, c2 = (nn.Conv2d(n, n, 3, padding=d, dilation=d) for _ in range(2))
            else:
                c1, c2 = _separable(n, int(k)), _separable(n, int(k))
            blocks.append(_Block(c1, c2, res_scale))
        blocks.append(default_conv(n, n, 3))
        self.body = nn.Sequential(*blocks)
        self.tail = nn.Sequential(Upsampler(default_conv, scale, n, act=False),
                                  default_conv(n, n_colors, 3))
        if atrous:
            self.register_buffer("dilations", torch.tensor(dil, dtype=torch.int64))
            body_radius = sum(2 * d for d in dil)
        else:
            body_radius = n_resblocks * 2 * (int(k) // 2)
        self.receptive_field = 1 + body_radius + 1 + upsampler_radius(self.scale)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):  # type: ignore[override]
        key = prefix + "dilations"
        if hasattr(self, "dilations") and key in state_dict:
            if state_dict[key].tolist() != self.dilations.tolist():
                error_msgs.append(f"dilations {state_dict[key].tolist()} in the checkpoint but "
                                  f"{self.dilations.tolist()} in the model")
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def forward(self, x: Tensor) -> Tensor:
        x = self.sub_mean(x * self.rgb_range)
        x = self.head(x)
        x = self.body(x) + x
        x = self.add_mean(self.tail(x))
        return x / self.rgb_range


def detect_lrfnet(sd: StateDict) -> dict[str, Any] | None:
    """Variant, ``k`` or dilations, blocks, features, colours, scale and ``rgb_range``.

    Separable blocks are recognised by their ``(1, k)`` / ``(k, 1)`` weights; atrous ones by the
    ``dilations`` buffer (a bare EDSR state dict without it stays EDSR).
    """
    head = shape_of(sd, "head.0.weight")
    if head is None or len(head) != 4 or head[2:] != (3, 3):
        return None
    n, c = head[0], head[1]
    hp: dict[str, Any] = dict(n_feats=n, n_colors=c)
    dil = sd.get("dilations")
    if isinstance(dil, Tensor) and not dil.is_floating_point():
        if dil.ndim != 1 or dil.is_meta:
            return None
        blocks = count_seq(sd, "body.{}.body.0.weight")
        if blocks != dil.numel():
            return None
        for i in range(blocks):
            for j in (0, 2):
                if shape_of(sd, f"body.{i}.body.{j}.weight") != (n, n, 3, 3):
                    return None
        hp.update(variant="atrous", n_resblocks=blocks, dilations=[int(v) for v in dil.tolist()])
    else:
        blocks = count_seq(sd, "body.{}.body.0.0.weight")
        if blocks == 0:
            return None
        row = shape_of(sd, "body.0.body.0.0.weight")
        k = row[3] if row is not None and len(row) == 4 else 0
        for i in range(blocks):
            for j in (0, 2):
                if (shape_of(sd, f"body.{i}.body.{j}.0.weight") != (n, n, 1, k)
                        or shape_of(sd, f"body.{i}.body.{j}.1.weight") != (n, n, k, 1)):
                    return None
        hp.update(variant="separable", n_resblocks=blocks, k=k)
    if shape_of(sd, f"body.{blocks}.weight") != (n, n, 3, 3):
        return None
    scale = read_edsr_tail(sd, n, c)
    if scale is None:
        return None
    hp["scale"] = scale
    rng = read_rgb_range(sd, c)
    if rng is not None:
        hp["rgb_range"] = rng
    return hp


SPEC = ArchSpec(
    name="lrfnet",
    kind="fixed",
    detect=detect_lrfnet,
    build=lambda **hp: LRFNet(**hp),
    required_keys=("sub_mean.weight", "sub_mean.bias", "head.0.weight", "head.0.bias",
                   "body.0.body.0.0.weight", "body.0.body.0.1.weight", "body.0.body.2.0.weight",
                   "body.0.body.2.1.weight", "tail.1.weight", "add_mean.weight"),
    description="LRFNet-S (1-D separable k x 1 / 1 x k blocks) and LRFNet-A (atrous 1-4-8), "
                "EDSR-style keys, our own weights",
    key_patterns=(r"^(sub|add)_mean\.(weight|bias)$", r"^head\.0\.(weight|bias)$",
                  r"^body\.\d+\.body\.[02]\.(\d\.)?(weight|bias)$", r"^body\.\d+\.(weight|bias)$",
                  r"^tail\.[01]\.", r"^dilations$"),
)
