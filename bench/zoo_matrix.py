"""The zoo consistency matrix: every bundled model at every benchmark scale, Y-PSNR.

    python -m bench.zoo_matrix [--datasets Set5,Set14,B100] [--scales 2,3,4]
        [--models bicubic,edsr_baseline_x4,...] [--quick] [--json OUT] [--markdown]
        [--cache bench/results/zoo_matrix.jsonl] [--table-only] [--data-root DIR]

Rows: the bicubic baseline and each bundled model (``resources/weights/*.pth``; the catalog's
names) except those not made for photographs (:data:`NOT_PHOTOGRAPHS`). Columns: dataset x
scale. Each cell is the mean Y-PSNR of the benchmark protocol, the one of ``main.py eval ...
--y --precision fp32`` (:func:`core.evaluate.evaluate`: HR cropped to a multiple of the scale,
MATLAB-bicubic LR rounded to 8 bit, SR clipped and rounded to 8 bit, border of ``scale``
pixels shaved). A fixed-scale model asked for a scale it does not have runs at its own and its
output is resized with bicubic (the run plan's rule, done by the engine), and the cell says so
from the score's :class:`core.provenance.Provenance`.

Marks: ``*`` the best of the column (ties share it); ``r`` RESAMPLED (the model's own output
resized with bicubic); ``u`` a scale the model does not claim but runs at without a resize
(SRCNN x3 at x2 is still its bicubic-upscaled input, just not what it was trained for);
``!`` an INVERSION: at a scale the model claims, a model running *off* its claimed scales
(resampled, or unclaimed) or the bicubic baseline beats it by more than
:data:`bench.zoo_table.TOLERANCE_DB` (``edsr_baseline_x3`` resized to x4 over the native
``edsr_baseline_x4``). A model that loses to another model at that model's own scale is
ranked, not inverted (FSRCNN x4 under EDSR x4: fewer parameters, not a broken model); the
JSON lists those as ``outranked``. A model card (``resources/weights/NAME.md``) explains an
inversion with a line ``Known inversion: at x4, WINNER resized beats this model ... Why: ...``
(:func:`bench.zoo_table.card_explanation`); ``tests/test_zoo_matrix.py`` (slow) fails on every other one.

Every per-image score is appended to ``--cache`` (one JSON line keyed by the weight file's
SHA-256 digest, the dataset, the image, the scale and the protocol) as soon as it is
measured: a re-run after one model was retrained only measures that model, and Ctrl-C (exit
130) keeps what was measured. ``--table-only`` prints the matrix from the cache alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from bench._cache import append_jsonl, read_jsonl
from bench.zoo_table import TOLERANCE_DB, Cell, Matrix, build_matrix, format_matrix
from core.errors import SRWError
from core.jobs import run_sync
from core.provenance import Provenance, weights_digest

ROOT = Path(__file__).resolve().parents[1]
DATA_ROOT = ROOT.parent / "shared" / "datasets" / "benchmark"
DEFAULT_CACHE = ROOT / "bench" / "results" / "zoo_matrix.jsonl"
DATASETS = ("Set5", "Set14", "B100")
BENCH_SCALES = (2, 3, 4)
BASELINE = "bicubic"
#: The protocol's name in the cache key: a change of protocol never mixes with older scores.
PROTOCOL = "eval --y --precision fp32 (matlab bicubic LR, shave = scale)"
#: Bundled models left out of the matrix, and why (they claim no scale on photographs).
NOT_PHOTOGRAPHS = {
    "liif_normals_detail": "fine-tuned on encoded detail normal maps, not on photographs",
}


def matrix_json(m: Matrix, claims: dict[str, str], weights: dict[str, str]) -> dict[str, Any]:
    return {"protocol": PROTOCOL, "tolerance_db": TOLERANCE_DB,
            "models": [{"name": n, "claims": claims.get(n, ""), "weights": weights.get(n, "")}
                       for n in m.models],
            "columns": [{"dataset": d, "scale": s} for d, s in m.columns],
            "cells": [asdict(c) | {"best": c.model in m.best.get((c.dataset, c.scale), [])}
                      for c in m.cells.values()],
            "inversions": [asdict(i) for i in m.inversions],
            "outranked": [asdict(i) for i in m.outranked]}


# ---------------------------------------------------------------------------------------------
# The models and their claims
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ZooModel:
    name: str
    entry: Any                    # core.models.ModelEntry
    claims: tuple[int, ...]       # benchmark scales it claims (() for the baseline)
    weights: str                  # cache key of the weights: "name.pth:sha256[:12]" or the name

    @property
    def claims_text(self) -> str:
        return "baseline" if self.entry.kind == "interp" else ",".join(f"x{s}" for s in self.claims)


def claimed_scales(entry: Any, scales: Iterable[int] = BENCH_SCALES) -> tuple[int, ...]:
    """The benchmark ``scales`` a catalog entry claims: its fixed scales; else the scale it
    was trained for (SRCNN x3 runs at any scale on a pre-upsampled input, but claims x3);
    else all of them (arbitrary-scale models, VDSR). Interpolation baselines claim none."""
    scales = tuple(scales)
    if entry.kind == "interp":
        return ()
    if entry.scales:
        return tuple(s for s in scales if s in entry.scales)
    s = entry.hparams.get("scale")
    if isinstance(s, int) and s > 0:
        return tuple(x for x in scales if x == s)
    return scales


def zoo_models(names: list[str] | None = None, scales: Iterable[int] = BENCH_SCALES
               ) -> list[ZooModel]:
    """The bicubic baseline and the bundled models (or ``names``: catalog names or files)."""
    # lazy: core.models loads torch; the matrix logic and --help do without it
    from core.models import WEIGHTS_DIR, list_models, resolve

    if names:
        entries = [resolve(n) for n in names]
    else:
        entries = [e for e in list_models() if e.name == BASELINE or (
            e.weights is not None and Path(e.weights).parent == WEIGHTS_DIR
            and e.name not in NOT_PHOTOGRAPHS)]
    out = []
    for e in entries:
        digest = weights_digest(e.weights) if e.weights else ""
        key = f"{Path(e.weights).name}:{digest}" if digest else e.name
        out.append(ZooModel(e.name, e, claimed_scales(e, sorted({*BENCH_SCALES, *scales})),
                            key))
    return out


# ---------------------------------------------------------------------------------------------
# Measuring (core.evaluate), with the per-image cache
# ---------------------------------------------------------------------------------------------

def _key(r: dict) -> tuple:
    return (r["weights"], r["dataset"], r["image"], r["scale"], r["protocol"])


def measure_cells(models: list[ZooModel], datasets: list[str], scales: list[int], *,
                  data_root: Path = DATA_ROOT, cache: Path | None = DEFAULT_CACHE,
                  measure: bool = True, run=None, log=None) -> list[Cell]:
    """The cells of ``models`` x ``datasets`` x ``scales``, dataset by dataset (Set5 first),
    measuring what ``cache`` lacks with :func:`core.evaluate.evaluate` (fp32, Y, MATLAB
    bicubic) and appending each image's score as soon as it is known.

    ``run(job, desc, on_progress)`` drives an evaluation job (default: :func:`run_sync`);
    ``log(text)`` reports each finished cell. ``measure=False`` reads the cache only.
    """
    # lazy: torch (engine, evaluation, models) only when cells are measured
    from core.engine import SROptions
    from core.evaluate import evaluate, find_images
    from core.models import load_model

    if run is None:
        run = lambda job, desc, on_progress: run_sync(job, on_progress=on_progress)  # noqa
    known = read_jsonl(cache, _key) if cache else {}
    loaded: dict[str, Any] = {}
    cells = []
    for dataset in datasets:
        files = find_images(Path(data_root) / dataset / "HR")
        for s in scales:
            for zm in models:
                recs = {f.name: known.get((zm.weights, dataset, f.name, s, PROTOCOL))
                        for f in files}
                todo = [f for f in files if recs[f.name] is None]
                if todo and measure:
                    if zm.name not in loaded:
                        loaded[zm.name] = load_model(zm.entry)
                    lm = loaded[zm.name]
                    base = Provenance(zm.name, weights=Path(zm.entry.weights).name
                                      if zm.entry.weights else "",
                                      sha256=zm.weights.rpartition(":")[2] if ":" in zm.weights
                                      else "")
                    scores: list = []
                    flushed = 0

                    def flush(_p=None) -> None:
                        nonlocal flushed
                        for sc in scores[flushed:]:
                            rec = {"weights": zm.weights, "model": zm.name, "dataset": dataset,
                                   "image": sc.name, "scale": s, "protocol": PROTOCOL,
                                   "psnr": sc.psnr, "ssim": sc.ssim,
                                   "resampled": sc.provenance.row()["resampled"]
                                   if sc.provenance else "",
                                   "provenance": sc.provenance.row() if sc.provenance else {}}
                            recs[sc.name] = known[_key(rec)] = rec
                            if cache:
                                append_jsonl(cache, rec)
                        flushed = len(scores)

                    job = evaluate(lm.module, todo, [s], y_channel=True,
                                   options=SROptions(precision="fp32"), name=zm.name,
                                   scores=scores, provenance=base)
                    try:
                        run(job, f"{zm.name} {dataset} x{s}", flush)
                    finally:
                        flush()
                have = [r for r in recs.values() if r is not None]
                if not have:
                    continue
                cell = Cell(zm.name, dataset, s, sum(r["psnr"] for r in have) / len(have),
                            len(have), len(files), s in zm.claims,
                            next((r["resampled"] for r in have if r["resampled"]), ""),
                            zm.entry.kind == "interp")
                cells.append(cell)
                if log is not None:
                    log(f"{dataset} x{s} {zm.name}: {cell.psnr:.3f} dB"
                        + (f" RESAMPLED {cell.resampled}" if cell.resampled else "")
                        + ("" if cell.complete else f" ({cell.n}/{cell.of} images)"))
    return cells


def read_cards(models: list[ZooModel]) -> dict[str, str]:
    """Model name -> its card's text (bundled models with a card)."""
    out = {}
    for zm in models:
        card = getattr(zm.entry, "card", None)
        if card is not None and Path(card).is_file():
            out[zm.name] = Path(card).read_text(encoding="utf-8")
    return out


def _names(text: str, what: str, allowed: Iterable[str] | None = None) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise ValueError(f"--{what} is empty")
    if allowed is not None:
        allowed = list(allowed)
        bad = [t for t in items if t not in allowed]
        if bad:
            raise ValueError(f"--{what}: unknown {', '.join(bad)} (choose from "
                             f"{', '.join(allowed)})")
    return items


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default=",".join(DATASETS),
                    help="comma-separated folders under --data-root (each with HR/)")
    ap.add_argument("--scales", default=",".join(map(str, BENCH_SCALES)))
    ap.add_argument("--models", default="",
                    help="comma-separated catalog names or files (default: bicubic and every "
                         "bundled model made for photographs)")
    ap.add_argument("--quick", action="store_true", help="Set5 only")
    ap.add_argument("--json", default=None, metavar="OUT", help="also write the matrix as JSON")
    ap.add_argument("--markdown", action="store_true", help="print the matrix as Markdown")
    ap.add_argument("--cache", default=str(DEFAULT_CACHE), help="JSON-lines cache ('' for none)")
    ap.add_argument("--table-only", action="store_true", help="print the cached matrix only")
    ap.add_argument("--data-root", default=str(DATA_ROOT))
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)

    try:
        datasets = ["Set5"] if args.quick else _names(args.datasets, "datasets")
        try:
            scales = [int(v) for v in _names(args.scales, "scales")]
        except ValueError:
            raise ValueError(f"--scales must be whole numbers like 2,3,4, got {args.scales!r}")
        if any(s < 1 for s in scales):
            raise ValueError(f"--scales must be positive, got {args.scales!r}")
        for d in datasets:
            if not (Path(args.data_root) / d / "HR").is_dir():
                raise ValueError(f"no {d}/HR under {args.data_root} (../shared/datasets "
                                 f"missing, or --data-root wrong)")
        if args.json and Path(args.json).exists():
            raise ValueError(f"{args.json} already exists; choose another JSON file name")
        models = zoo_models(_names(args.models, "models") if args.models else None, scales)
    except (ValueError, SRWError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    if args.threads:
        import torch  # lazy: only to set the thread count

        torch.set_num_threads(args.threads)
    from cli.progress import run_with_bar  # lazy: tqdm, only for a measuring run

    def run(job, desc, on_progress):
        return run_with_bar(job, desc=desc, quiet=args.quiet,
                            lines=lambda p: on_progress(p))

    columns = [(d, s) for d in datasets for s in scales]
    try:
        cells = measure_cells(models, datasets, scales, data_root=Path(args.data_root),
                              cache=Path(args.cache) if args.cache else None,
                              measure=not args.table_only, run=run,
                              log=lambda t: print(t, file=sys.stderr, flush=True))
    except KeyboardInterrupt:
        print("interrupted: the scores measured so far are in the cache", file=sys.stderr)
        return 130
    except SRWError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    m = build_matrix(cells, [zm.name for zm in models], columns, read_cards(models))
    claims = {zm.name: zm.claims_text for zm in models}
    print(format_matrix(m, claims, markdown=args.markdown))
    if args.json:
        from core.io.atomic import atomic_path  # lazy: only with --json

        with atomic_path(Path(args.json)) as tmp:
            Path(tmp).write_text(json.dumps(
                matrix_json(m, claims, {zm.name: zm.weights for zm in models}), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
