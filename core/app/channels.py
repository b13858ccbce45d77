"""The window's channel-data work, as core Jobs (Qt-free).

* :func:`browse_job` -- what the channel browser shows for one channel: the channel (or its
  magnitude / phase / real / imaginary part) of the LR, of each SR result and of the ground
  truth in the data's own units (:func:`core.channels.stats.channel_view`), one colour range for
  all of them, and the channel's histogram (:func:`core.channels.stats.channel_histogram`).
* :func:`stats_job` -- the per-channel range table (:func:`core.channels.stats.channel_stats`).
* :func:`channel_metrics_job` -- NMSE (dB, own units) and PSNR (normalised) of each result
  against the ground truth, per channel and overall, in the region and on the whole image
  (:func:`core.channels.eval.channel_scores`).
* :func:`plan_job` -- how each ticked model will see the channels (the ``note`` of
  :func:`core.channels.sr.plan_channels`: replicate, or groups of three).
* :func:`finetune_job` -- fine-tune a model on the data itself and write it as a checkpoint
  (:func:`core.channels.finetune.finetune_channels`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.channels import (
    ChannelMeta, channel_histogram, channel_meta, channel_scores, channel_stats, channel_view,
    finetune_channels, folded_labels, histogram, plan_channels,
)
from core.data import ImageData, Region
from core.errors import SRWError
from core.jobs import Job, Progress, sub_job
from core.models import load_model
from core.models.checkpoints import save_checkpoint

from .run import prepare_inputs

__all__ = ["BrowseFrame", "browse_job", "parts_for", "working_index", "stats_job",
           "STATS_COLUMNS", "stats_cells", "ChannelRow", "CHANNEL_COLUMNS", "channel_cells",
           "channel_metrics_job", "plan_job", "fmt", "FinetuneDone", "finetune_job"]

PART_TEXT = {"value": "value", "real": "real part", "imag": "imaginary part", "mag": "magnitude",
             "mag_db": "magnitude (dB)", "phase": "phase (rad)"}


def fmt(v: float, spec: str = ".4g") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return format(v, spec)


def parts_for(data: ImageData) -> list[str]:
    """The views a channel offers: ``value`` for real data; magnitude, magnitude in dB, phase,
    real and imaginary parts for complex data."""
    lay = channel_meta(data).layout
    return ["value"] if lay.complex_mode == "none" else ["mag", "mag_db", "phase", "real", "imag"]


def working_index(data: ImageData, n: int, part: str) -> int | None:
    """The working channel that *is* ``part`` of channel ``n`` (before the complex split), or
    None when the part is derived (e.g. magnitude of real/imaginary channels)."""
    lay = channel_meta(data).layout
    comps = {"none": ("value",), "real_imag": ("real", "imag"), "mag_phase": ("mag", "phase"),
             "mag_db_phase": ("mag_db", "phase")}[lay.complex_mode]
    if part in comps:
        return comps.index(part) * lay.folded + n
    return None


@dataclass(frozen=True, eq=False)
class BrowseFrame:
    """One channel of every data set, ready to display."""

    channel: int
    part: str
    label: str                                  # e.g. "[:, :, 4]"
    arrays: dict[str, np.ndarray] = field(default_factory=dict)   # name -> H x W float32
    levels: tuple[float, float] = (0.0, 1.0)    # common colour range (own units)
    hist: tuple[np.ndarray, np.ndarray] | None = None   # counts, edges (the first data set)
    hist_of: str = ""


def _finite_range(arrays) -> tuple[float, float]:
    lo, hi = math.inf, -math.inf
    for a in arrays:
        v = a[np.isfinite(a)]
        if v.size:
            lo, hi = min(lo, float(v.min())), max(hi, float(v.max()))
    if not math.isfinite(lo):
        return 0.0, 1.0
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def browse_job(datas: dict[str, ImageData], n: int, part: str, bins: int = 64
               ) -> Job[BrowseFrame]:
    """Channel ``n`` (``part``) of each data set (name -> channel data, the first one is the
    input: its histogram is computed). The colour range spans the input and the ground truth
    (``GT``) so that every panel uses the same scale in the data's own units."""
    arrays: dict[str, np.ndarray] = {}
    total = len(datas) + 1
    first = next(iter(datas))
    for i, (name, data) in enumerate(datas.items()):
        yield Progress(i, total, f"channel {n}: {name}")
        arrays[name] = channel_view(data, n, part).astype(np.float32)
    base = [arrays[first]] + ([arrays["GT"]] if "GT" in arrays else [])
    levels = _finite_range(base)
    k = working_index(datas[first], n, part)
    if k is not None:
        hist = channel_histogram(datas[first], k, bins)
    else:
        hist = histogram(arrays[first], bins)
    for a in arrays.values():   # -inf dB of zeros, NaN: drawn at the bottom of the scale
        bad = ~np.isfinite(a)
        if bad.any():
            a[bad] = levels[0]
    label = folded_labels(datas[first])[n]
    yield Progress(total, total, "channel ready")
    return BrowseFrame(n, part, label, arrays, levels, hist, first)


# --- the range table ---------------------------------------------------------------------

STATS_COLUMNS = ("#", "Channel", "Min", "Max", "Mean", "Std", "Range lo", "Range hi", "Zeros",
                 "NaN/Inf", "Note")


def stats_cells(s) -> list[str]:
    """One :class:`core.channels.stats.ChannelStats` as table text (4 significant digits)."""
    note = "constant" if s.constant else ("all zero" if s.zeros == 1.0 else "")
    if isinstance(s.minimum, float) and math.isnan(s.minimum):
        note = "no finite value"
    return [str(s.index), s.label, fmt(s.minimum), fmt(s.maximum), fmt(s.mean), fmt(s.std, ".3g"),
            fmt(s.lo), fmt(s.hi), "-" if math.isnan(s.zeros) else f"{s.zeros:.1%}",
            str(s.nonfinite), note]


def stats_job(data: ImageData) -> Job[tuple[list, str]]:
    """``(rows, spread)``: the table rows and a sentence on how much the ranges differ."""
    yield Progress(0, 1, "channel statistics")
    rows = channel_stats(data)
    spans = [s.maximum - s.minimum for s in rows
             if not math.isnan(s.minimum) and s.maximum > s.minimum]
    spread = ""
    if spans:
        ratio = max(spans) / min(spans)
        spread = (f"{len(rows)} channels; their value ranges differ by a factor of {ratio:.3g} "
                  f"({20 * math.log10(ratio):.1f} dB)")
    yield Progress(1, 1, "statistics ready")
    return rows, spread


# --- metrics -----------------------------------------------------------------------------

CHANNEL_COLUMNS = ("Model", "NMSE ROI (dB)", "PSNR ROI (dB)", "NMSE image (dB)",
                   "PSNR image (dB)", "Note")


@dataclass(frozen=True, eq=False)
class ChannelRow:
    """Scores of one result against the ground truth; ``nmse_db`` per channel (image)."""

    model: str
    roi_nmse: float = math.nan
    roi_psnr: float = math.nan
    nmse: float = math.nan
    psnr: float = math.nan
    note: str = ""
    nmse_db: np.ndarray | None = None
    labels: tuple[str, ...] = ()


def channel_cells(r: ChannelRow) -> list[str]:
    return [r.model, fmt(r.roi_nmse, ".2f"), fmt(r.roi_psnr, ".2f"), fmt(r.nmse, ".2f"),
            fmt(r.psnr, ".2f"), r.note]


def _crop(data: ImageData, roi: Region) -> ImageData:
    """The region of channel data (a new meta dict: the NaN record is of the full size)."""
    meta = dict(data.meta)
    info = meta.get("channels")
    if isinstance(info, ChannelMeta) and info.nonfinite is not None:
        meta["channels"] = dataclasses.replace(info, nonfinite=None)
    return dataclasses.replace(data, pixels=np.ascontiguousarray(data.pixels[roi.slices()]),
                               alpha=None, source=None, meta=meta)


def channel_metrics_job(images: dict[str, tuple[str, ImageData]], gt: ImageData,
                        roi: Region | None, shave: int, cache: dict) -> Job[list[ChannelRow]]:
    """:func:`core.channels.eval.channel_scores` of each result, whole image (cached by result
    identity) and region (no shave inside a region)."""
    rows: list[ChannelRow] = []
    total = max(1, len(images))
    for i, (label, img) in enumerate(images.values()):
        yield Progress(i, total, f"NMSE: {label}")
        ck = ("nmse", id(img), id(gt), shave)
        try:
            if ck not in cache:
                cache[ck] = channel_scores(img, gt, shave=shave)
            full = cache[ck]
            part = None
            if roi is not None:
                part = channel_scores(_crop(img, roi), _crop(gt, roi))
        except SRWError as exc:
            rows.append(ChannelRow(label, note=str(exc)))
            continue
        rows.append(ChannelRow(label, part.nmse_db_all if part else math.nan,
                               part.psnr_all if part else math.nan, full.nmse_db_all,
                               full.psnr_all, "", np.asarray(full.nmse_db),
                               tuple(full.folded_labels)))
    yield Progress(total, total, "metrics done")
    return rows


# --- channel plans -----------------------------------------------------------------------

def plan_job(models: tuple[str, ...], channels: int, rgb_mode: str) -> Job[dict[str, str]]:
    """``{model key: plan note}`` (loads each model to see its input channels)."""
    notes: dict[str, str] = {}
    for i, key in enumerate(models):
        yield Progress(i, len(models), f"checking {key}")
        try:
            notes[key] = plan_channels(load_model(key).module, channels, rgb_mode).note
        except SRWError as exc:
            notes[key] = f"cannot be used: {exc}"
    return notes


# --- fine-tuning on the data -------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class FinetuneDone:
    """A fine-tuned model written to ``path`` (our checkpoint format), from model ``base``."""

    path: str
    base: str
    steps: int
    losses: tuple[float, ...]
    seconds: float


def finetune_job(key: str, label: str, data: ImageData | None, request, options,
                 folder: str) -> Job[FinetuneDone]:
    """Fine-tune model ``key`` on channel data (:func:`core.channels.finetune.finetune_channels`,
    HR patches of the data, LR by ``degrade``) and write the trained copy to
    ``folder/<label> (fine-tuned).pth``, so the catalog lists it and a run loads it.

    ``data`` is the LR the next run super-resolves (the model's input); None: made here from
    ``request`` (a :class:`core.app.run.RunRequest`) as the run would make it.
    """
    total = options.steps + 2
    yield Progress(0, total, f"{label}: loading")
    if data is None:
        data = prepare_inputs(request.source, request.attached_hr, request.reference,
                              request.scale)[0]
    loaded = load_model(key)
    res = yield from sub_job(finetune_channels(loaded.module, data, options), 1, options.steps,
                             total, f"fine-tuning {label}: ")
    yield Progress(total - 1, total, f"{label}: saving the fine-tuned weights")
    safe = "".join(ch if ch.isalnum() or ch in "._-+ ()" else "_" for ch in label) or "model"
    path = Path(folder) / f"{safe} (fine-tuned).pth"
    meta = {"finetuned_from": label, "steps": options.steps,
            "learning_rate": options.learning_rate, "rgb_mode": options.rgb_mode,
            "data": str(data.meta.get("name", "")), "final_l1": res.losses[-1]}
    try:
        if getattr(res.model, "spec", None) is not None:
            save_checkpoint(res.model, path, meta=meta)
        else:
            save_checkpoint(res.model, path, arch=loaded.arch, hparams=loaded.hparams, meta=meta)
    except (OSError, ValueError) as exc:
        raise SRWError(f"cannot write the fine-tuned {label} to {path}: {exc}") from None
    yield Progress(total, total, f"{label} fine-tuned")
    return FinetuneDone(str(path), key, options.steps, tuple(res.losses), res.seconds)
