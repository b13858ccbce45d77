"""Angular error of the normal-map SR pipeline: a base model vs a fine-tuned one, held-out maps.

    python -m bench.normals_finetune --tuned runs/liif_normals_detail/liif.pth
        [--base liif] [--data ../shared/datasets/normals/diligent] [--scale 4] [--sigma 3]
        [--part detail|shape|both] [--limit N] [--precision fp32] [--threads 1]

For each held-out normal map (every map found recursively in ``--data``, with its ``mask.png``:
the 9 DiLiGenT objects and the official ball): the GT is encoded ``(n + 1) / 2``, degraded by
``--scale`` in that encoded domain (MATLAB bicubic, :func:`core.resize.degrade`, the mask
resized alike; outside pixels are first filled with their nearest normal), decoded, and super-
resolved back to the GT size by :func:`core.normals.super_resolve_normals` (the split method of
``python main.py sr X --kind normals --shape-model M --detail-model M``, ``--sigma`` LR
pixels). The fine-tuned model takes the ``--part`` slot (the detail model for a detail
fine-tune); the base model takes the other. Angular error (degrees) against the GT inside both
masks, per map and the mean over maps. Without a fine-tuned checkpoint it says so and exits 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "normals" / "diligent"
DEFAULT_TUNED = ROOT / "runs" / "liif_normals_detail" / "liif.pth"


def degrade_normals(gt, scale: int):
    """The LR of a GT :class:`NormalMap`: modcrop, encode, MATLAB-bicubic degrade, decode.
    Returns ``(gt_cropped, lr)``."""
    from core.normals import NormalMap, encode, fill_masked, normalize, resize_mask
    from core.resize import degrade, modcrop

    n = modcrop(gt.normals, scale)
    m = modcrop(gt.mask, scale)
    gt_c = gt.with_normals(n, m)
    enc = encode(fill_masked(gt_c), y_up=True)
    lr_enc = degrade(enc, scale)
    lr_mask = resize_mask(m, lr_enc.shape[:2])
    lr_n, ok = normalize(2.0 * lr_enc.astype(np.float64) - 1.0, lr_mask)
    return gt_c, NormalMap(lr_n, ok, gt.convention)


def evaluate_pair(files, base, tuned, *, scale: int = 4, sigma: float = 3.0,
                  part: str = "detail", precision: str = "auto") -> list[dict]:
    """Rows ``{map, model, mean, median, under_11_25, seconds}`` per map, for ``base`` alone
    (both parts) and with ``tuned`` in the ``part`` slot. Models: loaded modules or names."""
    from core.engine import SROptions
    from core.io.normals import load_normal_map
    from core.jobs import run_sync
    from core.models import load_model
    from core.normals import angular_error_stats, super_resolve_normals

    def mod(m):
        return load_model(m).module if isinstance(m, (str, Path)) else m

    base_m, tuned_m = mod(base), mod(tuned)
    slots = {"base": (base_m, base_m),
             "tuned": (tuned_m if part in ("shape", "both") else base_m,
                       tuned_m if part in ("detail", "both") else base_m)}
    opts = SROptions(precision=precision)
    rows = []
    for f, mask in files:
        gt, lr = degrade_normals(load_normal_map(f, mask=mask), scale)
        for label, (s_mod, d_mod) in slots.items():
            t0 = time.perf_counter()
            res = run_sync(super_resolve_normals(lr, size=gt.shape, sigma=sigma,
                                                 shape_model=s_mod, detail_model=d_mod,
                                                 options=opts))
            st = angular_error_stats(res.normals, gt, mask=gt.mask)
            rows.append({"map": (f.parent.name if f.stem.lower() in ("normal_map", "normal_gt")
                                 else f.stem),
                         "model": label, "mean": st.mean, "median": st.median,
                         "under_11_25": st.under_11_25, "seconds": time.perf_counter() - t0})
    return rows


def main(argv: list[str] | None = None) -> int:
    from core.errors import CheckpointError
    from core.models import load_model
    from core.training.data import find_normal_maps

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="liif", help="base model (name or checkpoint; default liif)")
    ap.add_argument("--tuned", default=str(DEFAULT_TUNED), help="fine-tuned checkpoint")
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="held-out normal maps (recursive)")
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--sigma", type=float, default=3.0, help="shape/detail split, LR pixels")
    ap.add_argument("--part", choices=("detail", "shape", "both"), default="detail",
                    help="the slot of the fine-tuned model")
    ap.add_argument("--limit", type=int, default=0, help="first N maps only (0: all)")
    ap.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = ap.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if not Path(args.tuned).is_file():
        print(f"no fine-tuned checkpoint at {args.tuned}: train one first "
              f"(python main.py train configs/liif_normals_detail.yaml, then export-weights)",
              file=sys.stderr)
        return 2
    data = Path(args.data)
    files = find_normal_maps(data) if data.is_dir() else []
    if not files:
        print(f"no normal maps under {data}", file=sys.stderr)
        return 2
    files = files[:args.limit] if args.limit > 0 else files
    try:
        base, tuned = load_model(args.base), load_model(args.tuned)
    except CheckpointError as exc:
        print(f"cannot load a model: {exc}", file=sys.stderr)
        return 2
    print(f"normal-map SR x{args.scale} (split, sigma {args.sigma:g} LR px) on {len(files)} "
          f"held-out maps of {data}; base {base.name}, fine-tuned {tuned.name} as the "
          f"{args.part} model; angular error in degrees")
    print(f"{'map':<16} {'model':<6} {'mean':>7} {'median':>7} {'<11.25%':>8} {'s':>6}")
    rows = []
    for f in files:  # one map at a time, so the table grows as it runs
        for r in evaluate_pair([f], base.module, tuned.module, scale=args.scale,
                               sigma=args.sigma, part=args.part, precision=args.precision):
            rows.append(r)
            print(f"{r['map']:<16} {r['model']:<6} {r['mean']:7.3f} {r['median']:7.3f} "
                  f"{r['under_11_25']:8.2f} {r['seconds']:6.1f}", flush=True)
    for label in ("base", "tuned"):
        sel = [r for r in rows if r["model"] == label]
        print(f"{'MEAN':<16} {label:<6} {np.mean([r['mean'] for r in sel]):7.3f} "
              f"{np.mean([r['median'] for r in sel]):7.3f} "
              f"{np.mean([r['under_11_25'] for r in sel]):8.2f} "
              f"{sum(r['seconds'] for r in sel):6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
