"""Building blocks shared by the EDSR family, with EDSR-PyTorch's parameter names.

``default_conv``, :class:`MeanShift`, :class:`ResBlock` and :class:`Upsampler` reproduce
``EDSR-PyTorch/src/model/common.py`` so that official checkpoints load with ``strict=True``:
a ``ResBlock`` stores its convolutions as ``body.0`` / ``body.2`` and an ``Upsampler`` for
scale 4 as ``0`` / ``2`` (convolution, pixel shuffle, convolution, pixel shuffle).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor, nn

__all__ = ["default_conv", "MeanShift", "ResBlock", "Upsampler", "DIV2K_RGB_MEAN"]

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
