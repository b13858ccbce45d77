"""A differentiable ``LR -> SR window`` function for every model kind of the workbench.

LAM only needs the output pixels under the window (plus one row and column for the forward
differences), so each model kind computes as little as it exactly can:

* fixed-scale convolutional models at their own scale read only the LR box that can reach the
  window: the window's LR span plus ``receptive_field`` pixels of context (the same margin
  that makes tiled inference exact in :mod:`core.engine.fixed`); the gradient outside that box
  is exactly zero. Models that declare a head/body + tail split (``features`` / ``tail_from``
  / ``tail_margin``, e.g. EDSR) run the tail (the upsampler, at 1x to ``scale`` x the LR size)
  only on the body's features around the window's LR footprint (:func:`_tail_margin`).
  Models with ``global_context`` (channel attention, instance norm), pre-upsampling models,
  Y-only models and a scale other than the model's (model output resized with bicubic, as
  :func:`core.engine.super_resolve` does) run on the whole image;
* arbitrary-scale models are queried only at the window's output pixels of the full output
  grid (``make_coord`` / ``make_cell`` of the requested size). LIIF-style models with
  ``prepare`` / ``query_prepared`` also encode only the LR box their queries can reach, as
  :mod:`core.engine.arbitrary` does; others encode the whole image;
* interpolation baselines resize the whole image (MATLAB-exact, differentiable) and crop.

Colour handling follows the engine: Y-only models see the Y of YCbCr with Cb/Cr upscaled by
bicubic; an RGB model on gray data sees the channel replicated and its output is averaged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import InputError
from ..engine.fixed import forward_padded
from ..metrics import rgb_to_ycbcr
from ..resize import imresize_torch
from ..engine.run import model_kind

__all__ = ["WindowPlan", "plan_window", "kind_of"]


@dataclass(frozen=True)
class WindowPlan:
    """How to compute the SR output block of one LAM window.

    ``in_box`` ``(y0, y1, x0, x1)``: the LR pixels the function reads. ``fn``: ``x (B, C,
    y1 - y0, x1 - x0) -> (B, C, rows + 1 or less, cols + 1 or less)``, the output block whose
    top-left pixel is the window's. ``rows``/``cols``: window rows/columns the objective counts
    (``window`` except at the image's bottom/right edge). ``whole_image``: True when the
    function reads the whole LR image (no exact crop exists for this model).
    """

    in_box: tuple[int, int, int, int]
    fn: Callable[[Tensor], Tensor]
    rows: int
    cols: int
    whole_image: bool


kind_of = model_kind  # one definition of the model kinds: core.engine.run.model_kind


def _ycbcr_matrices() -> tuple[np.ndarray, np.ndarray]:
    """``(T, offset)`` of MATLAB ``rgb2ycbcr`` (``ycc = rgb @ T.T + offset``), from metrics."""
    offset = rgb_to_ycbcr(np.zeros((1, 1, 3)))[0, 0]
    t = np.stack([rgb_to_ycbcr(np.eye(3)[i][None, None])[0, 0] - offset for i in range(3)], 1)
    return t, offset


def _span(o0: int, o1: int, n_out: int, n_in: int, pad: int) -> tuple[int, int]:
    """LR pixels ``[lo, hi)`` that output pixels ``[o0, o1)`` map onto, ``pad`` spare each side."""
    lo = math.floor(o0 * n_in / n_out) - pad
    hi = math.ceil(o1 * n_in / n_out) + pad
    return max(0, lo), min(n_in, hi)


def _colour_wrap(core: Callable[[Tensor], Tensor], model: nn.Module, kind: str, channels: int,
                 out_hw: tuple[int, int], block: tuple[slice, slice]) -> Callable[[Tensor], Tensor]:
    """Adapt ``core`` (model-space input -> output block) to the data's channels.

    Y-only models on RGB (see :func:`_y_path`) get the Y of YCbCr, and the block of the
    bicubic-upscaled Cb/Cr is added back before converting to RGB.
    """
    if kind == "interp":
        return core
    in_ch = int(getattr(model, "in_channels", 3))
    if _y_path(model, channels):
        t, off = _ycbcr_matrices()
        t_inv = np.linalg.inv(t)

        def ycc(x: Tensor) -> Tensor:
            tt = torch.as_tensor(t, dtype=x.dtype, device=x.device)
            o = torch.as_tensor(off, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
            ycc_ = torch.einsum("ij,bjhw->bihw", tt, x) + o
            y = core(ycc_[:, :1])
            cbcr = imresize_torch(ycc_[:, 1:].float(), size=out_hw, method="bicubic")
            full = torch.cat([y.float(), cbcr[(...,) + block]], 1) - o.float()
            ti = torch.as_tensor(t_inv, dtype=full.dtype, device=full.device)
            return torch.einsum("ij,bjhw->bihw", ti, full)
        return ycc
    if channels == in_ch:
        return core
    if channels == 1 and in_ch == 3:
        return lambda x: core(x.expand(-1, 3, -1, -1)).mean(dim=1, keepdim=True)
    raise InputError(f"the model expects {in_ch} channel(s) but the image has {channels}; "
                     f"LAM works on RGB or gray images")


def _y_path(model: nn.Module, channels: int) -> bool:
    """True for a Y-only model on an RGB image (the colour path needs the whole image)."""
    return bool(getattr(model, "y_only", False)) and channels == 3


def _tail_margin(model: nn.Module) -> int | None:
    """The tail split a fixed-scale model declares, or ``None`` (then the full forward runs).

    A model with ``features(x)`` (head and body, at LR resolution), ``tail_from(feats)`` (the
    upsampler, ``forward(x) == tail_from(features(x))``) and ``tail_margin`` (LR pixels of
    feature context one output pixel needs beyond its LR footprint) runs its tail only on the
    features around the window: the objective reads only the window's output pixels, so the
    gradient is the full forward's (the crop's edges, where the tail's zero padding differs,
    are ``tail_margin`` pixels away from every window pixel's context).
    """
    m = getattr(model, "tail_margin", None)
    if m is None or not (hasattr(model, "features") and hasattr(model, "tail_from")):
        return None
    return int(m)


def plan_window(model: nn.Module, in_hw: tuple[int, int], out_hw: tuple[int, int],
                x: int, y: int, window: int, channels: int = 3) -> WindowPlan:
    """The cheapest exact way to compute the window at HR ``(x, y)`` (top-left) of size
    ``window`` for ``model`` (already placed on its device/dtype) on an ``in_hw`` LR image
    super-resolved to ``out_hw``."""
    h, w = in_hw
    H, W = out_hw
    y1, x1 = min(y + window + 1, H), min(x + window + 1, W)   # the block: window + 1 px
    rows, cols = min(window, H - 1 - y), min(window, W - 1 - x)
    kind = kind_of(model)
    full = (0, h, 0, w)
    block = (slice(y, y1), slice(x, x1))

    if kind == "interp":
        def interp(t: Tensor) -> Tensor:
            return model.resize(t.float(), (H, W))[..., y:y1, x:x1]
        return WindowPlan(full, interp, rows, cols, True)

    if kind == "arbitrary":
        fast = hasattr(model, "prepare") and hasattr(model, "query_prepared")
        # the rows/columns of make_coord((H, W)), with its exact float32 arithmetic
        ys = -1 + 1.0 / H + 2 * (1.0 / H) * torch.arange(y, y1, dtype=torch.float32)
        xs = -1 + 1.0 / W + 2 * (1.0 / W) * torch.arange(x, x1, dtype=torch.float32)
        coord0 = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), -1).reshape(1, -1, 2)
        cell0 = torch.tensor([2.0 / H, 2.0 / W]).expand_as(coord0)
        n, m = y1 - y, x1 - x
        if fast:
            ly0, ly1 = _span(y, y1, H, h, 2)
            lx0, lx1 = _span(x, x1, W, w, 2)
            margin = int(getattr(model, "receptive_field", 40))
            box = (max(0, ly0 - margin), min(h, ly1 + margin),
                   max(0, lx0 - margin), min(w, lx1 + margin))
        else:
            box = full

        def core(t: Tensor) -> Tensor:
            b = t.shape[0]
            coord = coord0.to(t.device).expand(b, -1, -1)
            cell = cell0.to(t.device).expand(b, -1, -1)
            feat = model.encode(t)
            if fast:
                feat = feat[..., ly0 - box[0]:ly1 - box[0], lx0 - box[2]:lx1 - box[2]]
                pred = model.query_prepared(model.prepare(feat, full_hw=(h, w),
                                                          offset=(ly0, lx0)), coord, cell)
            else:
                pred = model.query(feat, coord.to(feat.dtype), cell.to(feat.dtype))
            return pred.transpose(1, 2).reshape(b, -1, n, m)

        fn = _colour_wrap(core, model, kind, channels, out_hw, block)
        return WindowPlan(box, fn, rows, cols, box == full)

    # fixed-scale
    s = int(getattr(model, "scale", 1))
    win = int(getattr(model, "window", 1))
    pre = bool(getattr(model, "pre_upsampled", False))
    native = (H, W) == (h * s, w * s) and not pre
    box = full
    if native and not getattr(model, "global_context", False) and not _y_path(model, channels):
        margin = int(getattr(model, "receptive_field", 16))
        ly0, ly1 = _span(y, y1, H, h, 0)
        lx0, lx1 = _span(x, x1, W, w, 0)
        by0, bx0 = max(0, ly0 - margin), max(0, lx0 - margin)
        by0, bx0 = by0 - by0 % win, bx0 - bx0 % win   # window models: keep the partition grid
        box = (by0, min(h, ly1 + margin), bx0, min(w, lx1 + margin))
    oy, ox = box[0] * s, box[2] * s   # output origin of the box (0 for the whole image)
    tail_m = _tail_margin(model) if native and win == 1 else None

    def fixed(t: Tensor) -> Tensor:
        if tail_m is not None:   # the tail on the window's feature footprint only
            bh, bw = t.shape[-2:]
            fy0 = max(0, math.floor(y / s) - box[0] - tail_m)
            fy1 = min(bh, math.ceil(y1 / s) - box[0] + tail_m)
            fx0 = max(0, math.floor(x / s) - box[2] - tail_m)
            fx1 = min(bw, math.ceil(x1 / s) - box[2] + tail_m)
            out = model.tail_from(model.features(t)[..., fy0:fy1, fx0:fx1])
            ty, tx = oy + fy0 * s, ox + fx0 * s   # output origin of the feature crop
            return out[..., y - ty:y1 - ty, x - tx:x1 - tx]
        if pre:   # bicubic pre-upsampling in float32, as the engine does
            t = imresize_torch(t.float(), size=(H, W), method="bicubic").to(t.dtype)
        out = forward_padded(model, t, win)
        if not (native or pre):   # the model's own scale, then bicubic to the requested size
            out = imresize_torch(out.float(), size=(H, W), method="bicubic")
        return out[..., y - oy:y1 - oy, x - ox:x1 - ox]

    fn = _colour_wrap(fixed, model, kind, channels, out_hw, block)
    return WindowPlan(box, fn, rows, cols, box == full)
