"""IPF vs the LIIF it is built on: PSNR/SSIM and sharpness against the HR, per dataset and scale.

    python -m bench.ipf_vs_liif --ipf runs/ipf/ipf.pth [--liif liif]
        [--data ../shared/datasets/benchmark/Set14/HR,../shared/datasets/benchmark/B100/HR]
        [--scales 4,6] [--limit N] [--precision fp32] [--threads 1]
        [--models liif,ipf] [--shard I/N] [--cache bench/results/ipf_vs_liif.jsonl]
        [--table-only]

Benchmark protocol of :mod:`core.evaluate` (HR cropped to a multiple of the scale, MATLAB-
bicubic LR rounded to 8 bit, SR by the engine, clipped and rounded to 8 bit; Y channel, border
of ``scale`` pixels shaved), and on the same SR images two sharpness measures of
:mod:`core.metrics`: ``gradient_ratio`` (mean gradient magnitude of SR / of HR: 1 = as sharp as
the HR, < 1 blurrier; L1-trained LIIF is below 1, IPF's flow should bring it closer) and
``gradient_hist_distance`` (earth mover's distance between the gradient-magnitude
distributions, printed in 8-bit grey levels per pixel; 0 = same). Scores are means over the
images; seconds are the SR time of the model over them. ``--limit N`` takes the first N images
of each folder for quick runs. No IPF checkpoint: says so, exits 2.

Every (image, scale, model) score is appended to ``--cache`` (one JSON line, keyed by the
weight file's content and the precision) as soon as it is measured, and a later run skips what
is there: ``--models liif`` fills the LIIF rows while an IPF still trains, ``--shard 0/2`` and
``--shard 1/2`` split the images between two processes, and a last run (or ``--table-only``)
prints the table of means from the cache. ``--cache ''`` measures everything afresh.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from bench._cache import append_jsonl, file_id, read_jsonl

ROOT = Path(__file__).resolve().parents[1]
_BENCH = ROOT.parent / "shared" / "datasets" / "benchmark"
DEFAULT_DATA = f"{_BENCH / 'Set14' / 'HR'},{_BENCH / 'B100' / 'HR'}"
DEFAULT_CACHE = ROOT / "bench" / "results" / "ipf_vs_liif.jsonl"


def score_image(model, hr_file: Path, scale: int, options) -> tuple[dict, float]:
    """Scores of one HR image at ``scale`` (the protocol of :func:`core.evaluate.evaluate`)
    and the seconds the SR took: ``{psnr, ssim, grad_ratio, hist_dist}``."""
    from core.data import ImageData
    from core.engine import super_resolve
    from core.evaluate import quantise
    from core.io import load
    from core.jobs import run_sync
    from core.metrics import gradient_hist_distance, gradient_ratio, psnr, ssim
    from core.resize import degrade, modcrop

    hr = load(hr_file)
    if hr.kind == "gray":
        hr = hr.with_pixels(np.repeat(hr.pixels, 3, axis=2))
    hr_px = modcrop(hr.pixels[..., :3], scale)
    lr = ImageData(quantise(degrade(hr_px, scale)).astype(np.float32), kind="rgb", units=hr.units)
    t0 = time.perf_counter()
    res = run_sync(super_resolve(model, lr, size=hr_px.shape[:2], options=options))
    sec = time.perf_counter() - t0
    sr = quantise(res.image.pixels)
    kw = dict(crop_border=scale, test_y_channel=True)
    return {"psnr": psnr(sr, hr_px, **kw), "ssim": ssim(sr, hr_px, **kw),
            "grad_ratio": gradient_ratio(sr, hr_px, **kw),
            "hist_dist": gradient_hist_distance(sr, hr_px, **kw)}, sec


def _key(r: dict) -> tuple:
    return (r["dataset"], r["image"], r["scale"], r["weights"], r["precision"])


def run_bench(models: dict, folders: list[Path], scales: list[int], *, limit: int = 0,
              precision: str = "auto", on_row=None, cache: Path | None = None,
              weights: dict | None = None, shard: tuple[int, int] = (0, 1),
              measure: bool = True) -> list[dict]:
    """One row per (dataset, scale, model): means over the images and the total SR seconds.

    With ``cache``, per-image scores are read from / appended to that JSON-lines file under
    the key (dataset, image, scale, ``weights[label]``, precision); ``shard = (i, n)`` measures
    only images ``i::n`` (the rows then cover what the cache holds); ``measure=False`` only
    reads the cache. A row with images missing reports ``n`` below the folder's count.
    """
    from core.engine import SROptions
    from core.evaluate import find_images

    opts = SROptions(precision=precision)
    weights = weights or {}
    known = read_jsonl(cache, _key) if cache else {}
    rows = []
    for folder in folders:
        files = find_images(folder)
        files = files[:limit] if limit > 0 else files
        name = folder.parent.name if folder.name.upper() == "HR" else folder.name
        for s in scales:
            for label, model in models.items():
                per = []
                for i, f in enumerate(files):
                    key = (name, f.name, s, weights.get(label, label), precision)
                    rec = known.get(key)
                    if rec is None and measure and i % shard[1] == shard[0]:
                        sc, sec = score_image(model, f, s, opts)
                        rec = dict(zip(("dataset", "image", "scale", "weights", "precision"),
                                       key), **sc, seconds=sec)
                        known[key] = rec
                        if cache:
                            append_jsonl(cache, rec)
                    if rec is not None:
                        per.append(rec)
                if not per:
                    continue
                row = {"dataset": name, "scale": s, "model": label, "n": len(per),
                       "of": len(files), "seconds": float(sum(p["seconds"] for p in per)),
                       **{k: float(np.mean([p[k] for p in per]))
                          for k in ("psnr", "ssim", "grad_ratio", "hist_dist")},
                       "per_image": {p["image"]: p for p in per}}
                rows.append(row)
                if on_row is not None:
                    on_row(row)
    return rows


def per_image_summary(rows: list[dict]) -> list[str]:
    """For each (dataset, scale) with both models, how consistent the difference is over the
    images both were measured on: on how many IPF's gradient ratio is nearer 1 and its
    histogram distance lower than LIIF's, and the spread of the PSNR change."""
    by = {(r["dataset"], r["scale"], r["model"]): r["per_image"] for r in rows}
    out = []
    for (dataset, scale, model), liif in by.items():
        ipf = by.get((dataset, scale, "IPF"))
        if model != "LIIF" or ipf is None or not (common := sorted(set(liif) & set(ipf))):
            continue
        nearer = sum(abs(ipf[i]["grad_ratio"] - 1) < abs(liif[i]["grad_ratio"] - 1)
                     for i in common)
        lower = sum(ipf[i]["hist_dist"] < liif[i]["hist_dist"] for i in common)
        dp = np.array([ipf[i]["psnr"] - liif[i]["psnr"] for i in common])
        out.append(f"IPF vs LIIF per image, {dataset} x{scale}: grad ratio nearer 1 on "
                   f"{nearer}/{len(common)}, hist dist lower on {lower}/{len(common)}; PSNR "
                   f"change mean {dp.mean():+.3f} dB (min {dp.min():+.3f}, max {dp.max():+.3f})")
    return out


def _print_row(r: dict) -> None:
    print(f"{r['dataset']:<10} {'x' + str(r['scale']):>5} {r['model']:<6} {r['psnr']:7.3f} "
          f"{r['ssim']:7.4f} {r['grad_ratio']:10.4f} {r['hist_dist'] * 255:10.3f} "
          f"{r['seconds']:8.1f}"
          + ("" if r["n"] == r["of"] else f"  ({r['n']}/{r['of']} images)"), flush=True)


def main(argv: list[str] | None = None) -> int:
    from core.errors import CheckpointError, InputError
    from core.models import load_model

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--liif", default="liif", help="LIIF: name or checkpoint (default: bundled)")
    ap.add_argument("--ipf", default="ipf", help="IPF: checkpoint or bundled name (default ipf)")
    ap.add_argument("--data", default=DEFAULT_DATA, help="comma-separated HR folders")
    ap.add_argument("--scales", default="4,6")
    ap.add_argument("--limit", type=int, default=0, help="first N images per folder (0: all)")
    ap.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    ap.add_argument("--models", default="liif,ipf", help="which rows to measure: liif, ipf or both")
    ap.add_argument("--shard", default="0/1", help="I/N: measure only images I, I+N, ... ")
    ap.add_argument("--cache", default=str(DEFAULT_CACHE), help="JSON-lines cache ('' for none)")
    ap.add_argument("--table-only", action="store_true", help="print the cached table only")
    args = ap.parse_args(argv)
    wanted = [m.strip().lower() for m in args.models.split(",") if m.strip()]
    if not wanted or set(wanted) - {"liif", "ipf"}:
        print(f"--models takes liif, ipf or liif,ipf, got {args.models!r}", file=sys.stderr)
        return 2
    try:
        shard = tuple(int(v) for v in args.shard.split("/"))
        if len(shard) != 2 or not 0 <= shard[0] < shard[1]:
            raise ValueError
    except ValueError:
        print(f"--shard must be I/N with 0 <= I < N, like 0/2, got {args.shard!r}",
              file=sys.stderr)
        return 2

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    loaded = {}
    for want in ("liif", "ipf"):
        if want not in wanted:
            continue
        name = getattr(args, want)
        try:
            loaded[want] = load_model(name)
        except CheckpointError as exc:
            hint = (" Train one with python main.py train configs/ipf.yaml, export it, and pass "
                    "--ipf PATH." if want == "ipf" else "")
            print(f"no {want.upper()} checkpoint: {name!r} cannot be loaded ({exc}).{hint}",
                  file=sys.stderr)
            return 2
        if loaded[want].arch != want:
            print(f"--{want} {loaded[want].name} is a {loaded[want].arch} model, not {want}",
                  file=sys.stderr)
            return 2
    try:
        scales = [int(v) for v in args.scales.split(",") if v.strip()]
    except ValueError:
        print(f"--scales must be whole numbers like 4,6, got {args.scales!r}", file=sys.stderr)
        return 2
    folders = [Path(p.strip()) for p in args.data.split(",") if p.strip()]
    print(" vs ".join(f"{k.upper()} {m.name}" for k, m in loaded.items())
          + "; Y channel, shave = scale; grad ratio = mean |grad SR| / |grad HR| (1 = HR); "
          "hist dist = EMD of gradient magnitudes, 8-bit levels/px (0 = HR)")
    print(f"{'dataset':<10} {'scale':>5} {'model':<6} {'PSNR':>7} {'SSIM':>7} {'grad ratio':>10} "
          f"{'hist dist':>10} {'seconds':>8}")
    models = {k.upper(): m for k, m in loaded.items()}
    try:
        rows = run_bench({k: m.module for k, m in models.items()}, folders, scales,
                         limit=args.limit,
                         precision=args.precision, on_row=_print_row,
                         cache=Path(args.cache) if args.cache else None,
                         weights={k: file_id(m.source) for k, m in models.items()},
                         shard=shard, measure=not args.table_only)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in per_image_summary(rows):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
