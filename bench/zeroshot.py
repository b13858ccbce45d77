"""Zero-shot SR table: bicubic / bundled model / ZSSR / MZSR(1) / MZSR(10) under several kernels.

    python -m bench.zeroshot [--set Set5] [--images all]
                             [--kernels bicubic,mzsr-g0.2,mzsr-g2.0,mzsr-ani]
                             [--methods bicubic,bundled,zssr,mzsr1,mzsr10] [--zssr-iters 3000]
                             [--mzsr resources/weights/zeroshot/mzsr_x2.pth]
                             [--bundled NAME_OR_PATH]
                             [--cache bench/results/zeroshot.jsonl] [--threads 1]

LR at x2: ``bicubic`` = MATLAB bicubic downscaling; a Gaussian preset
(:data:`core.zeroshot.kernels.PRESETS`; by default the MZSR paper's g^d_0.2, g^d_2.0 and g^d_ani,
whose lambdas are variances) = blur then direct subsampling. Every LR is quantised to 8 bits,
as a stored image would be.

Columns: bicubic interpolation of the LR; the bundled model trained on bicubic data
(``edsr_baseline_x2`` when bundled, otherwise the bundled LIIF, whose encoder is EDSR-baseline;
the table names which); ZSSR with the known kernel (paper defaults: up to ``--zssr-iters``
iterations, 128 px fathers, 8-way ensemble, back-projection); MZSR(1) / MZSR(10): 1 or 10
adaptation steps from the MZSR meta-weights with the known kernel. PSNR / SSIM on Y with a
2 px border shaved; seconds per image (wall clock, this CPU, ``--threads``).

Each (image, kernel, method) result is appended to ``--cache`` as one JSON line as soon as it
is measured; a later run with the same settings skips what is there, so the table can be
filled over several runs (ZSSR at 3000 iterations takes minutes per image). ``--table-only``
prints the table from the cache without running anything.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from bench._cache import append_jsonl, file_id, read_jsonl
from core.data import ImageData
from core.engine import SROptions, super_resolve
from core.evaluate import quantise
from core.io import load
from core.jobs import run_sync
from core.metrics import psnr, ssim
from core.models import load_model
from core.resize import imresize, modcrop
from core.zeroshot import ZSSRConfig, load_kernel, zssr
from core.zeroshot.kernels import downscale
from core.zeroshot.mzsr import load_mzsr, mzsr_adapt

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "../shared/datasets/benchmark"
WEIGHTS = ROOT / "resources/weights"
METHODS = ("bicubic", "bundled", "zssr", "mzsr1", "mzsr10")
SCALE = 2


def make_lr(hr: np.ndarray, kernel: str) -> np.ndarray:
    """The x2 LR of ``hr`` (H x W x 3 in [0, 1], mod-cropped) under ``kernel``, 8-bit levels."""
    t = torch.from_numpy(np.ascontiguousarray(hr, dtype=np.float32)).permute(2, 0, 1)[None]
    k = None if kernel == "bicubic" else torch.from_numpy(load_kernel(kernel))
    lr = downscale(t, SCALE, k)[0].permute(1, 2, 0).numpy()
    return quantise(lr).astype(np.float32)


def score(sr: np.ndarray, hr: np.ndarray) -> tuple[float, float]:
    sr = np.clip(sr, 0, 1)
    return (psnr(sr, hr, crop_border=SCALE, test_y_channel=True),
            ssim(sr, hr, crop_border=SCALE, test_y_channel=True))


def default_bundled() -> str:
    p = WEIGHTS / "edsr_baseline_x2.pth"
    return str(p) if p.is_file() else str(WEIGHTS / "liif.pth")


def default_mzsr() -> str | None:
    p = WEIGHTS / "zeroshot" / "mzsr_x2.pth"
    return str(p) if p.is_file() else None


class Runner:
    """Runs one method on one LR image; models are loaded once."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._bundled = None
        self._mzsr = None

    def bundled(self, lr: np.ndarray) -> np.ndarray:
        if self._bundled is None:
            self._bundled = load_model(self.args.bundled).module
        res = run_sync(super_resolve(self._bundled, ImageData(lr, kind="rgb"), scale=SCALE,
                                     options=SROptions(precision="fp32")))
        return res.image.pixels

    def mzsr(self, lr: np.ndarray, kernel: np.ndarray | None, steps: int) -> np.ndarray:
        if self._mzsr is None:
            if not self.args.mzsr:
                raise SystemExit("no MZSR weights: train them (configs/mzsr_x2.yaml), "
                                 "then pass --mzsr")
            self._mzsr = load_mzsr(self.args.mzsr)[0]
        return run_sync(mzsr_adapt(self._mzsr, lr, SCALE, kernel, steps=steps, precision="auto"))

    def run(self, method: str, lr: np.ndarray, kernel_name: str) -> np.ndarray:
        k = None if kernel_name == "bicubic" else load_kernel(kernel_name)
        if method == "bicubic":
            return imresize(lr, float(SCALE))
        if method == "bundled":
            return self.bundled(lr)
        if method == "zssr":
            cfg = ZSSRConfig(scale=SCALE, max_iters=self.args.zssr_iters, crop=self.args.crop)
            return run_sync(zssr(lr, cfg, k)).image
        if method.startswith("mzsr"):
            return self.mzsr(lr, k, int(method[4:]))
        raise SystemExit(f"unknown method {method!r}; use {', '.join(METHODS)}")


def settings(args: argparse.Namespace, method: str) -> str:
    """What a cached result depends on besides image and kernel."""
    if method == "bundled":
        return file_id(args.bundled)
    if method == "zssr":
        return f"iters={args.zssr_iters},crop={args.crop}"
    if method.startswith("mzsr"):
        return file_id(args.mzsr)
    return ""


def read_cache(path: Path) -> dict[tuple, dict]:
    return read_jsonl(path, lambda r: (r["set"], r["image"], r["kernel"], r["method"],
                                       r["settings"]))


def print_table(args: argparse.Namespace, cache: dict, images: list[str],
                kernels: list[str], methods: list[str]) -> None:
    heads = {"bicubic": "bicubic", "bundled": Path(args.bundled).stem,
             "zssr": f"ZSSR({args.zssr_iters})", "mzsr1": "MZSR(1)", "mzsr10": "MZSR(10)"}
    print(f"{args.set} x2, {len(images)} images; mean PSNR (Y, dB) / SSIM / seconds per image")
    print(f"{'kernel':10s}" + "".join(f"{heads[m]:>26s}" for m in methods))
    for kname in kernels:
        cells = []
        for m in methods:
            rs = [cache.get((args.set, im, kname, m, settings(args, m))) for im in images]
            if any(r is None for r in rs):
                done = sum(r is not None for r in rs)
                cells.append(f"{f'({done}/{len(images)} done)':>26s}")
                continue
            p, s, t = (float(np.mean([r[f] for r in rs])) for f in ("psnr", "ssim", "seconds"))
            cells.append(f"{p:12.2f} {s:.4f} {t:6.1f}s")
        print(f"{kname:10s}" + "".join(cells))
    print(f"bundled model: {args.bundled}; MZSR weights: {args.mzsr}; threads {args.threads}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="Set5")
    ap.add_argument("--images", default="all", help="comma-separated stems, or all")
    ap.add_argument("--kernels", default="bicubic,mzsr-g0.2,mzsr-g2.0,mzsr-ani")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--zssr-iters", type=int, default=3000)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--mzsr", default=default_mzsr())
    ap.add_argument("--bundled", default=default_bundled())
    ap.add_argument("--cache", default=str(ROOT / "bench/results/zeroshot.jsonl"))
    ap.add_argument("--table-only", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    folder = BENCH / args.set / "HR"
    if not folder.is_dir():
        print(f"benchmark folder not found: {folder}", file=sys.stderr)
        return 2
    stems = sorted(p.stem for p in folder.glob("*.png"))
    images = stems if args.images == "all" else args.images.split(",")
    kernels, methods = args.kernels.split(","), args.methods.split(",")
    cache_path = Path(args.cache)
    cache = read_cache(cache_path)
    runner = Runner(args)
    if not args.table_only:
        for kname in kernels:
            for im in images:
                hr = modcrop(load(folder / f"{im}.png").pixels[..., :3], SCALE)
                lr = make_lr(hr, kname)
                for m in methods:
                    key = (args.set, im, kname, m, settings(args, m))
                    if key in cache:
                        continue
                    t0 = time.perf_counter()
                    sr = runner.run(m, lr, kname)
                    secs = time.perf_counter() - t0
                    p, s = score(sr, hr)
                    rec = {"set": args.set, "image": im, "kernel": kname, "method": m,
                           "settings": key[4], "psnr": p, "ssim": s, "seconds": secs,
                           "threads": args.threads}
                    cache[key] = rec
                    append_jsonl(cache_path, rec)
                    print(f"{im:10s} {kname:9s} {m:8s} {p:6.2f} dB {s:.4f} {secs:7.1f} s",
                          flush=True)
    print_table(args, cache, images, kernels, methods)
    return 0


if __name__ == "__main__":
    sys.exit(main())
