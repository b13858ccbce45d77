"""The work the window hands to a pool thread, written as core Jobs (plain generators, no Qt).

The controller freezes a request on the GUI thread (:class:`RunRequest`, arrays that are never
mutated afterwards), a :class:`gui.workers.JobWorker` iterates the job on a pool thread, and
results come back as :class:`Step` items: a :class:`core.jobs.Progress` that also carries a
payload (``key``, ``value``), so each model's result is shown as soon as it is ready while the
progress bar keeps moving. Everything here is importable and testable without Qt.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.data import ImageData, Region
from core.engine.memory import available_bytes
from core.engine.run import SROptions, output_size
from core.errors import InputError, SRWError
from core.jobs import Job, Progress, sub_job
from core.session import MetricRow, ModelResult

__all__ = ["Step", "RunRequest", "display_array", "prepare_inputs", "inputs_job", "run_job",
           "metrics_job", "estimate_bytes", "memory_plan", "fmt_metric", "predict_geometry",
           "plan_output", "MemoryPlan"]

#: Share of the free memory a run may plan to use (the engine refuses beyond 0.6 too).
MEMORY_SHARE = 0.6


@dataclass(frozen=True)
class Step(Progress):
    """A Progress that carries a partial result: ``key`` says what ``value`` is."""

    key: str = ""
    value: Any = None


@dataclass(frozen=True)
class RunRequest:
    """Everything a run needs, frozen on the GUI thread."""

    source: ImageData
    attached_hr: ImageData | None
    reference: str                        # none | hr | degrade
    scale: float
    size: tuple[int, int] | None
    models: tuple[tuple[str, str], ...]   # (key: name or checkpoint path, label)
    options: SROptions = SROptions()
    channel: int = 0                      # shown channel of multi-channel data
    prepared: tuple | None = None         # (lr, hr, lr_display, hr_display) already made
    rgb_mode: str = "replicate"           # channel data: how RGB models see the channels

    def inputs_signature(self) -> tuple:
        """What the LR/HR depend on: equal signatures give equal inputs."""
        scale = self.scale if self.reference == "degrade" else None
        hr = self.attached_hr if self.reference == "hr" else None
        return (id(self.source), id(hr), self.reference, scale, self.channel)


# --- display -----------------------------------------------------------------------------

def display_array(data: ImageData, channel: int = 0) -> np.ndarray:
    """What a view shows, as uint8: ``H x W x 3`` for rgb/normals, ``H x W`` otherwise.

    rgb/gray: working range [0, 1] clipped; normals in [-1, 1] are shown as ``(n + 1) / 2``;
    channel data shows one channel (``channel``), in its own [0, 1] working range.
    """
    px = data.pixels
    if data.kind == "normals" and px.shape[2] >= 3:
        a = px[..., :3]
        a = (a + 1.0) * 0.5 if float(np.nanmin(a)) < 0.0 else a
    elif data.kind == "rgb" and px.shape[2] >= 3:
        a = px[..., :3]
    else:
        a = px[..., min(max(0, channel), px.shape[2] - 1)]
    a = np.nan_to_num(a, nan=0.0, posinf=1.0, neginf=0.0)
    return np.ascontiguousarray(np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8))


def _diff(sr: ImageData, hr: ImageData | None) -> tuple[np.ndarray | None, float]:
    """``|SR - HR|`` averaged over channels (working units) and its 99.5th percentile."""
    if hr is None or sr.pixels.shape != hr.pixels.shape:
        return None, 0.0
    px = sr.pixels
    if _channel_data(sr) and _channel_data(hr):   # into the reference's normalisation
        lo_s, hi_s = (np.asarray(v, np.float32) for v in (sr.units.lo, sr.units.hi))
        lo_h, hi_h = (np.asarray(v, np.float32) for v in (hr.units.lo, hr.units.hi))
        span_s = np.where(hi_s > lo_s, hi_s - lo_s, 1).astype(np.float32)
        span_h = np.where(hi_h > lo_h, hi_h - lo_h, 1).astype(np.float32)
        px = (px * span_s + (lo_s - lo_h)) / span_h
    d = np.abs(px - hr.pixels).mean(axis=2).astype(np.float32)
    d = np.nan_to_num(d, nan=0.0)
    return d, float(np.percentile(d, 99.5)) if d.size else 0.0


# --- inputs ------------------------------------------------------------------------------

def prepare_inputs(source: ImageData, attached_hr: ImageData | None, reference: str,
                   scale: float) -> tuple[ImageData, ImageData | None]:
    """``(lr, hr)`` for a reference mode: ``degrade`` makes the LR from the source (the HR,
    cropped to a multiple of a whole-number scale) with the benchmark :func:`degrade`."""
    from core.resize import degrade, modcrop

    if reference == "degrade":
        s = float(scale)
        if _channel_data(source):   # degraded in the data's own units, normalised again
            from core.channel_eval import degrade_channels

            lr = degrade_channels(source, s)
            lr = dataclasses.replace(lr, meta={**source.meta, **lr.meta})  # saved like the input
            hr = source
            if math.isfinite(s) and s == int(s) and modcrop(source.pixels, int(s)).shape != \
                    source.pixels.shape:
                hr = source.with_pixels(np.ascontiguousarray(modcrop(source.pixels, int(s))))
            return lr, hr
        lr_px = degrade(source.pixels, s)
        hr = source
        if math.isfinite(s) and s == int(s):
            cropped = modcrop(source.pixels, int(s))
            if cropped.shape != source.pixels.shape:
                hr = source.with_pixels(np.ascontiguousarray(cropped))
        lr = source.with_pixels(lr_px.reshape(lr_px.shape[0], lr_px.shape[1], -1))
        return lr, hr
    if reference == "hr" and attached_hr is not None:
        if attached_hr.channels != source.channels:
            raise InputError(f"the HR reference has {attached_hr.channels} channels but the "
                             f"input has {source.channels}")
        return source, attached_hr
    return source, None


def _channel_data(data: ImageData) -> bool:
    """Channel data read by the channel loader (its layout and units are known)."""
    from core.channels import ChannelMeta

    return data.kind == "channels" and isinstance(data.meta.get("channels"), ChannelMeta)


def plan_output(lr: ImageData, hr: ImageData | None, scale: float,
                size: tuple[int, int] | None) -> tuple[int, int]:
    """Output ``(H, W)``: the reference's size, else the exact size, else LR x scale."""
    if hr is not None:
        return hr.height, hr.width
    if size is not None:
        return output_size(lr.height, lr.width, size=size)
    return output_size(lr.height, lr.width, scale=scale)


def predict_geometry(src_hw: tuple[int, int], hr_hw: tuple[int, int] | None, reference: str,
                     scale: float, size: tuple[int, int] | None
                     ) -> tuple[tuple[int, int], tuple[int, int]]:
    """``(lr_hw, out_hw)`` of a run, from sizes alone (no pixels are touched)."""
    from core.errors import ScaleError

    h, w = src_hw
    if reference == "degrade":
        s = float(scale)
        if not math.isfinite(s) or s < 1:
            raise ScaleError(f"degrade needs a scale >= 1, got {scale!r}")
        if s == int(s):
            si = int(s)
            if h < si or w < si:
                raise ScaleError(f"a {w}x{h} image is smaller than the scale {si}")
            return (h // si, w // si), (h // si * si, w // si * si)
        lr = (math.floor(h / s + 0.5), math.floor(w / s + 0.5))
        if min(lr) < 1:
            raise ScaleError(f"scale {s:g} shrinks a {w}x{h} image to nothing")
        return lr, (h, w)
    if reference == "hr" and hr_hw is not None:
        return (h, w), tuple(hr_hw)  # type: ignore[return-value]
    if size is not None:
        return (h, w), output_size(h, w, size=size)
    return (h, w), output_size(h, w, scale=scale)


def _inputs(req: RunRequest) -> tuple:
    lr, hr = prepare_inputs(req.source, req.attached_hr, req.reference, req.scale)
    return (lr, hr, display_array(lr, req.channel),
            display_array(hr, req.channel) if hr is not None else None)


def inputs_job(req: RunRequest) -> Job[tuple]:
    """Prepare (and, in degrade mode, make) the LR and HR and their display arrays."""
    yield Progress(0, 1, "preparing the inputs")
    value = _inputs(req)
    yield Step(1, 1, "inputs ready", key="inputs", value=value)
    return value


def run_job(req: RunRequest) -> Job[dict]:
    """Prepare the inputs, then super-resolve with each model in turn.

    Yields ``Step("inputs", (lr, hr, lr_display, hr_display))`` first, then per model either
    ``Step("result", (key, ModelResult))`` or ``Step("error", (key, message))``: one model's
    bad checkpoint does not stop the others. Returns ``{"errors": {key: message}}``.
    """
    from core.engine import super_resolve
    from core.models import load_model

    n = max(1, len(req.models))
    total = 1000 * n + 10
    if req.prepared is not None:          # the inputs on screen are the right ones
        inputs = req.prepared
    else:
        yield Progress(0, total, "preparing the inputs")
        inputs = _inputs(req)
        yield Step(10, total, "inputs ready", key="inputs", value=inputs)
    lr, hr = inputs[0], inputs[1]
    out_hw = plan_output(lr, hr, req.scale, req.size)
    errors: dict[str, str] = {}
    for i, (key, label) in enumerate(req.models):
        start = 10 + 1000 * i
        prefix = f"{label} ({i + 1}/{n}): " if n > 1 else f"{label}: "
        yield Progress(start, total, prefix + "loading")
        try:
            loaded = load_model(key)
            if _channel_data(lr):   # every channel, replicate / groups for RGB models
                from core.channel_sr import super_resolve_channels

                job = super_resolve_channels(loaded.module, lr, size=out_hw,
                                             rgb_mode=req.rgb_mode, options=req.options,
                                             name=label)
            else:
                job = super_resolve(loaded.module, lr, size=out_hw, options=req.options,
                                    name=label)
            res = yield from sub_job(job, start, 1000, total, prefix)
        except SRWError as exc:
            errors[key] = f"{label}: {exc}"
            yield Step(start + 1000, total, f"{label} failed", key="error", value=(key, str(exc)))
            continue
        except MemoryError:
            errors[key] = f"{label}: out of memory"
            yield Step(start + 1000, total, f"{label} failed", key="error",
                       value=(key, "out of memory: try tiles, a smaller scale or a crop"))
            continue
        diff, hi = _diff(res.image, hr)
        mr = ModelResult(label, res, display_array(res.image, req.channel), diff, hi)
        yield Step(start + 1000, total, f"{label} done in {res.seconds:.2f} s",
                   key="result", value=(key, mr))
    return {"errors": errors}


# --- metrics -----------------------------------------------------------------------------

def fmt_metric(value: float, kind: str) -> str:
    """How the table writes a value: PSNR ``%.3f`` dB, SSIM ``%.4f``; ``inf``; ``-`` for nan."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:.3f}" if kind == "psnr" else f"{value:.4f}"


def metrics_job(images: dict[str, tuple[str, ImageData]], hr: ImageData, roi: Region | None,
                y_channel: bool, shave: int, cache: dict) -> Job[list[MetricRow]]:
    """PSNR/SSIM of each SR image against ``hr`` in ``roi`` and on the whole image.

    ``images`` maps key -> (label, SR image). Whole-image values are kept in ``cache`` keyed
    by (image id, y_channel, shave), so moving the ROI recomputes only the region.
    """
    from core.metrics import psnr, region_metrics, ssim

    rows: list[MetricRow] = []
    total = max(1, len(images))
    ref = hr.pixels
    for i, (label, img) in enumerate(images.values()):
        yield Progress(i, total, f"metrics: {label}")
        kw = dict(crop_border=shave, test_y_channel=y_channel and img.channels in (1, 3))
        ck = (id(img), y_channel, shave)
        try:
            if ck not in cache:
                cache[ck] = (psnr(img.pixels, ref, **kw), ssim(img.pixels, ref, **kw))
            full = cache[ck]
            r = region_metrics(img.pixels, ref, roi, **kw) if roi is not None else None
        except SRWError as exc:
            rows.append(MetricRow(label, note=str(exc)))
            continue
        note = "" if kw["test_y_channel"] == y_channel else "RGB (Y needs 1 or 3 channels)"
        rows.append(MetricRow(label, r["psnr"] if r else math.nan, r["ssim"] if r else math.nan,
                              full[0], full[1], note))
    yield Progress(total, total, "metrics done")
    return rows


# --- memory ------------------------------------------------------------------------------

def _find(d: Any, name: str) -> Any:
    if isinstance(d, dict):
        if name in d:
            return d[name]
        for v in d.values():
            found = _find(v, name)
            if found is not None:
                return found
    return None


def estimate_bytes(lr_hw: tuple[int, int], channels: int, out_hw: tuple[int, int],
                   models: list[tuple[str, dict]], tile: int | None,
                   chunk: int = 65536) -> int:
    """A rough upper estimate of the peak memory of a run (bytes).

    ``models``: (kind, hparams) per model; models run one after the other, so the largest
    working set counts once, plus the output buffers (result, display, |diff|) of all.
    """
    h, w = lr_hw
    oh, ow = out_hw
    c = max(3, channels)
    outputs = oh * ow * c * 4 * (3 + len(models))
    work = 0
    for kind, hp in models:
        feats = int(_find(hp, "n_feats") or 64)
        if kind == "interp":
            m = oh * ow * c * 4 * 3
        elif kind == "fixed":
            s = int(_find(hp, "scale") or 4)
            t = tile or 384
            th, tw = min(h, t) + 32, min(w, t) + 32
            m = th * tw * feats * 4 * 6 + th * tw * s * s * (feats + c) * 4 * 2
        else:
            hidden = _find(hp, "hidden_list") or [256]
            hid = int(max(hidden)) if isinstance(hidden, (list, tuple)) and hidden else 256
            block = tile or (None if h * w <= 512 * 512 else 256)
            bh, bw = (h, w) if block is None else (min(h, block) + 84, min(w, block) + 84)
            m = bh * bw * (feats * 4 * 6 + hid * 4 * 2) + min(chunk, oh * ow) * 4 * hid * 4 * 3
        work = max(work, m)
    return int(outputs + work)


@dataclass(frozen=True)
class MemoryPlan:
    needed: int
    free: int
    fits: bool
    tile: int | None = None          # a tile size that would fit (when ``fits`` is False)
    tiled_needed: int = 0


def memory_plan(lr_hw: tuple[int, int], channels: int, out_hw: tuple[int, int],
                models: list[tuple[str, dict]], tile: int | None) -> MemoryPlan:
    """Whether the run fits in free memory; if not, the largest tile size that would."""
    free = available_bytes()
    need = estimate_bytes(lr_hw, channels, out_hw, models, tile)
    if need <= MEMORY_SHARE * free:
        return MemoryPlan(need, free, True, tile)
    for t in (512, 256, 128, 64):
        if tile is not None and t >= tile:
            continue
        tn = estimate_bytes(lr_hw, channels, out_hw, models, t)
        if tn <= MEMORY_SHARE * free:
            return MemoryPlan(need, free, False, t, tn)
    return MemoryPlan(need, free, False, None, 0)
