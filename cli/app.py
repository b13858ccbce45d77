"""Argument parsing and dispatch. Every user error ends as one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from core.errors import Cancelled, SRWError

from . import channels as channels_cli
from . import commands
from . import figure as figure_cli
from . import lam as lam_cli
from . import normals as normals_cli
from . import studies as studies_cli
from . import train as train_cli
from . import zeroshot as zeroshot_cli
from .options import add_run_options, add_scale_hint

__all__ = ["build_parser", "main", "SUBCOMMANDS"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description="SR Workbench: super-resolution for research. "
                    "Run with no arguments (or with image files) to open the window.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("sr", help="super-resolve one input file")
    p.add_argument("input", help="image (.png .jpg .tif .bmp .webp .exr), .npy array, or "
                                 "channel matrix (.npy .npz .mat .h5 .hdf5)")
    p.add_argument("-m", "--model", default=None,
                   help="model name (see 'models') or a checkpoint file; "
                        "default: the bundled default")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("-s", "--scale", help="scale factor, e.g. 4 or 2.5 (or SYxSX, e.g. 2x3)")
    g.add_argument("--size", help="exact output size WxH, e.g. 1920x1080")
    p.add_argument("-o", "--output", required=True, help="output file (format from its extension)")
    p.add_argument("--kind", choices=["rgb", "gray", "channels", "normals"], default=None,
                   help="treat the input as this kind of data (default: detected)")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    add_scale_hint(p)
    add_run_options(p)
    channels_cli.add_sr_options(p)  # --var --axes --complex --norm ... (channel data)
    normals_cli.add_sr_options(p)  # --shape-model --detail-model --sigma ... (--kind normals)
    p.set_defaults(func=commands.cmd_sr)

    p = sub.add_parser("eval", help="PSNR/SSIM of a model on a folder of HR images")
    p.add_argument("-m", "--model", required=True, help="model name or checkpoint file")
    p.add_argument("--data", required=True, help="folder of HR images")
    p.add_argument("--scales", default="2,3,4", help="comma-separated integer scales")
    p.add_argument("--lr", default=None,
                   help="folder with the LR images (X{s}/NAMEx{s}.png); "
                        "default: made with degrade()")
    p.add_argument("--y", action="store_true", help="measure on the Y channel (benchmark protocol)")
    p.add_argument("--shave", type=int, default=None, help="border to ignore (default: the scale)")
    p.add_argument("--csv", default=None, help="also write per-image scores to this CSV file")
    p.add_argument("--degrade", choices=["matlab", "pil"], default="matlab",
                   help="how LR images are made without --lr: matlab (benchmark protocol: HR "
                        "cropped, MATLAB bicubic) or pil (yjn870's SRCNN/FSRCNN/ESPCN ports: HR "
                        "resized to a multiple of the scale, PIL bicubic)")
    add_scale_hint(p)
    add_run_options(p)
    # bf16 ('auto' on recent CPUs/GPUs) moves benchmark PSNRs by ~0.1 dB: eval measures in fp32
    p.set_defaults(func=commands.cmd_eval, precision="fp32")

    p = sub.add_parser("models", help="list the available models and where their weights come from")
    p.set_defaults(func=commands.cmd_models)

    train_cli.add_parsers(sub)  # train, export-weights
    channels_cli.add_parsers(sub)  # channels info|sample|degrade|compare
    lam_cli.add_parsers(sub)  # lam (Local Attribution Maps)
    studies_cli.add_parsers(sub)  # study crop|swap|size|mosaic
    normals_cli.add_parsers(sub)  # normals split|error, surface
    zeroshot_cli.add_parsers(sub)  # zssr, mzsr train|sr
    figure_cli.add_parsers(sub)  # figure (the paper comparison figure)
    return parser


SUBCOMMANDS = ("sr", "eval", "models", "train", "export-weights", "channels", "lam",
               "normals", "surface", "study", "zssr", "mzsr", "figure")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return int(func(args) or 0)
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except SRWError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: out of memory; try a smaller scale, a tile size (--tile) or a crop",
              file=sys.stderr)
        return 2
