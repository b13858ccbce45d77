"""Normal integration on the 9 DiLiGenT objects: accuracy (MADE, mm) and seconds per object.

    python -m bench.normal_integration [--methods lsq,bini,dct,fc] [--objects bear,cat,...]
                                       [--data ../shared/datasets/normals/diligent]
                                       [--scale 4 [--sr-cache DIR]] [--peer PATH]

Protocol (as in bilateral normal integration, Cao et al. ECCV 2022, and the data README):
perspective camera with each object's ``K.txt`` (log-depth integration), the estimate is set to
NaN outside ``mask.png``, scaled by ``median(gt / estimate)`` inside the mask, and the mean
absolute difference from ``depth_gt.npz`` (mm) is reported. The published BiNI numbers
(k = 2, 100 iterations) are printed alongside for reference. Times are wall-clock seconds of
the solve only (loading excluded), on whatever machine runs this (not isolated: a busy machine
gives slower times, not different errors).

``--scale S``: each normal map is first super-resolved S times by the default normal pipeline
(:func:`core.normals.super_resolve_normals`, split SR with the default model; the result is kept
in ``--sr-cache`` as ``OBJECT_xS.png`` and reused), the mask and the ground truth are upscaled
with nearest neighbour and ``K`` is scaled (:func:`core.surface.scale_intrinsics`).

``--peer PATH``: also run the official BiNI solver (``bilateral_normal_integration_cpu.py`` of a
local clone of github.com/xucao-42/bilateral_normal_integration; PATH is the clone or the file)
on the same normals, mask and ``K`` in the same run; it is skipped with the reason when PATH
does not hold it (nothing is downloaded). Its column is ``peer``; its wall time includes its
own mesh construction (with pyvista replaced by a stub when pyvista is not installed).
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


PEER_FILE = "bilateral_normal_integration_cpu.py"


def load_peer(path: str | None):
    """``(function, None)`` of the official solver at ``path`` or ``(None, reason)``."""
    if not path:
        return None, None
    p = Path(path)
    f = p / PEER_FILE if p.is_dir() else p
    if not f.is_file():
        return None, f"peer skipped: {f} not found (clone github.com/xucao-42/" \
                      f"bilateral_normal_integration there; nothing is downloaded)"
    # lazy: only with --peer
    import importlib
    import types

    try:
        import pyvista  # noqa: F401  # lazy: optional, only the peer's mesh output uses it
    except ImportError:     # the peer only builds its output mesh with it
        stub = types.ModuleType("pyvista")
        stub.PolyData = lambda *a, **k: None
        sys.modules["pyvista"] = stub
    # imported by its own name from its folder, as its CLI runs it: numba's cache=True needs an
    # importable module
    sys.path.insert(0, str(f.parent))
    try:
        mod = importlib.import_module(f.stem)
    except Exception as exc:  # a missing dependency of the peer (numba, tqdm, ...)
        return None, f"peer skipped: {f} does not load ({type(exc).__name__}: {exc})"
    finally:
        sys.path.remove(str(f.parent))
    return mod.bilateral_normal_integration, None


def _made(depth, mask, gt) -> float:
    """MADE of a positive depth map (the :func:`core.surface.made` protocol)."""
    import numpy as np  # lazy: --help stays light

    ok = mask & np.isfinite(gt) & np.isfinite(depth) & (depth != 0)
    s = np.median(gt[ok] / depth[ok])
    return float(np.mean(np.abs(s * depth[ok] - gt[ok])))


def sr_inputs(d: Path, obj: str, scale: int, cache: Path):
    """The object's normal map super-resolved ``scale`` times (cached), with the mask, ``K``
    and ground truth brought to that grid."""
    # lazy: cv2, torch (SR); --help stays light
    import cv2
    import numpy as np

    from core.io.normals import load_intrinsics, load_normal_map, save_normal_map
    from core.jobs import run_sync
    from core.normals import super_resolve_normals
    from core.surface import scale_intrinsics

    cached = cache / f"{obj}_x{scale}.png"
    mask = cv2.imread(str(d / "mask.png"), cv2.IMREAD_GRAYSCALE)
    h, w = mask.shape
    mask_hr = cv2.resize(mask, (w * scale, h * scale), interpolation=cv2.INTER_NEAREST) > 0
    if not cached.is_file():
        print(f"{obj}: super-resolving x{scale} into {cached} (once)", file=sys.stderr)
        lr = load_normal_map(d / "normal_map.png", mask=d / "mask.png")
        res = run_sync(super_resolve_normals(lr, scale=scale))
        cache.mkdir(parents=True, exist_ok=True)
        save_normal_map(res.normals, cached)
    nmap = load_normal_map(cached, mask=mask_hr)
    K = scale_intrinsics(load_intrinsics(d / "K.txt"), scale)
    gt = np.load(d / "depth_gt.npz")["depth_gt"].astype(np.float64)
    gt = cv2.resize(gt, (w * scale, h * scale), interpolation=cv2.INTER_NEAREST)
    return nmap, K, gt


def run(data: Path, objects: list[str], methods: list[str], scale: int = 1,
        cache: Path | None = None, peer=None) -> list[dict]:
    # lazy: numpy, scipy; --help stays light
    import contextlib
    import io

    import numpy as np

    from core.io.normals import load_intrinsics, load_normal_map
    from core.surface import integrate_sync, made

    rows = []
    for obj in objects:
        d = data / obj
        if scale == 1:
            nmap = load_normal_map(d / "normal_map.png", mask=d / "mask.png")
            K = load_intrinsics(d / "K.txt")
            gt = np.load(d / "depth_gt.npz")["depth_gt"]
        else:
            nmap, K, gt = sr_inputs(d, obj, scale, cache)
        row: dict = {"object": obj}
        for m in methods:
            t0 = time.perf_counter()
            method, _, solver = m.partition("-")      # bini-reference: the previous solver
            opts = {"solver": solver} if solver else {}
            surf = integrate_sync(nmap, method=method, K=K, **opts)
            row[m] = (made(surf, gt), time.perf_counter() - t0)
        if peer is not None:
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()):
                depth = peer(nmap.normals, nmap.mask, K=K)[0]
            row["peer"] = (_made(depth, nmap.mask, gt), time.perf_counter() - t0)
        rows.append(row)
        print(_line(obj, row, methods + (["peer"] if peer else []),
                    PUBLISHED_BINI.get(obj) if scale == 1 else None), flush=True)
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
    p.add_argument("--methods", default="lsq,bini,dct,fc",
                   help="methods to run; bini-reference is bini with the reference "
                        "(single-level, sparse-matrix) solver")
    p.add_argument("--objects", default=",".join(OBJECTS))
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets" / "normals" /
                                         "diligent"))
    p.add_argument("--scale", type=int, default=1,
                   help="super-resolve each normal map this many times first (default 1: as is)")
    p.add_argument("--sr-cache", default=str(Path.home() / ".cache" / "srw" / "bench_normals"),
                   help="folder of the super-resolved maps (made once, reused)")
    p.add_argument("--peer", default=None,
                   help="a local clone of the official BiNI solver (or its "
                        f"{PEER_FILE}), run on the same inputs")
    args = p.parse_args(argv)
    if args.scale < 1:
        print(f"error: --scale must be a positive integer, got {args.scale}", file=sys.stderr)
        return 2
    data = Path(args.data)
    if not data.is_dir():
        print(f"error: {data} not found (the DiLiGenT folder of ../shared/datasets)",
              file=sys.stderr)
        return 2
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    objects = [o.strip() for o in args.objects.split(",") if o.strip()]
    peer, reason = load_peer(args.peer)
    if reason:
        print(reason)
    cols = methods + (["peer"] if peer else [])
    print(f"DiLiGenT normal integration, perspective, MADE in mm (median-scaled) and seconds; "
          f"{os.cpu_count()} CPUs" + (f"; normals super-resolved x{args.scale} (default "
                                      f"pipeline), K scaled, mask and GT nearest" if
                                      args.scale > 1 else ""))
    head = [f"{'object':<8}"] + [f"{m + ' mm':>8} {'s':>6}" for m in cols] + [
        f"{'BiNI pub':>8}"]
    print("  ".join(head))
    rows = run(data, objects, methods, args.scale, Path(args.sr_cache), peer)
    mean = {m: (sum(r[m][0] for r in rows) / len(rows), sum(r[m][1] for r in rows) / len(rows))
            for m in cols}
    pub = [PUBLISHED_BINI[r["object"]] for r in rows if r["object"] in PUBLISHED_BINI]
    ref = sum(pub) / len(pub) if len(pub) == len(rows) and args.scale == 1 else None
    print(_line("mean", mean, cols, ref))
    return 0


if __name__ == "__main__":
    sys.exit(main())
