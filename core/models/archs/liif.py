"""LIIF: Local Implicit Image Function (Chen, Liu & Wang, CVPR 2021).

Same algorithm and parameter names as the official code (``encoder.*``, ``imnet.layers.*``), so
official checkpoints load with ``strict=True``; same numbers up to float rounding.

The official query unfolds the 3x3 feature neighbourhood (576 values) and runs the full first
MLP layer on it for each of the four ensemble queries. That part of the first layer is linear in
the feature, so it equals a 3x3 convolution of the feature map with the layer's weights: it is
computed once per LR pixel (:meth:`LIIF.prepare`) and gathered per query
(:meth:`LIIF.query_prepared`). Only the coordinate and cell columns are applied per query. The
result is the official algorithm exactly; the engine and training both use it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..contracts import ArbitraryScaleSR
from ..spec import ArchSpec, StateDict, shape_of
from .edsr import EDSR, detect_edsr
from .rdn import RDN, detect_rdn

__all__ = ["MLP", "LIIF", "Prepared", "liif_from_spec", "make_encoder", "default_liif_spec",
           "detect_liif", "SPEC"]


class MLP(nn.Module):
    """LIIF's ``imnet``: Linear/ReLU layers, keys ``layers.{0,2,4,...}``."""

    def __init__(self, in_dim: int, out_dim: int, hidden_list: list[int] | tuple[int, ...]):
        super().__init__()
        layers: list[nn.Module] = []
        last = in_dim
        for hidden in hidden_list:
            layers += [nn.Linear(last, hidden), nn.ReLU()]
            last = hidden
        layers.append(nn.Linear(last, out_dim))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape[:-1]
        return self.layers(x.reshape(-1, x.shape[-1])).reshape(*shape, -1)


def make_encoder(encoder_spec: dict) -> nn.Module:
    """Build a LIIF encoder from its spec (``edsr-baseline``, ``edsr`` or ``rdn``), no upsampler."""
    name = encoder_spec["name"]
    args = dict(encoder_spec.get("args", {}))
    args["no_upsampling"] = True
    if name in ("edsr-baseline", "edsr"):
        defaults = (dict(n_resblocks=16, n_feats=64, res_scale=1.0) if name == "edsr-baseline"
                    else dict(n_resblocks=32, n_feats=256, res_scale=0.1))
        defaults.update(args)
        defaults.setdefault("rgb_range", 1.0)
        return EDSR(mean_shift=False, **defaults)
    if name == "rdn":
        return RDN(**args)
    raise ValueError(f"unknown LIIF encoder {name!r} (expected edsr-baseline, edsr or rdn)")


def default_liif_spec(encoder: str = "edsr-baseline", hidden: int = 256, depth: int = 4,
                      encoder_args: dict | None = None) -> dict:
    """The official LIIF spec dict (what ``{'model': spec | {'sd': ...}}`` checkpoints carry)."""
    return {
        "name": "liif",
        "args": {
            "encoder_spec": {"name": encoder,
                             "args": {"no_upsampling": True, **(encoder_args or {})}},
            "imnet_spec": {"name": "mlp", "args": {"out_dim": 3, "hidden_list": [hidden] * depth}},
        },
    }


@dataclass
class Prepared:
    """Per-image precomputation: feature map and its first-layer response.

    ``z``: ``(B, H0, h, w)`` = first MLP layer applied to the (unfolded) feature of every LR
    pixel, bias included. ``full_hw``: size of the whole LR image (coordinates are relative to
    it); ``offset``: ``(top, left)`` of this feature map inside the whole image (non-zero when
    the engine tiles the encoder).
    """

    z: Tensor
    full_hw: tuple[int, int]
    offset: tuple[int, int] = (0, 0)


class LIIF(ArbitraryScaleSR):
    """LIIF with the official parameter names and the exact official output."""

    def __init__(self, encoder: nn.Module, out_dim: int = 3,
                 hidden_list: list[int] | tuple[int, ...] = (256, 256, 256, 256),
                 local_ensemble: bool = True, feat_unfold: bool = True, cell_decode: bool = True,
                 spec: dict | None = None):
        super().__init__()
        self.encoder = encoder
        self.local_ensemble = local_ensemble
        self.feat_unfold = feat_unfold
        self.cell_decode = cell_decode
        feat_dim = int(encoder.out_dim)
        in_dim = feat_dim * (9 if feat_unfold else 1) + 2 + (2 if cell_decode else 0)
        self.imnet = MLP(in_dim, out_dim, list(hidden_list))
        self.feat_dim = feat_dim
        self.spec = copy.deepcopy(spec) if spec is not None else None
        self.receptive_field = int(getattr(encoder, "receptive_field", 40)) + 2

    # -- the contract ---------------------------------------------------------------------
    def encode(self, x: Tensor) -> Tensor:
        """``x (B, 3, h, w)`` in [0, 1] -> features ``(B, F, h, w)`` (input mapped to [-1, 1])."""
        return self.encoder((x - 0.5) / 0.5)

    def query(self, feat: Tensor, coord: Tensor, cell: Tensor) -> Tensor:
        """RGB in [0, 1] (unclamped) at ``coord`` ``(B, N, 2)`` with ``cell`` ``(B, N, 2)``."""
        return self.query_prepared(self.prepare(feat), coord, cell)

    # -- the fast exact path ----------------------------------------------------------------
    def prepare(self, feat: Tensor, full_hw: tuple[int, int] | None = None,
                offset: tuple[int, int] = (0, 0)) -> Prepared:
        """Apply the feature columns of the first MLP layer to every LR pixel at once."""
        first: nn.Linear = self.imnet.layers[0]
        c = feat.shape[1]
        k = 3 if self.feat_unfold else 1
        w_feat = first.weight[:, : c * k * k].reshape(-1, c, k, k)
        z = F.conv2d(feat, w_feat.to(feat.dtype), first.bias.to(feat.dtype), padding=k // 2)
        return Prepared(z, tuple(full_hw or feat.shape[-2:]), offset)

    def query_prepared(self, prep: Prepared, coord: Tensor, cell: Tensor) -> Tensor:
        """LIIF's local ensemble on precomputed first-layer responses.

        Nearest-pixel lookup reproduces ``grid_sample(mode='nearest', align_corners=False)``:
        index = round-half-even(((c + 1) * n - 1) / 2), clamped to the image. Coordinates are
        computed in float32 whatever the model dtype, so the lookups match the official code.
        """
        z = prep.z
        b, hidden, h, w = z.shape
        H, W = prep.full_hw
        top, left = prep.offset
        layers = self.imnet.layers
        first: nn.Linear = layers[0]
        nc = first.weight.shape[1]
        n_extra = 4 if self.cell_decode else 2
        w_extra = first.weight[:, nc - n_extra:].to(z.dtype).T.contiguous()  # (2 or 4, hidden)
        n = coord.shape[1]
        coord = coord.to(torch.float32)
        z_flat = z.permute(0, 2, 3, 1).reshape(b * h * w, hidden)
        batch_base = (torch.arange(b, device=z.device) * (h * w)).view(b, 1)
        cell_cols = None
        if self.cell_decode:
            cell_cols = torch.stack([cell[..., 0].float() * H, cell[..., 1].float() * W], -1)

        if self.local_ensemble:
            shifts = [(vy, vx) for vy in (-1, 1) for vx in (-1, 1)]
            eps = 1e-6
        else:
            shifts, eps = [(0, 0)], 0.0
        rx, ry = 1.0 / H, 1.0 / W  # half a pixel, as the official 2 / n / 2
        preds, areas = [], []
        for vy, vx in shifts:
            cy = (coord[..., 0] + (vy * rx + eps)).clamp_(-1 + 1e-6, 1 - 1e-6)
            cx = (coord[..., 1] + (vx * ry + eps)).clamp_(-1 + 1e-6, 1 - 1e-6)
            iy = torch.round(((cy + 1) * H - 1) / 2).clamp_(0, H - 1)
            ix = torch.round(((cx + 1) * W - 1) / 2).clamp_(0, W - 1)
            # a fresh buffer per shift: autograd saves it for the backward pass (training)
            extra = torch.empty(b, n, n_extra, device=z.device, dtype=torch.float32)
            if cell_cols is not None:
                extra[..., 2:] = cell_cols
            # pixel centres exactly as make_coord computes them (bit-identical in float32)
            extra[..., 0] = (coord[..., 0] - ((2.0 / H) * iy + (-1 + 1.0 / H))) * H
            extra[..., 1] = (coord[..., 1] - ((2.0 / W) * ix + (-1 + 1.0 / W))) * W
            local = ((iy.long() - top).clamp_(0, h - 1) * w + (ix.long() - left).clamp_(0, w - 1))
            rows = (local + batch_base).reshape(-1)
            x = torch.addmm(z_flat.index_select(0, rows), extra.reshape(-1, n_extra).to(z.dtype),
                            w_extra).relu_()
            for i in range(2, len(layers) - 1, 2):
                x = torch.addmm(layers[i].bias, x, layers[i].weight.T).relu_()
            last: nn.Linear = layers[-1]
            preds.append(torch.addmm(last.bias, x, last.weight.T).view(b, n, -1))
            areas.append(torch.abs(extra[..., 0] * extra[..., 1]) + 1e-9)
        if not self.local_ensemble:
            return preds[0] * 0.5 + 0.5
        total = areas[0] + areas[1] + areas[2] + areas[3]
        out = 0
        for pred, area in zip(preds, areas[::-1]):  # diagonal swap: weight by the opposite area
            out = out + pred * (area / total).unsqueeze(-1).to(pred.dtype)
        return out * 0.5 + 0.5


def liif_from_spec(spec: dict) -> LIIF:
    """Rebuild LIIF from the official self-describing spec ``{'name': 'liif', 'args': {...}}``."""
    if spec.get("name") not in ("liif", None):
        raise ValueError(f"not a LIIF spec: name {spec.get('name')!r}")
    args = spec.get("args", spec)
    encoder = make_encoder(args["encoder_spec"])
    imnet_args = (args.get("imnet_spec") or {}).get("args", {})
    return LIIF(
        encoder,
        out_dim=int(imnet_args.get("out_dim", 3)),
        hidden_list=list(imnet_args.get("hidden_list", [256, 256, 256, 256])),
        local_ensemble=bool(args.get("local_ensemble", True)),
        feat_unfold=bool(args.get("feat_unfold", True)),
        cell_decode=bool(args.get("cell_decode", True)),
        spec={"name": "liif", "args": args},
    )


# ---------------------------------------------------------------------------------------------
# Detection (registry entry)
# ---------------------------------------------------------------------------------------------

def detect_liif(sd: StateDict) -> dict[str, Any] | None:
    """``{'spec': <official LIIF spec>}`` reconstructed from ``encoder.*`` / ``imnet.layers.*``.

    The encoder (EDSR-baseline, EDSR or RDN, without upsampler) is read like a plain model;
    MLP widths from the ``imnet.layers.{0,2,4,...}.weight`` shapes; ``feat_unfold`` and
    ``cell_decode`` from the first layer's input width ``F * (9 | 1) + 2 (+ 2)``.
    ``local_ensemble`` is not stored: True (the official default).
    """
    enc = {k[len("encoder."):]: v for k, v in sd.items() if k.startswith("encoder.")}
    if not enc:
        return None
    eh = detect_edsr(enc, require_tail=False)
    if eh is not None and eh.get("no_upsampling"):
        feat_dim = eh["n_feats"]
        full = eh["n_feats"] >= 256
        name = "edsr" if full else "edsr-baseline"
        preset = (32, 256) if full else (16, 64)
        args: dict[str, Any] = {}
        if eh["n_resblocks"] != preset[0]:
            args["n_resblocks"] = eh["n_resblocks"]
        if eh["n_feats"] != preset[1]:
            args["n_feats"] = eh["n_feats"]
        if eh["n_colors"] != 3:
            args["n_colors"] = eh["n_colors"]
        args["no_upsampling"] = True
        encoder_spec = {"name": name, "args": args}
    else:
        rh = detect_rdn(enc, require_upsampler=False)
        if rh is None or not rh.get("no_upsampling"):
            return None
        feat_dim = rh["G0"]
        args = {}
        if rh["G0"] != 64:
            args["G0"] = rh["G0"]
        if rh["kernel_size"] != 3:
            args["RDNkSize"] = rh["kernel_size"]
        if rh["config"] != "B":
            args["RDNconfig"] = rh["config"]
        if rh["n_colors"] != 3:
            args["n_colors"] = rh["n_colors"]
        args["no_upsampling"] = True
        encoder_spec = {"name": "rdn", "args": args}

    pattern = re.compile(r"imnet\.layers\.(\d+)\.weight")
    idx = sorted(int(m.group(1)) for k in sd if (m := pattern.fullmatch(k)))
    if not idx or idx != [2 * j for j in range(len(idx))]:
        return None
    widths = [shape_of(sd, f"imnet.layers.{i}.weight") for i in idx]
    if any(w is None or len(w) != 2 for w in widths):
        return None
    for a, b in zip(widths, widths[1:]):
        if b[1] != a[0]:  # type: ignore[index]
            return None
    in_dim = widths[0][1]  # type: ignore[index]
    options = {(True, True): feat_dim * 9 + 4, (True, False): feat_dim * 9 + 2,
               (False, True): feat_dim + 4, (False, False): feat_dim + 2}
    found = [opt for opt, dim in options.items() if dim == in_dim]
    if not found:
        return None
    feat_unfold, cell_decode = found[0]
    spec = {
        "name": "liif",
        "args": {
            "encoder_spec": encoder_spec,
            "imnet_spec": {"name": "mlp", "args": {
                "out_dim": widths[-1][0],  # type: ignore[index]
                "hidden_list": [w[0] for w in widths[:-1]]}},  # type: ignore[index]
            "local_ensemble": True,
            "feat_unfold": feat_unfold,
            "cell_decode": cell_decode,
        },
    }
    return {"spec": spec}


SPEC = ArchSpec(
    name="liif",
    kind="arbitrary",
    detect=detect_liif,
    build=lambda spec: liif_from_spec(spec),
    required_keys=("encoder.", "imnet.layers.0.weight", "imnet.layers.0.bias",
                   "imnet.layers.2.weight", "imnet.layers.2.bias"),
    description="LIIF (Chen et al. 2021) with an EDSR-baseline, EDSR or RDN encoder, any scale",
    key_patterns=(r"^encoder\.", r"^imnet\.layers\.\d+\.(weight|bias)$"),
)
