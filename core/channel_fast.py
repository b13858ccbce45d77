"""Fast exact paths for stacks of channels (used by :mod:`core.channel_sr`).

* :func:`subpixel_twin` -- a copy of a fixed-scale model whose strided transposed convolutions
  (FSRCNN's 9x9 ``last_part``) are rewritten as the equivalent ordinary convolution followed by
  a pixel shuffle. A transposed convolution of stride ``s`` writes output ``s q + r`` from
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

import copy
import weakref

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .engine.arbitrary import _axis_coords
from .jobs import Job, Progress

__all__ = ["SubPixelDeconv", "subpixel_twin", "run_arbitrary_batch", "cpu_query_chunk"]


class SubPixelDeconv(nn.Module):
    """``ConvTranspose2d`` (stride ``s`` on both axes, ``groups = dilation = 1``, output exactly
    ``s`` times the input) as zero-padding + ``Conv2d`` to ``C_out * s^2`` + pixel shuffle."""

    def __init__(self, deconv: nn.ConvTranspose2d):
        super().__init__()
        s = int(deconv.stride[0])
        w = deconv.weight.detach()                       # (C_in, C_out, kh, kw)
        c_in, c_out = w.shape[0], w.shape[1]
        pads, taps = [], []
        for axis in (0, 1):
            k, p = int(deconv.kernel_size[axis]), int(deconv.padding[axis])
            j_hi = (k - 1 - p) // s                      # q - i ranges over [j_lo, j_hi]
            j_lo = -((s - 1 + p) // s)
            pads.append((j_hi, -j_lo))
            # conv tap a reads input q + a - j_hi, i.e. j = j_hi - a: kernel tap s*j + r + p
            taps.append([[s * (j_hi - a) + r + p for a in range(j_hi - j_lo + 1)]
                         for r in range(s)])
        ky, kx = len(taps[0][0]), len(taps[1][0])
        weight = w.new_zeros(c_out, s, s, c_in, ky, kx)
        kh, kw = w.shape[2], w.shape[3]
        for ry in range(s):
            for a, ty in enumerate(taps[0][ry]):
                if not 0 <= ty < kh:
                    continue
                for rx in range(s):
                    for b, tx in enumerate(taps[1][rx]):
                        if 0 <= tx < kw:
                            weight[:, ry, rx, :, a, b] = w[:, :, ty, tx].T
        self.scale = s
        self.pad = (pads[1][0], pads[1][1], pads[0][0], pads[0][1])   # F.pad order: x, then y
        self.symmetric = pads[0][0] == pads[0][1] and pads[1][0] == pads[1][1]
        self.conv = nn.Conv2d(c_in, c_out * s * s, (ky, kx),
                              padding=(pads[0][0], pads[1][0]) if self.symmetric else 0,
                              bias=deconv.bias is not None)
        self.conv.weight.data.copy_(weight.reshape(c_out * s * s, c_in, ky, kx))
        if deconv.bias is not None:
            self.conv.bias.data.copy_(deconv.bias.detach().repeat_interleave(s * s))

    @staticmethod
    def applies(m: nn.Module) -> bool:
        """True for transposed convolutions this rewrite reproduces exactly."""
        if type(m) is not nn.ConvTranspose2d or m.groups != 1 or m.padding_mode != "zeros":
            return False
        s = m.stride
        if s[0] != s[1] or s[0] < 2 or tuple(m.dilation) != (1, 1):
            return False
        return all(m.kernel_size[a] - 2 * m.padding[a] + m.output_padding[a] == s[a]
                   for a in (0, 1))

    def forward(self, x: Tensor) -> Tensor:
        if not self.symmetric:
            x = F.pad(x, self.pad)
        return F.pixel_shuffle(self.conv(x), self.scale)


_twins: "weakref.WeakKeyDictionary[nn.Module, tuple[int, nn.Module]]" = weakref.WeakKeyDictionary()


def subpixel_twin(net: nn.Module) -> nn.Module:
    """``net`` with every rewritable ``ConvTranspose2d`` replaced by :class:`SubPixelDeconv`
    (a cached copy, built in float32 and cast back to ``net``'s dtype, rebuilt when ``net``'s
    parameters change); ``net`` itself when it has none."""
    if not any(SubPixelDeconv.applies(m) for m in net.modules()):
        return net
    version = sum(p._version for p in net.parameters())   # trained in place -> rebuilt
    cached = _twins.get(net)
    if cached is not None and cached[0] == version:
        return cached[1]
    param = next(net.parameters())
    dtype, device = param.dtype, param.device
    twin = copy.deepcopy(net)
    for _, m in list(twin.named_modules()):
        for child_name, child in list(m.named_children()):
            if SubPixelDeconv.applies(child):
                fast = SubPixelDeconv(child.float()).to(device=device, dtype=dtype)
                setattr(m, child_name, fast)
    twin = twin.eval()
    if bool(getattr(net, "channels_last", True)):   # as the engine's placed copies
        twin = twin.to(memory_format=torch.channels_last)
    for p in twin.parameters():
        p.requires_grad_(False)
    _twins[net] = (version, twin)
    return twin


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

