"""RDN (Zhang et al., CVPR 2018) as in the EDSR-PyTorch / LIIF code, same parameter names.

Keys: ``SFENet1``, ``SFENet2``, ``RDBs.{i}.convs.{j}.conv.0``, ``RDBs.{i}.LFF``, ``GFF.0``,
``GFF.1``, ``UPNet.{0,2}`` (x2, x3) or ``UPNet.{0,2,4}`` (x4). Input and output in [0, 1]
(LIIF trains RDN with ``rgb_range`` 1 and no mean shift). ``no_upsampling=True`` (LIIF's
encoder) drops ``UPNet`` and returns ``G0`` feature channels.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from ..contracts import FixedScaleSR
from ..spec import ArchSpec, StateDict, count_seq, shape_of

__all__ = ["RDN", "RDB", "RDB_Conv", "RDN_CONFIGS", "detect_rdn", "SPEC"]

#: ``config -> (D blocks, C convs per block, G growth rate)``.
RDN_CONFIGS: dict[str, tuple[int, int, int]] = {"A": (20, 6, 32), "B": (16, 8, 64)}


class RDB_Conv(nn.Module):
    """One densely connected layer: ``cat(x, relu(conv(x)))``; key ``conv.0``."""

    def __init__(self, in_channels: int, grow_rate: int, k_size: int = 3):
        super().__init__()
        pad = (k_size - 1) // 2
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, grow_rate, k_size, padding=pad, stride=1), nn.ReLU())

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat((x, self.conv(x)), 1)


class RDB(nn.Module):
    """Residual dense block: ``C`` dense layers, 1x1 local feature fusion ``LFF``, skip."""

    def __init__(self, grow_rate0: int, grow_rate: int, n_conv_layers: int, k_size: int = 3):
        super().__init__()
        self.convs = nn.Sequential(*[RDB_Conv(grow_rate0 + c * grow_rate, grow_rate, k_size)
                                     for c in range(n_conv_layers)])
        fused = grow_rate0 + n_conv_layers * grow_rate
        self.LFF = nn.Conv2d(fused, grow_rate0, 1, padding=0, stride=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.LFF(self.convs(x)) + x


class RDN(FixedScaleSR):
    """RDN: ``x (B, n_colors, H, W)`` in [0, 1] -> ``(B, n_colors, sH, sW)`` (scale 2, 3 or 4).

    ``config`` is ``'A'`` (20, 6, 32), ``'B'`` (16, 8, 64) or an explicit ``(D, C, G)`` tuple
    (small test models). ``RDNkSize`` / ``RDNconfig`` are accepted as aliases of
    ``kernel_size`` / ``config`` (the argument names of LIIF's ``make_rdn`` specs).
    ``rgb_range`` (our addition, default 1) scales the input and output like EDSR's.
    """

    arch_name = "rdn"

    def __init__(self, G0: int = 64, kernel_size: int = 3, config: str | tuple[int, int, int] = "B",
                 scale: int = 2, n_colors: int = 3, no_upsampling: bool = False, *,
                 rgb_range: float = 1.0, RDNkSize: int | None = None,
                 RDNconfig: str | tuple[int, int, int] | None = None):
        super().__init__()
        if RDNkSize is not None:
            kernel_size = RDNkSize
        if RDNconfig is not None:
            config = RDNconfig
        if isinstance(config, str):
            if config not in RDN_CONFIGS:
                raise ValueError(
                    f"unknown RDN config {config!r} (expected 'A', 'B' or a (D, C, G) tuple)")
            D, C, G = RDN_CONFIGS[config]
        else:
            D, C, G = (int(v) for v in config)
            config = (D, C, G)
        r = int(scale)
        k = int(kernel_size)
        pad = (k - 1) // 2
        self.hparams: dict[str, Any] = dict(
            G0=int(G0), kernel_size=k, config=config, scale=r, n_colors=int(n_colors),
            no_upsampling=bool(no_upsampling), rgb_range=float(rgb_range))
        self.scale = r
        self.in_channels = int(n_colors)
        self.rgb_range = float(rgb_range)
        self.no_upsampling = bool(no_upsampling)
        self.D = D

        self.SFENet1 = nn.Conv2d(n_colors, G0, k, padding=pad, stride=1)
        self.SFENet2 = nn.Conv2d(G0, G0, k, padding=pad, stride=1)
        self.RDBs = nn.ModuleList([RDB(G0, G, C, k) for _ in range(D)])
        self.GFF = nn.Sequential(nn.Conv2d(D * G0, G0, 1, padding=0, stride=1),
                                 nn.Conv2d(G0, G0, k, padding=pad, stride=1))
        if self.no_upsampling:
            self.out_dim = int(G0)
        else:
            self.out_dim = int(n_colors)
            if r in (2, 3):
                self.UPNet = nn.Sequential(nn.Conv2d(G0, G * r * r, k, padding=pad, stride=1),
                                           nn.PixelShuffle(r),
                                           nn.Conv2d(G, n_colors, k, padding=pad, stride=1))
            elif r == 4:
                self.UPNet = nn.Sequential(nn.Conv2d(G0, G * 4, k, padding=pad, stride=1),
                                           nn.PixelShuffle(2),
                                           nn.Conv2d(G, G * 4, k, padding=pad, stride=1),
                                           nn.PixelShuffle(2),
                                           nn.Conv2d(G, n_colors, k, padding=pad, stride=1))
            else:
                raise ValueError(f"RDN supports scales 2, 3 and 4, got {r}")
        lr_convs = 2 + D * C + 1 + (0 if self.no_upsampling else 2)
        self.receptive_field = 2 * pad * lr_convs + 1

    def forward(self, x: Tensor) -> Tensor:
        if self.rgb_range != 1.0:
            x = x * self.rgb_range
        f1 = self.SFENet1(x)
        x = self.SFENet2(f1)
        outs = []
        for block in self.RDBs:
            x = block(x)
            outs.append(x)
        x = self.GFF(torch.cat(outs, 1)) + f1
        if self.no_upsampling:
            return x
        x = self.UPNet(x)
        if self.rgb_range != 1.0:
            x = x / self.rgb_range
        return x


# ---------------------------------------------------------------------------------------------
# Detection (registry entry)
# ---------------------------------------------------------------------------------------------

def detect_rdn(sd: StateDict, require_upsampler: bool = True) -> dict[str, Any] | None:
    """RDN hyperparameters (``G0``, ``kernel_size``, ``config``, ``scale``, ``n_colors``)."""
    sfe = shape_of(sd, "SFENet1.weight")
    if sfe is None or len(sfe) != 4:
        return None
    G0, n_colors, k = sfe[0], sfe[1], sfe[2]
    D = count_seq(sd, "RDBs.{}.LFF.weight")
    C = count_seq(sd, "RDBs.0.convs.{}.conv.0.weight")
    first = shape_of(sd, "RDBs.0.convs.0.conv.0.weight")
    if D == 0 or C == 0 or first is None:
        return None
    G = first[0]
    if shape_of(sd, "GFF.0.weight") != (G0, D * G0, 1, 1):
        return None
    if shape_of(sd, "SFENet2.weight") != (G0, G0, k, k):
        return None
    if shape_of(sd, "RDBs.0.LFF.weight") != (G0, G0 + C * G, 1, 1):
        return None
    config: str | tuple[int, int, int] = next(
        (name for name, cfg in RDN_CONFIGS.items() if cfg == (D, C, G)), (D, C, G))
    hp: dict[str, Any] = dict(G0=G0, kernel_size=k, config=config, n_colors=n_colors)
    up0 = shape_of(sd, "UPNet.0.weight")
    if up0 is None:
        if require_upsampler:
            return None
        hp["no_upsampling"] = True
        return hp
    if "UPNet.4.weight" in sd:
        scale = 4
    else:
        r = math.isqrt(up0[0] // G) if up0[0] % G == 0 else 0
        if r not in (2, 3) or r * r * G != up0[0]:
            return None
        scale = r
    hp["scale"] = scale
    return hp


SPEC = ArchSpec(
    name="rdn",
    kind="fixed",
    detect=detect_rdn,
    build=lambda **hp: RDN(**hp),
    required_keys=("SFENet1.weight", "SFENet2.weight", "RDBs.0.convs.0.conv.0.weight",
                   "RDBs.0.LFF.weight", "GFF.0.weight", "GFF.1.weight", "UPNet.0.weight"),
    description="RDN (Zhang et al. 2018), EDSR-PyTorch / LIIF code, configs A and B, x2/x3/x4",
    key_patterns=(r"^SFENet[12]\.(weight|bias)$",
                  r"^RDBs\.\d+\.convs\.\d+\.conv\.0\.(weight|bias)$",
                  r"^RDBs\.\d+\.LFF\.(weight|bias)$", r"^GFF\.[01]\.(weight|bias)$",
                  r"^UPNet\.\d+\.(weight|bias)$"),
)
