"""Arbitrary-scale inference: encode once per block, query in chunks.

The output grid is cut into blocks. For each block the engine encodes only the LR window its
queries can reach (the nearest LR pixels after LIIF's half-pixel shifts, one more pixel for
the 3x3 feature unfold, plus the encoder's receptive field), precomputes the first decoder layer
on it (:meth:`LIIF.prepare`), and queries the block's coordinates in chunks. Coordinates stay
relative to the whole image, so the result is the same as one whole-image pass; memory is bounded
by one block, which makes huge outputs (e.g. 3456x4608 at x2) possible on a laptop.
Models that only implement the plain contract (``encode`` + ``query``) are run whole-image with
chunked queries.

:func:`run_arbitrary_batch` runs a batch of small images at once (channel stacks: one encoder
call per batch, the first decoder layer precomputed, the output queried in chunks of about 4096
decoder rows -- a few MB of activations instead of ~100 MB for 65536-point chunks). The result
equals :func:`run_arbitrary` of each image; both are bound by the decoder's matrix products
(bf16 on one core of this CPU: ~0.85 s of CPU per 3-channel 64x64 -> 256x256 group, ~100 GFLOP/s).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..jobs import Job, Progress
from ..models.contracts import make_coord
from .fixed import tile_grid

__all__ = ["run_arbitrary", "run_arbitrary_batch", "cpu_query_chunk", "block_size",
           "axis_coords", "WHOLE_IMAGE_PIXELS", "AUTO_BLOCK"]

#: LR inputs up to this many pixels are encoded whole; larger ones in blocks of AUTO_BLOCK.
WHOLE_IMAGE_PIXELS = 512 * 512
AUTO_BLOCK = 256


def block_size(h: int, w: int, tile: int | None = None) -> int | None:
    """The LR block size of an arbitrary-scale run on an ``h x w`` input: the user's ``tile``,
    else None (whole image) up to :data:`WHOLE_IMAGE_PIXELS`, else :data:`AUTO_BLOCK`. The one
    place this rule lives: the engine, the memory plan and the IPF flow all ask here."""
    if tile:
        return int(tile)
    return None if h * w <= WHOLE_IMAGE_PIXELS else AUTO_BLOCK


def axis_coords(n_out: int, device=None) -> Tensor:
    """Pixel-centre coordinates of ``n_out`` samples in [-1, 1] (float32): the one grid of
    every arbitrary-scale query (whole runs, blocks, Live zoom)."""
    r = 1.0 / n_out
    return -1 + r + 2 * r * torch.arange(n_out, device=device, dtype=torch.float32)


def _lr_span(o0: int, o1: int, n_out: int, n_in: int) -> tuple[int, int]:
    """LR pixels ``[lo, hi)`` that output rows ``[o0, o1)`` can touch (with LIIF's shifts)."""
    lo = math.floor(o0 * n_in / n_out) - 2
    hi = math.ceil(o1 * n_in / n_out) + 2
    return max(0, lo), min(n_in, hi)


def run_arbitrary(model: nn.Module, x: Tensor, out_hw: tuple[int, int], block: int | None,
                  chunk: int = 4096) -> Job[Tensor]:
    """Super-resolve ``x (1, 3, h, w)`` to ``out_hw``; yields Progress per query chunk.

    ``block`` is the LR block size (None: the whole image as one block). Returns
    ``(1, 3, H, W)`` float32 on ``x``'s device, unclamped.
    """
    _, _, h, w = x.shape
    H, W = out_hw
    dev = x.device
    fast = hasattr(model, "prepare") and hasattr(model, "query_prepared")
    if not fast:
        block = None
    ys_all, xs_all = axis_coords(H, dev), axis_coords(W, dev)
    cell = torch.tensor([2.0 / H, 2.0 / W], device=dev)
    out = torch.empty(1, 3, H, W, device=dev, dtype=torch.float32)

    # output blocks: one LR block of ``block`` pixels maps to about block * scale output pixels
    if block is None or (block >= h and block >= w):
        rows, cols = [(0, H)], [(0, W)]
    else:
        rows = tile_grid(H, max(1, round(block * H / h)))
        cols = tile_grid(W, max(1, round(block * W / w)))
    n_chunks = 0
    plan = []
    for r0, r1 in rows:
        for c0, c1 in cols:
            rows_per_chunk = max(1, chunk // max(1, c1 - c0))
            spans = tile_grid(r1 - r0, rows_per_chunk)
            plan.append((r0, r1, c0, c1, spans))
            n_chunks += len(spans)
    done = 0
    yield Progress(0, n_chunks, f"{len(plan)} block(s), {n_chunks} query chunk(s)")
    margin = int(getattr(model, "receptive_field", 40))
    with torch.inference_mode():
        for r0, r1, c0, c1, spans in plan:
            if fast:
                ly0, ly1 = _lr_span(r0, r1, H, h)
                lx0, lx1 = _lr_span(c0, c1, W, w)
                ey0, ey1 = max(0, ly0 - margin), min(h, ly1 + margin)
                ex0, ex1 = max(0, lx0 - margin), min(w, lx1 + margin)
                feat = model.encode(x[..., ey0:ey1, ex0:ex1])
                feat = feat[..., ly0 - ey0:ly1 - ey0, lx0 - ex0:lx1 - ex0]
                # unfold needs one real neighbour beyond the span: the span already has 2 spare
                prep = model.prepare(feat, full_hw=(h, w), offset=(ly0, lx0))
                del feat
            else:
                feat = model.encode(x)
            for s0, s1 in spans:
                ys = ys_all[r0 + s0:r0 + s1]
                xs = xs_all[c0:c1]
                coord = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), -1).reshape(1, -1, 2)
                cells = cell.expand(1, coord.shape[1], 2)
                if fast:
                    pred = model.query_prepared(prep, coord, cells)
                else:
                    pred = model.query(feat, coord.to(feat.dtype), cells.to(feat.dtype))
                out[0, :, r0 + s0:r0 + s1, c0:c1] = (
                    pred[0].float().T.reshape(3, s1 - s0, c1 - c0))
                done += 1
                yield Progress(done, n_chunks, f"query chunk {done}/{n_chunks}")
    return out


_ = make_coord  # re-exported helpers live in contracts; kept for readers of this module


def cpu_query_chunk(batch: int, chunk: int) -> int:
    """Query points per decoder call on the CPU: about 4096 rows per matrix product (the batch
    times the points; bounded memory at no cost in speed), never more than ``chunk``."""
    return max(1, min(int(chunk), max(64, 4096 // max(1, batch))))


def run_arbitrary_batch(model: nn.Module, x: Tensor, out_hw: tuple[int, int],
                        chunk: int) -> Job[Tensor]:
    """``x (B, 3, h, w)`` -> ``(B, 3, H, W)`` float32 with a model that has ``prepare`` /
    ``query_prepared`` (LIIF), the whole LR image as one block; one Progress per chunk."""
    b, _, h, w = x.shape
    H, W = out_hw
    dev = x.device
    ys_all, xs_all = axis_coords(H, dev), axis_coords(W, dev)
    cell = torch.tensor([2.0 / H, 2.0 / W], device=dev)
    rows = max(1, int(chunk) // max(1, W))
    spans = [(r0, min(H, r0 + rows)) for r0 in range(0, H, rows)]
    cols = [(0, W)] if rows > 1 or W <= chunk else [
        (c0, min(W, c0 + int(chunk))) for c0 in range(0, W, int(chunk))]
    total = len(spans) * len(cols)
    out = torch.empty(b, 3, H, W, device=dev, dtype=torch.float32)
    yield Progress(0, total, f"{b} group(s) encoded at once, {total} query chunk(s)")
    done = 0
    with torch.inference_mode():
        prep = model.prepare(model.encode(x), full_hw=(h, w))
        for r0, r1 in spans:
            for c0, c1 in cols:
                coord = torch.stack(torch.meshgrid(ys_all[r0:r1], xs_all[c0:c1], indexing="ij"),
                                    -1).reshape(1, -1, 2)
                n = coord.shape[1]
                pred = model.query_prepared(prep, coord.expand(b, n, 2),
                                            cell.expand(b, n, 2))
                out[:, :, r0:r1, c0:c1] = (
                    pred.float().permute(0, 2, 1).reshape(b, 3, r1 - r0, c1 - c0))
                done += 1
                if done % 8 == 0 or done == total:
                    yield Progress(done, total, f"query chunk {done}/{total}")
    return out

