"""Super-resolution of every channel of channel data, with any registry model, as a Job.

How channels go through a model (:func:`plan_channels`; the choice is in the result's notes):

* interpolation baselines and single-channel models (Y-only SRCNN / FSRCNN / VDSR / ESPCN):
  each channel on its own;
* models with ``k`` input channels (RGB: ``k = 3``), ``rgb_mode="replicate"``: each channel
  repeated ``k`` times, the ``k`` outputs averaged (one model run per channel);
* ``rgb_mode="groups"``: ``k`` consecutive channels per run (``k`` times fewer runs; the last
  group is padded by repeating its last channel), output channel ``j`` -> input channel ``j``.

Fixed-scale and interpolation models run on batches of channels (memory-bounded), strided
transposed convolutions (FSRCNN) as the equivalent sub-pixel convolution
(:func:`core.engine.subpixel.subpixel_twin`); arbitrary-scale models (LIIF) on batches of channel
groups too (:func:`core.engine.arbitrary.run_arbitrary_batch`: one encoder call per batch, small
cache-friendly query chunks on the CPU) when the LR fits one block (at most 512x512, no tile
asked), else one group at a time with the engine's block-wise queries. Precision follows
``options.precision`` (``auto``: bf16 where the CPU or GPU runs it fast). The
output stack is allocated once, so memory stays bounded by the output plus one batch. The Job
yields ``Progress(done_channels, channels, "channel i/C ...")``; stopping it between yields
(Cancel) frees everything. The working range is kept: pixels are the normalised channels and
the result carries the input's units and layout, so :func:`core.io.save` writes it in the
file's own units.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ..data import ImageData
from ..engine.arbitrary import block_size, cpu_query_chunk, run_arbitrary, run_arbitrary_batch
from ..engine.device import pick_device, pick_dtype, placed
from ..engine.fixed import run_tiled
from ..engine.memory import check_fits
from ..engine.run import SROptions, SRResult, model_kind, output_size
from ..engine.subpixel import subpixel_twin
from ..errors import InputError
from ..jobs import Job, Progress
from ..resize import contributions, imresize_torch
from .layout import RGB_MODES

__all__ = ["RGB_MODES", "ChannelPlan", "plan_channels", "super_resolve_channels"]

_DTYPE_NAMES = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}
_BATCH_BYTES = 256 * 2**20  # working memory one batch of channels may use


@dataclass(frozen=True)
class ChannelPlan:
    """Channel groups fed to the model: ``groups[i]`` lists the input channels of run ``i``
    (``k`` entries; one entry repeated ``k`` times for replicate), ``average``: outputs of a
    replicated group are averaged; ``note``: the choice in words."""

    groups: tuple[tuple[int, ...], ...]
    width: int
    average: bool
    note: str


def plan_channels(model: nn.Module, channels: int, rgb_mode: str = "replicate") -> ChannelPlan:
    """How ``channels`` channels go through ``model`` (see the module docstring)."""
    if rgb_mode not in RGB_MODES:
        raise InputError(f"unknown channel mode {rgb_mode!r}; expected one of {RGB_MODES}")
    kind = model_kind(model)
    k = int(getattr(model, "in_channels", 3))
    if kind == "interp" or k == 1 or getattr(model, "y_only", False):
        what = "interpolation" if kind == "interp" else "single-channel model"
        return ChannelPlan(tuple((c,) for c in range(channels)), 1, False,
                           f"{what} on each of the {channels} channels")
    if rgb_mode == "replicate":
        return ChannelPlan(tuple((c,) * k for c in range(channels)), k, True,
                           f"{k}-channel model: each channel replicated to {k}, output averaged")
    groups = []
    for start in range(0, channels, k):
        g = list(range(start, min(channels, start + k)))
        groups.append(tuple(g + [g[-1]] * (k - len(g))))
    pad = "" if channels % k == 0 else (
        f"; the last group repeats channel {channels - 1} to fill {k}")
    return ChannelPlan(tuple(groups), k, False,
                       f"{k}-channel model on groups of {k} consecutive channels "
                       f"({len(groups)} runs){pad}")


def _one_block(model: nn.Module, h: int, w: int, opts: SROptions) -> bool:
    """An arbitrary-scale model runs a whole batch at once (:func:`run_arbitrary_batch`): it
    has LIIF's prepared queries and the LR is one block (:func:`block_size`: no tile asked,
    at most 512x512)."""
    return (hasattr(model, "prepare") and hasattr(model, "query_prepared")
            and block_size(h, w, opts.tile) is None)


def _auto_batch(h: int, w: int, oh: int, ow: int, width: int, kind: str,
                one_block: bool = False) -> int:
    if kind == "arbitrary":
        if not one_block:
            return 1
        # encoder activations (~4 maps of 64 features) and the first-layer map (256), float32
        per = 4 * (h * w * (64 * 4 + 256) + oh * ow * width)
        return int(max(1, min(8, _BATCH_BYTES // max(1, per))))
    per = 4 * (h * w * 64 * 3 + oh * ow * width * 3)  # features at LR + outputs, float32
    return int(max(1, min(16, _BATCH_BYTES // max(1, per))))


def _interp_matrices(method: str, in_hw, out_hw, device) -> tuple[Tensor, Tensor]:
    """Dense ``(out, in)`` matrices of MATLAB ``imresize`` along H and W: the same weights as
    :func:`core.resize.imresize` (from its ``contributions``), applied as two matrix products,
    which is much faster than a gather per tap for stacks of channels."""
    mats = []
    for n_in, n_out in zip(in_hw, out_hw):
        w, idx = contributions(int(n_in), int(n_out), n_out / n_in, method)
        m = np.zeros((n_out, int(n_in)))
        np.add.at(m, (np.repeat(np.arange(n_out), w.shape[1]), idx.ravel()), w.ravel())
        mats.append(torch.as_tensor(m, dtype=torch.float32, device=device))
    return mats[0], mats[1]


def _run_batch(model: nn.Module, kind: str, x: Tensor, out_hw: tuple[int, int],
               opts: SROptions, notes: list[str]) -> Job[Tensor]:
    """``x (B, k, h, w)`` -> ``(B, k, oh, ow)`` float32 (the engine's rules, batched)."""
    oh, ow = out_hw
    if kind == "interp":
        yield Progress(0, 1, "interpolating")
        wy, wx = _interp_matrices(str(getattr(model, "method", "bicubic")), x.shape[-2:],
                                  (oh, ow), x.device)
        return torch.matmul(torch.matmul(wy, x.float()), wx.T)
    if kind == "arbitrary":
        if _one_block(model, x.shape[-2], x.shape[-1], opts):
            chunk = (opts.chunk if x.device.type != "cpu"
                     else cpu_query_chunk(x.shape[0], opts.chunk))
            return (yield from run_arbitrary_batch(model, x, (oh, ow), chunk))
        outs = []
        for i in range(x.shape[0]):
            block = block_size(x.shape[-2], x.shape[-1], opts.tile)
            outs.append((yield from run_arbitrary(model, x[i:i + 1], (oh, ow), block,
                                                  chunk=opts.chunk)))
        return torch.cat(outs)
    scale = int(getattr(model, "scale", 1))
    if getattr(model, "pre_upsampled", False):
        x = imresize_torch(x.float(), size=(oh, ow), method="bicubic").to(x.dtype)
        scale = 1
    tile = opts.tile or (1024 if x.device.type == "cuda" else 384)
    margin = int(getattr(model, "receptive_field", 16))
    y = yield from run_tiled(subpixel_twin(model), x, scale, tile, margin,
                             window=int(getattr(model, "window", 1)))
    if tuple(y.shape[-2:]) != (oh, ow):
        notes.append(f"the model is fixed at x{scale}; its {y.shape[-1]}x{y.shape[-2]} output "
                     f"was resized to {ow}x{oh} with bicubic")
        y = imresize_torch(y, size=(oh, ow), method="bicubic")
    return y


def super_resolve_channels(model: nn.Module, data: ImageData, *, scale=None, size=None,
                           rgb_mode: str = "replicate", batch: int | None = None,
                           clip: bool = False, options: SROptions = SROptions(),
                           name: str = "") -> Job[SRResult]:
    """Super-resolve every channel of ``data`` to ``scale`` or ``size`` (H, W) as a Job.

    Args:
        model: any registry model (fixed-scale, arbitrary-scale or interpolation).
        data: channel data (normally from :func:`core.io.load` / :mod:`core.channels`); the
            pixels are the normalised channels (float32), finite.
        scale: a factor or ``(sy, sx)``; size: ``(H, W)`` of the output; one of the two.
        rgb_mode: ``replicate`` or ``groups`` for multi-channel models (see module docstring).
        batch: channel groups per model call (None: by memory, at most 16; arbitrary-scale:
            at most 8, or 1 when the LR is cut into blocks).
        clip: limit each output channel to the input channel's working range (no overshoot).
        options: device, precision, tile and query chunk (as the engine).

    Returns (from the Job): :class:`~core.engine.SRResult` whose image has the input's
    kind, units and layout (``meta``) and ``H' x W' x C`` pixels.
    """
    if not isinstance(data, ImageData):
        raise InputError(f"expected ImageData, got {type(data).__name__}")
    if data.has_nonfinite():
        bad = int((~np.isfinite(data.pixels)).sum())
        raise InputError(f"the channels have {bad} NaN or infinite values; load them with the "
                         "channel loader, which masks them")
    h, w, c = data.shape
    oh, ow = output_size(h, w, scale, size)
    kind = model_kind(model)
    plan = plan_channels(model, c, rgb_mode)
    if batch is not None and int(batch) < 1:
        raise InputError(f"batch must be at least 1, got {batch}")
    nb = int(batch) if batch else _auto_batch(h, w, oh, ow, plan.width, kind,
                                              _one_block(model, h, w, options))
    check_fits(oh * ow * c * 4 + nb * oh * ow * plan.width * 4 * 3, f"a {ow}x{oh}x{c} output")
    device = pick_device(options.device)
    dtype = pick_dtype(device, options.precision) if kind != "interp" else torch.float32
    net = placed(model, device, dtype) if kind != "interp" else model
    t0 = time.perf_counter()
    notes = [plan.note]
    out = np.empty((oh, ow, c), dtype=np.float32)
    src = data.pixels
    done_ch: set[int] = set()
    groups = plan.groups
    yield Progress(0, c, f"{len(groups)} model run(s) on {c} channels")
    for start in range(0, len(groups), nb):
        chunk = groups[start:start + nb]
        x = np.stack([src[:, :, list(g)] for g in chunk])  # (B, h, w, k)
        xt = torch.from_numpy(x).permute(0, 3, 1, 2).to(device=device, dtype=dtype).contiguous(
            memory_format=torch.channels_last)
        first = chunk[0][0]
        last = max(chunk[-1])
        label = f"channel {first + 1}" + (f"-{last + 1}" if last != first else "") + f"/{c}"
        job = _run_batch(net, kind, xt, (oh, ow), options, notes)
        try:
            while True:
                p = next(job)
                yield Progress(len(done_ch), c, f"{label}: {p.message}" if p.message else label)
        except StopIteration as stop:
            y = stop.value
        y = y.float().cpu().numpy()  # (B, k, oh, ow)
        for b, g in enumerate(chunk):
            if plan.average:
                out[:, :, g[0]] = y[b].mean(axis=0)
                done_ch.add(g[0])
                continue
            for j, ch in enumerate(g):
                if ch not in done_ch:
                    out[:, :, ch] = y[b, j]
                    done_ch.add(ch)
        del x, xt, y
        yield Progress(len(done_ch), c, f"{label} done")
    if clip:
        flat = src.reshape(-1, c)
        np.clip(out, flat.min(axis=0), flat.max(axis=0), out=out)
        notes.append("each channel clipped to its input range")
    image = data.with_pixels(out)
    return SRResult(image=image, model=name or type(model).__name__, scale=(oh / h, ow / w),
                    device=str(device), precision=_DTYPE_NAMES.get(dtype, str(dtype)),
                    seconds=time.perf_counter() - t0, notes=tuple(dict.fromkeys(notes)))
