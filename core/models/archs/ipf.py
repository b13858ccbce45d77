"""IPF: implicit pixel flow on top of a frozen LIIF (Ma et al., IEEE TIP 2022).

"Recovering Realistic Details for Magnification-Arbitrary Image Super-Resolution" sharpens
LIIF's blurry edges by moving each query coordinate towards LR pixels that form a sharper edge.
No public code exists; this follows the paper's description (issue 8):

* ``liif``: a pretrained LIIF (encoder E, decoder f), **frozen** (``requires_grad=False`` and
  kept in eval mode whatever ``train()`` says).
* ``flow_encoder`` F: EDSR-style residual body (``n_resblocks`` blocks, ``n_feats`` features,
  default 8 x 64) mapping LIIF's feature map M to the pixel-flow representation P (same size).
* ``flow_net`` g: MLP (default 4 hidden layers of 256 + output = 5 layers). Input, exactly like
  LIIF's decoder input: the 3x3-unfolded P feature of the LR pixel nearest to the query, the
  relative coordinate of the query to that pixel's centre (``(coord - centre) * (h, w)``) and the
  cell (``cell * (h, w)``). Output: the offset (2 values).
* ``conf_net`` C: MLP (3 hidden layers of 64 + output = 4 layers), same input, sigmoid output
  ``c`` in [0, 1].

**Offset units.** The flow is stored in ``(y, x)`` order (like every coordinate in this code
base; the paper's (dx, dy) with the components swapped) and measured in **LR pixels** of the
input image: a flow of ``(0, 1)`` moves the query one LR pixel to the right. It is converted to
LIIF's [-1, 1] coordinate space as ``d_coord = flow * (2 / h, 2 / w)`` for an ``h x w`` input,
so a learned flow means the same thing at every output scale.

**Shifted evaluation.** The outputs reuse LIIF's exact query on the shifted coordinates:
``I^f = LIIF.query(M, coord + c * d_coord, cell)`` and ``I^d = LIIF.query(M, coord + d_coord,
cell)``. LIIF's local ensemble therefore runs unchanged around the shifted point: the four
features m'* are the ones nearest to the shifted coordinate (after LIIF's half-pixel shifts), the
relative coordinates and ensemble areas are taken from the shifted coordinate, so the output is
differentiable with respect to the flow (through relative coordinates and area weights). The cell
is not changed. A zero flow therefore gives LIIF's output exactly (``flow_net``'s last layer is
zero-initialised, so a fresh IPF *is* its LIIF).

**Contract.** ``encode(x)`` returns ``cat([M, P], 1)`` (``feat_dim + n_feats`` channels) and
``query(feat, coord, cell)`` returns I^f; :meth:`IPF.query_all` also returns I^d, the flow and the
confidence. Like LIIF it has the fast path ``prepare`` / ``query_prepared`` (first layers of f,
g and C computed once per LR pixel; coordinates stay float32 whatever the model dtype), which
the engine uses. Caveat of block-wise inference (the engine cuts LR images over 512x512 pixels
into 256-pixel blocks): the engine gives each block 2 LR pixels of spare features, exactly
what LIIF needs; a query shifted by half an LR pixel or more towards a block border then reads
features of that border, so results near internal block borders can differ slightly from a
whole-image run where the flow is large. Single-block runs (the default up to 512x512 LR) are
exact.

Checkpoints use LIIF's self-describing layout ``{'model': {'name': 'ipf', 'args': {...}, 'sd'}}``
(``args`` = :func:`default_ipf_spec`); plain state dicts are detected from their keys
(``liif.encoder.*``, ``liif.imnet.layers.*``, ``flow_encoder.*``, ``flow_net.layers.*``,
``conf_net.layers.*``).
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
from ..spec import ArchSpec, StateDict, indices, shape_of
from .common import ResBlock, default_conv
from .liif import LIIF, MLP, Prepared, detect_liif, liif_from_spec

__all__ = ["FlowEncoder", "IPF", "IPFPrepared", "default_ipf_spec", "ipf_from_spec",
           "ipf_from_liif", "detect_ipf", "first_layer_conv", "local_mlp", "SPEC"]


class FlowEncoder(nn.Module):
    """F: ``head`` conv (M -> n_feats), ``n_resblocks`` EDSR residual blocks and a conv in
    ``body``, global skip (EDSR's body). Keys ``head.*``, ``body.{i}.body.{0,2}.*``,
    ``body.{n}.*``."""

    def __init__(self, in_dim: int, n_feats: int = 64, n_resblocks: int = 8):
        super().__init__()
        self.head = default_conv(in_dim, n_feats, 3)
        blocks: list[nn.Module] = [ResBlock(default_conv, n_feats, 3) for _ in range(n_resblocks)]
        blocks.append(default_conv(n_feats, n_feats, 3))
        self.body = nn.Sequential(*blocks)
        self.out_dim = n_feats
        self.receptive_field = 2 * n_resblocks + 2

    def forward(self, m: Tensor) -> Tensor:
        h = self.head(m)
        return self.body(h) + h


def first_layer_conv(mlp: MLP, p: Tensor) -> Tensor:
    """The feature columns of ``mlp``'s first layer applied to the 3x3-unfolded P of every LR
    pixel at once (a 3x3 conv, bias included), as :meth:`LIIF.prepare`."""
    first: nn.Linear = mlp.layers[0]
    c = p.shape[1]
    w_feat = first.weight[:, : c * 9].reshape(-1, c, 3, 3)
    return F.conv2d(p, w_feat.to(p.dtype), first.bias.to(p.dtype), padding=1)


def local_mlp(mlp: MLP, z: Tensor, coord: Tensor, cell: Tensor, full_hw: tuple[int, int],
               offset: tuple[int, int]) -> Tensor:
    """``mlp`` on [unfold3x3(P) at the nearest LR pixel, rel. coord, cell] (LIIF's decoder
    input, without the ensemble), from the precomputed first-layer response ``z``. Coordinates
    are relative to the whole ``full_hw`` image; ``z`` covers rows/cols from ``offset``."""
    b, hidden, h, w = z.shape
    H, W = full_hw
    top, left = offset
    layers = mlp.layers
    first: nn.Linear = layers[0]
    coord = coord.float()
    iy = torch.round(((coord[..., 0].clamp(-1 + 1e-6, 1 - 1e-6) + 1) * H - 1) / 2).clamp(0, H - 1)
    ix = torch.round(((coord[..., 1].clamp(-1 + 1e-6, 1 - 1e-6) + 1) * W - 1) / 2).clamp(0, W - 1)
    rel_y = (coord[..., 0] - ((2.0 / H) * iy + (-1 + 1.0 / H))) * H
    rel_x = (coord[..., 1] - ((2.0 / W) * ix + (-1 + 1.0 / W))) * W
    extra = torch.stack([rel_y, rel_x, cell[..., 0].float() * H, cell[..., 1].float() * W], -1)
    local = (iy.long() - top).clamp(0, h - 1) * w + (ix.long() - left).clamp(0, w - 1)
    rows = local + (torch.arange(b, device=z.device) * (h * w)).view(b, 1)
    z_flat = z.permute(0, 2, 3, 1).reshape(b * h * w, hidden)
    n = coord.shape[1]
    w_extra = first.weight[:, first.weight.shape[1] - 4:].to(z.dtype).T
    x = torch.addmm(z_flat.index_select(0, rows.reshape(-1)), extra.reshape(-1, 4).to(z.dtype),
                    w_extra).relu()
    for i in range(2, len(layers) - 1, 2):
        x = F.linear(x, layers[i].weight.to(x.dtype), layers[i].bias.to(x.dtype)).relu()
    last: nn.Linear = layers[-1]
    return F.linear(x, last.weight.to(x.dtype), last.bias.to(x.dtype)).view(b, n, -1)


@dataclass
class IPFPrepared:
    """Per-image precomputation: LIIF's :class:`Prepared` for M, and the first-layer responses
    of g (``z_flow``) and C (``z_conf``) on P; ``full_hw`` / ``offset`` as in LIIF."""

    liif: Prepared
    z_flow: Tensor
    z_conf: Tensor
    full_hw: tuple[int, int]
    offset: tuple[int, int] = (0, 0)


class IPF(ArbitraryScaleSR):
    """Frozen LIIF + flow encoder F + implicit pixel flow g + implicit confidence C."""

    def __init__(self, liif: LIIF, n_resblocks: int = 8, n_feats: int = 64,
                 flow_hidden: list[int] | tuple[int, ...] = (256, 256, 256, 256),
                 conf_hidden: list[int] | tuple[int, ...] = (64, 64, 64),
                 spec: dict | None = None):
        super().__init__()
        if not isinstance(liif, LIIF):
            raise TypeError("IPF needs a LIIF base model")
        self.liif = liif
        self.liif.requires_grad_(False)
        self.liif.eval()
        self.feat_dim = liif.feat_dim
        self.flow_encoder = FlowEncoder(liif.feat_dim, n_feats, n_resblocks)
        in_dim = n_feats * 9 + 4
        self.flow_net = MLP(in_dim, 2, list(flow_hidden))
        self.conf_net = MLP(in_dim, 1, list(conf_hidden))
        nn.init.zeros_(self.flow_net.layers[-1].weight)  # a fresh IPF is exactly its LIIF
        nn.init.zeros_(self.flow_net.layers[-1].bias)
        self.n_feats = n_feats
        self.spec = copy.deepcopy(spec) if spec is not None else None
        self.receptive_field = liif.receptive_field + self.flow_encoder.receptive_field

    def train(self, mode: bool = True) -> "IPF":
        super().train(mode)
        self.liif.eval()  # frozen base: always in eval mode
        return self

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Parameters of F, g and C (what the fine-tune optimises)."""
        return [p for name, p in self.named_parameters() if not name.startswith("liif.")]

    # -- the contract ---------------------------------------------------------------------
    def encode(self, x: Tensor) -> Tensor:
        """``x (B, 3, h, w)`` -> ``cat([M, P], 1)``: LIIF's features and the flow features."""
        m = self.liif.encode(x)
        return torch.cat([m, self.flow_encoder(m)], 1)

    def query(self, feat: Tensor, coord: Tensor, cell: Tensor) -> Tensor:
        """I^f (RGB in [0, 1], unclamped) at ``coord`` ``(B, N, 2)`` with ``cell``."""
        return self.query_prepared(self.prepare(feat), coord, cell)

    def query_all(self, feat: Tensor, coord: Tensor, cell: Tensor,
                  raw: bool = True) -> dict[str, Tensor]:
        """``sr`` = I^f, ``sr_raw`` = I^d (when ``raw``), ``flow`` ``(B, N, 2)`` in LR pixels,
        ``(y, x)`` order, before confidence; ``conf`` ``(B, N, 1)`` in [0, 1]."""
        return self.query_prepared_all(self.prepare(feat), coord, cell, raw)

    # -- the fast path (what the engine uses; coordinates stay float32) --------------------
    def prepare(self, feat: Tensor, full_hw: tuple[int, int] | None = None,
                offset: tuple[int, int] = (0, 0)) -> IPFPrepared:
        """Precompute the first layers of f (on M), g and C (on P) for every LR pixel."""
        m, p = feat[:, : self.feat_dim], feat[:, self.feat_dim:]
        hw = tuple(full_hw or feat.shape[-2:])
        return IPFPrepared(self.liif.prepare(m, hw, offset), first_layer_conv(self.flow_net, p),
                           first_layer_conv(self.conf_net, p), hw, tuple(offset))

    def query_prepared(self, prep: IPFPrepared, coord: Tensor, cell: Tensor) -> Tensor:
        return self.query_prepared_all(prep, coord, cell, raw=False)["sr"]

    def query_prepared_all(self, prep: IPFPrepared, coord: Tensor, cell: Tensor,
                           raw: bool = True) -> dict[str, Tensor]:
        """See :meth:`query_all`."""
        H, W = prep.full_hw
        flow = local_mlp(self.flow_net, prep.z_flow, coord, cell, prep.full_hw,
                          prep.offset).float()
        conf = torch.sigmoid(local_mlp(self.conf_net, prep.z_conf, coord, cell, prep.full_hw,
                                        prep.offset).float())
        d_coord = flow * torch.tensor([2.0 / H, 2.0 / W], device=flow.device)
        coord = coord.float()
        out = {"flow": flow, "conf": conf,
               "sr": self.liif.query_prepared(prep.liif, coord + conf * d_coord, cell)}
        if raw:
            out["sr_raw"] = self.liif.query_prepared(prep.liif, coord + d_coord, cell)
        return out


# ---------------------------------------------------------------------------------------------
# Specs, building, detection
# ---------------------------------------------------------------------------------------------

def default_ipf_spec(liif_spec: dict, n_resblocks: int = 8, n_feats: int = 64,
                     flow_hidden: list[int] | None = None,
                     conf_hidden: list[int] | None = None) -> dict:
    """``{'name': 'ipf', 'args': {...}}`` with the LIIF base's own official spec inside."""
    return {"name": "ipf", "args": {
        "liif_spec": {"name": "liif", "args": copy.deepcopy(liif_spec.get("args", liif_spec))},
        "flow_encoder": {"n_resblocks": int(n_resblocks), "n_feats": int(n_feats)},
        "flow_hidden": list(flow_hidden or [256] * 4),
        "conf_hidden": list(conf_hidden or [64] * 3),
    }}


def ipf_from_spec(spec: dict) -> IPF:
    """Rebuild IPF (with an untrained LIIF base of the described shape) from its spec."""
    if spec.get("name") not in ("ipf", None):
        raise ValueError(f"not an IPF spec: name {spec.get('name')!r}")
    args = spec.get("args", spec)
    if "liif_spec" not in args:
        raise ValueError("the IPF spec has no 'liif_spec' (the LIIF base it was built on)")
    fe = args.get("flow_encoder") or {}
    liif = liif_from_spec(args["liif_spec"])
    return IPF(liif, n_resblocks=int(fe.get("n_resblocks", 8)), n_feats=int(fe.get("n_feats", 64)),
               flow_hidden=list(args.get("flow_hidden", [256] * 4)),
               conf_hidden=list(args.get("conf_hidden", [64] * 3)),
               spec={"name": "ipf", "args": copy.deepcopy(args)})


def ipf_from_liif(liif: LIIF, **kw: Any) -> IPF:
    """A fresh IPF (zero flow) around a trained LIIF; the spec records LIIF's spec."""
    if liif.spec is None:
        raise ValueError("the LIIF base has no spec; load it with load_model or liif_from_spec")
    spec = default_ipf_spec(liif.spec, **kw)
    a = spec["args"]
    return IPF(liif, n_resblocks=a["flow_encoder"]["n_resblocks"],
               n_feats=a["flow_encoder"]["n_feats"], flow_hidden=a["flow_hidden"],
               conf_hidden=a["conf_hidden"], spec=spec)


def _mlp_hidden(sd: StateDict, prefix: str, in_dim: int, out_dim: int) -> list[int] | None:
    idx = indices(sd, re.escape(prefix) + r"layers\.(\d+)\.weight")
    if not idx or idx != [2 * j for j in range(len(idx))]:
        return None
    shapes = [shape_of(sd, f"{prefix}layers.{i}.weight") for i in idx]
    if any(s is None or len(s) != 2 for s in shapes):
        return None
    if shapes[0][1] != in_dim or shapes[-1][0] != out_dim:  # type: ignore[index]
        return None
    for a, b in zip(shapes, shapes[1:]):
        if b[1] != a[0]:  # type: ignore[index]
            return None
    return [s[0] for s in shapes[:-1]]  # type: ignore[index]


def detect_ipf(sd: StateDict) -> dict[str, Any] | None:
    """``{'spec': <IPF spec>}`` from ``liif.*`` (LIIF's detection), ``flow_encoder.*``,
    ``flow_net.*`` and ``conf_net.*`` key names and shapes, or None."""
    base = {k[len("liif."):]: v for k, v in sd.items() if k.startswith("liif.")}
    if not base:
        return None
    found = detect_liif(base)
    if found is None:
        return None
    head = shape_of(sd, "flow_encoder.head.weight")
    if head is None or len(head) != 4:
        return None
    n_feats, feat_dim = head[0], head[1]
    enc_w = [v for k, v in base.items() if k.startswith("encoder.")]
    first_imnet = shape_of(base, "imnet.layers.0.weight")
    if first_imnet is None or first_imnet[1] not in (feat_dim * 9 + 4, feat_dim * 9 + 2,
                                                    feat_dim + 4, feat_dim + 2) or not enc_w:
        return None
    n_resblocks = len(indices(sd, r"flow_encoder\.body\.(\d+)\.body\.0\.weight"))
    if shape_of(sd, f"flow_encoder.body.{n_resblocks}.weight") is None:
        return None
    in_dim = n_feats * 9 + 4
    flow_hidden = _mlp_hidden(sd, "flow_net.", in_dim, 2)
    conf_hidden = _mlp_hidden(sd, "conf_net.", in_dim, 1)
    if flow_hidden is None or conf_hidden is None:
        return None
    return {"spec": default_ipf_spec(found["spec"], n_resblocks, n_feats, flow_hidden,
                                     conf_hidden)}


SPEC = ArchSpec(
    name="ipf",
    kind="arbitrary",
    detect=detect_ipf,
    build=lambda spec: ipf_from_spec(spec),
    required_keys=("liif.encoder.", "liif.imnet.layers.0.weight", "flow_encoder.head.weight",
                   "flow_net.layers.0.weight", "conf_net.layers.0.weight"),
    description="IPF (Ma et al. 2022): implicit pixel flow + confidence on a frozen LIIF, any "
                "scale",
    key_patterns=(r"^liif\.encoder\.", r"^liif\.imnet\.layers\.\d+\.(weight|bias)$",
                  r"^flow_encoder\.", r"^(flow_net|conf_net)\.layers\.\d+\.(weight|bias)$"),
)
