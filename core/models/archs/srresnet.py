"""SRResNet, the SRGAN generator (Ledig et al., CVPR 2017), in two widely used key layouts.

``srresnet``: twtygqyy/pytorch-SRResNet (``_NetG``). ``conv_input`` (9x9, 3 -> 64) + LeakyReLU
0.2, ``residual.{i}`` x 16 (``conv1`` - norm - LeakyReLU - ``conv2`` - norm, skip), ``conv_mid`` +
``bn_mid``, the global skip, ``upscale4x.{0,3}`` (conv 64 -> 256, PixelShuffle(2), LeakyReLU; one
step per x2), ``conv_output`` (9x9, 64 -> 3); no biases. The paper's layout with two deviations
that repository made: LeakyReLU instead of PReLU, and in its later (released) version
InstanceNorm (``in1`` / ``in2``, affine) instead of BatchNorm (``bn1`` / ``bn2``); both versions
load (``norm='instance' | 'batch'``, read from the keys). Instance norm uses statistics of the
whole input (``global_context``): tiled inference is then close to, not equal to, untiled.

``msrresnet``: BasicSR's ``MSRResNet`` (the "modified SRResNet" of ESRGAN: no BN, 3x3 first
convolution, LeakyReLU 0.1, bilinear skip over the whole network): ``conv_first``,
``body.{i}.conv1/conv2``, ``upconv1`` (``upconv2`` at x4), ``conv_hr``, ``conv_last``; x2/x3/x4.

Both take and return RGB in [0, 1].
"""

from __future__ import annotations

import math
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from ..contracts import FixedScaleSR
from ..spec import ArchSpec, StateDict, count_seq, shape_of

__all__ = ["SRResNet", "MSRResNet", "detect_srresnet", "detect_msrresnet", "SPEC",
           "MSRRESNET_SPEC"]


class _Block(nn.Module):
    """``x + norm(conv2(lrelu(norm(conv1(x)))))``; keys ``conv1``, ``bn1|in1``, ``conv2``, ..."""

    def __init__(self, n: int, norm: str):
        super().__init__()
        self.norm = norm
        self.conv1 = nn.Conv2d(n, n, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(n, n, 3, padding=1, bias=False)
        if norm == "batch":
            self.bn1, self.bn2 = nn.BatchNorm2d(n), nn.BatchNorm2d(n)
        else:
            self.in1 = nn.InstanceNorm2d(n, affine=True)
            self.in2 = nn.InstanceNorm2d(n, affine=True)

    def forward(self, x: Tensor) -> Tensor:
        n1, n2 = (self.bn1, self.bn2) if self.norm == "batch" else (self.in1, self.in2)
        return x + n2(self.conv2(F.leaky_relu(n1(self.conv1(x)), 0.2)))


class SRResNet(FixedScaleSR):
    """twtygqyy's SRResNet: ``x (B, n_colors, H, W)`` in [0, 1] -> ``(B, n_colors, sH, sW)``."""

    arch_name = "srresnet"

    def __init__(self, n_blocks: int = 16, n_feats: int = 64, scale: int = 4, n_colors: int = 3,
                 norm: str = "instance"):
        super().__init__()
        if norm not in ("instance", "batch"):
            raise ValueError(f"norm must be 'instance' or 'batch', got {norm!r}")
        r = int(scale)
        if r < 2 or r & (r - 1):
            raise ValueError(f"SRResNet supports powers of 2 as scales, got {scale}")
        steps = int(round(math.log2(r)))
        self.hparams: dict[str, Any] = dict(n_blocks=int(n_blocks), n_feats=int(n_feats), scale=r,
                                            n_colors=int(n_colors), norm=norm)
        self.scale = r
        self.in_channels = int(n_colors)
        self.global_context = norm == "instance"
        self.conv_input = nn.Conv2d(n_colors, n_feats, 9, padding=4, bias=False)
        self.residual = nn.Sequential(*[_Block(n_feats, norm) for _ in range(n_blocks)])
        self.conv_mid = nn.Conv2d(n_feats, n_feats, 3, padding=1, bias=False)
        self.bn_mid = (nn.BatchNorm2d(n_feats) if norm == "batch"
                       else nn.InstanceNorm2d(n_feats, affine=True))
        up: list[nn.Module] = []
        for _ in range(steps):
            up += [nn.Conv2d(n_feats, 4 * n_feats, 3, padding=1, bias=False), nn.PixelShuffle(2),
                   nn.LeakyReLU(0.2)]
        self.upscale4x = nn.Sequential(*up)
        self.conv_output = nn.Conv2d(n_feats, n_colors, 9, padding=4, bias=False)
        # 9x9 in, 2 per block, mid, one per x2 step, 9x9 at HR (4 HR pixels <= 2 LR pixels at x2+)
        self.receptive_field = 4 + 2 * int(n_blocks) + 1 + steps + 2

    def forward(self, x: Tensor) -> Tensor:
        out = F.leaky_relu(self.conv_input(x), 0.2)
        out = self.bn_mid(self.conv_mid(self.residual(out))) + out
        return self.conv_output(self.upscale4x(out))


class MSRResNet(FixedScaleSR):
    """BasicSR's MSRResNet: ``x (B, n_colors, H, W)`` in [0, 1] -> ``(B, n_colors, sH, sW)``."""

    arch_name = "msrresnet"

    def __init__(self, num_block: int = 16, num_feat: int = 64, upscale: int = 4,
                 num_in_ch: int = 3, num_out_ch: int = 3, scale: int | None = None):
        super().__init__()
        r = int(scale if scale is not None else upscale)
        if r not in (2, 3, 4):
            raise ValueError(f"MSRResNet supports x2, x3 and x4, got {r}")
        self.hparams: dict[str, Any] = dict(num_block=int(num_block), num_feat=int(num_feat),
                                            upscale=r, num_in_ch=int(num_in_ch),
                                            num_out_ch=int(num_out_ch))
        self.scale = r
        self.in_channels = int(num_in_ch)
        nf = int(num_feat)
        self.conv_first = nn.Conv2d(num_in_ch, nf, 3, 1, 1)
        self.body = nn.Sequential(*[_BlockNoBN(nf) for _ in range(num_block)])
        if r in (2, 3):
            self.upconv1 = nn.Conv2d(nf, nf * r * r, 3, 1, 1)
            self.pixel_shuffle = nn.PixelShuffle(r)
        else:
            self.upconv1 = nn.Conv2d(nf, nf * 4, 3, 1, 1)
            self.upconv2 = nn.Conv2d(nf, nf * 4, 3, 1, 1)
            self.pixel_shuffle = nn.PixelShuffle(2)
        self.conv_hr = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_last = nn.Conv2d(nf, num_out_ch, 3, 1, 1)
        self.receptive_field = 1 + 2 * int(num_block) + (2 if r == 4 else 1) + 2

    def forward(self, x: Tensor) -> Tensor:
        out = F.leaky_relu(self.conv_first(x), 0.1)
        out = self.body(out)
        out = F.leaky_relu(self.pixel_shuffle(self.upconv1(out)), 0.1)
        if self.scale == 4:
            out = F.leaky_relu(self.pixel_shuffle(self.upconv2(out)), 0.1)
        out = self.conv_last(F.leaky_relu(self.conv_hr(out), 0.1))
        base = F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False)
        return out + base


class _BlockNoBN(nn.Module):
    """BasicSR ``ResidualBlockNoBN``: ``x + conv2(relu(conv1(x)))``."""

    def __init__(self, n: int):
        super().__init__()
        self.conv1 = nn.Conv2d(n, n, 3, 1, 1)
        self.conv2 = nn.Conv2d(n, n, 3, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


def detect_srresnet(sd: StateDict) -> dict[str, Any] | None:
    """Blocks, features, colours, norm kind and scale (x2 per ``upscale4x`` convolution)."""
    first = shape_of(sd, "conv_input.weight")
    if first is None or len(first) != 4 or first[2:] != (9, 9):
        return None
    n, c = first[0], first[1]
    norm = "batch" if "residual.0.bn1.weight" in sd else "instance"
    nk = "bn" if norm == "batch" else "in"
    blocks = count_seq(sd, "residual.{}.conv1.weight")
    if blocks == 0 or shape_of(sd, f"residual.0.{nk}1.weight") != (n,):
        return None
    for i in range(blocks):
        for j in (1, 2):
            if shape_of(sd, f"residual.{i}.conv{j}.weight") != (n, n, 3, 3):
                return None
    steps = 0
    while shape_of(sd, f"upscale4x.{3 * steps}.weight") == (4 * n, n, 3, 3):
        steps += 1
    if steps == 0 or shape_of(sd, "conv_output.weight") != (c, n, 9, 9):
        return None
    if shape_of(sd, "conv_mid.weight") != (n, n, 3, 3) or shape_of(sd, "bn_mid.weight") != (n,):
        return None
    return dict(n_blocks=blocks, n_feats=n, scale=2 ** steps, n_colors=c, norm=norm)


def detect_msrresnet(sd: StateDict) -> dict[str, Any] | None:
    """``num_block, num_feat, upscale, num_in_ch, num_out_ch`` of BasicSR's MSRResNet."""
    first, last = shape_of(sd, "conv_first.weight"), shape_of(sd, "conv_last.weight")
    up1 = shape_of(sd, "upconv1.weight")
    if first is None or last is None or up1 is None or first[2:] != (3, 3):
        return None
    nf, cin, cout = first[0], first[1], last[0]
    blocks = count_seq(sd, "body.{}.conv1.weight")
    if blocks == 0 or shape_of(sd, "conv_hr.weight") != (nf, nf, 3, 3) or last[1:] != (nf, 3, 3):
        return None
    if "upconv2.weight" in sd:
        if up1 != (4 * nf, nf, 3, 3) or shape_of(sd, "upconv2.weight") != (4 * nf, nf, 3, 3):
            return None
        r = 4
    else:
        r = math.isqrt(up1[0] // nf)
        if r not in (2, 3) or up1 != (nf * r * r, nf, 3, 3):
            return None
    return dict(num_block=blocks, num_feat=nf, upscale=r, num_in_ch=cin, num_out_ch=cout)


SPEC = ArchSpec(
    name="srresnet",
    kind="fixed",
    detect=detect_srresnet,
    build=lambda **hp: SRResNet(**hp),
    required_keys=("conv_input.weight", "residual.0.conv1.weight", "residual.0.conv2.weight",
                   "conv_mid.weight", "bn_mid.weight", "upscale4x.0.weight", "conv_output.weight"),
    description="SRResNet (Ledig et al. 2017), twtygqyy/pytorch-SRResNet checkpoints, x4",
    key_patterns=(r"^conv_(input|mid|output)\.weight$",
                  r"^residual\.\d+\.(conv[12]\.weight|(bn|in)[12]\.\w+)$",
                  r"^bn_mid\.\w+$", r"^upscale4x\.\d+\.weight$"),
)

MSRRESNET_SPEC = ArchSpec(
    name="msrresnet",
    kind="fixed",
    detect=detect_msrresnet,
    build=lambda **hp: MSRResNet(**hp),
    required_keys=("conv_first.weight", "body.0.conv1.weight", "body.0.conv2.weight",
                   "upconv1.weight", "conv_hr.weight", "conv_last.weight"),
    description="MSRResNet (BasicSR's modified SRResNet, no BN), x2/x3/x4",
    key_patterns=(r"^conv_(first|hr|last)\.(weight|bias)$",
                  r"^body\.\d+\.conv[12]\.(weight|bias)$", r"^upconv[12]\.(weight|bias)$"),
)
