"""SRCNN (Dong et al., ECCV 2014 / TPAMI 2016) with the keys ``conv1`` / ``conv2`` / ``conv3``.

Three convolutions ``f1 - f2 - f3`` (9-1-5, 9-3-5 or 9-5-5) with ``n1 = 64`` and ``n2 = 32``
filters and ReLU after the first two, on a bicubic-upscaled input (``pre_upsampled``): the
engine upscales the LR image to the target size first. The common releases work on the Y
channel (``n_colors = 1``, ``y_only``); RGB variants (``n_colors = 3``) run on RGB.

Padding: chxy95/SRCNN and the paper train with valid convolutions on patches, and test with the
authors' MATLAB code (``SRCNN.m``: ``imfilter(..., 'same', 'replicate')`` per layer), i.e.
"same" size with replicated borders; ``padding_mode='replicate'`` (the default) reproduces that
test code and its Set5 number. Ports trained with zero padding (yjn870/SRCNN-pytorch) use
``padding_mode='zeros'``. The state dict cannot tell the two apart; our checkpoints store it.
Input and output in [0, 1]; the scale is only the one it was trained for (any scale runs).
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from ..contracts import FixedScaleSR
from ..spec import ArchSpec, StateDict, shape_of

__all__ = ["SRCNN", "detect_srcnn", "SPEC"]

_PADDING_MODES = ("replicate", "zeros", "reflect")


class SRCNN(FixedScaleSR):
    """SRCNN: ``x (B, n_colors, H, W)`` bicubic-upscaled, in [0, 1] -> same size, in [0, 1]."""

    arch_name = "srcnn"
    pre_upsampled = True

    def __init__(self, f1: int = 9, f2: int = 1, f3: int = 5, n1: int = 64, n2: int = 32,
                 n_colors: int = 1, scale: int | None = None, padding_mode: str = "replicate"):
        super().__init__()
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        for f in (f1, f2, f3):
            if int(f) < 1 or int(f) % 2 == 0:
                raise ValueError(f"SRCNN filter sizes must be odd, got {f1}-{f2}-{f3}")
        self.hparams: dict[str, Any] = dict(
            f1=int(f1), f2=int(f2), f3=int(f3), n1=int(n1), n2=int(n2), n_colors=int(n_colors),
            scale=None if scale is None else int(scale), padding_mode=padding_mode)
        self.scale = int(scale) if scale else 1
        self.in_channels = int(n_colors)
        self.y_only = int(n_colors) == 1
        self.padding_mode = padding_mode
        self.conv1 = nn.Conv2d(n_colors, n1, f1)
        self.conv2 = nn.Conv2d(n1, n2, f2)
        self.conv3 = nn.Conv2d(n2, n_colors, f3)
        self.receptive_field = f1 // 2 + f2 // 2 + f3 // 2

    def _conv(self, conv: nn.Conv2d, x: Tensor) -> Tensor:
        p = conv.kernel_size[0] // 2
        if p:
            x = F.pad(x, (p, p, p, p), mode="constant" if self.padding_mode == "zeros"
                      else self.padding_mode)
        return conv(x)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self._conv(self.conv1, x))
        x = F.relu(self._conv(self.conv2, x))
        return self._conv(self.conv3, x)


def detect_srcnn(sd: StateDict) -> dict[str, Any] | None:
    """``f1, f2, f3, n1, n2, n_colors`` from the three convolutions (exactly six tensors)."""
    if set(sd) != {f"conv{i}.{p}" for i in (1, 2, 3) for p in ("weight", "bias")}:
        return None
    s1, s2, s3 = (shape_of(sd, f"conv{i}.weight") for i in (1, 2, 3))
    if any(s is None or len(s) != 4 or s[2] != s[3] or s[2] % 2 == 0 for s in (s1, s2, s3)):
        return None
    n1, c, f1 = s1[0], s1[1], s1[2]  # type: ignore[index]
    n2, f2 = s2[0], s2[2]  # type: ignore[index]
    f3 = s3[2]  # type: ignore[index]
    if s2[1] != n1 or s3[1] != n2 or s3[0] != c:  # type: ignore[index]
        return None
    return dict(f1=f1, f2=f2, f3=f3, n1=n1, n2=n2, n_colors=c)


SPEC = ArchSpec(
    name="srcnn",
    kind="fixed",
    detect=detect_srcnn,
    build=lambda **hp: SRCNN(**hp),
    required_keys=("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "conv3.weight",
                   "conv3.bias"),
    description="SRCNN (Dong et al. 2014), 9-1-5 / 9-3-5 / 9-5-5, Y or RGB, bicubic-upscaled input",
    key_patterns=(r"^conv[123]\.(weight|bias)$",),
    any_scale=True,
)
