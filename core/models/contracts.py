"""The two model contracts.

Fixed-scale models map ``x (B, C, H, W)`` in [0, 1] to ``(B, C, sH, sW)`` at one integer scale.
Arbitrary-scale models encode once and are queried at any coordinates. Models never choose a
device or dtype: those come from the tensors, and the engine decides them.

Coordinates follow LIIF: pixel centres in [-1, 1], ``(y, x)`` order, so for an output of
``H x W`` pixels the centre of row ``i`` is ``-1 + (2 i + 1) / H``. A cell is the size of one
output pixel in the same units: ``(2 / H, 2 / W)``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["FixedScaleSR", "ArbitraryScaleSR", "make_coord", "make_cell"]


class FixedScaleSR(nn.Module):
    """``forward(x) -> y`` at the integer ``scale``.

    Class attributes describe what the model expects, so the engine can adapt the input:
    ``in_channels`` (3 for RGB, 1 for Y-only models), ``y_only`` (run on the Y channel of
    YCbCr and upscale Cb/Cr with bicubic), ``pre_upsampled`` (input is already bicubic-
    upscaled to the output size, as in SRCNN/VDSR), ``window`` (input size must be padded to
    a multiple of this), ``receptive_field`` (pixels of the model's input, LR pixels unless
    ``pre_upsampled``, of context each output pixel needs on every side, used as the tile
    margin so tiled inference equals untiled), ``global_context`` (the output also depends on
    statistics of the whole input, e.g. channel attention or instance norm: tiles can only
    approximate an untiled run unless their context covers the image).
    """

    scale: int = 1
    in_channels: int = 3
    y_only: bool = False
    pre_upsampled: bool = False
    window: int = 1
    receptive_field: int = 16
    global_context: bool = False

    def forward(self, x: Tensor) -> Tensor:  # pragma: no cover - interface
        raise NotImplementedError


class ArbitraryScaleSR(nn.Module):
    """Encode once, then query RGB values at any continuous coordinates.

    ``encode(x)``: ``x (B, 3, h, w)`` in [0, 1] -> feature map ``(B, F, h, w)``.
    ``query(feat, coord, cell)``: ``coord, cell (B, N, 2)`` -> ``(B, N, 3)`` in [0, 1] (not
    clamped). ``receptive_field`` is the LR context (pixels) of one feature vector, used by the
    engine to tile the encoder exactly.
    """

    in_channels: int = 3
    receptive_field: int = 40

    def encode(self, x: Tensor) -> Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def query(self, feat: Tensor, coord: Tensor, cell: Tensor) -> Tensor:  # pragma: no cover
        raise NotImplementedError

    def forward(self, x: Tensor, coord: Tensor, cell: Tensor) -> Tensor:
        return self.query(self.encode(x), coord, cell)


def make_coord(shape: tuple[int, int], device: torch.device | None = None,
               dtype: torch.dtype = torch.float32, flatten: bool = True) -> Tensor:
    """Pixel-centre coordinates of an ``H x W`` grid in [-1, 1], ``(y, x)`` order.

    Returns ``(H * W, 2)`` when ``flatten`` else ``(H, W, 2)``; same values as LIIF's
    ``make_coord``.
    """
    seqs = []
    for n in shape:
        r = 1.0 / n
        seqs.append(-1 + r + 2 * r * torch.arange(n, device=device, dtype=torch.float32))
    grid = torch.stack(torch.meshgrid(*seqs, indexing="ij"), dim=-1).to(dtype)
    return grid.reshape(-1, 2) if flatten else grid


def make_cell(coord: Tensor, shape: tuple[int, int]) -> Tensor:
    """Cell sizes ``(2 / H, 2 / W)`` for every coordinate of an ``H x W`` output grid."""
    cell = torch.empty_like(coord)
    cell[..., 0] = 2.0 / shape[0]
    cell[..., 1] = 2.0 / shape[1]
    return cell
