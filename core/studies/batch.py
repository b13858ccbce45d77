"""Run a study over a folder of images: CSV rows, resumable, with the paper-style summary.

Each finished (image, model) writes its rows to the CSV at once (one ``write`` per image,
flushed), so an interrupted run leaves a valid CSV and a rerun skips what is there. Files that
cannot be read, and images the study cannot use (e.g. smaller than the preset), are skipped
and listed; the run goes on.

CSV columns: ``image, study, model, group, setting, x, psnr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import Cancelled, InputError, SRWError
from ..evaluate import find_images
from ..io import load
from ..scale.rows import RowFile, read_complete
from ..jobs import Job, Progress, sub_job
from .common import StudyResult, named_models

__all__ = ["CSV_FIELDS", "BatchResult", "run_batch", "read_rows", "summarize", "study_images",
           "csv_rows", "open_table"]

#: The measurement columns (the first seven, the format before provenance was recorded) ...
MEASURE_FIELDS = ("image", "study", "model", "group", "setting", "x", "psnr")
#: ... then how the model ran (a resampled model is not its own output at this scale).
MADE_FIELDS = ("native_scale", "resampled", "precision", "device")
CSV_FIELDS = MEASURE_FIELDS + MADE_FIELDS
#: ``study(models, hr_pixels, image_name, index, files) -> Job[StudyResult]``
StudyFn = Callable[[list, np.ndarray, str, int, list[Path]], Job[StudyResult]]


@dataclass
class BatchResult:
    """All rows (resumed and new, as CSV dicts), what was skipped and why, and the results
    computed in this run (for galleries)."""

    rows: list[dict[str, str]]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    results: list[StudyResult] = field(default_factory=list)
    resumed: int = 0


def study_images(path: str | Path) -> list[Path]:
    """One image file, or the images of a folder (sorted); InputError when there are none."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.exists():
        raise InputError(f"{p} does not exist")
    return find_images(p)


def read_rows(csv_path: Path) -> list[dict[str, str]]:
    """Complete rows of an existing study CSV (a cut-off last line is dropped)."""
    return read_complete(Path(csv_path), CSV_FIELDS, accept=(MEASURE_FIELDS,),  # old CSVs
                         valid=lambda r: bool(float(r["psnr"]) or True), what="study")


def _row_key(r: dict[str, str]) -> tuple:
    return (r["image"], r["model"])


def open_table(path: Path, study: str) -> RowFile:
    """The study CSV at ``path``: its complete rows kept (resumed), the file left clean."""
    table = RowFile(path, CSV_FIELDS, _row_key, accept=(MEASURE_FIELDS,),
                    valid=lambda r: bool(float(r["psnr"]) or True), what="study")
    if any(r["study"] != study for r in table.open()):
        raise InputError(f"{path} holds rows of another study; choose another CSV file")
    return table


def csv_rows(res: StudyResult) -> list[dict[str, str]]:
    """A study result as CSV rows (:data:`CSV_FIELDS`): each measurement, and how its model
    ran (from the result's provenance)."""
    out = []
    for r in res.rows:
        made = res.provenance.get(r.model)
        extra = {f: made.row()[f] for f in MADE_FIELDS} if made is not None else \
            dict.fromkeys(MADE_FIELDS, "")
        out.append({"image": res.image, "study": res.study, "model": r.model, "group": r.group,
                    "setting": r.setting, "x": f"{r.x:g}", "psnr": f"{r.psnr:.4f}", **extra})
    return out


def run_batch(study: str, study_fn: StudyFn, files: Sequence[Path], models: Sequence[Any],
              csv_path: str | Path | None = None, keep_results: bool = False) -> Job[BatchResult]:
    """Run ``study_fn`` on every image of ``files`` for every model; returns all rows.

    With ``csv_path``, rows already in the CSV (same study) are kept and their (image, model)
    pairs skipped; new rows are appended image by image.
    """
    nm = named_models(models)
    files = list(files)
    if not files:
        raise InputError("no images to run the study on")
    path = Path(csv_path) if csv_path else None
    table = open_table(path, study) if path is not None else None
    old = table.old if table is not None else []
    done = {(r["image"], r["model"]) for r in old}
    result = BatchResult(rows=list(old), resumed=len(old))
    total = len(files) * 1000
    yield Progress(0, total, f"{study}: {len(files)} image(s)")
    for i, f in enumerate(files):
        todo = [(n, m) for n, m in nm if (f.name, n) not in done]
        if not todo:
            yield Progress((i + 1) * 1000, total, f"{f.name}: already done")
            continue
        try:
            hr = load(f).pixels
            res = yield from sub_job(study_fn(todo, hr, f.name, i, files), i * 1000, 1000, total,
                                     f"[{i + 1}/{len(files)}] {f.name} ")
        except Cancelled:
            raise
        except SRWError as exc:
            result.skipped.append((f.name, str(exc)))
            yield Progress((i + 1) * 1000, total, f"{f.name}: skipped")
            continue
        new = csv_rows(res)
        result.rows.extend(new)
        if keep_results:
            result.results.append(res)
        if table is not None:
            table.append(i, new)
        yield Progress((i + 1) * 1000, total, f"{f.name}: done")
    return result


def _mean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def summarize(study: str, rows: Sequence[dict[str, str]]) -> list[list[str]]:
    """The summary table (header first) of a study's CSV rows, per model:

    * crop: for each margin, images where full is better / crop is better / equal, and the
      mean PSNR of both (the paper's table);
    * swap: mean PSNR with the original background, with the best and the worst background;
    * size: mean PSNR per mode and ring width;
    * mosaic: mean PSNR plain (original), TTA, mosaic (enhanced) and the mean gains.
    """
    by: dict[tuple[str, str], dict[tuple[str, str], float]] = {}
    for r in rows:
        by.setdefault((r["model"], r["image"]), {})[(r["group"], r["setting"])] = float(r["psnr"])
    models = list(dict.fromkeys(r["model"] for r in rows))
    table: list[list[str]] = []
    f2 = "{:.2f}".format
    if study == "crop":
        table.append(["model", "margin", "full better", "crop better", "equal", "PSNR full",
                      "PSNR crop", "images"])
        for m in models:
            imgs = [v for (mm, _), v in by.items() if mm == m]
            margins = sorted({s for v in imgs for (g, s) in v if g == "crop"},
                             key=lambda s: float(s[2:]))
            for s in margins:
                pairs = [(v[("full", "full")], v[("crop", s)]) for v in imgs
                         if ("full", "full") in v and ("crop", s) in v]
                fb = sum(a > b + 1e-9 for a, b in pairs)
                cb = sum(b > a + 1e-9 for a, b in pairs)
                table.append([m, s[2:], str(fb), str(cb), str(len(pairs) - fb - cb),
                              f2(_mean([a for a, _ in pairs])), f2(_mean([b for _, b in pairs])),
                              str(len(pairs))])
    elif study == "swap":
        table.append(["model", "PSNR original", "PSNR best", "PSNR worst", "images"])
        for m in models:
            imgs = [v for (mm, _), v in by.items() if mm == m and v]
            table.append([m, f2(_mean([v.get(("background", "original"), np.nan) for v in imgs])),
                          f2(_mean([max(v.values()) for v in imgs])),
                          f2(_mean([min(v.values()) for v in imgs])), str(len(imgs))])
    elif study == "size":
        table.append(["model", "mode", "width", "mean PSNR", "images"])
        for m in models:
            imgs = [v for (mm, _), v in by.items() if mm == m]
            keys = list(dict.fromkeys(k for v in imgs for k in v))
            for g, s in keys:
                vals = [v[(g, s)] for v in imgs if (g, s) in v]
                table.append([m, g, s[2:], f2(_mean(vals)), str(len(vals))])
    elif study == "mosaic":
        table.append(["model", "PSNR plain (original)", "PSNR TTA", "PSNR mosaic (enhanced)",
                      "gain vs plain", "gain vs TTA", "images"])
        for m in models:
            imgs = [v for (mm, _), v in by.items() if mm == m and len(v) == 3]
            p = [v[("method", "plain")] for v in imgs]
            t = [v[("method", "tta")] for v in imgs]
            o = [v[("method", "mosaic")] for v in imgs]
            table.append([m, f2(_mean(p)), f2(_mean(t)), f2(_mean(o)),
                          f"{_mean(o) - _mean(p):+.2f}", f"{_mean(o) - _mean(t):+.2f}",
                          str(len(imgs))])
    else:
        raise InputError(f"unknown study {study!r}")
    return table
