"""LAM: the official algorithm (a straight port, the test reference) vs core.attribution.lam.

    python -m bench.lam_speed [--repeats 3] [--threads N] [--image PATH] [--window X,Y]

Case: EDSR-baseline x4 (bundled weights when present, else random weights: the speed does not
depend on the values) on a 256x256 HR image (64x64 LR; the LAM demo's 7.png from
../shared/datasets/lam_images when present, else a synthetic image), the demo's window
(x=110, y=150, 16 px), sigma 1.2, fold 50, kernel 9. Rounds interleave the implementations so
that machine noise hits them alike; the table shows the median time of ``--repeats`` rounds,
the speed-up over the reference, the correlation of the map with the reference's and the
diffusion index. The SR image for display is not part of the timed work.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
LAM_IMAGE = ROOT.parent / "shared" / "datasets" / "lam_images" / "7.png"


def _model():
    from core.models import list_models, load_model
    from core.models.archs.edsr import edsr_baseline

    for e in list_models():
        hp = e.hparams
        if (e.arch == "edsr" and e.scales == (4,) and hp.get("n_feats") == 64
                and hp.get("n_resblocks") == 16):
            return load_model(e).module, f"bundled {e.name}"
    torch.manual_seed(0)
    return edsr_baseline(4).eval(), "random weights"


def _image(path: Path | None) -> tuple[np.ndarray, str]:
    from core.io import load
    from core.resize import degrade

    p = path or LAM_IMAGE
    if p.is_file():
        hr = load(p).pixels[:256, :256]
        return degrade(hr, 4).astype(np.float32), p.name
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:64, 0:64] / 64.0
    img = np.stack([np.sin(9 * xx + 3 * yy), np.cos(7 * yy * xx), xx * yy], -1) * 0.4 + 0.5
    return (img + 0.05 * rng.standard_normal(img.shape)).astype(np.float32), "synthetic"


def main() -> None:
    from core.attribution import LAMOptions, lam
    from core.data import ImageData, Region
    from core.jobs import run_sync
    from tests.core.lam_reference import reference_lam

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--image", type=Path, default=None, help="HR image (256x256 used)")
    ap.add_argument("--window", default="110,150", help="X,Y of the 16 px window (HR pixels)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model, weights = _model()
    lr, img_name = _image(args.image)
    wx, wy = (int(v) for v in args.window.split(","))

    def fast(precision: str, fold: int = 50):
        opts = LAMOptions(precision=precision, fold=fold, with_sr=False, device="cpu")
        res = run_sync(lam(model, ImageData(lr), Region(wx, wy, 16, 16), options=opts))
        return res.map, res.diffusion_index

    def ref(fold: int = 50):
        r = reference_lam(model, lr, wx, wy, 16, fold=fold)
        return r["map"], r["di"]

    impls = {"official (port)": ref, "ours fp32": lambda **k: fast("fp32", **k),
             "ours bf16": lambda **k: fast("bf16", **k)}
    for f in impls.values():   # warm-up: library initialisation, not LAM
        f(fold=2)
    times: dict[str, list[float]] = {k: [] for k in impls}
    maps: dict[str, tuple[np.ndarray, float]] = {}
    for _ in range(args.repeats):
        for name, f in impls.items():
            t0 = time.perf_counter()
            maps[name] = f()
            times[name].append(time.perf_counter() - t0)
    print(f"LAM, EDSR-baseline x4 ({weights}), {img_name}: {lr.shape[1]}x{lr.shape[0]} LR -> "
          f"{lr.shape[1] * 4}x{lr.shape[0] * 4}, window {wx},{wy} 16 px, fold 50; CPU threads "
          f"{torch.get_num_threads()}; median of {args.repeats} interleaved rounds")
    print(f"{'implementation':<16} {'time s':>8} {'speed-up':>8} {'corr':>8} {'DI':>7}")
    base = statistics.median(times["official (port)"])
    ref_map = maps["official (port)"][0].ravel()
    for name in impls:
        sec = statistics.median(times[name])
        m, di = maps[name]
        corr = float(np.corrcoef(m.ravel(), ref_map)[0, 1])
        print(f"{name:<16} {sec:8.2f} {base / sec:7.2f}x {corr:8.5f} {di:7.2f}", flush=True)


if __name__ == "__main__":
    main()
