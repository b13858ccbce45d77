"""A folder of images in the window: every ticked model on every image, one table.

The run is the CLI ``eval``'s (:func:`core.evaluate.evaluate`, the benchmark protocol: HR
cropped to a multiple of the scale, MATLAB bicubic LR, 8-bit LR and SR, PSNR/SSIM on Y or RGB
with ``shave``), one model after the other, so the table's values are ``main.py eval``'s on the
same folder. With an HR folder the opened folder holds the LR images, matched to the HR files
by name (or the EDSR layout ``X{s}/{stem}x{s}``).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from core.engine.run import SROptions
from core.errors import InputError
from core.evaluate import ImageScore, evaluate, find_images
from core.io.atomic import atomic_path
from core.jobs import Job, Progress, Step, sub_job
from core.models import load_model
from core.provenance import FIELDS as PROVENANCE_FIELDS
from core.provenance import Provenance, weights_digest

__all__ = ["FolderRequest", "FolderTable", "folder_job", "folder_images"]


def folder_images(folder: str | Path) -> list[Path]:
    """The images of ``folder`` by name (what Left/Right step through)."""
    return find_images(folder)


@dataclass(frozen=True)
class FolderRequest:
    """``folder`` (HR images, degraded; or the LR images when ``hr_folder`` is given),
    ``models`` as (key, label), a whole-number ``scale``, the metric options and run options."""

    folder: Path
    models: tuple[tuple[str, str], ...]
    scale: int
    hr_folder: Path | None = None
    y_channel: bool = True
    shave: int | None = None
    options: SROptions = SROptions()

    def __post_init__(self) -> None:
        if not self.models:
            raise InputError("tick at least one model in the Models list")
        if not (float(self.scale) == int(self.scale) and self.scale >= 1):
            raise InputError(f"a folder is evaluated at a whole-number scale (the benchmark "
                             f"protocol), got x{self.scale:g}")


@dataclass
class FolderTable:
    """Per-image x per-model PSNR/SSIM, with each score's provenance."""

    images: list[str]
    models: list[str]
    scores: dict[tuple[str, str], ImageScore] = field(default_factory=dict)
    scale: int = 0

    def value(self, image: str, model: str, metric: str) -> float:
        s = self.scores.get((image, model))
        return math.nan if s is None else float(getattr(s, metric))

    def mean(self, model: str, metric: str) -> float:
        vals = [self.value(i, model, metric) for i in self.images]
        vals = [v for v in vals if math.isfinite(v)]
        return sum(vals) / len(vals) if vals else math.nan

    def rows(self) -> list[dict[str, object]]:
        """One row per (image, model) with the provenance columns (CSV/JSON export)."""
        out = []
        for img in self.images:
            for m in self.models:
                s = self.scores.get((img, m))
                if s is None:
                    continue
                prov = s.provenance.row() if s.provenance else {}
                out.append({"image": img, "model": m, "scale": s.scale,
                            "psnr": round(s.psnr, 4), "ssim": round(s.ssim, 6),
                            **{f: prov.get(f, "") for f in PROVENANCE_FIELDS}})
        return out

    def means(self) -> dict[str, dict[str, float]]:
        return {m: {"psnr": self.mean(m, "psnr"), "ssim": self.mean(m, "ssim")}
                for m in self.models}

    def save(self, path: str | Path) -> Path:
        """``.csv`` (one row per image and model, then a ``mean`` row per model) or
        ``.json`` (rows and means)."""
        out = Path(path)
        rows = self.rows()
        with atomic_path(out) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
            if out.suffix.lower() == ".json":
                json.dump({"scale": self.scale, "rows": rows, "mean": self.means()}, fh,
                          indent=1)
            else:
                fields = ["image", "model", "scale", "psnr", "ssim", *PROVENANCE_FIELDS]
                w = csv.DictWriter(fh, fieldnames=fields)
                w.writeheader()
                w.writerows(rows)
                for m, v in self.means().items():
                    w.writerow({"image": "mean", "model": m, "scale": self.scale,
                                "psnr": round(v["psnr"], 4), "ssim": round(v["ssim"], 6)})
        return out


def folder_job(req: FolderRequest) -> Job[FolderTable]:
    """Each model over the folder in turn (``evaluate``, one progress bar for all); yields
    ``Step("model", label)`` when a model is done and returns the table."""
    hr_files = find_images(req.hr_folder if req.hr_folder is not None else req.folder)
    lr_root = Path(req.folder) if req.hr_folder is not None else None
    table = FolderTable([f.name for f in hr_files], [lb for _k, lb in req.models],
                        scale=int(req.scale))
    n = len(req.models)
    total = 1000 * n
    for i, (key, label) in enumerate(req.models):
        yield Progress(1000 * i, total, f"{label}: loading")
        loaded = load_model(key)
        base = Provenance(label, weights=loaded.source.name if loaded.source else "",
                          sha256=weights_digest(loaded.source))
        scores: list[ImageScore] = []
        job = evaluate(loaded.module, hr_files, [int(req.scale)], y_channel=req.y_channel,
                       shave=req.shave, lr_root=lr_root, options=req.options, name=label,
                       scores=scores, provenance=base)
        yield from sub_job(job, 1000 * i, 1000, total, f"{label} ({i + 1}/{n}): ")
        for s in scores:
            table.scores[(s.name, label)] = s
        yield Step(1000 * (i + 1), total, f"{label} done", key="model", value=label)
    return table
