"""RCAN (Zhang et al., ECCV 2018) with the parameter names of yulunzhang/RCAN (EDSR-PyTorch style).

Keys: ``sub_mean``, ``head.0``, ``body.{g}.body.{b}.body.{0,2}`` (the two convolutions of residual
channel-attention block ``b`` in group ``g``), ``body.{g}.body.{b}.body.3.conv_du.{0,2}`` (channel
attention: 1x1 squeeze to ``n_feats / reduction`` and 1x1 excite), ``body.{g}.body.{B}`` (the
group's closing convolution), ``body.{G}`` (the body's closing convolution), ``tail.0.*``
(sub-pixel upsampler), ``tail.1``, ``add_mean``. Paper model: 10 groups x 20 blocks x 64
features, reduction 16, ``rgb_range`` 255. Input and output in [0, 1] (scaled internally).

As in the official code the block's ``res_scale`` is stored but not applied. Channel attention
pools over the whole input, so the output depends on global statistics (``global_context``):
tiled inference matches untiled only where a tile's context covers the image; otherwise it is
close and the engine's blend band hides the seams.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from ..contracts import FixedScaleSR
from ..spec import ArchSpec, StateDict, count_seq, shape_of
from .common import (MeanShift, Upsampler, default_conv, read_edsr_tail, read_rgb_range,
                     upsampler_radius)

__all__ = ["RCAN", "CALayer", "RCAB", "ResidualGroup", "detect_rcan", "SPEC"]


class CALayer(nn.Module):
    """Channel attention: ``x * sigmoid(W2 relu(W1 mean(x)))``; key ``conv_du.{0,2}``."""

    def __init__(self, channel: int, reduction: int = 16):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_du = nn.Sequential(nn.Conv2d(channel, channel // reduction, 1),
                                     nn.ReLU(inplace=True),
                                     nn.Conv2d(channel // reduction, channel, 1), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return x * self.conv_du(self.avg_pool(x))


class RCAB(nn.Module):
    """Residual channel-attention block: ``x + CA(conv(relu(conv(x))))``; keys ``body.{0,2,3}``."""

    def __init__(self, n_feats: int, reduction: int):
        super().__init__()
        self.body = nn.Sequential(default_conv(n_feats, n_feats, 3), nn.ReLU(True),
                                  default_conv(n_feats, n_feats, 3), CALayer(n_feats, reduction))

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + x


class ResidualGroup(nn.Module):
    """``n_resblocks`` RCABs and a closing convolution, with a skip; keys ``body.{i}``."""

    def __init__(self, n_feats: int, reduction: int, n_resblocks: int):
        super().__init__()
        blocks: list[nn.Module] = [RCAB(n_feats, reduction) for _ in range(n_resblocks)]
        blocks.append(default_conv(n_feats, n_feats, 3))
        self.body = nn.Sequential(*blocks)

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + x


class RCAN(FixedScaleSR):
    """RCAN: ``x (B, n_colors, H, W)`` in [0, 1] -> ``(B, n_colors, sH, sW)`` in [0, 1]."""

    arch_name = "rcan"
    global_context = True

    def __init__(self, n_resgroups: int = 10, n_resblocks: int = 20, n_feats: int = 64,
                 reduction: int = 16, scale: int = 2, n_colors: int = 3,
                 rgb_range: float = 255.0):
        super().__init__()
        self.hparams: dict[str, Any] = dict(
            n_resgroups=int(n_resgroups), n_resblocks=int(n_resblocks), n_feats=int(n_feats),
            reduction=int(reduction), scale=int(scale), n_colors=int(n_colors),
            rgb_range=float(rgb_range))
        self.scale = int(scale)
        self.in_channels = int(n_colors)
        self.rgb_range = float(rgb_range)
        self.sub_mean = MeanShift(rgb_range, n_colors=n_colors)
        self.head = nn.Sequential(default_conv(n_colors, n_feats, 3))
        body: list[nn.Module] = [ResidualGroup(n_feats, reduction, n_resblocks)
                                 for _ in range(n_resgroups)]
        body.append(default_conv(n_feats, n_feats, 3))
        self.body = nn.Sequential(*body)
        self.tail = nn.Sequential(Upsampler(default_conv, scale, n_feats, act=False),
                                  default_conv(n_feats, n_colors, 3))
        self.add_mean = MeanShift(rgb_range, sign=1, n_colors=n_colors)
        self.receptive_field = (1 + n_resgroups * (2 * n_resblocks + 1) + 1
                                + upsampler_radius(self.scale))

    def forward(self, x: Tensor) -> Tensor:
        x = self.sub_mean(x * self.rgb_range)
        x = self.head(x)
        x = self.body(x) + x
        x = self.add_mean(self.tail(x))
        return x / self.rgb_range


def detect_rcan(sd: StateDict) -> dict[str, Any] | None:
    """Groups, blocks, features, reduction, colours, scale (upsampler) and ``rgb_range``."""
    head = shape_of(sd, "head.0.weight")
    if head is None or len(head) != 4 or head[2:] != (3, 3):
        return None
    n, c = head[0], head[1]
    groups = count_seq(sd, "body.{}.body.0.body.0.weight")
    blocks = count_seq(sd, "body.0.body.{}.body.0.weight")
    if groups == 0 or blocks == 0:
        return None
    squeeze = shape_of(sd, "body.0.body.0.body.3.conv_du.0.weight")
    if squeeze is None or squeeze[1:] != (n, 1, 1) or n % squeeze[0]:
        return None
    conv = (n, n, 3, 3)
    for g in range(groups):
        if count_seq(sd, f"body.{g}.body.{{}}.body.0.weight") != blocks:
            return None
        for b in range(blocks):
            p = f"body.{g}.body.{b}.body."
            if (shape_of(sd, p + "0.weight") != conv or shape_of(sd, p + "2.weight") != conv
                    or shape_of(sd, p + "3.conv_du.0.weight") != squeeze
                    or shape_of(sd, p + "3.conv_du.2.weight") != (n, squeeze[0], 1, 1)):
                return None
        if shape_of(sd, f"body.{g}.body.{blocks}.weight") != conv:
            return None
    if shape_of(sd, f"body.{groups}.weight") != conv:
        return None
    scale = read_edsr_tail(sd, n, c)
    if scale is None:
        return None
    hp: dict[str, Any] = dict(n_resgroups=groups, n_resblocks=blocks, n_feats=n,
                              reduction=n // squeeze[0], scale=scale, n_colors=c)
    rng = read_rgb_range(sd, c)
    if rng is not None:
        hp["rgb_range"] = rng
    return hp


SPEC = ArchSpec(
    name="rcan",
    kind="fixed",
    detect=detect_rcan,
    build=lambda **hp: RCAN(**hp),
    required_keys=("head.0.weight", "body.0.body.0.body.0.weight", "body.0.body.0.body.2.weight",
                   "body.0.body.0.body.3.conv_du.0.weight", "body.0.body.0.body.3.conv_du.2.weight",
                   "tail.1.weight", "sub_mean.weight", "add_mean.weight"),
    description="RCAN (Zhang et al. 2018), official / EDSR-PyTorch checkpoints, x2/x3/x4",
    key_patterns=(r"^(sub|add)_mean\.(weight|bias)$", r"^head\.0\.(weight|bias)$",
                  r"^body\.\d+\.body\.\d+\.body\.[02]\.(weight|bias)$",
                  r"^body\.\d+\.body\.\d+\.body\.3\.conv_du\.[02]\.(weight|bias)$",
                  r"^body\.\d+\.body\.\d+\.(weight|bias)$", r"^body\.\d+\.(weight|bias)$",
                  r"^tail\.0\.\d+\.(weight|bias)$", r"^tail\.1\.(weight|bias)$"),
)
