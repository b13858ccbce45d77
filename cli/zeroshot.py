"""``zssr`` and ``mzsr`` subcommands (zero-shot SR, :mod:`core.zeroshot`).

    python main.py zssr IMG -s 4 -o OUT.png [--iters N] [--kernel K.npy|gauss2.0|aniso]
                   [--gradual|--no-gradual] [--no-ensemble] [--bp N] [--crop PX]
                   [--finetune N  (channel data: per-channel steps)] [--precision ...]
    python main.py mzsr train configs/mzsr_x2.yaml [--out DIR] [--init CK.pt] [--threads N]
                   [--resume] [--steps N]   (Ctrl-C saves last.pt; --resume continues from it)
    python main.py mzsr sr IMG -o OUT.png [-w runs/mzsr_x2/mzsr.pt] [--steps 10] [--kernel K]
                   (default weights: resources/weights/zeroshot/mzsr_x2.pth, when bundled;
                   the scale is the weights' own)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core.budget import MAX_SCALE
from core.errors import Cancelled, InputError
from core.zeroshot.presets import PRESETS

from . import channels as channels_cli
from .channels import load_kwargs, wants_channels
from .options import float_range, int_range, non_negative_int, positive_int, seed
from .outputs import check_config_file, check_outputs
from .progress import StopFlag, run_with_bar
from .scale import add_executor_options

__all__ = ["add_parsers", "cmd_zssr", "zssr_unit", "cmd_mzsr_train", "cmd_mzsr_sr", "mzsr_weights"]


def _common(p: argparse.ArgumentParser, seed_help: str) -> None:
    p.add_argument("-o", "--output", required=True, help="output file (format from its extension)")
    p.add_argument("--kernel", default=None,
                   help="known blur kernel at the scale: a .npy 2-D normalised array or a preset "
                        f"({' '.join(PRESETS)}); default: bicubic")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, mps or auto")
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"],
                   help="auto: bf16 autocast where the CPU/GPU runs it fast (~2x faster here)")
    p.add_argument("--seed", type=seed, default=0, help=seed_help)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def add_parsers(sub) -> None:
    """Register ``zssr`` and ``mzsr``."""
    p = sub.add_parser("zssr", help="zero-shot SR: train a small CNN on the input itself (ZSSR)")
    p.add_argument("input", help="image, .npy array or channel matrix; a folder: each of its "
                                 "files into the folder -o ({stem}_zssr_x{scale}.{ext})")
    p.add_argument("-s", "--scale", required=True, type=float_range(1, MAX_SCALE, low_open=True),
                   help="scale factor > 1, e.g. 2, 4, 8")
    p.add_argument("--iters", type=positive_int, default=3000,
                   help="max training iterations per stage (paper: 3000; stops earlier when the "
                        "learning rate falls under 9e-6)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--gradual", dest="gradual", action="store_true", default=None,
                   help="x2 stages up to the scale (default above x4 without a kernel)")
    g.add_argument("--no-gradual", dest="gradual", action="store_false")
    p.add_argument("--no-ensemble", action="store_true", help="skip the 8-way self-ensemble")
    p.add_argument("--bp", type=non_negative_int, default=10, help="back-projection iterations (10)")
    p.add_argument("--crop", type=positive_int, default=128, help="HR-father crop size in pixels (128)")
    p.add_argument("--zssr-finetune", type=non_negative_int, default=0, metavar="N",
                   help="channel data: fine-tune the stack net N steps on each channel")
    p.add_argument("--kind", choices=["rgb", "gray", "channels"], default=None)
    _common(p, "random seed of the crops and the network's start, 0 <= SEED < 2**32 (0)")
    channels_cli._add_load_options(p)
    add_executor_options(p, resume=False)   # a folder run skips outputs that exist
    p.set_defaults(func=cmd_zssr)

    m = sub.add_parser("mzsr", help="meta-transfer zero-shot SR (MZSR): train or apply")
    msub = m.add_subparsers(dest="mzsr_command", metavar="ACTION", required=True)
    t = msub.add_parser("train", help="bicubic pre-training then meta-learning",
                        description="Bicubic pre-training then meta-learning. Writes last.pt "
                                    "(resumable), mzsr.pt, pretrain.pt and log.csv into the run "
                                    "folder; Ctrl-C (or SIGTERM) stops after the current step "
                                    "and saves last.pt; continue with --resume.")
    t.add_argument("config", help="YAML config (configs/mzsr_x2.yaml)")
    t.add_argument("--out", default=None, help="run folder (default runs/<name>)")
    t.add_argument("--init", default=None, help="MZSR checkpoint to start from (no pre-training)")
    t.add_argument("--resume", action="store_true",
                   help="continue the run from OUT/last.pt (exactly: model, optimiser, step, RNG)")
    t.add_argument("--steps", type=positive_int, default=None,
                   help="stop at this total step count, pre-training included (default: all)")
    t.add_argument("--threads", type=int_range(1, 1024), default=None, help="torch CPU threads")
    t.add_argument("-q", "--quiet", action="store_true")
    t.set_defaults(func=cmd_mzsr_train)
    r = msub.add_parser("sr", help="adapt meta-weights to one image, then super-resolve it")
    r.add_argument("input", help="RGB image")
    r.add_argument("-w", "--weights", default=None,
                   help="MZSR checkpoint (mzsr.pt); default: the bundled x2 meta-weights "
                        "(resources/weights/zeroshot/mzsr_x2.pth). The scale is the weights'")
    r.add_argument("-s", "--scale", type=float_range(1, MAX_SCALE, low_open=True), default=None,
                   help="optional check: the scale wanted (must be the weights' own)")
    r.add_argument("--steps", type=non_negative_int, default=10, help="adaptation steps (1 or 10)")
    r.add_argument("--bp", type=non_negative_int, default=0, help="back-projection iterations after SR (0)")
    # MZSR adaptation is deterministic (the whole image, no random crops; the start is the
    # meta-weights): --seed is kept so zssr and mzsr share options, and says so
    _common(r, "checked (0 <= SEED < 2**32) but changes nothing: MZSR adapts on the whole image "
               "from the meta-weights, nothing in it is random")
    r.set_defaults(func=cmd_mzsr_sr)


def _check_out(args: argparse.Namespace) -> None:
    check_outputs(args, "output")


def cmd_zssr(args: argparse.Namespace) -> int:
    """``zssr IMG -o OUT``, or ``zssr FOLDER -o OUTDIR``: one unit per image (README "Scale
    out"), existing outputs skipped unless --overwrite, failures listed, exit 2 at the end."""
    _check_args(args)
    if Path(args.input).is_dir():
        return _zssr_folder(args)
    _check_out(args)
    info = _zssr_one(args, Path(args.input), Path(args.output), quiet=args.quiet)
    print(info["line"], file=sys.stderr)
    for note in info["notes"]:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _check_args(args: argparse.Namespace) -> None:
    for name in ("iters", "crop"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name} must be at least 1")
    if args.bp < 0 or args.zssr_finetune < 0:
        raise InputError("--bp and --zssr-finetune must be >= 0")


def _zssr_one(args: argparse.Namespace, inp: Path, out: Path, *, quiet: bool) -> dict:
    """ZSSR of one input into ``out`` (the single-file command and every folder unit)."""
    # lazy: torch, cv2; keeps CLI start-up at ~250 ms
    from core.io import load, save
    from core.zeroshot import ZSSRConfig, load_kernel, zssr_data

    kernel = load_kernel(args.kernel) if args.kernel else None
    if wants_channels(args):
        data = load(inp, kind="channels", **load_kwargs(args))
    else:
        data = load(inp, kind=args.kind)
    cfg = ZSSRConfig(scale=args.scale, max_iters=args.iters, crop=args.crop,
                     gradual=args.gradual, back_projection=args.bp,
                     ensemble=not args.no_ensemble, seed=args.seed, device=args.device,
                     precision=args.precision)
    image, res = run_with_bar(zssr_data(data, cfg, kernel, args.zssr_finetune), desc="zssr",
                              quiet=quiet)
    path = save(image, out, overwrite=args.overwrite)
    summary = (f"{image.width}x{image.height}x{image.channels} with ZSSR x{args.scale:g}: "
               f"{res.iterations} iterations, final L1 {res.losses[-1]:.4g}, lr "
               f"{res.lrs[-1]:.1e}, train {res.train_seconds:.1f} s, SR {res.sr_seconds:.1f} s")
    return {"line": f"{path}: {summary}", "summary": summary, "notes": list(res.notes)}


def zssr_unit(args: argparse.Namespace, inp: Path, out: Path) -> dict:
    """One image of a folder run, on any executor."""
    info = _zssr_one(args, Path(inp), Path(out), quiet=True)
    return {"summary": info["summary"], "notes": info["notes"]}


def _zssr_folder(args: argparse.Namespace) -> int:
    """``zssr FOLDER -o OUTDIR``: ``OUTDIR/{stem}_zssr_x{scale}.{ext}`` per image."""
    # lazy: cv2 (file types), torch on the local executor
    from .batch import expand_inputs, plan_outputs, print_summary
    from .scale import check_executor, run_items

    check_executor(args)
    files, _ = expand_inputs([args.input])
    items, _ = plan_outputs(files, ["zssr"], args.output, scale_text=f"{args.scale:g}",
                            ext=None, template=None, single=False)
    stats = run_items(args, items, zssr_unit, "zssr", "images")
    print_summary(items)   # the table, then one error line per failure (stderr)
    return 2 if stats.failed else 0


def cmd_mzsr_train(args: argparse.Namespace) -> int:
    # lazy: torch; keeps CLI start-up at ~250 ms
    import torch

    # lazy: torch, cv2; keeps CLI start-up at ~250 ms
    from core.zeroshot.mzsr import REPO_ROOT, load_mzsr_config
    from core.zeroshot.mzsr_train import train_mzsr

    check_config_file(args.config)
    if args.threads is not None:  # >= 1: checked when the line was parsed
        torch.set_num_threads(int(args.threads))
    cfg = load_mzsr_config(args.config)
    out = Path(args.out) if args.out else REPO_ROOT / "runs" / cfg.name
    t0 = time.perf_counter()
    done = {"step": 0}

    def note(p) -> None:
        done["step"] = p.done

    with StopFlag() as stop:
        job = train_mzsr(cfg, out, args.init, resume=args.resume, steps=args.steps)
        try:
            path = run_with_bar(job, desc=cfg.name, quiet=args.quiet,
                                lines=lambda p: note(p), should_stop=stop)
        except (Cancelled, KeyboardInterrupt):
            print(f"stopped at step {done['step']}; state saved in {out / 'last.pt'}\n"
                  f"continue with: python main.py mzsr train {args.config} --resume --out {out}",
                  flush=True)
            return 130
    print(f"{path}: MZSR x{cfg.scale} ({'first' if cfg.first_order else 'second'}-order) at "
          f"step {done['step']}, {time.perf_counter() - t0:.0f} s this session "
          f"(state: {out / 'last.pt'})", file=sys.stderr)
    return 0


def mzsr_weights(weights: str | None) -> Path:
    """The ``-w`` file, else the bundled meta-weights; InputError when there are neither."""
    # lazy: torch, cv2; keeps CLI start-up at ~250 ms
    from core.zeroshot.mzsr import bundled_mzsr

    if weights:
        return Path(weights)
    path = bundled_mzsr()
    if path is None:
        raise InputError("no MZSR weights: none are bundled yet (resources/weights/zeroshot/"
                         "mzsr_x2.pth); train them with python main.py mzsr train "
                         "configs/mzsr_x2.yaml and pass the run's mzsr.pt with -w")
    return path


def cmd_mzsr_sr(args: argparse.Namespace) -> int:
    # lazy: torch, cv2; keeps CLI start-up at ~250 ms
    from core.io import load, save
    from core.zeroshot import finish, load_kernel
    from core.zeroshot.mzsr import load_mzsr, mzsr_adapt

    inp, out = Path(args.input), Path(args.output)
    _check_out(args)
    if args.steps < 0 or args.bp < 0:
        raise InputError("--steps and --bp must be >= 0")
    net, info = load_mzsr(mzsr_weights(args.weights))
    if args.scale is not None and args.scale != int(info["scale"]):
        raise InputError(f"these MZSR weights are x{info['scale']}; MZSR takes its scale from "
                         f"the weights, so x{args.scale:g} needs weights meta-trained at that "
                         f"scale (scale: {args.scale:g} in a copy of configs/mzsr_x2.yaml, then "
                         f"python main.py mzsr train)")
    kernel = load_kernel(args.kernel) if args.kernel else None
    data = load(inp, kind="rgb" if net.channels == 3 else "gray")
    t0 = time.perf_counter()
    y = run_with_bar(mzsr_adapt(net, data.pixels, int(info["scale"]), kernel, args.steps,
                                float(info["config"].get("inner_lr", 1e-2)), args.bp,
                                args.precision, args.device), desc="mzsr", quiet=args.quiet)
    image = finish(data, y)
    path = save(image, out, overwrite=args.overwrite)
    print(f"{path}: {image.width}x{image.height} with MZSR x{info['scale']} after {args.steps} "
          f"steps in {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    return 0
