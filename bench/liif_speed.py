"""LIIF inference: the official algorithm (reference) vs the engine, fp32 and bf16.

    python -m bench.liif_speed [--size 256] [--scales 2,4,8] [--repeats 3]

Input: a 256x256 RGB image; model: LIIF with the EDSR-baseline encoder (bundled weights when
present, else random weights: the speed does not depend on the values). Each case runs in a
fresh process (so peak memory is its own); time is the median of ``--repeats`` rounds (each
case runs once after a warm-up, in its own process; rounds interleave the implementations so
that machine noise hits them alike). Also prints the largest difference of the engine's fp32
output from the reference.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch


def _model():
    from core.models.archs.liif import default_liif_spec, liif_from_spec

    torch.manual_seed(0)
    return liif_from_spec(default_liif_spec()).eval()


def run_case(case: dict) -> dict:
    from core.engine.arbitrary import run_arbitrary
    from core.engine.device import placed
    from core.jobs import run_sync
    from tests.core.liif_reference import batched_predict

    torch.set_num_threads(case.get("threads") or torch.get_num_threads())
    model = _model()
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, 3, case["size"], case["size"], generator=g)
    out_hw = (case["size"] * case["scale"],) * 2
    dtype = torch.bfloat16 if case["impl"] == "engine-bf16" else torch.float32

    def once():
        if case["impl"] == "reference":
            return batched_predict(model, x, out_hw, bsize=30000)
        net = placed(model, torch.device("cpu"), dtype)
        return run_sync(run_arbitrary(net, x.to(dtype), out_hw, None))

    times = []
    out = once()
    for _ in range(case["repeats"]):
        t0 = time.perf_counter()
        out = once()
        times.append(time.perf_counter() - t0)
    result = {"seconds": statistics.median(times)}
    if case.get("check") and case["impl"] != "reference":
        ref = batched_predict(model, x, out_hw, bsize=30000)
        result["max_diff"] = float((out.float() - ref).abs().max())
    return result


def main() -> None:
    from bench._measure import in_subprocess

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--scales", default="2,4,8")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads per case (0: torch's default); 1 avoids thread imbalance "
                         "on a machine whose other core is busy")
    ap.add_argument("--case", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(json.loads(args.case))))
        return
    print(f"LIIF (EDSR-baseline encoder), {args.size}x{args.size} input, CPU threads "
          f"{args.threads or torch.get_num_threads()}, median of {args.repeats}")
    print(f"{'scale':>5}  {'implementation':<14} {'time s':>8} {'speed-up':>8} {'peak MB':>8} "
          f"{'max |diff|':>10}")
    impls = ("reference", "engine-fp32", "engine-bf16")
    for s in [int(v) for v in args.scales.split(",")]:
        # rounds interleave the implementations so machine noise hits them alike
        runs: dict[str, list[dict]] = {impl: [] for impl in impls}
        for rnd in range(args.repeats):
            for impl in impls:
                runs[impl].append(in_subprocess("bench.liif_speed", {
                    "impl": impl, "size": args.size, "scale": s, "repeats": 1,
                    "threads": args.threads,
                    "check": impl == "engine-fp32" and rnd == 0}))
        base = statistics.median(r["seconds"] for r in runs["reference"])
        for impl in impls:
            sec = statistics.median(r["seconds"] for r in runs[impl])
            peak = max(r["peak_mb"] for r in runs[impl])
            diff = runs[impl][0].get("max_diff")
            diff_s = f"{diff:.1e}" if diff is not None else ""
            print(f"{'x' + str(s):>5}  {impl:<14} {sec:8.2f} {base / sec:7.2f}x "
                  f"{peak:8.0f} {diff_s:>10}", flush=True)

if __name__ == "__main__":
    main()
