"""The window's normal-map work, as core Jobs (Qt-free).

When the input is a normal map the compare grid shows, instead of one panel per ticked model,
the normal-map methods: ``LR bicubic`` (the bicubic-upscaled normals, renormalised: the
baseline), ``SR (split)`` (shape/detail split, each part super-resolved, recombined) and
``SR (naive)`` (the encoded map super-resolved directly), all made by
:func:`core.normals.super_resolve_normals`. The ``|difference|`` maps are angular errors in
degrees and the metrics are the photometric-stereo statistics of
:func:`core.normals.angular_error_stats` for the region and the whole map.

The options live in ``SessionState.layout["normals"]`` (saved with sessions): the convention
(y up or down, tangent or camera space), a mask file, the split's sigma, the shape and detail
models (``None`` = :func:`core.models.default_model_name`) and the methods to run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.data import ImageData, Region
from core.engine.device import pick_device
from core.engine.run import SROptions, SRResult
from core.errors import SRWError
from core.io.normals import from_image_data, save_normal_map, to_image_data
from core.jobs import Job, Progress, sub_job
from core.normals import (
    AngularErrorStats, Convention, NormalMap, angular_error_map, angular_error_stats, encode,
    fill_masked, resize_mask, split, super_resolve_normals,
)
from core.provenance import Provenance
from core.resize import imresize
from core.session import ModelResult

from .run import Step, display_array, plan_output, predict_geometry

__all__ = ["METHOD_KEYS", "DEFAULTS", "options", "convention", "normal_keys", "NormalsResult",
           "NormalsRequest", "normals_io", "normals_run_job", "AngularRow", "ANGULAR_COLUMNS",
           "angular_cells", "angular_metrics_job", "decode_source", "NOT_NORMALS_HINT",
           "PART_NAMES", "NormalParts", "parts_job", "parts_paths", "save_parts_job"]

#: method -> the result key (and panel title), in display order.
METHOD_KEYS: dict[str, str] = {"bicubic": "LR bicubic", "split": "SR (split)",
                               "naive": "SR (naive)"}
DEFAULTS: dict[str, Any] = {"y_up": True, "space": "camera", "mask": None, "sigma": 3.0,
                            "shape_model": None, "detail_model": None,
                            "methods": ["bicubic", "split", "naive"]}
#: Part of the loader's warning for maps whose vectors are far from unit length (a photo).
NOT_NORMALS_HINT = "looks like an ordinary image"


def options(layout: dict) -> dict[str, Any]:
    """The normal-map options of a session layout, with defaults filled in."""
    got = layout.get("normals") if isinstance(layout.get("normals"), dict) else {}
    out = {**DEFAULTS, **{k: v for k, v in got.items() if k in DEFAULTS}}
    out["methods"] = [m for m in METHOD_KEYS if m in (out["methods"] or [])]
    return out


def convention(opts: dict) -> Convention:
    return Convention(y_up=bool(opts["y_up"]), space=str(opts["space"]))


def normal_keys(opts: dict) -> list[str]:
    """The result keys a run makes (the grid's panels), in display order."""
    return [METHOD_KEYS[m] for m in opts["methods"]]


def decode_source(data: ImageData, mask: str | None, conv: Convention) -> NormalMap:
    """The opened file as unit normals (the mask file, alpha or zero-length normals masked)."""
    return from_image_data(data, mask=mask or None, convention=conv)


@dataclass(frozen=True)
class NormalsResult(ModelResult):
    """A grid result that also keeps the normal map and how it was made."""

    normals: Any = None          # core.normals.NormalSRResult


@dataclass(frozen=True, eq=False)
class NormalsRequest:
    """A normal-map run, frozen on the GUI thread."""

    source: NormalMap                     # the opened file, decoded
    hr_file: NormalMap | None             # the attached HR reference, decoded (mode "hr")
    reference: str                        # none | hr | degrade
    scale: float
    size: tuple[int, int] | None
    methods: tuple[str, ...]
    sigma: float = 3.0
    shape_model: str | None = None
    detail_model: str | None = None
    options: SROptions = SROptions()


def _crop(n: NormalMap, h: int, w: int) -> NormalMap:
    if n.shape == (h, w):
        return n
    return NormalMap(np.ascontiguousarray(n.normals[:h, :w]), n.mask[:h, :w].copy(),
                     n.convention, n.warnings, n.meta)


def normals_io(req: NormalsRequest) -> tuple[NormalMap, NormalMap | None]:
    """``(lr, hr)`` normal maps for the reference mode; ``degrade`` makes the LR from the
    (modcropped) input by bicubic resizing of the filled vectors and the mask, like
    :func:`core.normals.downsample_normals`."""
    src = req.source
    if req.reference == "degrade":
        lr_hw, out_hw = predict_geometry(src.shape, None, "degrade", req.scale, None)
        hr = _crop(src, *out_hw)
        v = imresize(fill_masked(hr), size=lr_hw, method="bicubic")
        return hr.with_normals(v, resize_mask(hr.mask, lr_hw)), hr
    if req.reference == "hr" and req.hr_file is not None:
        return src, req.hr_file
    return src, None


def _job(req: NormalsRequest, method: str, lr: NormalMap, out_hw: tuple[int, int]):
    if method == "bicubic":
        return super_resolve_normals(lr, size=out_hw, method="naive", shape_model="bicubic",
                                     options=req.options)
    if method == "split":
        return super_resolve_normals(lr, size=out_hw, sigma=req.sigma, method="split",
                                     shape_model=req.shape_model, detail_model=req.detail_model,
                                     options=req.options)
    return super_resolve_normals(lr, size=out_hw, method="naive", shape_model=req.shape_model,
                                 options=req.options)


def _result(key: str, res, hr: NormalMap | None, device: str) -> NormalsResult:
    image = to_image_data(res.normals, bits=None)
    models = res.models[0] if res.models[0] == res.models[1] else " / ".join(res.models)
    notes = (f"{res.method} with {models}" + (f", sigma {res.sigma:g}" if res.method == "split"
                                              else ""),) + tuple(res.notes)
    prov = Provenance(key, native_scale="any", device=device,
                      lr_source=f"normal map, {notes[0]}")
    sr = SRResult(image=image, model=key, scale=res.scale, device=device, precision="",
                  seconds=res.seconds, notes=notes, provenance=prov)
    diff, hi = None, 0.0
    if hr is not None and hr.shape == res.normals.shape:
        err = angular_error_map(res.normals, hr)
        ok = np.isfinite(err)
        hi = float(np.percentile(err[ok], 99.5)) if ok.any() else 0.0
        diff = np.where(ok, err, 0.0).astype(np.float32)
    return NormalsResult(key, sr, display_array(image), diff, hi, normals=res)


def normals_run_job(req: NormalsRequest) -> Job[dict]:
    """Each method in turn: ``Step("io", (lr, hr))`` first, then per method
    ``Step("result", (key, NormalsResult))`` or ``Step("error", (key, message))``."""
    lr, hr = normals_io(req)
    yield Step(0, 1, "normal maps ready", key="io", value=(lr, hr))
    if hr is not None:
        out_hw = hr.shape
    else:
        probe = ImageData(np.zeros((lr.shape[0], lr.shape[1], 3), np.float32), kind="normals")
        out_hw = plan_output(probe, None, req.scale, req.size)
    device = pick_device(req.options.device).type
    n = max(1, len(req.methods))
    total = 1000 * n
    errors: dict[str, str] = {}
    for i, method in enumerate(req.methods):
        key = METHOD_KEYS[method]
        start = 1000 * i
        yield Progress(start, total, f"{key}: starting")
        try:
            res = yield from sub_job(_job(req, method, lr, out_hw), start, 1000, total,
                                     f"{key} ({i + 1}/{n}): ")
        except (SRWError, MemoryError) as exc:
            msg = str(exc) if isinstance(exc, SRWError) else "out of memory"
            errors[key] = msg
            yield Step(start + 1000, total, f"{key} failed", key="error", value=(key, msg))
            continue
        yield Step(start + 1000, total, f"{key} done in {res.seconds:.2f} s", key="result",
                   value=(key, _result(key, res, hr, device)))
    return {"errors": errors}


# --- metrics -----------------------------------------------------------------------------

ANGULAR_COLUMNS = ("Model", "Region", "Mean (°)", "Median (°)", "< 5° (%)", "< 11.25° (%)",
                   "< 22.5° (%)", "< 30° (%)", "Pixels", "Note")


@dataclass(frozen=True)
class AngularRow:
    """Angular error of one result in one region (``ROI`` or ``image``) against the GT."""

    model: str
    region: str
    stats: AngularErrorStats | None = None
    note: str = ""


def _fmt(v: float, digits: int) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def angular_cells(row: AngularRow) -> list[str]:
    """The table's text of a row: degrees with 3 decimals, shares (%) with 2."""
    s = row.stats
    if s is None:
        return [row.model, row.region] + ["-"] * 7 + [row.note]
    return [row.model, row.region, _fmt(s.mean, 3), _fmt(s.median, 3), _fmt(s.under_5, 2),
            _fmt(s.under_11_25, 2), _fmt(s.under_22_5, 2), _fmt(s.under_30, 2), str(s.pixels),
            row.note]


def angular_metrics_job(maps: dict[str, tuple[str, NormalMap]], gt: NormalMap,
                        roi: Region | None, cache: dict) -> Job[list[AngularRow]]:
    """Statistics of each map against ``gt`` in ``roi`` and on the whole map (the whole-map
    values are cached by map identity, so moving the region recomputes only the region)."""
    rows: list[AngularRow] = []
    total = max(1, len(maps))
    for i, (label, nmap) in enumerate(maps.values()):
        yield Progress(i, total, f"angular error: {label}")
        ck = ("angular", id(nmap), id(gt))
        try:
            if ck not in cache:
                cache[ck] = angular_error_stats(nmap, gt)
            whole = AngularRow(label, "image", cache[ck])
        except SRWError as exc:
            whole = AngularRow(label, "image", None, str(exc))
        if roi is not None:
            try:
                rows.append(AngularRow(label, "ROI", angular_error_stats(nmap, gt, region=roi)))
            except SRWError as exc:
                rows.append(AngularRow(label, "ROI", None, str(exc)))
        rows.append(whole)
    yield Progress(total, total, "metrics done")
    return rows


# --- shape / detail parts of the opened map (the "Normal parts" tab) ----------------------------

#: The images of the parts tab, in display order.
PART_NAMES = ("input", "shape", "detail")


@dataclass(frozen=True, eq=False)
class NormalParts:
    """The split of the opened map: ``images`` holds the encoded ``(n + 1) / 2`` float32
    ``H x W x 3`` images in [0, 1] of ``input``, ``shape`` and ``detail``."""

    source: NormalMap
    sigma: float
    split: Any                   # core.normals.Split
    images: dict


def parts_job(nmap: NormalMap, sigma: float) -> Job[NormalParts]:
    """Split ``nmap`` (:func:`core.normals.split`) and encode the parts as images."""
    yield Progress(0, 3, f"splitting (sigma {sigma:g} px)")
    parts = split(nmap, sigma)
    yield Progress(2, 3, "encoding")
    images = {"input": encode(nmap), "shape": encode(parts.shape), "detail": encode(parts.detail)}
    yield Progress(3, 3, "parts ready")
    return NormalParts(nmap, parts.sigma, parts, images)


def parts_paths(folder, stem: str) -> dict:
    """``{"shape": folder/STEM_shape.png, "detail": ...}``, the names ``normals split`` uses."""
    return {k: Path(folder) / f"{stem}_{k}.png" for k in ("shape", "detail")}


def save_parts_job(nmap: NormalMap, sigma: float, parts: NormalParts | None, paths: dict,
                   bits: int, overwrite: bool = False) -> Job[dict]:
    """Write the shape and detail parts as ``bits``-bit PNGs with
    :func:`core.io.normals.save_normal_map` (atomic; never over the input). ``parts`` is reused
    when it is the split of ``nmap`` at ``sigma``, else the split is made here."""
    if parts is None or parts.source is not nmap or parts.sigma != float(sigma):
        parts = yield from sub_job(parts_job(nmap, sigma), 0, 1, 3)
    out = {}
    for i, key in enumerate(("shape", "detail")):
        yield Progress(1 + i, 3, f"writing {paths[key].name}")
        out[key] = save_normal_map(getattr(parts.split, key), paths[key], bits=bits,
                                   overwrite=overwrite)
    yield Progress(3, 3, "saved")
    return out
