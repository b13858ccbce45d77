"""EDSR (Lim et al., CVPR-W 2017) with EDSR-PyTorch's parameter names.

Keys: ``sub_mean.*``, ``head.0.*``, ``body.{i}.body.{0,2}.*`` (residual blocks),
``body.{n}.*`` (the convolution closing the body), ``tail.0.*`` (upsampler), ``tail.1.*``,
``add_mean.*``. Official EDSR computes in [0, ``rgb_range``] = [0, 255]; this module takes and
returns images in [0, 1] and scales internally. LIIF's copy of EDSR (the encoder) uses
``rgb_range=1``, skips the mean shift in ``forward`` (``mean_shift=False``) although its state
dict still holds ``sub_mean`` / ``add_mean``, and has no tail (``no_upsampling=True``).
"""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor, nn

from ..contracts import FixedScaleSR
from ..spec import ArchSpec, StateDict, count_seq, shape_of
from .common import (MeanShift, ResBlock, Upsampler, default_conv, read_edsr_tail,
                     read_rgb_range)

__all__ = ["EDSR", "edsr_baseline", "edsr_full", "detect_edsr", "tail_context", "SPEC"]


def tail_context(tail: nn.Module) -> int | None:
    """LR pixels of feature-map context the output of ``tail`` needs on each side of a pixel's
    LR footprint, or ``None`` when a layer's context is not known.

    Walks the layers in order: a ``same``-padded stride-1 convolution of radius ``r`` working
    at ``f`` times the LR resolution adds ``r / f`` LR pixels, ``PixelShuffle(k)`` multiplies
    ``f`` by ``k``, point-wise layers add nothing. The sum is rounded up, plus one safety pixel
    for the floor/ceil of the sub-pixel grid.
    """
    f, total = 1, 0.0
    for m in tail.modules():
        if isinstance(m, nn.Sequential):
            continue
        if isinstance(m, nn.Conv2d):
            r = [d * (k - 1) // 2 for d, k in zip(m.dilation, m.kernel_size)]
            if m.stride != (1, 1) or not isinstance(m.padding, tuple) or list(m.padding) != r:
                return None
            total += max(r) / f
        elif isinstance(m, nn.PixelShuffle):
            f *= int(m.upscale_factor)
        elif not isinstance(m, (nn.ReLU, nn.PReLU, nn.BatchNorm2d, nn.Identity)):
            return None
    return math.ceil(total) + 1


class EDSR(FixedScaleSR):
    """EDSR: ``x (B, n_colors, H, W)`` in [0, 1] -> ``(B, n_colors, scale H, scale W)`` in [0, 1].

    With ``no_upsampling=True`` it is a feature extractor: ``(B, n_feats, H, W)``, no tail,
    ``out_dim = n_feats``. ``mean_shift=False`` keeps the ``sub_mean`` / ``add_mean``
    parameters (so checkpoints load strictly) but does not apply them.
    """

    arch_name = "edsr"

    def __init__(self, n_resblocks: int = 16, n_feats: int = 64, res_scale: float = 1.0,
                 scale: int = 2, n_colors: int = 3, rgb_range: float = 255.0,
                 no_upsampling: bool = False, mean_shift: bool = True):
        super().__init__()
        kernel_size = 3
        conv = default_conv
        self.hparams: dict[str, Any] = dict(
            n_resblocks=int(n_resblocks), n_feats=int(n_feats), res_scale=float(res_scale),
            scale=int(scale), n_colors=int(n_colors), rgb_range=float(rgb_range),
            no_upsampling=bool(no_upsampling), mean_shift=bool(mean_shift))
        self.scale = int(scale)
        self.in_channels = int(n_colors)
        self.rgb_range = float(rgb_range)
        self.no_upsampling = bool(no_upsampling)
        self.mean_shift = bool(mean_shift)

        self.sub_mean = MeanShift(rgb_range, n_colors=n_colors)
        self.add_mean = MeanShift(rgb_range, sign=1, n_colors=n_colors)
        self.head = nn.Sequential(conv(n_colors, n_feats, kernel_size))
        body: list[nn.Module] = [
            ResBlock(conv, n_feats, kernel_size, act=nn.ReLU(True), res_scale=res_scale)
            for _ in range(n_resblocks)
        ]
        body.append(conv(n_feats, n_feats, kernel_size))
        self.body = nn.Sequential(*body)
        if self.no_upsampling:
            self.out_dim = int(n_feats)
        else:
            self.out_dim = int(n_colors)
            self.tail = nn.Sequential(Upsampler(conv, scale, n_feats, act=False),
                                      conv(n_feats, n_colors, kernel_size))
        # 3x3 convolutions at LR resolution: head, 2 per block, body end, first upsampler conv;
        # the HR-resolution convolutions add at most one more LR pixel of context. Each adds
        # one LR pixel on every side: the margin is the count (the contract's per-side context).
        lr_convs = 1 + 2 * n_resblocks + 1 + (0 if self.no_upsampling else 2)
        self.receptive_field = lr_convs

    @property
    def tail_margin(self) -> int | None:
        """The split for LAM windows (see :mod:`core.attribution.forward`): ``forward(x) ==
        tail_from(features(x))``, and an output pixel of ``tail_from`` depends only on the
        features within ``tail_margin`` LR pixels of its LR footprint. ``None``: no split."""
        return None if self.no_upsampling else tail_context(self.tail)

    def features(self, x: Tensor) -> Tensor:
        """Head and body: ``x (B, n_colors, H, W)`` in [0, 1] -> ``(B, n_feats, H, W)``."""
        if self.rgb_range != 1.0:
            x = x * self.rgb_range
        if self.mean_shift:
            x = self.sub_mean(x)
        x = self.head(x)
        return self.body(x) + x

    def tail_from(self, feats: Tensor) -> Tensor:
        """The upsampler on (a crop of) :meth:`features`: ``(B, n_colors, scale h, scale w)``."""
        x = self.tail(feats)
        if self.mean_shift:
            x = self.add_mean(x)
        if self.rgb_range != 1.0:
            x = x / self.rgb_range
        return x

    def forward(self, x: Tensor) -> Tensor:
        res = self.features(x)
        if self.no_upsampling:
            return res
        return self.tail_from(res)


def edsr_baseline(scale: int = 2, **kwargs: Any) -> EDSR:
    """EDSR-baseline: 16 residual blocks, 64 features, ``res_scale`` 1 (1.5 M parameters)."""
    return EDSR(n_resblocks=16, n_feats=64, res_scale=1.0, scale=scale, **kwargs)


def edsr_full(scale: int = 2, **kwargs: Any) -> EDSR:
    """EDSR (paper model): 32 residual blocks, 256 features, ``res_scale`` 0.1 (43 M parameters)."""
    return EDSR(n_resblocks=32, n_feats=256, res_scale=0.1, scale=scale, **kwargs)


# ---------------------------------------------------------------------------------------------
# Detection (registry entry)
# ---------------------------------------------------------------------------------------------

def detect_edsr(sd: StateDict, require_tail: bool = True) -> dict[str, Any] | None:
    """EDSR-PyTorch hyperparameters from a state dict, or ``None``.

    ``n_feats`` / ``n_colors`` from ``head.0.weight``, ``n_resblocks`` by counting
    ``body.{i}.body.0.weight``, the scale from the upsampler convolutions (``4 n`` outputs per
    x2 step, ``9 n`` for x3), ``rgb_range`` from ``sub_mean.bias`` (= -rgb_range * mean).
    ``res_scale`` is not stored: 0.1 for 256+ features (EDSR), else 1 (EDSR-baseline).
    With ``require_tail=False`` a tail-less state dict gives ``no_upsampling=True``.
    """
    head = shape_of(sd, "head.0.weight")
    if head is None or len(head) != 4 or head[2:] != (3, 3):
        return None
    n_feats, n_colors = head[0], head[1]
    n_resblocks = count_seq(sd, "body.{}.body.0.weight")
    if shape_of(sd, f"body.{n_resblocks}.weight") != (n_feats, n_feats, 3, 3):
        return None
    for i in range(n_resblocks):
        if (shape_of(sd, f"body.{i}.body.0.weight") != (n_feats, n_feats, 3, 3)
                or shape_of(sd, f"body.{i}.body.2.weight") != (n_feats, n_feats, 3, 3)):
            return None
    hp: dict[str, Any] = dict(n_resblocks=n_resblocks, n_feats=n_feats,
                              res_scale=0.1 if n_feats >= 256 else 1.0, n_colors=n_colors)
    rng = read_rgb_range(sd, n_colors)
    if rng is not None:
        hp["rgb_range"] = rng
    tail_last = shape_of(sd, "tail.1.weight")
    if tail_last is None:
        if require_tail or any(k.startswith("tail.") for k in sd):
            return None
        hp["no_upsampling"] = True
        return hp
    scale = read_edsr_tail(sd, n_feats, n_colors)
    if scale is None:
        return None
    hp["scale"] = scale
    return hp


SPEC = ArchSpec(
    name="edsr",
    kind="fixed",
    detect=detect_edsr,
    build=lambda **hp: EDSR(**hp),
    required_keys=("sub_mean.weight", "sub_mean.bias", "head.0.weight", "head.0.bias",
                   "body.0.body.0.weight", "body.0.body.2.weight", "tail.1.weight", "tail.1.bias",
                   "add_mean.weight", "add_mean.bias"),
    description="EDSR / EDSR-baseline (Lim et al. 2017), EDSR-PyTorch checkpoints, x2/x3/x4",
    key_patterns=(r"^(sub|add)_mean\.(weight|bias)$", r"^head\.0\.(weight|bias)$",
                  r"^body\.\d+\.body\.[02]\.(weight|bias)$", r"^body\.\d+\.(weight|bias)$",
                  r"^tail\.0\.\d+\.(weight|bias)$", r"^tail\.1\.(weight|bias)$"),
)
