"""IPF vs the LIIF it is built on: PSNR/SSIM and sharpness against the HR, per dataset and scale.

    python -m bench.ipf_vs_liif --ipf runs/ipf/ipf.pth [--liif liif]
        [--data ../shared/datasets/benchmark/Set14/HR,../shared/datasets/benchmark/B100/HR]
        [--scales 4,6] [--limit N] [--precision fp32] [--threads 1]

Benchmark protocol of :mod:`core.evaluate` (HR cropped to a multiple of the scale, MATLAB-
bicubic LR rounded to 8 bit, SR by the engine, clipped and rounded to 8 bit; Y channel, border
of ``scale`` pixels shaved), and on the same SR images two sharpness measures of
:mod:`core.metrics`: ``gradient_ratio`` (mean gradient magnitude of SR / of HR: 1 = as sharp as
the HR, < 1 blurrier; L1-trained LIIF is below 1, IPF's flow should bring it closer) and
``gradient_hist_distance`` (earth mover's distance between the gradient-magnitude
distributions, printed in 8-bit grey levels per pixel; 0 = same). Scores are means over the
images; seconds are the SR time of the model over them. ``--limit N`` takes the first N images
of each folder for quick runs. No IPF checkpoint (none is bundled yet): says so, exits 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
_BENCH = ROOT.parent / "shared" / "datasets" / "benchmark"
DEFAULT_DATA = f"{_BENCH / 'Set14' / 'HR'},{_BENCH / 'B100' / 'HR'}"


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


def run_bench(models: dict, folders: list[Path], scales: list[int], *, limit: int = 0,
              precision: str = "auto", on_row=None) -> list[dict]:
    """One row per (dataset, scale, model): means over the images and the total SR seconds."""
    from core.engine import SROptions
    from core.evaluate import find_images

    opts = SROptions(precision=precision)
    rows = []
    for folder in folders:
        files = find_images(folder)
        files = files[:limit] if limit > 0 else files
        name = folder.parent.name if folder.name.upper() == "HR" else folder.name
        for s in scales:
            for label, model in models.items():
                per, secs = [], 0.0
                for f in files:
                    sc, sec = score_image(model, f, s, opts)
                    per.append(sc)
                    secs += sec
                row = {"dataset": name, "scale": s, "model": label, "n": len(files),
                       "seconds": secs, **{k: float(np.mean([p[k] for p in per]))
                                           for k in per[0]}}
                rows.append(row)
                if on_row is not None:
                    on_row(row)
    return rows


def _print_row(r: dict) -> None:
    print(f"{r['dataset']:<10} {'x' + str(r['scale']):>5} {r['model']:<6} {r['psnr']:7.3f} "
          f"{r['ssim']:7.4f} {r['grad_ratio']:10.4f} {r['hist_dist'] * 255:10.3f} "
          f"{r['seconds']:8.1f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    from core.errors import CheckpointError, InputError
    from core.models import load_model

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--liif", default="liif", help="LIIF: name or checkpoint (default: bundled)")
    ap.add_argument("--ipf", default="ipf", help="IPF: checkpoint or bundled name (default ipf)")
    ap.add_argument("--data", default=DEFAULT_DATA, help="comma-separated HR folders")
    ap.add_argument("--scales", default="4,6")
    ap.add_argument("--limit", type=int, default=0, help="first N images per folder (0: all)")
    ap.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = ap.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        ipf = load_model(args.ipf)
    except CheckpointError as exc:
        print(f"no IPF checkpoint: {args.ipf!r} cannot be loaded ({exc}). No trained IPF is "
              f"bundled yet: train one with python main.py train configs/ipf.yaml, export it, "
              f"and pass --ipf PATH.", file=sys.stderr)
        return 2
    try:
        liif = load_model(args.liif)
    except CheckpointError as exc:
        print(f"cannot load the LIIF {args.liif!r}: {exc}", file=sys.stderr)
        return 2
    for m, want in ((liif, "liif"), (ipf, "ipf")):
        if m.arch != want:
            print(f"--{want} {m.name} is a {m.arch} model, not {want}", file=sys.stderr)
            return 2
    try:
        scales = [int(v) for v in args.scales.split(",") if v.strip()]
    except ValueError:
        print(f"--scales must be whole numbers like 4,6, got {args.scales!r}", file=sys.stderr)
        return 2
    folders = [Path(p.strip()) for p in args.data.split(",") if p.strip()]
    print(f"LIIF {liif.name} vs IPF {ipf.name}; Y channel, shave = scale; grad ratio = mean "
          f"|grad SR| / |grad HR| (1 = HR); hist dist = EMD of gradient magnitudes, 8-bit "
          f"levels/px (0 = HR)")
    print(f"{'dataset':<10} {'scale':>5} {'model':<6} {'PSNR':>7} {'SSIM':>7} {'grad ratio':>10} "
          f"{'hist dist':>10} {'seconds':>8}")
    try:
        run_bench({"LIIF": liif.module, "IPF": ipf.module}, folders, scales, limit=args.limit,
                  precision=args.precision, on_row=_print_row)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
