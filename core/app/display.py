"""What the views show of an image and of a result, as plain arrays and strings (no Qt).

:func:`display_array` turns any :class:`ImageData` into uint8 for a view, :func:`diff_map` makes
the ``|SR - HR|`` map in the reference's units, :func:`fmt_metric` writes a metric value as the
tables do.
"""

from __future__ import annotations

import math

import numpy as np

from core.channels import ChannelMeta
from core.data import ImageData

__all__ = ["display_array", "diff_map", "fmt_metric", "is_channel_data", "best_rows"]


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


def diff_map(sr: ImageData, hr: ImageData | None) -> tuple[np.ndarray | None, float]:
    """``|SR - HR|`` averaged over channels (working units) and its 99.5th percentile."""
    if hr is None or sr.pixels.shape != hr.pixels.shape:
        return None, 0.0
    px = sr.pixels
    if is_channel_data(sr) and is_channel_data(hr):   # into the reference's normalisation
        lo_s, hi_s = (np.asarray(v, np.float32) for v in (sr.units.lo, sr.units.hi))
        lo_h, hi_h = (np.asarray(v, np.float32) for v in (hr.units.lo, hr.units.hi))
        span_s = np.where(hi_s > lo_s, hi_s - lo_s, 1).astype(np.float32)
        span_h = np.where(hi_h > lo_h, hi_h - lo_h, 1).astype(np.float32)
        px = (px * span_s + (lo_s - lo_h)) / span_h
    d = np.abs(px - hr.pixels).mean(axis=2).astype(np.float32)
    d = np.nan_to_num(d, nan=0.0)
    return d, float(np.percentile(d, 99.5)) if d.size else 0.0


def is_channel_data(data: ImageData) -> bool:
    """Channel data read by the channel loader (its layout and units are known)."""
    return data.kind == "channels" and isinstance(data.meta.get("channels"), ChannelMeta)


def fmt_metric(value: float, kind: str) -> str:
    """How the table writes a value: PSNR ``%.3f`` dB, SSIM ``%.4f``; ``inf``; ``-`` for nan."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:.3f}" if kind == "psnr" else f"{value:.4f}"


def best_rows(values: list[float], excluded: list[bool] | None = None,
              higher: bool = True) -> set[int]:
    """Indices of the best finite value(s) of a column (ties all win), leaving out the rows
    ``excluded`` marks (resampled results: not the model's own output at this scale)."""
    keep = [i for i, v in enumerate(values)
            if not (excluded and excluded[i]) and v is not None and math.isfinite(v)]
    if not keep:
        return set()
    best = (max if higher else min)(values[i] for i in keep)
    return {i for i in keep if values[i] == best}
