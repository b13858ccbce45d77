"""Scale-out: the same ``eval`` locally and on a local Ray with 1 and 2 workers, side by side.

    python -m bench.scale_out [--models bicubic,fsrcnn_x2,...] [--data DIR] [--scales 2,3,4]
                              [--images N] [--workers 1,2] [--quick]

Every run computes the same units (one per model, scale and image, :mod:`core.scale`) with
the same function; the table checks that their CSV rows are identical and prints, per
executor: the run's wall time (Ray start and shutdown shown apart), the speed-up over the
local run, and Ray's overhead per task (median round trip of an empty task on the same Ray,
sequential, in ms). Default: 6 models x Set14 x {2, 3, 4}; ``--quick``: 3 models x the first
3 images of Set5 x {2, 3}. One machine only: a cluster adds network and image reads.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from core.evaluate import EvalSpec, eval_unit, find_images, score_row
from core.jobs import run_sync
from core.models import load_model
from core.provenance import Provenance, weights_digest
from core.scale import LocalExecutor, RayExecutor, Unit, run_units
from core.scale.worker import remember_model

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets" / "benchmark"
FULL = "bicubic,fsrcnn_x2,fsrcnn_x3,fsrcnn_x4,espcn_x3,edsr_baseline_x2"


def plan(models: list[str], data: Path, scales: list[int], images: int | None) -> list[Unit]:
    files = find_images(data)[:images] if images else find_images(data)
    units = []
    for m in models:
        loaded = load_model(m)
        remember_model(m, None, loaded)
        digest = weights_digest(loaded.source)
        base = Provenance(loaded.name, weights=loaded.source.name if loaded.source else "",
                          sha256=digest)
        spec = EvalSpec(m, None, digest, loaded.name, base, y_channel=True)
        for s in scales:
            for f in files:
                units.append(Unit(len(units), f.name, eval_unit, (spec, f, s)))
    return units


def run(executor, units: list[Unit]) -> tuple[float, list[dict]]:
    rows: dict[int, dict] = {}

    def arrived(out) -> None:
        if out.error:
            raise RuntimeError(f"{out.label}: {out.error}")
        rows[out.index] = score_row(out.value)

    t0 = time.perf_counter()
    run_sync(run_units(executor, units, arrived))
    return time.perf_counter() - t0, [rows[k] for k in sorted(rows)]


def overhead_ms(ex: RayExecutor, n: int = 30) -> float:
    return 1000 * ex.round_trip(n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=None)
    ap.add_argument("--data", default=None)
    ap.add_argument("--scales", default=None)
    ap.add_argument("--images", type=int, default=None)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    models = (a.models or ("bicubic,fsrcnn_x2,fsrcnn_x3" if a.quick else FULL)).split(",")
    data = Path(a.data) if a.data else SHARED / ("Set5" if a.quick else "Set14") / "HR"
    scales = [int(s) for s in (a.scales or ("2,3" if a.quick else "2,3,4")).split(",")]
    images = a.images or (3 if a.quick else None)
    units = plan(models, data, scales, images)
    print(f"{len(units)} units: {len(models)} models x {data} "
          f"({images or 'all'} images) x scales {scales}; {os.cpu_count()} cores")
    local_s, ref = run(LocalExecutor(), units)
    table = [("local", "-", local_s, 1.0, "-", True)]
    for w in [int(v) for v in a.workers.split(",")]:
        t0 = time.perf_counter()
        ex = RayExecutor(workers=w)
        start = time.perf_counter() - t0
        over = overhead_ms(ex)
        try:
            secs, rows = run(ex, units)
        finally:
            t0 = time.perf_counter()
            ex.close()
            start += time.perf_counter() - t0
        table.append((f"ray x{w}", f"{start:.1f}", secs, local_s / secs, f"{over:.1f}",
                      rows == ref))
    print(f"{'executor':<9} {'start+stop s':>12} {'run s':>7} {'speed-up':>8} "
          f"{'overhead/task ms':>16}  rows identical")
    for name, start, secs, speed, over, same in table:
        print(f"{name:<9} {start:>12} {secs:7.1f} {speed:8.2f} {over:>16}  {same}")


if __name__ == "__main__":
    main()
