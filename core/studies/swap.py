"""Background swap and background size sweep: the foreground stays, the background changes.

Composites are made in LR space: the foreground's LR pixels are exactly those of its own image
(the model sees the same foreground input every time) and the rest comes from the background
image, itself brought to the same size (:func:`~.common.fit_background`) and degraded with the
same protocol. PSNR is measured on the foreground against its own HR.

* :func:`swap_study`: the foreground pasted into each background (other images, and the
  image's own flips: ``hflip``, ``vflip``, ``rot180``); ``original`` is the image itself.
* :func:`size_study` (the paper's Fig. 7 protocol): a 16x16 HR foreground at the centre of a
  canvas that reaches ``max(widths)`` HR pixels beyond it; a ring of foreign background of
  width ``w`` either grows from the foreground outwards (``centre``: foreign next to the
  foreground, own background beyond) or from the canvas edges inwards (``edges``: own
  background next to the foreground). ``w = 0`` is the original canvas in both modes, the
  largest ``w`` a fully foreign canvas. The model sees the canvas only.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..data import ImageData, Region
from ..errors import InputError
from ..jobs import Job, Progress, sub_job
from .common import (StudyOptions, StudyResult, StudyRow, centre_region, fit_background,
                     named_models, prepare_pair, quantise, region_psnr, restore, snap_region)

__all__ = ["swap_study", "size_study", "own_flips", "RING_WIDTHS", "RING_MODES", "extremes"]

#: Ring widths (HR pixels) of the paper's Fig. 7 and the two growth directions.
RING_WIDTHS: tuple[int, ...] = (0, 32, 48, 64, 80, 96)
RING_MODES: tuple[str, ...] = ("centre", "edges")
#: The foreground side of the size sweep (HR pixels).
SIZE_FOREGROUND = 16


def own_flips(hr: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The image's own flips as backgrounds: horizontal, vertical and both (= 180 degrees)."""
    return [("hflip", hr[:, ::-1]), ("vflip", hr[::-1, :]), ("rot180", hr[::-1, ::-1])]


def _lr_of(background: np.ndarray, hw: tuple[int, int], scale: int) -> np.ndarray:
    return prepare_pair(fit_background(background, hw), scale)[1]


def extremes(result: StudyResult, model: str) -> tuple[str, str]:
    """``(best, worst)`` background settings of ``model`` in a swap result."""
    rows = [r for r in result.rows if r.model == model]
    best = max(rows, key=lambda r: r.psnr).setting
    worst = min(rows, key=lambda r: r.psnr).setting
    return best, worst


def swap_study(models: Sequence[Any] | Any, hr: ImageData | np.ndarray, region: Region,
               backgrounds: Sequence[tuple[str, np.ndarray]] = (), flips: bool = True,
               options: StudyOptions = StudyOptions(), image: str = "") -> Job[StudyResult]:
    """Region PSNR of the foreground ``region`` (HR pixels) in each background.

    ``backgrounds``: ``(name, HR pixels)`` of other images; ``flips`` adds the image's own
    flips. Rows: group ``background``, one setting per background (``original`` first),
    ``x`` = its index. ``inputs`` holds each composite LR.
    """
    nm = named_models(models)
    s = options.scale
    hr_px, lr = prepare_pair(hr, s)
    H, W = hr_px.shape[:2]
    reg = snap_region(region, s, (H, W))
    ly, lx = reg.slices()
    lr_slices = (slice(reg.y // s, (reg.y + reg.h) // s), slice(reg.x // s, (reg.x + reg.w) // s))
    bgs: list[tuple[str, np.ndarray]] = [("original", lr)]
    for name, bg in list(own_flips(hr_px) if flips else []) + list(backgrounds):
        comp = _lr_of(bg, (H, W), s).copy()
        comp[lr_slices] = lr[lr_slices]
        bgs.append((name, comp))
    names = [n for n, _ in bgs]
    if len(set(names)) != len(names):
        raise InputError(f"background names must differ: {', '.join(names)}")
    if len(bgs) < 2:
        raise InputError("give at least one background (or keep the image's own flips)")
    hr_reg = hr_px[ly, lx]
    rows, regions = [], {}
    total, k = len(nm) * len(bgs), 0
    made: dict = {}
    yield Progress(0, total, "background swap")
    for mname, model in nm:
        for i, (bname, comp) in enumerate(bgs):
            sr = yield from sub_job(restore(model, comp, s, options, mname, made), k, 1, total,
                                    f"{mname} {bname}: ")
            k += 1
            sr_reg = sr[ly, lx]
            rows.append(StudyRow(mname, "background", bname, float(i),
                                 region_psnr(sr_reg, hr_reg, options.y_channel)))
            if options.keep_regions:
                regions[(mname, "background", bname)] = sr_reg
            yield Progress(k, total, f"{mname} {bname}")
    return StudyResult("swap", image, reg, s, tuple(rows), regions, hr_reg,
                       inputs={n: c for n, c in bgs}, provenance=made)


def _ring_mask(n_canvas: int, inner: int, foreign: int, mode: str) -> np.ndarray:
    """Boolean ``n x n`` mask (LR pixels) of the foreign ring around a centred ``inner`` square."""
    pad = (n_canvas - inner) // 2
    yy, xx = np.mgrid[0:n_canvas, 0:n_canvas]
    # Chebyshev distance from the foreground square (0 inside it)
    d = np.maximum(np.maximum(pad - yy, yy - (pad + inner - 1)),
                   np.maximum(pad - xx, xx - (pad + inner - 1)))
    d = np.maximum(d, 0)
    if mode == "centre":
        return (d >= 1) & (d <= foreign)
    if mode == "edges":
        return d > pad - foreign
    raise InputError(f"unknown ring mode {mode!r}; use one of {', '.join(RING_MODES)}")


def size_study(models: Sequence[Any] | Any, hr: ImageData | np.ndarray,
               background: np.ndarray, region: Region | None = None,
               widths: Sequence[int] = RING_WIDTHS, modes: Sequence[str] = RING_MODES,
               options: StudyOptions = StudyOptions(), image: str = "") -> Job[StudyResult]:
    """Background size sweep (HR pixels): foreground ``region`` (default: the centred 16x16),
    a foreign ``background`` ring of each width in ``widths``, for each mode of ``modes``.

    Widths are rounded to whole LR pixels (``x`` holds the width actually used, in HR pixels).
    Rows: group = mode, settings ``w=<width>``. ``inputs`` holds each canvas (LR).
    """
    nm = named_models(models)
    s = options.scale
    hr_px, lr = prepare_pair(hr, s)
    H, W = hr_px.shape[:2]
    reg = snap_region(region or centre_region((H, W), SIZE_FOREGROUND, s), s, (H, W))
    if reg.w != reg.h:
        raise InputError(f"the size sweep needs a square foreground, got {reg.w}x{reg.h}")
    lw = sorted({int(round(w / s)) for w in widths})
    if not lw or lw[0] < 0:
        raise InputError(f"ring widths must be >= 0, got {list(widths)}")
    for m in modes:
        _ring_mask(3, 1, 0, m)                     # validates the mode name
    inner, pad = reg.w // s, lw[-1]
    cy0, cx0 = reg.y // s - pad, reg.x // s - pad
    n = inner + 2 * pad
    if cy0 < 0 or cx0 < 0 or cy0 + n > lr.shape[0] or cx0 + n > lr.shape[1]:
        raise InputError(f"the canvas (foreground + {pad * s} HR pixels on every side) does "
                         f"not fit in the {W}x{H} image; use smaller widths or another region")
    own = lr[cy0:cy0 + n, cx0:cx0 + n]
    foreign = _lr_of(background, (H, W), s)[cy0:cy0 + n, cx0:cx0 + n]
    hr_reg = hr_px[reg.slices()]
    rows, regions, inputs = [], {}, {}
    total, k = len(nm) * len(modes) * len(lw), 0
    made: dict = {}
    yield Progress(0, total, "background size sweep")
    for mname, model in nm:
        for mode in modes:
            for w in lw:
                canvas = np.where(_ring_mask(n, inner, w, mode)[:, :, None], foreign, own)
                canvas = quantise(canvas)
                inputs[f"{mode} w={w * s}"] = canvas
                sr = yield from sub_job(restore(model, canvas, s, options, mname, made), k, 1,
                                        total, f"{mname} {mode} w={w * s}: ")
                k += 1
                sr_reg = sr[pad * s:(pad + inner) * s, pad * s:(pad + inner) * s]
                rows.append(StudyRow(mname, mode, f"w={w * s}", float(w * s),
                                     region_psnr(sr_reg, hr_reg, options.y_channel)))
                if options.keep_regions:
                    regions[(mname, mode, f"w={w * s}")] = sr_reg
                yield Progress(k, total, f"{mname} {mode} w={w * s}")
    return StudyResult("size", image, reg, s, tuple(rows), regions, hr_reg, inputs=inputs,
                       provenance=made)
