"""FSRCNN (Dong, Loy & Tang, ECCV 2016) with the keys of yjn870/FSRCNN-pytorch.

``first_part`` (5x5 conv to ``d`` + PReLU), ``mid_part`` (1x1 shrink to ``s`` + PReLU, ``m`` x
(3x3 conv + PReLU), 1x1 expand to ``d`` + PReLU), ``last_part`` (9x9 transposed convolution,
``stride = scale``, ``padding = 4``, ``output_padding = scale - 1``). Zero padding everywhere
(as that port). Works on the Y channel in [0, 1] (``n_colors = 1``).

The transposed convolution's weight is ``(d, n_colors, 9, 9)`` at every scale, so the scale
cannot be read from the tensors: the loader takes it from the file name (``..._x3...``), from
the user's ``--scale-hint``, or from our own checkpoint's hparams (``ArchSpec.needs_scale``).
"""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor, nn

from ..contracts import FixedScaleSR
from ..spec import ArchSpec, StateDict, indices, shape_of

__all__ = ["FSRCNN", "detect_fsrcnn", "SPEC"]


class FSRCNN(FixedScaleSR):
    """FSRCNN(d, s, m): ``x (B, n_colors, H, W)`` in [0, 1] -> ``(B, n_colors, sH, sW)``.

    ``prelu_shared=True`` builds single-parameter PReLUs (``nn.PReLU()``) instead of one
    parameter per channel (yjn870 uses per-channel).
    """

    arch_name = "fsrcnn"

    def __init__(self, scale: int = 2, d: int = 56, s: int = 12, m: int = 4, n_colors: int = 1,
                 prelu_shared: bool = False):
        super().__init__()
        r = int(scale)
        if r < 1:
            raise ValueError(f"FSRCNN scale must be a positive integer, got {scale}")
        self.hparams: dict[str, Any] = dict(scale=r, d=int(d), s=int(s), m=int(m),
                                            n_colors=int(n_colors), prelu_shared=bool(prelu_shared))
        self.scale = r
        self.in_channels = int(n_colors)
        self.y_only = int(n_colors) == 1

        def prelu(n: int) -> nn.PReLU:
            return nn.PReLU() if prelu_shared else nn.PReLU(n)

        self.first_part = nn.Sequential(nn.Conv2d(n_colors, d, 5, padding=2), prelu(d))
        mid: list[nn.Module] = [nn.Conv2d(d, s, 1), prelu(s)]
        for _ in range(m):
            mid += [nn.Conv2d(s, s, 3, padding=1), prelu(s)]
        mid += [nn.Conv2d(s, d, 1), prelu(d)]
        self.mid_part = nn.Sequential(*mid)
        self.last_part = nn.ConvTranspose2d(d, n_colors, 9, stride=r, padding=4,
                                            output_padding=r - 1)
        # output pixel o reads LR pixels i with |o - i r| <= 4 (plus the shuffle offset)
        self.receptive_field = 2 + int(m) + math.ceil(5 / r)

    def forward(self, x: Tensor) -> Tensor:
        return self.last_part(self.mid_part(self.first_part(x)))


def detect_fsrcnn(sd: StateDict) -> dict[str, Any] | None:
    """``d, s, m, n_colors`` (and PReLU sharing) from the shapes; never the scale."""
    first = shape_of(sd, "first_part.0.weight")
    last = shape_of(sd, "last_part.weight")
    if first is None or last is None or len(first) != 4 or first[2:] != (5, 5):
        return None
    d, c = first[0], first[1]
    if last != (d, c, 9, 9) or shape_of(sd, "last_part.bias") != (c,):
        return None
    convs = indices(sd, r"mid_part\.(\d+)\.weight")
    conv_idx = [i for i in convs if len(shape_of(sd, f"mid_part.{i}.weight") or ()) == 4]
    if len(conv_idx) < 2 or conv_idx != list(range(0, 2 * len(conv_idx), 2)):
        return None
    s = shape_of(sd, "mid_part.0.weight")[0]  # type: ignore[index]
    m = len(conv_idx) - 2
    if shape_of(sd, "mid_part.0.weight") != (s, d, 1, 1):
        return None
    for i in conv_idx[1:-1]:
        if shape_of(sd, f"mid_part.{i}.weight") != (s, s, 3, 3):
            return None
    if shape_of(sd, f"mid_part.{conv_idx[-1]}.weight") != (d, s, 1, 1):
        return None
    p = shape_of(sd, "first_part.1.weight")
    if p not in ((d,), (1,)):
        return None
    shared = p == (1,)
    for i in conv_idx:
        n = shape_of(sd, f"mid_part.{i}.weight")[0]  # type: ignore[index]
        if shape_of(sd, f"mid_part.{i + 1}.weight") != ((1,) if shared else (n,)):
            return None
    hp: dict[str, Any] = dict(d=d, s=s, m=m, n_colors=c)
    if shared:
        hp["prelu_shared"] = True
    return hp


SPEC = ArchSpec(
    name="fsrcnn",
    kind="fixed",
    detect=detect_fsrcnn,
    build=lambda **hp: FSRCNN(**hp),
    required_keys=("first_part.0.weight", "first_part.0.bias", "first_part.1.weight",
                   "mid_part.0.weight", "mid_part.1.weight", "last_part.weight", "last_part.bias"),
    description="FSRCNN (Dong et al. 2016), yjn870/FSRCNN-pytorch checkpoints, Y channel; "
                "scale from the file name or --scale-hint",
    key_patterns=(r"^first_part\.[01]\.(weight|bias)$", r"^mid_part\.\d+\.(weight|bias)$",
                  r"^last_part\.(weight|bias)$"),
    needs_scale=True,
)
