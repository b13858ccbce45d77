"""Tiled inference for fixed-scale models.

The LR image is cut into tiles of ``tile x tile`` pixels. Each tile writes its output over the
tile plus a blend band of ``band`` pixels, where neighbouring tiles are mixed with linear ramps
(this hides seams for models whose context is global, e.g. channel attention). The model reads
that written region plus a margin of ``margin`` LR pixels of real context on every side
(clipped at the image border), so with ``margin >= receptive field`` every output pixel is
computed with all its context and the tiled result equals the untiled one up to float rounding.
For window-attention models (``window > 1``) each tile's input starts on the window grid of the
whole image, so the windows are the same ones. Memory is bounded by one tile at a time.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..jobs import Job, Progress

__all__ = ["tile_grid", "run_tiled", "forward_padded"]


def tile_grid(length: int, tile: int) -> list[tuple[int, int]]:
    """Split ``[0, length)`` into near-equal ``(start, stop)`` spans of at most ``tile``."""
    n = max(1, math.ceil(length / tile))
    edges = [round(i * length / n) for i in range(n + 1)]
    return [(edges[i], edges[i + 1]) for i in range(n)]


def _ramp(n: int, lo_band: int, hi_band: int, device, dtype) -> Tensor:
    """1-D weights: linear ramps of ``lo_band`` / ``hi_band`` samples at the ends, 1 inside."""
    w = torch.ones(n, device=device, dtype=dtype)
    if lo_band > 0:
        w[:lo_band] = (torch.arange(lo_band, device=device, dtype=dtype) + 0.5) / lo_band
    if hi_band > 0:
        w[n - hi_band:] = torch.minimum(
            w[n - hi_band:],
            (torch.arange(hi_band, 0, -1, device=device, dtype=dtype) - 0.5) / hi_band,
        )
    return w


def forward_padded(model: nn.Module, x: Tensor, window: int) -> Tensor:
    """Run ``model`` with the input reflect-padded to a multiple of ``window``, output cropped."""
    h, w = x.shape[-2:]
    ph = (-h) % window
    pw = (-w) % window
    if ph or pw:
        mode = "reflect" if (ph < h and pw < w) else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    y = model(x)
    s = y.shape[-2] // x.shape[-2]
    return y[..., : h * s, : w * s]


def run_tiled(model: nn.Module, x: Tensor, scale: int, tile: int | None, margin: int,
              band: int = 8, window: int = 1) -> Job[Tensor]:
    """Run ``model`` over ``x (B, C, H, W)`` in tiles; yields one Progress per tile.

    ``tile=None`` or a tile at least as large as the image runs the whole image at once.
    Returns the output ``(B, C_out, H * scale, W * scale)`` in float32 on ``x``'s device.
    """
    _, _, h, w = x.shape
    # a margin that spans the image makes every tile read all of it: one run gives the same result
    if tile is None or (tile >= h and tile >= w) or (margin >= h and margin >= w):
        yield Progress(0, 1, "running model")
        with torch.inference_mode():
            y = forward_padded(model, x, window).float()
        yield Progress(1, 1, "done")
        return y

    band = max(0, min(band, margin // 2))
    rows, cols = tile_grid(h, tile), tile_grid(w, tile)
    total = len(rows) * len(cols)
    out: Tensor | None = None
    weight: Tensor | None = None
    done = 0
    yield Progress(0, total, f"{total} tiles")
    for y0, y1 in rows:
        for x0, x1 in cols:
            # the region this tile writes: the tile plus a blend band toward inner neighbours
            wy0, wy1 = max(0, y0 - band), min(h, y1 + band)
            wx0, wx1 = max(0, x0 - band), min(w, x1 + band)
            # the input it reads: the written region plus real context
            iy0, iy1 = max(0, wy0 - margin), min(h, wy1 + margin)
            ix0, ix1 = max(0, wx0 - margin), min(w, wx1 + margin)
            # window models (SwinIR) partition from the input's origin: keep it on the grid
            iy0, ix0 = iy0 - iy0 % window, ix0 - ix0 % window
            with torch.inference_mode():
                pred = forward_padded(model, x[..., iy0:iy1, ix0:ix1], window).float()
            if out is None:
                out = torch.zeros(x.shape[0], pred.shape[1], h * scale, w * scale, device=x.device)
                weight = torch.zeros(1, 1, h * scale, w * scale, device=x.device)
            s = scale
            pred = pred[..., (wy0 - iy0) * s:(wy1 - iy0) * s, (wx0 - ix0) * s:(wx1 - ix0) * s]
            wy = _ramp((wy1 - wy0) * s, (y0 - wy0) * 2 * s if y0 > 0 else 0,
                       (wy1 - y1) * 2 * s if y1 < h else 0, x.device, torch.float32)
            wx = _ramp((wx1 - wx0) * s, (x0 - wx0) * 2 * s if x0 > 0 else 0,
                       (wx1 - x1) * 2 * s if x1 < w else 0, x.device, torch.float32)
            wmap = (wy[:, None] * wx[None, :])[None, None]
            out[..., wy0 * s:wy1 * s, wx0 * s:wx1 * s] += pred * wmap
            weight[..., wy0 * s:wy1 * s, wx0 * s:wx1 * s] += wmap
            done += 1
            yield Progress(done, total, f"tile {done}/{total}")
    assert out is not None and weight is not None
    return out / weight.clamp_min(1e-12)
