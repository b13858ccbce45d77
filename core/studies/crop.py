"""Full vs crop: does a region restore better from the whole image or from a crop around it?

For each model the foreground region is restored (1) from the whole LR image and (2) from LR
crops of the region plus a margin of ``m`` LR pixels on every side (clipped at the image
border), for every ``m`` of ``margins``. The curve of region PSNR against ``m`` ends at the
full image (``x`` = the largest margin that still changes the crop).

The paper's protocol (:data:`PAPER_PRESET`): a 256x256 HR block (64x64 LR input crop) at the
image centre, PSNR on its centre 56x56 LR pixels (224x224 HR at x4), i.e. a region with a
margin of 4 LR pixels; "full better / crop better" is counted per image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..data import ImageData, Region
from ..errors import InputError
from ..jobs import Job, Progress, sub_job
from .common import (StudyOptions, StudyResult, StudyRow, centre_region, named_models,
                     prepare_pair, region_psnr, restore, snap_region)

__all__ = ["CropPreset", "PAPER_PRESET", "DEFAULT_MARGINS", "crop_study", "preset_region"]

#: Margins (LR pixels) of the curve when none are given.
DEFAULT_MARGINS: tuple[int, ...] = (0, 2, 4, 8, 16, 32)


@dataclass(frozen=True)
class CropPreset:
    """A crop protocol in LR pixels: an ``input_size`` square crop, measured on its centre
    ``measure_size`` square; the margin is ``(input_size - measure_size) / 2``."""

    input_size: int = 64
    measure_size: int = 56

    @property
    def margin(self) -> int:
        return (self.input_size - self.measure_size) // 2


#: The seed paper's protocol: 256x256 HR (64x64 LR at x4) crop, PSNR on the centre 56x56.
PAPER_PRESET = CropPreset(64, 56)


def preset_region(hr_hw: tuple[int, int], scale: int,
                  preset: CropPreset = PAPER_PRESET) -> Region:
    """The preset's measured region (HR pixels) at the centre of an ``hr_hw`` image."""
    s = int(scale)
    if hr_hw[0] // s < preset.input_size or hr_hw[1] // s < preset.input_size:
        raise InputError(f"the image ({hr_hw[1]}x{hr_hw[0]}) is smaller than the preset's "
                         f"{preset.input_size * s}x{preset.input_size * s} HR block at x{s}")
    return centre_region(hr_hw, preset.measure_size * s, s)


def crop_study(models: Sequence[Any] | Any, hr: ImageData | np.ndarray,
               region: Region | None = None, margins: Sequence[int] = DEFAULT_MARGINS,
               options: StudyOptions = StudyOptions(), image: str = "") -> Job[StudyResult]:
    """Full-vs-crop study on one HR image; ``region`` (HR pixels) defaults to the paper preset.

    Rows per model: group ``crop`` (settings ``m=<margin>``, ``x`` = margin in LR pixels) and
    group ``full`` (setting ``full``, ``x`` = the margin at which the crop is the whole image).
    """
    nm = named_models(models)
    s = options.scale
    hr_px, lr = prepare_pair(hr, s)
    H, W = hr_px.shape[:2]
    h, w = lr.shape[:2]
    if region is None:
        region = preset_region((H, W), s)
        if PAPER_PRESET.margin not in margins:
            margins = tuple(sorted(set(margins) | {PAPER_PRESET.margin}))
    reg = snap_region(region, s, (H, W))
    margins = sorted({int(m) for m in margins})
    if not margins or margins[0] < 0:
        raise InputError(f"margins must be whole numbers >= 0, got {margins}")
    ry0, rx0 = reg.y // s, reg.x // s
    ry1, rx1 = ry0 + reg.h // s, rx0 + reg.w // s
    full_margin = max(ry0, rx0, h - ry1, w - rx1)
    hr_reg = hr_px[reg.slices()]
    rows: list[StudyRow] = []
    regions: dict[tuple[str, str, str], np.ndarray] = {}
    notes: list[str] = []
    if reg != region:
        notes.append(f"region snapped to the x{s} LR grid: {reg}")
    crops = [m for m in margins if m < full_margin]
    if len(crops) < len(margins):
        notes.append(f"margins >= {full_margin} LR pixels cover the whole image: shown as 'full'")
    total = len(nm) * (1 + len(crops))
    k = 0
    made: dict = {}
    yield Progress(0, total, "full vs crop")
    for name, model in nm:
        sr = yield from sub_job(restore(model, lr, s, options, name, made), k, 1, total,
                                f"{name} full: ")
        k += 1
        full_reg = sr[reg.slices()]
        p_full = region_psnr(full_reg, hr_reg, options.y_channel)
        for m in crops:
            y0, y1 = max(0, ry0 - m), min(h, ry1 + m)
            x0, x1 = max(0, rx0 - m), min(w, rx1 + m)
            out = yield from sub_job(restore(model, lr[y0:y1, x0:x1], s, options, name, made),
                                     k, 1, total, f"{name} m={m}: ")
            k += 1
            oy, ox = (ry0 - y0) * s, (rx0 - x0) * s
            sr_reg = out[oy:oy + reg.h, ox:ox + reg.w]
            rows.append(StudyRow(name, "crop", f"m={m}", float(m),
                                 region_psnr(sr_reg, hr_reg, options.y_channel)))
            if options.keep_regions:
                regions[(name, "crop", f"m={m}")] = sr_reg
            yield Progress(k, total, f"{name} m={m}")
        rows.append(StudyRow(name, "full", "full", float(full_margin), p_full))
        if options.keep_regions:
            regions[(name, "full", "full")] = full_reg
    return StudyResult("crop", image, reg, s, tuple(rows), regions, hr_reg, notes=tuple(notes),
                       provenance=made)
