"""``train`` and ``export-weights``: the command line of :mod:`core.training`."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from core.errors import Cancelled, ConfigError, InputError

from .options import int_range, positive_int
from .outputs import check_config_file, check_outputs
from .progress import StopFlag, run_with_bar
from .zeroshot import cmd_mzsr_train

__all__ = ["add_parsers", "cmd_train", "cmd_export_weights"]


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``train`` and ``export-weights`` on the main parser's subcommands."""
    p = sub.add_parser(
        "train", help="train a model from a YAML config (see configs/)",
        description="Train a model from a YAML config. Writes last.pt (resumable), best.pt "
                    "(best validation PSNR, loadable weights), log.csv and config.yaml into the "
                    "run folder. Ctrl-C (or SIGTERM) stops after the current step and saves "
                    "last.pt; continue with --resume.")
    p.add_argument("config", help="training config, e.g. configs/edsr_baseline_x4.yaml")
    p.add_argument("--resume", action="store_true", help="continue the run from OUT/last.pt")
    p.add_argument("--steps", type=positive_int, default=None,
                   help="train until this total step count (default: train.steps of the config)")
    p.add_argument("--out", default=None,
                   help="run folder (default: runs/<config name>/ inside the repository)")
    p.add_argument("--threads", type=int_range(1, 1024), default=None,
                   help="CPU threads for torch (default: torch's choice, all cores)")
    p.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, mps")
    p.add_argument("--workers", type=int_range(0, 256), default=0,
                   help="processes that make batches ahead (same batches; use on a GPU, where "
                        "making them on the CPU is slower than the step; default 0)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar; only report lines (validation, checkpoints)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "export-weights", help="write loadable float32 weights from a training run",
        description="Export weights from a run folder (its best.pt, else last.pt), a last.pt or "
                    "a best.pt, in the format 'sr -m FILE' and 'eval -m FILE' read.")
    p.add_argument("source", help="run folder, last.pt or best.pt")
    p.add_argument("output", help="output file, e.g. resources/weights/liif.pth")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--half", action="store_true",
                   help="store the weights as float16 (half the file; they load into a float32 "
                        "model; check the PSNR with 'eval' before shipping)")
    p.set_defaults(func=cmd_export_weights)


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")


def _is_mzsr_config(path: str) -> bool:
    """An MZSR config (flat keys, ``meta_steps``) rather than a model/data/train one."""
    # lazy: yaml; keeps CLI start-up at ~250 ms
    from core.config_values import read_yaml

    try:
        raw = read_yaml(Path(path))
    except ConfigError:
        return False  # load_config reports it
    return isinstance(raw, dict) and "meta_steps" in raw and "model" not in raw


def cmd_train(args: argparse.Namespace) -> int:
    check_config_file(args.config)  # before importing torch: a refusal is instant
    if args.out:
        _check_out_dir(Path(args.out))
    # lazy: torch, cv2; keeps CLI start-up at ~250 ms
    from core.training import load_config, train
    from core.training.loop import TrainProgress, default_out_dir

    if _is_mzsr_config(args.config):  # issue 9: MZSR trains through the same command
        args.init = None
        return cmd_mzsr_train(args)
    cfg = load_config(args.config)
    out = Path(args.out) if args.out else default_out_dir(cfg)
    if args.steps is not None and args.steps < 1:
        raise InputError(f"--steps must be >= 1, got {args.steps}")
    log_every = cfg.train.log_every
    last: dict[str, object] = {"step": 0}
    t_start = time.perf_counter()

    def lines(p: object) -> str | None:
        if not isinstance(p, TrainProgress):
            return None
        last["step"] = p.done
        stamp = time.strftime("%H:%M:%S")
        if p.event == "setup":
            return f"{stamp} {p.message}"
        if p.event == "val":
            return f"{stamp} step {p.done}/{p.total} {p.message}"
        if p.event == "checkpoint":
            return f"{stamp} step {p.done}/{p.total} {p.message} | last.pt saved"
        if p.done % log_every == 0:
            return f"{stamp} step {p.done}/{p.total} {p.message}"
        return None

    resume_cmd = f"python main.py train {args.config} --resume --out {out}"
    print(f"training {cfg.name} into {out}", flush=True)
    with StopFlag() as stop:
        job = train(cfg, out, resume=args.resume, steps=args.steps, threads=args.threads,
                    device=args.device, workers=args.workers)
        try:
            result = run_with_bar(job, desc=cfg.name, quiet=args.quiet, lines=lines,
                                  should_stop=stop)
        except (Cancelled, KeyboardInterrupt):
            print(f"stopped at step {last['step']}; state saved in {out / 'last.pt'}\n"
                  f"continue with: {resume_cmd}", flush=True)
            return 130
    best = f"{result.best_psnr:.2f} dB" if result.best_psnr is not None else "n/a"
    print(f"done: step {result.step}/{result.total}, best validation PSNR {best}, "
          f"{result.seconds / 3600:.2f} h of training ({time.perf_counter() - t_start:.0f} s "
          f"this session)\nweights: {result.best or result.last}\n"
          f"export with: python main.py export-weights {out} resources/weights/NAME.pth",
          flush=True)
    return 0


def cmd_export_weights(args: argparse.Namespace) -> int:
    # lazy: torch, cv2; keeps CLI start-up at ~250 ms
    from core.training import export_file

    check_outputs(args, "output")
    path, meta = export_file(args.source, args.output, overwrite=args.overwrite,
                             half=args.half)
    size = path.stat().st_size / 1e6
    info = ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in meta.items())
    print(f"{path}: {size:.1f} MB {'float16' if args.half else 'float32'} ({info})")
    return 0
