"""Building blocks shared by the EDSR family, with EDSR-PyTorch's parameter names.

``default_conv``, :class:`MeanShift`, :class:`ResBlock` and :class:`Upsampler` reproduce
``EDSR-PyTorch/src/model/common.py`` so that official checkpoints load with ``strict=True``:
a ``ResBlock`` stores its convolutions as ``body.0`` / ``body.2`` and an ``Upsampler`` for
scale 4 as ``0`` / ``2`` (convolution, pixel shuffle, convolution, pixel shuffle).
"""

from __future__ import annotations

import math
import re
from typing import Callable, Mapping

import torch
from torch import Tensor, nn

from ..spec import shape_of

__all__ = ["default_conv", "MeanShift", "ResBlock", "Upsampler", "DIV2K_RGB_MEAN",
           "read_edsr_tail", "read_rgb_range", "read_upsampler_scale", "upsampler_radius"]

#: Mean RGB of DIV2K in [0, 1] (EDSR-PyTorch's ``rgb_mean``).
DIV2K_RGB_MEAN: tuple[float, float, float] = (0.4488, 0.4371, 0.4040)

ConvFactory = Callable[..., nn.Conv2d]


def default_conv(in_channels: int, out_channels: int, kernel_size: int,
                 bias: bool = True) -> nn.Conv2d:
    """A ``kernel_size`` convolution with "same" padding (EDSR-PyTorch's ``default_conv``)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=bias)


class MeanShift(nn.Conv2d):
    """1x1 convolution adding ``sign * rgb_range * mean / std`` per channel (frozen).

    Exactly EDSR-PyTorch's ``MeanShift``: weight ``eye / std``, bias
    ``sign * rgb_range * mean / std``; the parameters do not train but are part of the state
    dict. With ``n_colors != 3`` (our extension) every channel uses the average DIV2K mean.
    A checkpoint that omits these constant parameters still loads: the missing ones keep the
    values computed here.
    """

    def __init__(self, rgb_range: float, rgb_mean: tuple[float, ...] = DIV2K_RGB_MEAN,
                 rgb_std: tuple[float, ...] = (1.0, 1.0, 1.0), sign: int = -1, n_colors: int = 3):
        super().__init__(n_colors, n_colors, kernel_size=1)
        if n_colors != len(rgb_mean):
            rgb_mean = (sum(rgb_mean) / len(rgb_mean),) * n_colors
            rgb_std = (sum(rgb_std) / len(rgb_std),) * n_colors
        std = torch.tensor(rgb_std, dtype=torch.float32)
        eye = torch.eye(n_colors).view(n_colors, n_colors, 1, 1)
        self.weight.data = eye / std.view(n_colors, 1, 1, 1)
        self.bias.data = sign * rgb_range * torch.tensor(rgb_mean, dtype=torch.float32) / std
        for p in self.parameters():
            p.requires_grad = False

    def _load_from_state_dict(  # type: ignore[override]
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        # The values are constants: fill the ones a checkpoint left out instead of failing.
        for name in ("weight", "bias"):
            if prefix + name not in state_dict:
                state_dict[prefix + name] = getattr(self, name).detach().clone()
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)


class ResBlock(nn.Module):
    """``x + res_scale * conv(relu(conv(x)))``; keys ``body.0.*`` and ``body.2.*``."""

    def __init__(self, conv: ConvFactory, n_feats: int, kernel_size: int, bias: bool = True,
                 bn: bool = False, act: nn.Module | None = None, res_scale: float = 1.0):
        super().__init__()
        m: list[nn.Module] = []
        for i in range(2):
            m.append(conv(n_feats, n_feats, kernel_size, bias=bias))
            if bn:
                m.append(nn.BatchNorm2d(n_feats))
            if i == 0:
                m.append(act if act is not None else nn.ReLU(True))
        self.body = nn.Sequential(*m)
        self.res_scale = res_scale

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x).mul(self.res_scale) + x


class Upsampler(nn.Sequential):
    """Sub-pixel upsampling: ``[conv(n, 4n), PixelShuffle(2)]`` per x2 step, or ``[conv(n, 9n),
    PixelShuffle(3)]`` for x3. Scale 1 gives an empty module. Other scales are refused."""

    def __init__(self, conv: ConvFactory, scale: int, n_feats: int, bn: bool = False,
                 act: str | bool = False, bias: bool = True):
        m: list[nn.Module] = []
        scale = int(scale)
        if scale >= 1 and (scale & (scale - 1)) == 0:
            for _ in range(int(round(math.log2(scale)))):
                m.append(conv(n_feats, 4 * n_feats, 3, bias))
                m.append(nn.PixelShuffle(2))
                if bn:
                    m.append(nn.BatchNorm2d(n_feats))
                if act == "relu":
                    m.append(nn.ReLU(True))
                elif act == "prelu":
                    m.append(nn.PReLU(n_feats))
        elif scale == 3:
            m.append(conv(n_feats, 9 * n_feats, 3, bias))
            m.append(nn.PixelShuffle(3))
            if bn:
                m.append(nn.BatchNorm2d(n_feats))
            if act == "relu":
                m.append(nn.ReLU(True))
            elif act == "prelu":
                m.append(nn.PReLU(n_feats))
        else:
            raise ValueError(f"EDSR upsampler supports scale 3 and powers of 2, got {scale}")
        super().__init__(*m)


# ---------------------------------------------------------------------------------------------
# Reading EDSR-style parts back from a state dict (shared by EDSR, RCAN, LRFNet)
# ---------------------------------------------------------------------------------------------

def read_rgb_range(sd: Mapping[str, Tensor], n_colors: int,
                   key: str = "sub_mean.bias") -> float | None:
    """``rgb_range`` from a ``MeanShift`` bias (``-rgb_range * mean``), or None if absent.

    Values within 0.5 of 255 give exactly 255.0, within 1e-3 of 1 exactly 1.0.
    """
    bias = sd.get(key)
    if not isinstance(bias, Tensor) or bias.numel() != n_colors or bias.is_meta:
        return None
    mean0 = DIV2K_RGB_MEAN[0] if n_colors == 3 else sum(DIV2K_RGB_MEAN) / 3
    rng = -float(bias.flatten()[0]) / mean0
    if not (math.isfinite(rng) and rng > 0):
        return None
    if abs(rng - 255) < 0.5:
        return 255.0
    if abs(rng - 1) < 1e-3:
        return 1.0
    return rng


def read_upsampler_scale(sd: Mapping[str, Tensor], prefix: str, n_feats: int) -> int | None:
    """Scale of an :class:`Upsampler` stored under ``prefix`` (e.g. ``"tail.0."``), or None.

    Its convolutions sit at indices 0, 2, 4, ... with ``4 n`` outputs per x2 step or one with
    ``9 n`` outputs for x3; no convolution at all is scale 1 (an empty upsampler).
    """
    rx = re.compile(re.escape(prefix) + r"(\d+)\.weight")
    idx = sorted(int(m.group(1)) for k in sd if (m := rx.fullmatch(k)))
    if idx != [2 * j for j in range(len(idx))]:
        return None
    outs = [tuple(sd[f"{prefix}{i}.weight"].shape) for i in idx]
    if any(len(o) != 4 or o[1:] != (n_feats, 3, 3) for o in outs):
        return None
    if all(o[0] == 4 * n_feats for o in outs):
        return 2 ** len(outs)
    if len(outs) == 1 and outs[0][0] == 9 * n_feats:
        return 3
    return None


def read_edsr_tail(sd: Mapping[str, Tensor], n_feats: int, n_colors: int) -> int | None:
    """Scale of an EDSR-style tail (``tail.0`` an :class:`Upsampler`, ``tail.1`` a 3x3
    convolution from ``n_feats`` to ``n_colors``), or None when it is absent or does not fit."""
    if shape_of(sd, "tail.1.weight") != (n_colors, n_feats, 3, 3):
        return None
    return read_upsampler_scale(sd, "tail.0.", n_feats)


def upsampler_radius(scale: int) -> int:
    """LR pixels of context added by an :class:`Upsampler` plus one 3x3 convolution after it
    (at HR): one per 3x3 convolution, whatever resolution it runs at (``ceil(1 / r) = 1``)."""
    steps = int(round(math.log2(scale))) if scale & (scale - 1) == 0 else 1
    return steps + 1
