"""Fast exact paths for stacks of channels (used by :mod:`core.channel_sr`).

* :func:`subpixel_twin` (in :mod:`core.engine.subpixel`, used by every fixed-scale run) -- a
  copy of a fixed-scale model whose strided transposed convolutions (FSRCNN's 9x9
  ``last_part``) are rewritten as the equivalent ordinary convolution followed by a pixel
  shuffle. A transposed convolution of stride ``s`` writes output ``s q + r`` from
  inputs ``q - j`` with kernel tap ``s j + r + p``: for each phase ``r`` that is a small
  correlation, so all ``s^2`` phases together are one convolution with ``s^2`` times the output
  channels (taps that fall outside the kernel are zero). Same numbers up to float rounding.
  On the CPU the transposed convolution was two thirds of FSRCNN's time on channel stacks;
  with the rewrite 150 channels 64x64 -> 256x256 (x4, bf16, one thread) take 0.9 s instead
  of 2.1 s (interleaved runs, medians).
* :func:`run_arbitrary_batch` -- an arbitrary-scale model (LIIF) on a batch of channel groups
  at once: the batch is encoded in one call, the first decoder layer precomputed
  (``prepare``), and the output queried in chunks of about 4096 decoder rows (a few MB of
  activations instead of ~100 MB for 65536-point chunks). The result equals
  :func:`core.engine.arbitrary.run_arbitrary` of each group. The time is that of the
  per-group path: both are bound by the decoder's matrix products (bf16 on one core of this
  CPU: ~0.85 s of CPU per 3-channel 64x64 -> 256x256 group, ~100 GFLOP/s).
"""

from __future__ import annotations


import torch
from torch import Tensor, nn

from .engine.arbitrary import _axis_coords
from .engine.subpixel import SubPixelDeconv, subpixel_twin
from .jobs import Job, Progress

__all__ = ["SubPixelDeconv", "subpixel_twin", "run_arbitrary_batch", "cpu_query_chunk"]


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
    ys_all, xs_all = _axis_coords(H, dev), _axis_coords(W, dev)
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

