"""The LAM and background-study work the window hands to a pool thread (core Jobs, no Qt).

As :mod:`core.app.run`: the controller freezes a request on the GUI thread, the job loads the
models and runs the core algorithm on a pool thread, and partial results come back as
:class:`core.jobs.Step` items. LAM yields one ``Step("lam", (key, LamEntry))`` per model as
soon as its map is ready (one model's failure does not stop the others); a study returns its
:class:`core.studies.StudyResult`. Also the few pure helpers the views show (captions, the
overlay at an opacity, the plot layout of a study, the results table, the CSV rows).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core import studies as st
from core.attribution import LAMOptions, lam
from core.attribution.render import lam_overlay, to_rgb8
from core.data import ImageData, Region
from core.errors import InputError, SRWError
from core.io import load
from core.jobs import Job, Progress, sub_job
from core.studies import StudyOptions, StudyResult, extremes, gains, study_images
from core.studies.mosaic import check_tta_passes

from core.jobs import Step
from core.models import load_model
from core.samples import sample_image

__all__ = ["LamRequest", "LamEntry", "lam_job", "lam_caption", "lam_overlay_rgb",
           "StudyRequest", "study_job", "STUDIES", "STUDY_AXES", "study_table",
           "study_tiles", "study_params", "DEFAULT_BACKGROUND_SAMPLES"]

#: Study name -> what the window calls it.
STUDIES = {"crop": "Full vs crop", "swap": "Background swap", "size": "Background size",
           "mosaic": "Mosaic vs TTA"}
#: Study name -> (x axis label, categorical axis?).
STUDY_AXES = {"crop": ("margin around the region (LR pixels)", False),
              "swap": ("background", True),
              "size": ("foreign background ring width (HR pixels)", False),
              "mosaic": ("method", True)}
#: Bundled samples used as the size sweep's foreign background (the first that is not the
#: image itself) when the user chose none.
DEFAULT_BACKGROUND_SAMPLES = ("coffee", "chelsea")


# --- LAM ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class LamRequest:
    lr: ImageData
    window: Region                        # SR pixels
    out_hw: tuple[int, int]
    models: tuple[tuple[str, str], ...]   # (key, label)
    options: LAMOptions = LAMOptions()


@dataclass(frozen=True)
class LamEntry:
    """One model's LAM result and its SR as shown (uint8 RGB, made on the pool thread)."""

    result: Any                           # core.attribution.LAMResult
    sr_display: np.ndarray


def lam_job(req: LamRequest) -> Job[dict]:
    """LAM of the same window for each model in turn; returns ``{"errors": {key: msg}}``."""
    n = max(1, len(req.models))
    total = 1000 * n
    errors: dict[str, str] = {}
    for i, (key, label) in enumerate(req.models):
        start = 1000 * i
        prefix = f"{label} ({i + 1}/{n}): " if n > 1 else f"{label}: "
        yield Progress(start, total, prefix + "loading")
        try:
            module = load_model(key).module
            job = lam(module, req.lr, req.window, size=req.out_hw, options=req.options,
                      name=label)
            res = yield from sub_job(job, start, 1000, total, prefix)
        except SRWError as exc:
            errors[key] = str(exc)
            yield Step(start + 1000, total, f"{label} failed", key="error", value=(key, str(exc)))
            continue
        except MemoryError:
            errors[key] = "out of memory"
            yield Step(start + 1000, total, f"{label} failed", key="error",
                       value=(key, "out of memory: try a smaller image or scale"))
            continue
        sr = to_rgb8(res.sr.pixels) if res.sr is not None else None
        yield Step(start + 1000, total, f"{label} done in {res.seconds:.1f} s", key="lam",
                   value=(key, LamEntry(res, sr)))
    return {"errors": errors}


def lam_caption(res: Any) -> str:
    """What the window writes under a map: ``DI 12.34   Gini 0.8766   · riemann 50 steps``
    (the indices as the CLI prints them, then how the path integral was evaluated), and
    ``· resampled from x3`` when the model ran at another scale than its own."""
    prov = getattr(res, "provenance", None)
    mark = f"   · resampled from {prov.native_scale}" if prov is not None and prov.resampled \
        else ""
    rule = getattr(res, "rule", "")
    how = (f"   · {rule} {res.steps} steps" + (f" of {res.budget}" if res.steps < res.budget
                                              else "")) if rule else ""
    return f"DI {res.diffusion_index:.2f}   Gini {res.gini:.4f}{how}{mark}"


def lam_overlay_rgb(res: Any, lr: ImageData, alpha: float, window: bool = True) -> np.ndarray:
    """The overlay at the SR size (heat map over the LR, the window drawn in unless
    ``window`` is False): the core's rendering."""
    return lam_overlay(res.map, lr.pixels, res.out_size, alpha, res.window if window else None)


# --- studies -----------------------------------------------------------------------------

@dataclass(frozen=True)
class StudyRequest:
    """One study on the current HR image, frozen on the GUI thread."""

    study: str                            # crop | swap | size | mosaic
    hr: ImageData
    image: str                            # a name for the image (CSV column)
    region: Region | None                 # HR pixels; None = the study's default
    models: tuple[tuple[str, str], ...]   # (key, label)
    options: StudyOptions
    margins: tuple[int, ...] = (0, 2, 4, 8, 16, 32)
    flips: bool = True
    backgrounds: tuple[str, ...] = ()     # swap: image files
    background: str = ""                  # size: an image file ("" = a bundled sample)
    widths: tuple[int, ...] = (0, 32, 48, 64, 80, 96)
    modes: tuple[str, ...] = ("centre", "edges")
    tta_passes: int = 25
    exclude_sample: str | None = None     # the image itself, when it is a bundled sample


def _ints(value: Any, what: str) -> tuple[int, ...]:
    if isinstance(value, str):
        try:
            value = [int(v) for v in value.replace(" ", "").split(",") if v != ""]
        except ValueError:
            raise InputError(f"{what} must be whole numbers separated by commas, got "
                             f"{value!r}") from None
    out = tuple(int(v) for v in value)
    if not out or min(out) < 0:
        raise InputError(f"give at least one {what[:-1]} (whole numbers >= 0)")
    return out


def study_params(params: dict[str, Any]) -> dict[str, Any]:
    """The view's options as :class:`StudyRequest` fields (``"0,4,16"`` -> ``(0, 4, 16)``)."""
    out = dict(params)
    for name, what in (("margins", "margins"), ("widths", "ring widths")):
        if name in out:
            out[name] = _ints(out[name], what)
    for name in ("backgrounds", "modes"):
        if name in out:
            out[name] = tuple(out[name])
    if "tta_passes" in out:
        out["tta_passes"] = check_tta_passes(int(out["tta_passes"]), "the TTA passes")
    return out


def _backgrounds(files: tuple[str, ...], notes: list[str]) -> list[tuple[str, np.ndarray]]:
    """Readable background images, from files and folders (unreadable ones are skipped and
    listed in ``notes``; the run goes on)."""
    paths: list[Path] = []
    for f in files:
        try:
            paths += study_images(f) if Path(f).is_dir() else [Path(f)]
        except SRWError as exc:
            notes.append(f"skipped {Path(f).name}: {exc}")
    out, names = [], set()
    for f in dict.fromkeys(paths):
        try:
            px = load(f).pixels
        except SRWError as exc:
            notes.append(f"skipped background {f.name}: {exc}")
            continue
        name, n = f.stem, 2
        while name in names or name in ("original", "hflip", "vflip", "rot180"):
            name, n = f"{f.stem} ({n})", n + 1
        names.add(name)
        out.append((name, px))
    return out


def _size_background(req: StudyRequest) -> tuple[str, np.ndarray]:
    if req.background:
        return Path(req.background).stem, load(req.background).pixels
    name = next(n for n in DEFAULT_BACKGROUND_SAMPLES if n != req.exclude_sample)
    return f"sample {name}", sample_image(name).pixels


def study_job(req: StudyRequest) -> Job[StudyResult]:
    """Load the models, run the study on the HR image; the result carries extra notes."""
    total = 100 * len(req.models) + 1000
    named = []
    for i, (key, label) in enumerate(req.models):
        yield Progress(100 * i, total, f"loading {label}")
        named.append((label, load_model(key).module))
    notes: list[str] = []
    s, hr = req.options.scale, req.hr.pixels
    if req.study == "crop":
        job = st.crop_study(named, hr, req.region, req.margins, req.options, req.image)
    elif req.study == "swap":
        region = req.region or st.preset_region(hr.shape[:2], s)
        bgs = _backgrounds(req.backgrounds, notes)
        job = st.swap_study(named, hr, region, bgs, req.flips, req.options, req.image)
    elif req.study == "size":
        name, bg = _size_background(req)
        notes.append(f"foreign background: {name}")
        job = st.size_study(named, hr, bg, req.region, req.widths, req.modes, req.options,
                            req.image)
    elif req.study == "mosaic":
        job = st.mosaic_study(named, hr, req.region, req.tta_passes, req.options, req.image)
    else:
        raise InputError(f"unknown study {req.study!r}")
    res = yield from sub_job(job, 100 * len(req.models), 1000, total, f"{STUDIES[req.study]}: ")
    if notes:
        res = dataclasses.replace(res, notes=tuple(res.notes) + tuple(notes))
    return res


def study_table(res: StudyResult) -> tuple[list[str], list[list[str]]]:
    """``(header, rows)``: one row per model, PSNR (dB) per setting, plus the study's summary
    (swap: best/worst background; mosaic: gains of the mosaic over plain and over TTA)."""
    cols = list(dict.fromkeys((r.group, r.setting) for r in res.rows))
    multi = len({g for g, _ in cols}) > 1 and res.study == "size"
    header = ["model"] + [f"{g} {s}" if multi else s for g, s in cols]
    extra: list[str] = []
    if res.study == "swap":
        extra = ["best", "worst"]
    elif res.study == "mosaic":
        extra = ["gain vs plain", "gain vs TTA"]
    rows = []
    for m in res.models:
        vals = {(r.group, r.setting): r.psnr for r in res.rows if r.model == m}
        row = [m] + [_fmt(vals.get(c, math.nan)) for c in cols]
        if res.study == "swap":
            row += list(extremes(res, m))
        elif res.study == "mosaic":
            g = gains(res)[m]
            row += [f"{g[0]:+.2f}", f"{g[1]:+.2f}"]
        rows.append(row)
    return header + extra, rows


def _fmt(v: float) -> str:
    return "-" if v is None or math.isnan(v) else ("inf" if math.isinf(v) else f"{v:.2f}")


def study_tiles(res: StudyResult) -> list[tuple[str, list[tuple[str, np.ndarray, str]]]]:
    """The gallery: ``[(row label, [(caption, uint8 RGB, mark)])]``, the HR region first, then
    one row per model with its restored regions (``mark``: ``best``/``worst`` per model), then
    the study's LR inputs (swap composites, size canvases, the mosaic) if any."""
    rows = [("HR", [(f"HR region {res.region.w}×{res.region.h}", to_rgb8(res.hr_region), "")])]
    for m in res.models:
        mine = [r for r in res.rows if r.model == m]
        best = max(mine, key=lambda r: r.psnr)
        worst = min(mine, key=lambda r: r.psnr)
        tiles = []
        for r in mine:
            px = res.regions.get((r.model, r.group, r.setting))
            if px is None:
                continue
            name = f"{r.group} {r.setting}" if res.study == "size" else r.setting
            mark = "best" if r is best else ("worst" if r is worst and len(mine) > 1 else "")
            tiles.append((f"{name}\n{_fmt(r.psnr)} dB", to_rgb8(px), mark))
        rows.append((m, tiles))
    if res.inputs:           # what the models saw: composites, canvases, the mosaic (LR)
        rows.append(("LR inputs", [(name, to_rgb8(px), "") for name, px in res.inputs.items()]))
    return rows

