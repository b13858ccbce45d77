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
:data:`TOLERANCE_DB` (``edsr_baseline_x3`` resized to x4 over the native
``edsr_baseline_x4``). A model that loses to another model at that model's own scale is
ranked, not inverted (FSRCNN x4 under EDSR x4: fewer parameters, not a broken model); the
JSON lists those as ``outranked``. A model card (``resources/weights/NAME.md``) explains an
inversion with a line starting with :data:`KNOWN_INVERSION` that names the scale (``x4``) and
the winning model; ``tests/test_zoo_matrix.py`` (slow) fails on every other one.

Every per-image score is appended to ``--cache`` (one JSON line keyed by the weight file's
SHA-256 digest, the dataset, the image, the scale and the protocol) as soon as it is
measured: a re-run after one model was retrained only measures that model, and Ctrl-C (exit
130) keeps what was measured. ``--table-only`` prints the matrix from the cache alone.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from bench._cache import append_jsonl, read_jsonl
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
#: A cell beats another by more than this (dB) to count: half the printed 0.01 dB.
TOLERANCE_DB = 0.005
#: The greppable line of a model card that explains an inversion it loses.
KNOWN_INVERSION = "Known inversion:"
#: Bundled models left out of the matrix, and why (they claim no scale on photographs).
NOT_PHOTOGRAPHS = {
    "liif_normals_detail": "fine-tuned on encoded detail normal maps, not on photographs",
}


# ---------------------------------------------------------------------------------------------
# The table and its logic (pure: no torch, no files; the fast tests use these directly)
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """One model at one (dataset, scale): mean Y-PSNR over ``n`` of ``of`` images."""

    model: str
    dataset: str
    scale: int
    psnr: float
    n: int
    of: int
    claimed: bool                 # the model claims this scale
    resampled: str = ""           # "" or how its output was resized (Resample.text())
    baseline: bool = False        # the interpolation baseline (claims no scale, not marked)

    @property
    def complete(self) -> bool:
        return self.n == self.of and self.n > 0

    @property
    def off_scale(self) -> bool:
        """Not the model's own result at a scale it claims (resampled, or unclaimed)."""
        return bool(self.resampled) or not self.claimed


@dataclass(frozen=True)
class Inversion:
    """At ``scale`` on ``dataset``, ``loser`` (which claims it) is beaten by ``winner``."""

    dataset: str
    scale: int
    loser: str
    loser_psnr: float
    winner: str
    winner_psnr: float
    winner_resampled: bool
    explained: str = ""           # the loser's card line that explains it ("" if none)

    def text(self) -> str:
        how = " resampled" if self.winner_resampled else ""
        note = f" (card: {self.explained})" if self.explained else ""
        return (f"INVERSION {self.dataset} x{self.scale}: {self.winner}{how} "
                f"{self.winner_psnr:.2f} > {self.loser} {self.loser_psnr:.2f} "
                f"(+{self.winner_psnr - self.loser_psnr:.2f} dB){note}")


@dataclass
class Matrix:
    """Cells by (model, dataset, scale) with the best per column and the inversions."""

    models: list[str]
    columns: list[tuple[str, int]]
    cells: dict[tuple[str, str, int], Cell]
    best: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    inversions: list[Inversion] = field(default_factory=list)
    outranked: list[Inversion] = field(default_factory=list)


def best_per_column(cells: Iterable[Cell]) -> dict[tuple[str, int], list[str]]:
    """The models with the highest complete cell of each (dataset, scale); ties share it."""
    by: dict[tuple[str, int], list[Cell]] = {}
    for c in cells:
        if c.complete:
            by.setdefault((c.dataset, c.scale), []).append(c)
    out = {}
    for col, cs in by.items():
        top = max(c.psnr for c in cs)
        out[col] = [c.model for c in cs if round(c.psnr, 2) == round(top, 2)]
    return out


def find_inversions(cells: Iterable[Cell], tolerance: float = TOLERANCE_DB
                    ) -> tuple[list[Inversion], list[Inversion]]:
    """``(inversions, outranked)`` over the complete cells.

    For every cell at a scale its model claims and every other model's cell of the same
    column that beats it by more than ``tolerance``: an inversion when the winner runs off
    its claimed scales there (resampled or unclaimed; the bicubic baseline claims none), else
    the loser is only outranked (by another model at that model's own scale).
    """
    by: dict[tuple[str, int], list[Cell]] = {}
    for c in cells:
        if c.complete:
            by.setdefault((c.dataset, c.scale), []).append(c)
    inv, ranked = [], []
    for (dataset, scale), cs in sorted(by.items()):
        for loser in cs:
            if not loser.claimed or loser.resampled:
                continue
            for w in sorted(cs, key=lambda c: -c.psnr):
                if w.model == loser.model or w.psnr <= loser.psnr + tolerance:
                    continue
                item = Inversion(dataset, scale, loser.model, loser.psnr, w.model, w.psnr,
                                 bool(w.resampled))
                (inv if w.off_scale else ranked).append(item)
    return inv, ranked


def card_explanation(card_text: str, inversion: Inversion) -> str:
    """The line of a model card that explains ``inversion``: it starts (after list or bold
    marks) with :data:`KNOWN_INVERSION` and names the scale (``x4``) and the winner; "" if
    there is none."""
    scale = re.compile(rf"\bx{inversion.scale}\b")
    for line in card_text.splitlines():
        text = line.strip().lstrip("-*> ").strip()
        if not text.startswith(KNOWN_INVERSION):
            continue
        if scale.search(text) and re.search(rf"\b{re.escape(inversion.winner)}\b", text):
            return text
    return ""


def build_matrix(cells: Iterable[Cell], models: list[str], columns: list[tuple[str, int]],
                 cards: dict[str, str] | None = None,
                 tolerance: float = TOLERANCE_DB) -> Matrix:
    """The matrix of ``cells``: best per column, inversions (with the explaining card line
    when ``cards`` (model -> card text) has one) and the outranked pairs."""
    cells = list(cells)
    inv, ranked = find_inversions(cells, tolerance)
    order = {col: i for i, col in enumerate(columns)}         # the table's column order
    inv.sort(key=lambda i: order.get((i.dataset, i.scale), len(order)))
    cards = cards or {}
    inv = [Inversion(**{**asdict(i), "explained": card_explanation(cards.get(i.loser, ""), i)})
           for i in inv]
    return Matrix(models, columns, {(c.model, c.dataset, c.scale): c for c in cells},
                  best_per_column(cells), inv, ranked)


def cell_text(m: Matrix, model: str, col: tuple[str, int], markdown: bool = False) -> str:
    """``31.73 r``, ``*37.71``, ``31.63 !``, ``29.10 (3/5)``, ``-`` (not measured)."""
    c = m.cells.get((model, col[0], col[1]))
    if c is None:
        return "-"
    text = f"{c.psnr:.2f}"
    if not c.complete:
        return f"{text} ({c.n}/{c.of})"
    if model in m.best.get(col, []):
        text = f"**{text}**" if markdown else f"*{text}"
    marks = "r" if c.resampled else "u" if not (c.claimed or c.baseline) else ""
    if any(i.loser == model and (i.dataset, i.scale) == col for i in m.inversions):
        marks += "!"
    return f"{text} {marks}" if marks else text


def format_matrix(m: Matrix, claims: dict[str, str], markdown: bool = False) -> str:
    """The matrix as text (aligned columns) or as a Markdown table, then the inversions."""
    head = ["model", "claims"] + [f"{d} x{s}" for d, s in m.columns]
    rows = [[name, claims.get(name, "")] + [cell_text(m, name, col, markdown) for col in m.columns]
            for name in m.models]
    lines = []
    if markdown:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        lines += ["| " + " | ".join(r) + " |" for r in rows]
    else:
        widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
        fmt = lambda r: "  ".join(v.ljust(widths[i]) if i < 2 else v.rjust(widths[i])  # noqa
                                  for i, v in enumerate(r))
        lines.append(fmt(head))
        lines += [fmt(r) for r in rows]
    lines.append("")
    lines.append(f"Y-PSNR (dB). {'bold' if markdown else '*'}: best of the column; r: RESAMPLED "
                 "(the model's own output resized with bicubic); u: a scale the model does not "
                 "claim; !: INVERSION (beaten at a claimed scale by a model off its own scale, "
                 f"by more than {TOLERANCE_DB} dB); -: not measured.")
    lines += [("- " if markdown else "") + t for t in inversion_lines(m.inversions)]
    if not m.inversions:
        lines.append("No inversion at a claimed scale among the measured cells.")
    return "\n".join(lines)


def inversion_lines(inversions: list[Inversion]) -> list[str]:
    """One line per losing cell: ``INVERSION Set5 x4 edsr_baseline_x4 31.63 < edsr_baseline_x3
    r 31.73 (+0.10)``, the winners by PSNR, then the card line that explains it, if any."""
    by: dict[tuple[str, int, str], list[Inversion]] = {}
    for i in inversions:
        by.setdefault((i.dataset, i.scale, i.loser), []).append(i)
    out = []
    for (dataset, scale, loser), items in by.items():
        items = sorted(items, key=lambda i: -i.winner_psnr)
        wins = ", ".join(f"{i.winner}{' r' if i.winner_resampled else ''} {i.winner_psnr:.2f} "
                         f"(+{i.winner_psnr - i.loser_psnr:.2f})" for i in items)
        line = f"INVERSION {dataset} x{scale} {loser} {items[0].loser_psnr:.2f} < {wins}"
        if all(i.explained for i in items):
            line += f"; card: {items[0].explained}"
        out.append(line)
    return out


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
