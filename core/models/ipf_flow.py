"""IPF's flow and confidence as images, for the window: the flow of every output pixel as a
colour wheel (white = no offset, hue = direction, saturation = length) and the confidence as
grey, computed block-wise by the engine like any arbitrary-scale run."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ..engine.arbitrary import run_arbitrary
from ..jobs import run_sync
from .archs.ipf import IPF, first_layer_conv, local_mlp

__all__ = ["flow_to_color", "confidence_to_image", "ipf_flow_job", "ipf_flow_maps", "ipf_maps"]

def _colorwheel() -> np.ndarray:
    """Middlebury colour wheel (Baker et al. 2011): 55 hues, RGB in [0, 1]."""
    ry, yg, gc, cb, bm, mr = 15, 6, 4, 11, 13, 6
    cols = []
    cols += [(1, i / ry, 0) for i in range(ry)]
    cols += [(1 - i / yg, 1, 0) for i in range(yg)]
    cols += [(0, 1, i / gc) for i in range(gc)]
    cols += [(0, 1 - i / cb, 1) for i in range(cb)]
    cols += [(i / bm, 0, 1) for i in range(bm)]
    cols += [(1, 0, 1 - i / mr) for i in range(mr)]
    return np.asarray(cols, dtype=np.float32)


def flow_to_color(flow: Tensor | np.ndarray, max_flow: float | None = None) -> np.ndarray:
    """``flow (H, W, 2)`` in ``(y, x)`` order -> RGB ``(H, W, 3)`` float32 in [0, 1].

    Hue = direction (Middlebury colour wheel), saturation = magnitude / ``max_flow`` (default:
    the largest magnitude in the field); zero offset is white.
    """
    f = flow.detach().float().cpu().numpy() if isinstance(flow, Tensor) else np.asarray(flow)
    fy, fx = f[..., 0].astype(np.float32), f[..., 1].astype(np.float32)
    mag = np.sqrt(fx * fx + fy * fy)
    top = float(max_flow) if max_flow else float(mag.max()) if mag.size else 0.0
    rad = mag / top if top > 0 else np.zeros_like(mag)
    rad = np.clip(rad, 0.0, 1.0)
    wheel = _colorwheel()
    n = wheel.shape[0]
    ang = np.arctan2(-fy, -fx) / math.pi  # in [-1, 1]
    k = (ang + 1) / 2 * (n - 1)
    k0 = np.floor(k).astype(np.int64) % n
    k1 = (k0 + 1) % n
    t = (k - np.floor(k))[..., None]
    col = (1 - t) * wheel[k0] + t * wheel[k1]
    return (1 - rad[..., None] * (1 - col)).astype(np.float32)


def confidence_to_image(conf: Tensor | np.ndarray) -> np.ndarray:
    """``conf (H, W)`` or ``(H, W, 1)`` in [0, 1] -> grey RGB ``(H, W, 3)`` float32 (white = 1)."""
    c = conf.detach().float().cpu().numpy() if isinstance(conf, Tensor) else np.asarray(conf)
    if c.ndim == 3:
        c = c[..., 0]
    c = np.clip(c.astype(np.float32), 0.0, 1.0)
    return np.repeat(c[..., None], 3, axis=-1)


class _FlowProbe:
    """IPF seen by the engine as a 3-channel model whose "pixels" are ``(flow_y, flow_x,
    conf)``: the flow and confidence MLPs only (no LIIF query), run block-wise by
    :func:`core.engine.arbitrary.run_arbitrary`."""

    def __init__(self, model: IPF):
        self.model = model
        self.receptive_field = model.receptive_field

    def encode(self, x: Tensor) -> Tensor:
        return self.model.encode(x)

    def prepare(self, feat: Tensor, full_hw: tuple[int, int] | None = None,
                offset: tuple[int, int] = (0, 0)) -> tuple:
        p = feat[:, self.model.feat_dim:]
        hw = tuple(full_hw or feat.shape[-2:])
        return (first_layer_conv(self.model.flow_net, p),
                first_layer_conv(self.model.conf_net, p), hw, tuple(offset))

    def query_prepared(self, prep: tuple, coord: Tensor, cell: Tensor) -> Tensor:
        z_flow, z_conf, hw, offset = prep
        flow = local_mlp(self.model.flow_net, z_flow, coord, cell, hw, offset).float()
        conf = torch.sigmoid(local_mlp(self.model.conf_net, z_conf, coord, cell, hw,
                                        offset).float())
        return torch.cat([flow, conf], -1)


def ipf_flow_job(model: IPF, x: Tensor, out_hw: tuple[int, int], block: int | None = None,
                 chunk: int = 4096):
    """Job: the flow and confidence of every output pixel of ``x (1, 3, h, w)`` at ``out_hw``.

    Runs like the engine (LR blocks of ``block`` pixels, query chunks; progress per chunk) on
    ``x``'s device and the model's dtype. Returns ``(flow, conf)``: float32 ``H x W x 2`` in
    LR pixels, ``(y, x)`` order (before the confidence), and float32 ``H x W`` in [0, 1].
    """
    out = yield from run_arbitrary(_FlowProbe(model), x, out_hw, block, chunk=chunk)
    a = out[0].float().cpu().numpy()
    return np.ascontiguousarray(a[:2].transpose(1, 2, 0)), np.ascontiguousarray(a[2])


def ipf_flow_maps(model: IPF, x: Tensor, out_hw: tuple[int, int], block: int | None = None,
                  chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """:func:`ipf_flow_job` run to the end: ``(flow H x W x 2, conf H x W)``."""
    return run_sync(ipf_flow_job(model, x, out_hw, block, chunk))


def ipf_maps(model: IPF, x: Tensor, out_hw: tuple[int, int],
             chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Flow (colour wheel) and confidence images ``(H, W, 3)`` of ``x (1, 3, h, w)`` at the
    output size, computed whole-image with chunked queries."""
    flow, conf = ipf_flow_maps(model, x, out_hw, chunk=chunk)
    return flow_to_color(flow), confidence_to_image(conf)
