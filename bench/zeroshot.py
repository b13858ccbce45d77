"""Zero-shot SR on Set5 x2 with a non-bicubic kernel: bicubic vs ZSSR (few iterations) vs MZSR.

    python -m bench.zeroshot [--images bird,head] [--kernel gauss2.0] [--zssr-iters 150]
                             [--crop 64] [--mzsr runs/mzsr_x2/mzsr.pt] [--threads 1]

LR = HR (mod-cropped to 2) blurred with the kernel and directly subsampled by 2
(:func:`core.zeroshot.kernels.downscale`); ``--kernel bicubic``: the MATLAB bicubic LR. Columns: bicubic interpolation of the LR; ZSSR with
the known kernel, ``--zssr-iters`` iterations, ``--crop`` px fathers, 8-way ensemble + back-
projection; MZSR(1) / MZSR(10): adaptation steps from ``--mzsr`` meta-weights, or, without
them, from a *tiny* MZSR trained in the bench itself (``--quick-pretrain`` bicubic steps then
``--quick-meta`` first-order meta steps: a smoke test of the pipeline, not the paper's model).
PSNR / SSIM on Y, border 2 px shaved, seconds per image (wall, this CPU, bf16 autocast where
fast). The numbers depend on the machine's load.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from core.io import load
from core.jobs import run_sync
from core.metrics import psnr, ssim
from core.resize import imresize, modcrop
from core.zeroshot import ZSSRConfig, ZSSRNet, load_kernel, zssr
from core.zeroshot.kernels import downscale
from core.zeroshot.mzsr import load_mzsr, load_mzsr_config, mzsr_adapt, train_mzsr

SET5 = Path(__file__).resolve().parents[1] / "../shared/datasets/benchmark/Set5/HR"


def _score(sr: np.ndarray, hr: np.ndarray) -> tuple[float, float]:
    sr = np.clip(sr, 0, 1)
    return (psnr(sr, hr, crop_border=2, test_y_channel=True),
            ssim(sr, hr, crop_border=2, test_y_channel=True))


def _quick_mzsr(args: argparse.Namespace) -> tuple[ZSSRNet, float]:
    cfg = load_mzsr_config("configs/mzsr_x2.yaml", pretrain_steps=args.quick_pretrain,
                           meta_steps=args.quick_meta, pretrain_batch=4, task_batch=2,
                           hr_patch=48, save_every=10**9)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mzsr_bench_") as out:
        net = load_mzsr(run_sync(train_mzsr(cfg, out)))[0]
    return net, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", default="bird,head")
    ap.add_argument("--kernel", default="gauss2.0")
    ap.add_argument("--zssr-iters", type=int, default=150)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--mzsr", default=None, help="MZSR meta-weights (default: quick training)")
    ap.add_argument("--quick-pretrain", type=int, default=100)
    ap.add_argument("--quick-meta", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    k = None if args.kernel == "bicubic" else load_kernel(args.kernel)
    kt = torch.from_numpy(k) if k is not None else None
    if args.mzsr:
        net, note = load_mzsr(args.mzsr)[0], f"MZSR weights {args.mzsr}"
    else:
        net, secs = _quick_mzsr(args)
        note = (f"MZSR: tiny bench training ({args.quick_pretrain} bicubic + {args.quick_meta} "
                f"first-order meta steps, {secs:.0f} s), not converged weights")
    rows = []
    for name in args.images.split(","):
        hr = modcrop(load(SET5 / f"{name}.png").pixels, 2)
        hr_t = torch.from_numpy(np.ascontiguousarray(hr)).permute(2, 0, 1)[None]
        lr = downscale(hr_t, 2, kt)[0].permute(1, 2, 0)
        lr = lr.numpy().astype(np.float32)
        row = {"image": name}
        t0 = time.perf_counter()
        row["bicubic"] = (*_score(imresize(lr, 2.0), hr), time.perf_counter() - t0)
        t0 = time.perf_counter()
        cfg = ZSSRConfig(scale=2, max_iters=args.zssr_iters, crop=args.crop)
        res = run_sync(zssr(lr, cfg, k))
        row["zssr"] = (*_score(res.image, hr), time.perf_counter() - t0)
        for steps in (1, 10):
            t0 = time.perf_counter()
            y = run_sync(mzsr_adapt(net, lr, 2, k, steps=steps, precision="auto"))
            row[f"mzsr{steps}"] = (*_score(y, hr), time.perf_counter() - t0)
        rows.append(row)
    cols = ["bicubic", "zssr", "mzsr1", "mzsr10"]
    heads = ["bicubic", f"ZSSR({args.zssr_iters} it)", "MZSR(1)", "MZSR(10)"]
    print(f"Set5 x2, kernel {args.kernel}{'' if k is None else ' + direct subsampling'}; PSNR(Y) dB / SSIM / s per image")
    print(f"{'image':10s}" + "".join(f"{h:>24s}" for h in heads))
    for r in rows + [{"image": "mean", **{c: tuple(np.mean([r[c] for r in rows], axis=0))
                                          for c in cols}}]:
        print(f"{r['image']:10s}" + "".join(f"{r[c][0]:10.2f} {r[c][1]:.4f} {r[c][2]:5.1f}s"
                                            for c in cols))
    print(f"note: {note}; threads {args.threads}")


if __name__ == "__main__":
    main()
