"""ESPCN (Shi et al., CVPR 2016) with the keys of yjn870/ESPCN-pytorch.

``first_part.0`` (5x5 conv to 64) + tanh, ``first_part.2`` (3x3 conv to 32) + tanh,
``last_part.0`` (3x3 conv to ``n_colors * r^2``) + ``PixelShuffle(r)``. Works on the Y channel
in [0, 1] (``n_colors = 1``); the scale is read from the last convolution's width.
"""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor, nn

from ..contracts import FixedScaleSR
from ..spec import ArchSpec, StateDict, shape_of

__all__ = ["ESPCN", "detect_espcn", "SPEC"]


class ESPCN(FixedScaleSR):
    """ESPCN: ``x (B, n_colors, H, W)`` in [0, 1] -> ``(B, n_colors, rH, rW)``."""

    arch_name = "espcn"

    def __init__(self, scale: int = 3, n_colors: int = 1, n1: int = 64, n2: int = 32):
        super().__init__()
        r = int(scale)
        if r < 1:
            raise ValueError(f"ESPCN scale must be a positive integer, got {scale}")
        self.hparams: dict[str, Any] = dict(scale=r, n_colors=int(n_colors), n1=int(n1),
                                            n2=int(n2))
        self.scale = r
        self.in_channels = int(n_colors)
        self.y_only = int(n_colors) == 1
        self.first_part = nn.Sequential(nn.Conv2d(n_colors, n1, 5, padding=2), nn.Tanh(),
                                        nn.Conv2d(n1, n2, 3, padding=1), nn.Tanh())
        self.last_part = nn.Sequential(nn.Conv2d(n2, n_colors * r * r, 3, padding=1),
                                       nn.PixelShuffle(r))
        self.receptive_field = 2 + 1 + 1

    def forward(self, x: Tensor) -> Tensor:
        return self.last_part(self.first_part(x))


def detect_espcn(sd: StateDict) -> dict[str, Any] | None:
    """``scale, n_colors, n1, n2`` from the three convolutions."""
    if set(sd) != {f"{k}.{p}" for k in ("first_part.0", "first_part.2", "last_part.0")
                   for p in ("weight", "bias")}:
        return None
    a, b, c = (shape_of(sd, f"{k}.weight") for k in ("first_part.0", "first_part.2",
                                                     "last_part.0"))
    if a is None or b is None or c is None or a[2:] != (5, 5) or b[2:] != (3, 3) or c[2:] != (3, 3):
        return None
    n1, n_colors, n2 = a[0], a[1], b[0]
    if b[1] != n1 or c[1] != n2 or c[0] % n_colors:
        return None
    r = math.isqrt(c[0] // n_colors)
    if r < 1 or r * r * n_colors != c[0]:
        return None
    return dict(scale=r, n_colors=n_colors, n1=n1, n2=n2)


SPEC = ArchSpec(
    name="espcn",
    kind="fixed",
    detect=detect_espcn,
    build=lambda **hp: ESPCN(**hp),
    required_keys=("first_part.0.weight", "first_part.0.bias", "first_part.2.weight",
                   "first_part.2.bias", "last_part.0.weight", "last_part.0.bias"),
    description="ESPCN (Shi et al. 2016), yjn870/ESPCN-pytorch checkpoints, Y channel, sub-pixel",
    key_patterns=(r"^first_part\.[02]\.(weight|bias)$", r"^last_part\.0\.(weight|bias)$"),
)
