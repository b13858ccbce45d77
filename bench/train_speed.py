"""Seconds per training step of the bundled configs: fp32 vs bf16 autocast, threads, layout.

    python -m bench.train_speed [--configs liif_edsr_baseline,edsr_baseline_x4] [--threads 1,2]
                                [--steps 4]

Each case runs in a fresh process (``torch.set_num_threads`` is per process): the real
``train_step`` on real batches (T91 + BSD200, made in the main process with numpy), Adam and the
config's batch and patch sizes. Reported: the best of ``--steps`` steps after one warm-up step,
and the batch-making time. The numbers depend on what else runs on the machine: check the load.
"""

from __future__ import annotations

import argparse
import json
import time


def run_case(case: dict) -> dict:
    import torch

    from core.training import build_model, load_config, load_images, make_batch
    from core.training import make_optimizer, train_step

    torch.set_num_threads(case["threads"])
    cfg = load_config(f"configs/{case['config']}.yaml")
    cfg.train.channels_last = case["layout"] == "channels_last"
    images = load_images([cfg.resolve(f) for f in cfg.data.train])
    torch.manual_seed(0)
    model, _ = build_model(cfg)
    if cfg.train.channels_last:
        model.to(memory_format=torch.channels_last)
    model.train()
    opt = make_optimizer(cfg, model)
    dtype = torch.bfloat16 if case["precision"] == "bf16" else None
    step_s, batch_s = [], []
    for k in range(case["steps"] + 1):
        t0 = time.perf_counter()
        batch = make_batch(cfg, images, k)
        t1 = time.perf_counter()
        train_step(model, opt, batch, cfg, dtype)
        batch_s.append(t1 - t0)
        step_s.append(time.perf_counter() - t1)
    return {"step_s": min(step_s[1:]), "batch_s": sum(batch_s) / len(batch_s)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--configs", default="liif_edsr_baseline,edsr_baseline_x4")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=4)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(json.loads(args.case))))
        return
    from ._measure import in_subprocess

    print(f"{'config':<20} {'thr':>3} {'precision':<9} {'layout':<13} {'s/step':>7} "
          f"{'batch s':>7}")
    for name in args.configs.split(","):
        for threads in (int(t) for t in args.threads.split(",")):
            for prec, layout in (("fp32", "nchw"), ("bf16", "nchw"), ("bf16", "channels_last")):
                case = {"config": name, "threads": threads, "precision": prec, "layout": layout,
                        "steps": args.steps}
                r = in_subprocess("bench.train_speed", case)
                print(f"{name:<20} {threads:>3} {prec:<9} {layout:<13} {r['step_s']:7.2f} "
                      f"{r['batch_s']:7.3f}", flush=True)


if __name__ == "__main__":
    main()
