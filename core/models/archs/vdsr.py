"""VDSR (Kim, Lee & Lee, CVPR 2016) with the keys of twtygqyy/pytorch-vdsr.

``input`` (3x3 conv 1 -> 64, no bias) + ReLU, ``residual_layer.{0..17}.conv`` (3x3 conv 64 -> 64,
no bias, + ReLU), ``output`` (3x3 conv 64 -> 1, no bias), plus the global skip: the network
predicts the residual over its input, the bicubic-upscaled Y channel in [0, 1]
(``pre_upsampled``). One model serves every scale; ``scale`` is only informative.

That repository's released ``model_epoch_50.pth`` is a pickled whole model (``vdsr.Net``
under ``'model'``); :mod:`core.models.safe_unpickle` reads its tensors without running it.
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from ..contracts import FixedScaleSR
from ..spec import ArchSpec, StateDict, count_seq, shape_of

__all__ = ["VDSR", "detect_vdsr", "SPEC"]


class _ConvReLU(nn.Module):
    """``relu(conv(x))``; key ``conv`` (twtygqyy's ``Conv_ReLU_Block``)."""

    def __init__(self, n_feats: int):
        super().__init__()
        self.conv = nn.Conv2d(n_feats, n_feats, 3, padding=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.conv(x))


class VDSR(FixedScaleSR):
    """VDSR: bicubic-upscaled ``x (B, n_colors, H, W)`` in [0, 1] -> same size (not clipped)."""

    arch_name = "vdsr"
    pre_upsampled = True

    def __init__(self, n_layers: int = 20, n_feats: int = 64, n_colors: int = 1,
                 scale: int | None = None):
        super().__init__()
        if int(n_layers) < 2:
            raise ValueError(f"VDSR needs at least 2 layers, got {n_layers}")
        self.hparams: dict[str, Any] = dict(n_layers=int(n_layers), n_feats=int(n_feats),
                                            n_colors=int(n_colors),
                                            scale=None if scale is None else int(scale))
        self.scale = int(scale) if scale else 1
        self.in_channels = int(n_colors)
        self.y_only = int(n_colors) == 1
        self.input = nn.Conv2d(n_colors, n_feats, 3, padding=1, bias=False)
        self.residual_layer = nn.Sequential(*[_ConvReLU(n_feats) for _ in range(n_layers - 2)])
        self.output = nn.Conv2d(n_feats, n_colors, 3, padding=1, bias=False)
        self.receptive_field = int(n_layers)

    def forward(self, x: Tensor) -> Tensor:
        out = self.output(self.residual_layer(F.relu(self.input(x))))
        return out + x


def detect_vdsr(sd: StateDict) -> dict[str, Any] | None:
    """``n_layers, n_feats, n_colors`` (layers = the residual ones + input + output)."""
    inp, out = shape_of(sd, "input.weight"), shape_of(sd, "output.weight")
    if inp is None or out is None or len(inp) != 4 or inp[2:] != (3, 3):
        return None
    n_feats, c = inp[0], inp[1]
    if out != (c, n_feats, 3, 3):
        return None
    n = count_seq(sd, "residual_layer.{}.conv.weight")
    if len(sd) != n + 2:  # no biases, nothing else
        return None
    for i in range(n):
        if shape_of(sd, f"residual_layer.{i}.conv.weight") != (n_feats, n_feats, 3, 3):
            return None
    return dict(n_layers=n + 2, n_feats=n_feats, n_colors=c)


SPEC = ArchSpec(
    name="vdsr",
    kind="fixed",
    detect=detect_vdsr,
    build=lambda **hp: VDSR(**hp),
    required_keys=("input.weight", "residual_layer.0.conv.weight", "output.weight"),
    description="VDSR (Kim et al. 2016), twtygqyy/pytorch-vdsr checkpoints, Y channel, "
                "bicubic-upscaled input, any scale",
    key_patterns=(r"^input\.weight$", r"^residual_layer\.\d+\.conv\.weight$",
                  r"^output\.weight$"),
    any_scale=True,
)
