"""Channel SR speed and memory: every channel of a stack through bicubic, FSRCNN and LIIF.

    python -m bench.channels [--channels 150] [--lr 64] [--out 256] [--models bicubic,fsrcnn,liif]
                             [--modes replicate,groups] [--memory bicubic,fsrcnn]

Data: the seeded multipath sample (``core.channels.multipath``), ``lr x lr x channels/2`` complex
-> ``channels`` real/imag channels. Models: bundled weights when present (an ``liif`` and an
x4 ``fsrcnn`` entry of the catalog), otherwise the official architectures with random weights
(the speed does not depend on the values). Each case runs once in a fresh process (peak memory
is its own); the time covers :func:`core.channels.sr.super_resolve_channels` only.
Targets (issue 7): 150 channels 64x64 -> 256x256 under 60 s with LIIF, under 5 s with FSRCNN.
``--memory MODELS`` also runs 256x256x256 -> 1024x1024x256 (a 1 GiB float32 output) with those
models and prints the peak resident memory next to the output size.

``time s`` is wall-clock, ``cpu s`` the process's CPU time (on a shared, loaded machine the
wall time is the CPU time stretched by the other processes; the CPU time is what an idle core
would take). Precision ``auto`` is bf16 on this AVX512-BF16 CPU.

Measured 2026-11-22 on the shared 2-core development machine (load average 4-5 from other
training runs), ``python -m bench.channels --threads 1``, bundled LIIF, random FSRCNN x4:

    model                      mode       stack               prec  time s   cpu s  peak MB
    bicubic                    replicate  150x64^2->256^2     fp32    0.54    0.27      310
    fsrcnn x4 (random weights) replicate  150x64^2->256^2     bf16    1.82    0.80      353
    liif (bundled)             replicate  150x64^2->256^2     bf16  269.16  127.22      373
    liif (bundled)             groups     150x64^2->256^2     bf16  104.57   42.28      379

FSRCNN meets its 5 s target (its transposed convolution runs as a sub-pixel convolution:
2.1 s -> 0.9 s on the same load, interleaved). LIIF in groups of three needs 42 s of CPU (under
60 s on a free core; 105 s of wall time on this loaded machine): ~0.85 s per 3-channel run,
bound by the decoder's bf16 matrix products (~100 GFLOP/s on one core). Memory: bicubic
256^2 -> 1024x1024x256 peaks at 1.36 GB for a 1.0 GB output.
"""

from __future__ import annotations

import argparse
import json
import time

import torch


def _model(name: str):
    from core.models import get_arch, list_models, load_model
    from core.models.archs.liif import default_liif_spec, liif_from_spec

    for entry in list_models():
        if entry.arch == name and (name != "fsrcnn" or entry.scales == (4,)):
            return load_model(entry).module, f"{entry.name} (bundled)"
    torch.manual_seed(0)
    if name == "liif":
        return liif_from_spec(default_liif_spec()).eval(), "liif (random weights)"
    if name == "fsrcnn":
        return get_arch("fsrcnn").build(scale=4).eval(), "fsrcnn x4 (random weights)"
    return load_model(name).module, name


def run_case(case: dict) -> dict:
    from core.channels import sample_channels
    from core.channels import super_resolve_channels
    from core.engine import SROptions
    from core.jobs import run_sync

    if case.get("threads"):
        torch.set_num_threads(case["threads"])
    data = sample_channels((case["lr"], case["lr"], case["channels"] // 2), seed=0)
    model, label = _model(case["model"])
    opts = SROptions(precision=case.get("precision", "auto"))
    t0, c0 = time.perf_counter(), time.process_time()
    res = run_sync(super_resolve_channels(model, data, size=(case["out"], case["out"]),
                                          rgb_mode=case["mode"], options=opts))
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "cpu": time.process_time() - c0, "label": label,
            "precision": res.precision,
            "out_mb": res.image.pixels.nbytes / 2**20, "shape": list(res.image.shape)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--channels", type=int, default=150)
    ap.add_argument("--lr", type=int, default=64)
    ap.add_argument("--out", type=int, default=256)
    ap.add_argument("--models", default="bicubic,fsrcnn,liif")
    ap.add_argument("--modes", default="replicate,groups")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--memory", default="",
                    help="models for the 256^2 -> 1024x1024x256 memory case, e.g. bicubic,fsrcnn")
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(json.loads(args.case))))
        return
    from bench._measure import in_subprocess

    cases = []
    for model in args.models.split(","):
        modes = ["replicate"] if model in ("bicubic", "fsrcnn") else args.modes.split(",")
        for mode in modes:
            cases.append(dict(model=model, mode=mode, channels=args.channels, lr=args.lr,
                              out=args.out, precision=args.precision, threads=args.threads))
    if args.memory:
        for model in args.memory.split(","):
            cases.append(dict(model=model, mode="replicate", channels=256, lr=256, out=1024,
                              precision=args.precision, threads=args.threads))
    print(f"{'model':<30} {'mode':<10} {'stack':<22} {'prec':<5} {'time s':>8} {'cpu s':>8} "
          f"{'peak MB':>8} {'output MB':>9}")
    for case in cases:
        r = in_subprocess("bench.channels", case)
        stack = f"{case['channels']}x{case['lr']}^2->{case['out']}^2"
        print(f"{r['label']:<30} {case['mode']:<10} {stack:<22} {r['precision']:<5} "
              f"{r['seconds']:>8.2f} {r['cpu']:>8.2f} {r['peak_mb']:>8.0f} {r['out_mb']:>9.0f}",
              flush=True)


if __name__ == "__main__":
    main()
