"""Normal integration on the 9 DiLiGenT objects: accuracy (MADE, mm) and seconds per object.

    python -m bench.normal_integration [--methods lsq,bini,dct,fc] [--objects bear,cat,...]
                                       [--data ../shared/datasets/normals/diligent]

Protocol (as in bilateral normal integration, Cao et al. ECCV 2022, and the data README):
perspective camera with each object's ``K.txt`` (log-depth integration), the estimate is set to
NaN outside ``mask.png``, scaled by ``median(gt / estimate)`` inside the mask, and the mean
absolute difference from ``depth_gt.npz`` (mm) is reported. The published BiNI numbers
(k = 2, 100 iterations) are printed alongside for reference. Times are wall-clock seconds of
the solve only (loading excluded), on whatever machine runs this (not isolated: a busy machine
gives slower times, not different errors).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: BiNI's published MADE (mm) on DiLiGenT (k=2, 100 iterations; see the datasets README).
PUBLISHED_BINI = {"bear": 0.334, "buddha": 1.098, "cat": 0.074, "cow": 0.058, "goblet": 9.018,
                  "harvest": 1.838, "pot1": 0.635, "pot2": 0.220, "reading": 0.257}
OBJECTS = tuple(PUBLISHED_BINI)


def run(data: Path, objects: list[str], methods: list[str]) -> list[dict]:
    import numpy as np

    from core.io.normals import load_intrinsics, load_normal_map
    from core.surface import integrate_sync, made

    rows = []
    for obj in objects:
        d = data / obj
        nmap = load_normal_map(d / "normal_map.png", mask=d / "mask.png")
        K = load_intrinsics(d / "K.txt")
        gt = np.load(d / "depth_gt.npz")["depth_gt"]
        row: dict = {"object": obj}
        for m in methods:
            t0 = time.perf_counter()
            surf = integrate_sync(nmap, method=m, K=K)
            row[m] = (made(surf, gt), time.perf_counter() - t0)
        rows.append(row)
        print(_line(obj, row, methods, PUBLISHED_BINI.get(obj)), flush=True)
    return rows


def _line(name: str, row: dict, methods: list[str], ref: float | None) -> str:
    cells = [f"{name:<8}"]
    for m in methods:
        err, sec = row[m]
        cells.append(f"{err:8.3f} {sec:6.2f}")
    cells.append(f"{ref:8.3f}" if ref is not None else f"{'-':>8}")
    return "  ".join(cells)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--methods", default="lsq,bini,dct,fc")
    p.add_argument("--objects", default=",".join(OBJECTS))
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "normals" /
                                         "diligent"))
    args = p.parse_args(argv)
    data = Path(args.data)
    if not data.is_dir():
        print(f"error: {data} not found (the DiLiGenT folder of ../shared/datasets)",
              file=sys.stderr)
        return 2
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    objects = [o.strip() for o in args.objects.split(",") if o.strip()]
    print(f"DiLiGenT normal integration, perspective, MADE in mm (median-scaled) and seconds; "
          f"{os.cpu_count()} CPUs")
    head = [f"{'object':<8}"] + [f"{m + ' mm':>8} {'s':>6}" for m in methods] + [
        f"{'BiNI pub':>8}"]
    print("  ".join(head))
    rows = run(data, objects, methods)
    mean = {m: (sum(r[m][0] for r in rows) / len(rows), sum(r[m][1] for r in rows) / len(rows))
            for m in methods}
    pub = [PUBLISHED_BINI[r["object"]] for r in rows if r["object"] in PUBLISHED_BINI]
    ref = sum(pub) / len(pub) if len(pub) == len(rows) else None
    print(_line("mean", mean, methods, ref))
    return 0


if __name__ == "__main__":
    sys.exit(main())
