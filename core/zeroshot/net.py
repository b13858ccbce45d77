"""The ZSSR / MZSR network: a plain CNN learning the residual over bicubic interpolation."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["ZSSRNet", "geometric", "inverse_geometric"]


class ZSSRNet(nn.Module):
    """``depth`` 3x3 conv layers (``width`` channels, ReLU between) on the *interpolated* input
    ``x`` (B, C, H, W); returns ``x + residual`` (same size: the scale is done beforehand by
    bicubic interpolation). The paper's net: depth 8, width 64 (~0.22 M weights for RGB)."""

    channels_last = True

    def __init__(self, channels: int = 3, width: int = 64, depth: int = 8) -> None:
        super().__init__()
        if depth < 2:
            raise ValueError("depth must be >= 2")
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(True)]
        layers.append(nn.Conv2d(width, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)
        self.channels, self.width, self.depth = channels, width, depth

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x).to(x.dtype)


def geometric(x: Tensor, t: int) -> Tensor:
    """Transform ``t`` in 0..7 of the 8 dihedral ones on the last two dims
    (``t % 4`` quarter turns, then a left-right flip when ``t >= 4``)."""
    y = torch.rot90(x, t % 4, dims=(-2, -1))
    return y.flip(-1) if t >= 4 else y


def inverse_geometric(x: Tensor, t: int) -> Tensor:
    """Undo :func:`geometric` ``t``."""
    y = x.flip(-1) if t >= 4 else x
    return torch.rot90(y, -(t % 4), dims=(-2, -1))
