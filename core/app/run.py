"""The work the window hands to a pool thread, written as core Jobs (plain generators, no Qt).

The controller freezes a request on the GUI thread (:class:`RunRequest`, arrays that are never
mutated afterwards), a worker (:class:`gui.workers.JobWorker`, or the CLI's ``run_sync``) iterates the job on a pool thread, and
results come back as :class:`core.jobs.Step` items: a :class:`core.jobs.Progress` that also carries a
payload (``key``, ``value``), so each model's result is shown as soon as it is ready while the
progress bar keeps moving. Everything here is importable and testable without Qt.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from core.data import ImageData, Region
from core.engine.run import SROptions, SRResult, output_size
from core.errors import InputError, SRWError
from core.jobs import Job, Progress, Step, sub_job
from core.provenance import Provenance, weights_digest
from core.resize import degrade_pair, imresize, modcrop
from core.session import MetricRow, ModelResult

from .display import diff_map, display_array, is_channel_data
from .plan import RunPlan, fits_reference, plan_run

__all__ = ["RunRequest", "prepare_inputs", "inputs_job", "run_job", "metrics_job",
           "predict_geometry", "plan_output"]


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
    resize_reference: bool = False        # resize a reference that does not fit (asked for)
    entries: tuple[Any, ...] = ()         # the models' catalogue entries (plan: native scale)

    def inputs_signature(self) -> tuple:
        """What the LR/HR depend on: equal signatures give equal inputs."""
        scale = self.scale if self.reference in ("degrade", "hr") else None
        hr = self.attached_hr if self.reference == "hr" else None
        return (id(self.source), id(hr), self.reference, scale, self.channel,
                self.resize_reference)

    def plan(self) -> RunPlan:
        """The run plan of this request (geometry, per-model native scale, provenance)."""
        hr = self.attached_hr if self.reference == "hr" else None
        entries = self.entries or (None,) * len(self.models)
        return plan_run((self.source.height, self.source.width), reference=self.reference,
                        hr_hw=(hr.height, hr.width) if hr is not None else None,
                        scale=self.scale, size=self.size, resize_reference=self.resize_reference,
                        hr_name=hr.source.name if hr is not None and hr.source else "",
                        models=tuple((k, lb, e) for (k, lb), e in zip(self.models, entries)))


# --- inputs ------------------------------------------------------------------------------

def prepare_inputs(source: ImageData, attached_hr: ImageData | None, reference: str,
                   scale: float, resize_reference: bool = False
                   ) -> tuple[ImageData, ImageData | None]:
    """``(lr, hr)`` for a reference mode, as :func:`core.app.plan.plan_run` plans them.

    ``degrade`` makes the LR from the source (the HR, cropped to a multiple of a whole-number
    scale) with the benchmark degradation; ``hr`` checks the attached reference against the
    input times ``scale`` (refused with both sizes named unless ``resize_reference``), and
    crops or resizes it as planned."""
    if reference == "degrade":
        s = float(scale)
        if is_channel_data(source):   # degraded in the data's own units, normalised again
            from core.channels import degrade_channels

            lr = degrade_channels(source, s)
            lr = dataclasses.replace(lr, meta={**source.meta, **lr.meta})  # saved like the input
            hr = source
            if math.isfinite(s) and s == int(s) and modcrop(source.pixels, int(s)).shape != \
                    source.pixels.shape:
                hr = source.with_pixels(np.ascontiguousarray(modcrop(source.pixels, int(s))))
            return lr, hr
        hr_px, lr_px = degrade_pair(source.pixels, s)
        hr = source if hr_px.shape == source.pixels.shape else source.with_pixels(hr_px)
        lr = source.with_pixels(lr_px.reshape(lr_px.shape[0], lr_px.shape[1], -1))
        return lr, hr
    if reference == "hr" and attached_hr is not None:
        if attached_hr.channels != source.channels:
            raise InputError(f"the HR reference has {attached_hr.channels} channels but the "
                             f"input has {source.channels}")
        plan = plan_run((source.height, source.width), reference="hr",
                        hr_hw=(attached_hr.height, attached_hr.width), scale=scale,
                        resize_reference=resize_reference)
        oh, ow = plan.out_hw
        if (attached_hr.height, attached_hr.width) == (oh, ow):
            return source, attached_hr
        if fits_reference((source.height, source.width),
                          (attached_hr.height, attached_hr.width), scale):
            return source, attached_hr.with_pixels(
                np.ascontiguousarray(attached_hr.pixels[:oh, :ow]))
        px = imresize(attached_hr.pixels, size=(oh, ow), method="bicubic").astype(np.float32)
        return source, attached_hr.with_pixels(px.reshape(oh, ow, -1))
    return source, None


def plan_output(lr: ImageData, hr: ImageData | None, scale: float,
                size: tuple[int, int] | None) -> tuple[int, int]:
    """Output ``(H, W)``: the (aligned) reference's size, else the exact size, else LR x
    scale."""
    if hr is not None:
        return hr.height, hr.width
    if size is not None:
        return output_size(lr.height, lr.width, size=size)
    return output_size(lr.height, lr.width, scale=scale)


def predict_geometry(src_hw: tuple[int, int], hr_hw: tuple[int, int] | None, reference: str,
                     scale: float, size: tuple[int, int] | None, resize_reference: bool = False
                     ) -> tuple[tuple[int, int], tuple[int, int]]:
    """``(lr_hw, out_hw)`` of a run, from sizes alone (the plan's geometry)."""
    plan = plan_run(src_hw, reference=reference, hr_hw=hr_hw, scale=scale, size=size,
                    resize_reference=resize_reference)
    return plan.lr_hw, plan.out_hw


def _inputs(req: RunRequest) -> tuple:
    lr, hr = prepare_inputs(req.source, req.attached_hr, req.reference, req.scale,
                            req.resize_reference)
    return (lr, hr, display_array(lr, req.channel),
            display_array(hr, req.channel) if hr is not None else None)


def inputs_job(req: RunRequest) -> Job[tuple]:
    """Prepare (and, in degrade mode, make) the LR and HR and their display arrays."""
    yield Progress(0, 1, "preparing the inputs")
    value = _inputs(req)
    yield Step(1, 1, "inputs ready", key="inputs", value=value)
    return value


def with_provenance(res: SRResult, planned: Provenance, weights: Path | None) -> SRResult:
    """``res`` with its full provenance: what the engine measured (native scale, the actual
    resize, precision, device) over what the plan knows (LR source, reference), plus the
    weights file and its digest."""
    ran = res.provenance
    prov = planned.with_(
        weights=weights.name if weights else "", sha256=weights_digest(weights),
        precision=res.precision, device=res.device,
        native_scale=ran.native_scale if ran is not None else planned.native_scale,
        resample=ran.resample if ran is not None else planned.resample)
    return dataclasses.replace(res, provenance=prov)


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
    plan = req.plan()
    errors: dict[str, str] = {}
    for i, (key, label) in enumerate(req.models):
        start = 10 + 1000 * i
        prefix = f"{label} ({i + 1}/{n}): " if n > 1 else f"{label}: "
        yield Progress(start, total, prefix + "loading")
        try:
            loaded = load_model(key)
            if is_channel_data(lr):   # every channel, replicate / groups for RGB models
                from core.channels import super_resolve_channels

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
        res = with_provenance(res, plan.provenance(key, label), loaded.source)
        diff, hi = diff_map(res.image, hr)
        mr = ModelResult(label, res, display_array(res.image, req.channel), diff, hi)
        yield Step(start + 1000, total, f"{label} done in {res.seconds:.2f} s",
                   key="result", value=(key, mr))
    return {"errors": errors}


# --- metrics -----------------------------------------------------------------------------

def metrics_job(images: dict[str, tuple[str, ImageData]], hr: ImageData, roi: Region | None,
                y_channel: bool, shave: int, cache: dict,
                provenance: Mapping[str, Provenance | None] | None = None
                ) -> Job[list[MetricRow]]:
    """PSNR/SSIM of each SR image against ``hr`` in ``roi`` and on the whole image.

    ``images`` maps key -> (label, SR image); ``provenance`` key -> how it was made. Each row
    carries that provenance completed with how it was measured (colour space, shave), and its
    note says it in one line. Whole-image values are kept in ``cache`` keyed by (image id,
    y_channel, shave), so moving the ROI recomputes only the region.
    """
    from core.metrics import psnr, region_metrics, ssim

    rows: list[MetricRow] = []
    total = max(1, len(images))
    ref = hr.pixels
    for i, (key, (label, img)) in enumerate(images.items()):
        yield Progress(i, total, f"metrics: {label}")
        kw = dict(crop_border=shave, test_y_channel=y_channel and img.channels in (1, 3))
        prov = (provenance or {}).get(key) or Provenance(label)
        prov = prov.with_(color="Y (BT.601)" if kw["test_y_channel"] else "RGB", shave=shave)
        ck = (id(img), y_channel, shave)
        try:
            if ck not in cache:
                cache[ck] = (psnr(img.pixels, ref, **kw), ssim(img.pixels, ref, **kw))
            full = cache[ck]
            r = region_metrics(img.pixels, ref, roi, **kw) if roi is not None else None
        except SRWError as exc:
            rows.append(MetricRow(label, note=str(exc), provenance=prov))
            continue
        note = "" if kw["test_y_channel"] == y_channel else "RGB (Y needs 1 or 3 channels)"
        note = " · ".join(n for n in (note, prov.note()) if n)
        rows.append(MetricRow(label, r["psnr"] if r else math.nan, r["ssim"] if r else math.nan,
                              full[0], full[1], note, provenance=prov))
    yield Progress(total, total, "metrics done")
    return rows
