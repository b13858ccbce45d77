"""Continuous zoom for arbitrary-scale models, as Jobs (Qt-free).

A LIIF-like model is asked only for the output pixels the screen can show: the visible window
of the *virtual* output (the image a full ``sr`` run at that scale would produce), one query
per output pixel when zoomed in, every ``stride``-th output pixel when zoomed out. The image is
encoded once (kept in a cache) and queried with exactly the coordinates and cell size of a full
run (pixel centres of the whole virtual grid, ``cell = (2 / H, 2 / W)``), in the engine's device
and precision, so every displayed pixel equals the corresponding pixel of
:func:`core.engine.super_resolve` at that scale (up to float rounding of batched matrix
products). A coarse pass comes first, then the full-resolution one; the controller drops the
results of requests that a newer view change has superseded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core.data import ImageData
from core.engine.arbitrary import axis_coords
from core.engine.device import pick_device, pick_dtype, placed
from core.engine.run import SROptions, model_kind
from core.errors import InputError
from core.jobs import Job, Progress, Step
from core.models import load_model

__all__ = ["ZoomRequest", "ZoomModel", "zoom_job", "encode_for_zoom"]


@dataclass
class ZoomModel:
    """A model placed for inference with the LR image encoded once."""

    net: Any
    state: Any            # LIIF ``Prepared`` (fast path) or the feature map
    fast: bool
    device: torch.device
    dtype: torch.dtype
    groups: int           # 1 for RGB; C for gray/channels data (each replicated to RGB)
    clip: bool            # 8/16-bit data: outputs clipped to [0, 1] like the engine does
    lr_hw: tuple[int, int]


@dataclass(frozen=True)
class ZoomRequest:
    key: str                                  # model name or checkpoint path
    lr: ImageData
    out_hw: tuple[int, int]                   # the virtual full output (H, W)
    window: tuple[int, int, int, int]         # rows r0:r1, cols c0:c1 of the virtual output
    stride: int = 1
    coarse: int | None = None                 # a first, faster pass with this stride
    options: SROptions = SROptions()
    chunk: int = 16384


def encode_for_zoom(key: str, lr: ImageData, options: SROptions) -> ZoomModel:
    """Load ``key``, place it like the engine does, and encode ``lr`` once."""
    loaded = load_model(key)
    if model_kind(loaded.module) != "arbitrary":
        raise InputError(f"{loaded.name} is not an arbitrary-scale model; live zoom needs one "
                         "(LIIF-like: encode once, query anywhere)")
    device = pick_device(options.device)
    dtype = pick_dtype(device, options.precision)
    net = placed(loaded.module, device, dtype)
    px = lr.pixels
    groups = 1 if px.shape[2] == 3 else px.shape[2]
    if groups == 1:
        x = torch.from_numpy(np.ascontiguousarray(px.transpose(2, 0, 1)))[None]
    else:   # each channel replicated to RGB, outputs averaged (the engine's rule)
        x = torch.from_numpy(np.ascontiguousarray(
            np.repeat(px.transpose(2, 0, 1)[:, None], 3, axis=1)))
    x = x.to(device, dtype)
    fast = hasattr(net, "prepare") and hasattr(net, "query_prepared")
    with torch.inference_mode():
        feat = net.encode(x)
        state = net.prepare(feat, full_hw=tuple(px.shape[:2])) if fast else feat
    clip = np.dtype(lr.units.dtype).kind in "ui"
    return ZoomModel(net, state, fast, device, dtype, groups, clip, tuple(px.shape[:2]))


def _query(zm: ZoomModel, ys: torch.Tensor, xs: torch.Tensor, cell: torch.Tensor) -> np.ndarray:
    coord = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), -1).reshape(1, -1, 2)
    coord = coord.to(zm.device)
    b = zm.groups
    coord = coord.expand(b, -1, 2)
    cells = cell.to(zm.device).expand(b, coord.shape[1], 2)
    if zm.fast:
        pred = zm.net.query_prepared(zm.state, coord, cells)
    else:
        pred = zm.net.query(zm.state, coord.to(zm.state.dtype), cells.to(zm.state.dtype))
    out = pred.float().cpu().numpy().reshape(b, len(ys), len(xs), 3)
    res = out[0] if b == 1 else out.mean(axis=3).transpose(1, 2, 0)
    return np.clip(res, 0.0, 1.0) if zm.clip else res


def zoom_job(req: ZoomRequest, cache: dict) -> Job[None]:
    """Encode (once per model, image, device and precision; kept in ``cache``), then query the
    window: ``Step("tile", (row0, col0, stride, pixels))`` per pass, pixels ``h x w x C``
    float32 equal to ``full_output[row0::stride, col0::stride]`` inside the window."""
    ck = (req.key, id(req.lr), req.options.device, req.options.precision)
    yield Progress(0, 1, "encoding")
    zm = cache.get(ck)
    if zm is None:
        zm = encode_for_zoom(req.key, req.lr, req.options)
        cache.clear()          # one encoded image at a time: bounded memory
        cache[ck] = zm
    H, W = req.out_hw
    r0, r1, c0, c1 = req.window
    r0, c0 = max(0, r0), max(0, c0)
    r1, c1 = min(H, r1), min(W, c1)
    if r1 <= r0 or c1 <= c0:
        return None
    ys_all, xs_all = axis_coords(H), axis_coords(W)
    cell = torch.tensor([2.0 / H, 2.0 / W])
    strides = [s for s in (req.coarse, req.stride) if s]
    plan = []
    for s in dict.fromkeys(strides):
        rows = np.arange((r0 // s) * s, r1, s)
        cols = np.arange((c0 // s) * s, c1, s)
        plan.append((s, rows, cols))
    total = sum(len(r) * len(c) for _, r, c in plan)
    done = 0
    yield Progress(0, total, "querying")
    with torch.inference_mode():
        for s, rows, cols in plan:
            out = np.empty((len(rows), len(cols), 3 if zm.groups == 1 else zm.groups),
                           np.float32)
            per = max(1, req.chunk // max(1, len(cols)))
            xs = xs_all[torch.from_numpy(cols)]
            for i in range(0, len(rows), per):
                ys = ys_all[torch.from_numpy(rows[i:i + per])]
                out[i:i + per] = _query(zm, ys, xs, cell)
                done += len(ys) * len(cols)
                yield Progress(done, total, f"stride {s}: {done}/{total} queries")
            yield Step(done, total, f"stride {s} done", key="tile",
                       value=(int(rows[0]), int(cols[0]), s, out))
    return None
