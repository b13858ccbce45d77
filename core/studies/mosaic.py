"""Self-similar mosaic augmentation vs test-time augmentation (TTA).

The foreground (a square of LR pixels) is restored three ways and measured on its HR:

* ``plain``: the LR region alone, one pass;
* ``tta``: the 8 flips/rotations of the region, each restored and transformed back, averaged
  as ``tta_passes`` passes would (pass ``k`` uses transform ``k mod 8``; 25 passes = the
  mosaic's compute, the mosaic being 25 regions large). Each distinct transform is computed
  once and weighted by its pass count: the same result for deterministic models;
* ``mosaic``: a 5x5 mosaic of the region (centre), its horizontal/vertical flips, its 90/180/
  270 degree rotations and its x2/x4 nearest-neighbour zooms (centre crops of the enlarged
  region), restored once; the centre tile is measured.

The gain of the mosaic over plain and over TTA is :func:`gains`.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..data import ImageData, Region
from ..errors import InputError
from ..jobs import Job, Progress, sub_job
from .common import (StudyOptions, StudyResult, StudyRow, centre_region, named_models,
                     prepare_pair, region_psnr, restore, snap_region)

__all__ = ["mosaic_study", "make_mosaic", "gains", "VARIANTS", "DIHEDRAL", "DEFAULT_REGION_LR"]

#: Default foreground side in LR pixels (128x128 HR at x4): the mosaic is 5x larger per side.
DEFAULT_REGION_LR = 32


def _zoom(t: np.ndarray, f: int) -> np.ndarray:
    n = t.shape[0]
    big = np.repeat(np.repeat(t, f, axis=0), f, axis=1)
    o = (n * f - n) // 2
    return big[o:o + n, o:o + n]


#: The mosaic's tile variants of an ``n x n (x C)`` region.
VARIANTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda t: t,
    "hflip": lambda t: t[:, ::-1],
    "vflip": lambda t: t[::-1, :],
    "rot90": lambda t: np.rot90(t, 1),
    "rot180": lambda t: np.rot90(t, 2),
    "rot270": lambda t: np.rot90(t, 3),
    "zoom2": lambda t: _zoom(t, 2),
    "zoom4": lambda t: _zoom(t, 4),
}
#: The 8 flip/rotation transforms of TTA: ``(forward, inverse)`` on ``H x W x C`` arrays.
DIHEDRAL: list[tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = [
    (lambda a, k=k, f=f: np.rot90(a[:, ::-1] if f else a, k),
     lambda a, k=k, f=f: (np.rot90(a, -k)[:, ::-1] if f else np.rot90(a, -k)))
    for f in (False, True) for k in range(4)
]
#: Order in which the 24 outer tiles cycle through the variants (neighbours differ).
_TILE_ORDER = ("hflip", "vflip", "rot90", "zoom2", "rot180", "rot270", "zoom4", "identity")


def make_mosaic(tile: np.ndarray) -> np.ndarray:
    """The 5x5 self-similar mosaic of a square ``n x n x C`` LR tile (centre = the tile)."""
    n = tile.shape[0]
    if tile.shape[1] != n:
        raise InputError(f"the mosaic needs a square region, got {tile.shape[1]}x{n}")
    rows, k = [], 0
    for i in range(5):
        row = []
        for j in range(5):
            if (i, j) == (2, 2):
                row.append(tile)
            else:
                row.append(VARIANTS[_TILE_ORDER[k % len(_TILE_ORDER)]](tile))
                k += 1
        rows.append(np.concatenate(row, axis=1))
    return np.ascontiguousarray(np.concatenate(rows, axis=0))


def gains(result: StudyResult) -> dict[str, tuple[float, float]]:
    """Per model: ``(mosaic - plain, mosaic - tta)`` in dB."""
    out = {}
    for m in result.models:
        mos = result.psnr(m, "mosaic")
        out[m] = (mos - result.psnr(m, "plain"), mos - result.psnr(m, "tta"))
    return out


#: The most TTA passes a study takes. The 8 flips/rotations are each computed once whatever
#: the count, which only sets their weights (pass ``k`` uses transform ``k mod 8``); from here
#: on the weights are within 0.1% of equal, so a larger count changes nothing measurable.
MAX_TTA_PASSES = 10_000


def check_tta_passes(n: int, what: str = "tta_passes") -> int:
    """``n`` if it is a whole number in ``1..MAX_TTA_PASSES``, else InputError (``what``
    names the option in the message)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) \
            or not 1 <= n <= MAX_TTA_PASSES:
        raise InputError(f"{what} must be at least 1 and at most {MAX_TTA_PASSES}, got {n!r} "
                         f"(the 8 flips/rotations are computed once each; the passes only "
                         f"weight them, and beyond {MAX_TTA_PASSES} the weights are equal "
                         f"within 0.1%)")
    return int(n)


def mosaic_study(models: Sequence[Any] | Any, hr: ImageData | np.ndarray,
                 region: Region | None = None, tta_passes: int = 25,
                 options: StudyOptions = StudyOptions(), image: str = "") -> Job[StudyResult]:
    """Plain vs TTA vs mosaic on the square ``region`` (HR pixels; default: the centred
    :data:`DEFAULT_REGION_LR` LR pixels). Rows: group ``method``, settings ``plain``, ``tta``,
    ``mosaic`` (``x`` = 0, 1, 2). ``inputs['mosaic']`` is the mosaic (LR)."""
    nm = named_models(models)
    s = options.scale
    tta_passes = check_tta_passes(tta_passes)
    hr_px, lr = prepare_pair(hr, s)
    H, W = hr_px.shape[:2]
    if region is None:
        side = min(DEFAULT_REGION_LR, lr.shape[0], lr.shape[1]) * s
        region = centre_region((H, W), side, s)
    reg = snap_region(region, s, (H, W))
    if reg.w != reg.h:
        raise InputError(f"the mosaic needs a square region, got {reg.w}x{reg.h}")
    n = reg.w // s
    tile = lr[reg.y // s:reg.y // s + n, reg.x // s:reg.x // s + n]
    mosaic = make_mosaic(tile)
    counts = [len(range(k, tta_passes, 8)) for k in range(8)]
    used = [k for k in range(8) if counts[k] > 0]
    hr_reg = hr_px[reg.slices()]
    rows, regions = [], {}
    total, k = len(nm) * (2 + len(used)), 0
    made: dict = {}
    yield Progress(0, total, "mosaic vs TTA")
    for mname, model in nm:
        def run(x: np.ndarray, what: str):
            return sub_job(restore(model, np.ascontiguousarray(x), s, options, mname, made), k, 1,
                           total, f"{mname} {what}: ")

        plain = yield from run(tile, "plain")
        k += 1
        acc = np.zeros_like(plain, dtype=np.float64)
        for t in used:
            fwd, inv = DIHEDRAL[t]
            out = yield from run(fwd(tile), f"tta {t + 1}/8")
            k += 1
            acc += counts[t] * inv(out)
        tta = (np.round(np.clip(acc / tta_passes, 0, 1) * 255) / 255).astype(np.float32)
        mos = yield from run(mosaic, "mosaic")
        k += 1
        mos_reg = mos[2 * n * s:3 * n * s, 2 * n * s:3 * n * s]
        for i, (setting, px) in enumerate((("plain", plain), ("tta", tta), ("mosaic", mos_reg))):
            rows.append(StudyRow(mname, "method", setting, float(i),
                                 region_psnr(px, hr_reg, options.y_channel)))
            if options.keep_regions:
                regions[(mname, "method", setting)] = px
        yield Progress(k, total, f"{mname} done")
    notes = (f"TTA: the region under each of the 8 flips/rotations, averaged with the weights "
             f"of {tta_passes} passes (the mosaic's compute: 25 regions)",)
    return StudyResult("mosaic", image, reg, s, tuple(rows), regions, hr_reg,
                       inputs={"mosaic": mosaic}, notes=notes, provenance=made)
