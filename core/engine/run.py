"""Super-resolve one :class:`ImageData` with any model: the engine's main entry point.

The engine, not the model, decides device, dtype, tiles, chunks and the colour handling:
Y-only models (SRCNN, FSRCNN, VDSR) run on the Y channel of YCbCr with Cb/Cr upscaled by
MATLAB bicubic; models trained on RGB run on gray data replicated to three channels (output
averaged); pre-upsampling models (SRCNN, VDSR) get a bicubic-upscaled input of the target size;
a fixed-scale model asked for another scale runs at its own scale and the result is resized with
bicubic to the requested size (the result's :class:`core.provenance.Provenance` records the
resize, and a note says so).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from ..budget import MAX_SCALE, check_output_pixels
from ..data import ImageData
from ..errors import InputError, ScaleError
from ..jobs import Job, Progress, sub_job
from ..models.contracts import ArbitraryScaleSR, FixedScaleSR
from ..provenance import Provenance, Resample
from .arbitrary import block_size, run_arbitrary
from .device import pick_device, pick_dtype, placed
from .fixed import run_tiled
from .memory import check_fits
from .subpixel import subpixel_twin

__all__ = ["SROptions", "SRResult", "output_size", "super_resolve", "model_kind", "native_scale",
           "MAX_SCALE"]

_DTYPE_NAMES = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}


@dataclass(frozen=True)
class SROptions:
    """How to run: device/precision (``auto`` = the policy of :mod:`.device`), LR tile size for
    fixed-scale models and LR block size for arbitrary-scale ones (None = automatic), query
    chunk size (points per decoder call: 4096 keeps the decoder's 256-wide activations in the
    CPU caches, 20-30 % faster than 65536 in fp32 and bf16 on one core, measured)."""

    device: str = "auto"
    precision: str = "auto"
    tile: int | None = None
    chunk: int = 4096


@dataclass(frozen=True)
class SRResult:
    """An SR output and how it was made."""

    image: ImageData
    model: str
    scale: tuple[float, float]
    device: str
    precision: str
    seconds: float
    notes: tuple[str, ...] = field(default_factory=tuple)
    provenance: Provenance | None = None   # model, native scale, resampling, precision, device


def output_size(h: int, w: int, scale: float | tuple[float, float] | None = None,
                size: tuple[int, int] | None = None, *, budget: bool = True) -> tuple[int, int]:
    """Validated output ``(H, W)`` from a scale (float or per-axis) or an exact size.

    With ``budget`` (every run that makes the whole output) the output must also fit the pixel
    budget of :func:`core.budget.max_pixels` (ResourceError otherwise); live zoom, which only
    renders a window of a virtual output, passes ``budget=False``."""
    if (scale is None) == (size is None):
        raise ScaleError("give either a scale or an output size, not both or neither")
    if size is not None:
        try:
            oh, ow = (int(size[0]), int(size[1]))
        except (TypeError, ValueError, IndexError):
            raise ScaleError(f"output size must be two integers (height, width), "
                             f"got {size!r}") from None
        if oh <= 0 or ow <= 0:
            raise ScaleError(f"output size must be positive, got {ow}x{oh} (width x height)")
        if oh > h * MAX_SCALE or ow > w * MAX_SCALE:
            raise ScaleError(f"output size {ow}x{oh} is more than {MAX_SCALE:g}x the input")
        if budget:
            check_output_pixels(oh, ow, f"the output size {ow}x{oh}")
        return oh, ow
    sy, sx = (scale, scale) if not isinstance(scale, (tuple, list)) else scale
    for s in (sy, sx):
        try:
            s = float(s)
        except (TypeError, ValueError):
            raise ScaleError(f"scale must be a number, got {s!r}") from None
        if not math.isfinite(s) or s <= 0:
            raise ScaleError(f"scale must be a positive finite number, got {s!r}")
        if s > MAX_SCALE:
            raise ScaleError(f"scale {s:g} is larger than the supported maximum {MAX_SCALE:g}")
    oh, ow = round(h * float(sy)), round(w * float(sx))
    if oh < 1 or ow < 1:
        raise ScaleError(f"scale {scale} makes an empty output from a {w}x{h} input")
    if budget:
        check_output_pixels(oh, ow, f"the x{_scale_text(scale)} output of the {w}x{h} input")
    return oh, ow


def _scale_text(scale: float | tuple[float, float] | list[float]) -> str:
    if isinstance(scale, (tuple, list)):
        return "x".join(f"{float(s):g}" for s in scale)
    return f"{float(scale):g}"


def model_kind(model: nn.Module) -> str:
    """``fixed``, ``arbitrary`` or ``interp`` (an interpolation baseline with ``resize``)."""
    if isinstance(model, ArbitraryScaleSR):
        return "arbitrary"
    if isinstance(model, FixedScaleSR):
        return "fixed"
    if hasattr(model, "resize"):
        return "interp"
    raise InputError(f"{type(model).__name__} is not a super-resolution model of this workbench")


def _to_tensor(px: np.ndarray, device, dtype) -> Tensor:
    """``H x W x C`` numpy -> ``(1, C, H, W)`` tensor in channels-last memory (no copy needed
    on the way in: the numpy layout already is channels-last)."""
    t = torch.from_numpy(np.ascontiguousarray(px)).permute(2, 0, 1)[None]
    return t.to(device=device, dtype=dtype).contiguous(memory_format=torch.channels_last)


def _to_numpy(t: Tensor) -> np.ndarray:
    return t[0].float().cpu().numpy().transpose(1, 2, 0).copy()


def _auto_tile(device: torch.device) -> int:
    return 1024 if device.type == "cuda" else 384


def native_scale(model: nn.Module) -> str:
    """``x4`` for a fixed-scale model that runs at its own scale; ``any`` for arbitrary-scale,
    interpolation and pre-upsampling models (SRCNN, VDSR: their input is resized first)."""
    if model_kind(model) == "fixed" and not getattr(model, "pre_upsampled", False):
        return f"x{int(getattr(model, 'scale', 1))}"
    return "any"


def _run_rgb(model: nn.Module, kind: str, x: Tensor, out_hw: tuple[int, int],
             opts: SROptions, notes: list[str], resampled: list[Resample]) -> Job[Tensor]:
    """Run one 1- or 3-channel tensor through the model at ``out_hw`` (float32 result); a
    resize after a fixed-scale model is appended to ``resampled``."""
    from ..resize import imresize_torch

    oh, ow = out_hw
    if kind == "interp":
        yield Progress(0, 1, "interpolating")
        y = model.resize(x.float(), (oh, ow))
        yield Progress(1, 1, "done")
        return y
    if kind == "arbitrary":
        block = block_size(x.shape[-2], x.shape[-1], opts.tile)
        return (yield from run_arbitrary(model, x, (oh, ow), block, chunk=opts.chunk))
    # fixed-scale
    scale = int(getattr(model, "scale", 1))
    if getattr(model, "pre_upsampled", False):
        x = imresize_torch(x.float(), size=(oh, ow), method="bicubic").to(x.dtype)
        scale = 1
    # models that tile badly (spandrel's tiling hint) run whole unless --tile asks otherwise
    untiled = bool(getattr(model, "untiled", False))
    tile = opts.tile or (None if untiled else _auto_tile(x.device))
    margin = int(getattr(model, "receptive_field", 16))
    y = yield from run_tiled(subpixel_twin(model), x, scale, tile, margin,
                             window=int(getattr(model, "window", 1)))
    if y.shape[-2:] != (oh, ow):
        resampled.append(Resample("bicubic", (int(y.shape[-2]), int(y.shape[-1])), (oh, ow)))
        notes.append(
            f"the model is fixed at x{scale}; its {y.shape[-1]}x{y.shape[-2]} output was resized "
            f"to {ow}x{oh} with bicubic")
        y = imresize_torch(y, size=(oh, ow), method="bicubic")
    return y


def super_resolve(model: nn.Module, data: ImageData, *, scale=None, size=None,
                  options: SROptions = SROptions(), name: str = "") -> Job[SRResult]:
    """Super-resolve ``data`` with ``model`` to ``scale`` or ``size`` as a Job -> SRResult.

    Pixels outside [0, 1] are passed through unchanged (no clipping), except that outputs of
    8/16-bit inputs are clipped to [0, 1] since they will be stored as integers.
    """
    from ..metrics import rgb_to_ycbcr, ycbcr_to_rgb
    from ..resize import imresize

    if data.has_nonfinite():
        bad = int((~np.isfinite(data.pixels)).sum())
        raise InputError(f"the input has {bad} NaN or infinite values; fix or mask them first")
    oh, ow = output_size(data.height, data.width, scale, size)
    kind = model_kind(model)
    check_fits(oh * ow * max(3, data.channels) * 4 * 4, f"a {ow}x{oh} output")
    device = pick_device(options.device)
    dtype = pick_dtype(device, options.precision) if kind != "interp" else torch.float32
    net = placed(model, device, dtype) if kind != "interp" else model
    in_ch = int(getattr(model, "in_channels", 3))
    y_only = bool(getattr(model, "y_only", False))
    notes: list[str] = []
    resampled: list[Resample] = []
    t0 = time.perf_counter()
    px = data.pixels
    c = px.shape[2]

    # decide the channel groups that go through the model
    if kind == "interp":
        groups = [px]
    elif y_only:
        if c == 3 and data.kind == "rgb":  # a 3-channel matrix or normal map is not RGB
            ycc = rgb_to_ycbcr(px).astype(np.float32)
            groups = [ycc[..., :1]]
            notes.append("Y-only model: ran on Y, Cb/Cr upscaled with bicubic")
        else:
            groups = [px[..., i:i + 1] for i in range(c)]
            if c > 1:
                notes.append(f"single-channel model on {c}-channel data: ran on each channel")
    elif in_ch == 3 and c == 3:
        groups = [px]
    elif in_ch == 3:
        groups = [np.repeat(px[..., i:i + 1], 3, axis=2) for i in range(c)]
        notes.append(f"RGB model on {c}-channel data: each channel replicated to RGB, "
                     "output averaged")
    elif in_ch == c:
        groups = [px]
    else:
        raise InputError(f"the model expects {in_ch} channels but the data has {c}")

    outputs = []
    total = len(groups) * 1000
    for gi, g in enumerate(groups):
        x = _to_tensor(g, device, dtype)
        job = _run_rgb(net, kind, x, (oh, ow), options, notes, resampled)
        # each channel group gets 1000 units of the overall progress bar
        prefix = f"[{gi + 1}/{len(groups)}] " if len(groups) > 1 else ""
        y = yield from sub_job(job, gi * 1000, 1000, total, prefix)
        out = _to_numpy(y)
        if in_ch == 3 and g.shape[2] == 3 and c != 3 and kind != "interp":
            out = out.mean(axis=2, keepdims=True)
        outputs.append(out)
        del x, y
    result = np.concatenate(outputs, axis=2) if len(outputs) > 1 else outputs[0]
    if y_only and c == 3 and data.kind == "rgb" and kind != "interp":
        cbcr = imresize(ycc[..., 1:], size=(oh, ow), method="bicubic")
        result = ycbcr_to_rgb(np.concatenate([result, cbcr], axis=2)).astype(np.float32)
    if np.dtype(data.units.dtype).kind in "ui":
        result = np.clip(result, 0.0, 1.0)
    alpha = None
    if data.alpha is not None:
        alpha = np.clip(imresize(data.alpha, size=(oh, ow), method="bicubic"), 0.0, 1.0)
        alpha = alpha.reshape(oh, ow)
    image = data.with_pixels(result.astype(np.float32), alpha=alpha)
    yield Progress(total, total, "done")
    label = name or type(model).__name__
    precision = _DTYPE_NAMES.get(dtype, str(dtype))
    prov = Provenance(label, native_scale=native_scale(model),
                      resample=resampled[0] if resampled else None, precision=precision,
                      device=str(device), lr_source="input")
    return SRResult(
        image=image, model=label, scale=(oh / data.height, ow / data.width),
        device=str(device), precision=precision,
        seconds=time.perf_counter() - t0, notes=tuple(dict.fromkeys(notes)), provenance=prov,
    )
