"""Argument parsing and dispatch. Every user error ends as one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
import warnings
from contextlib import contextmanager
from typing import Callable, Iterator, NoReturn, Sequence

from core import __version__
from core.errors import Cancelled, DataLossWarning, SRWError

from . import channels as channels_cli
from . import commands
from . import figure as figure_cli
from . import lam as lam_cli
from . import normals as normals_cli
from . import studies as studies_cli
from . import train as train_cli
from . import zeroshot as zeroshot_cli
from .errors import OneLineParser
from .options import add_run_options, add_scale_hint, non_negative_int
from .scale import add_executor_options

__all__ = ["build_parser", "main", "SUBCOMMANDS"]


class Parser(OneLineParser):
    """argparse with one-line errors (issue #19), plus "did you mean ...?" for a mistyped
    subcommand, choice or option."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        super().error(f"{message}{self._suggestion(message)}")

    def _suggestion(self, message: str) -> str:
        bad = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if bad:
            word, words = bad.group(1), re.findall(r"'([^']*)'", bad.group(2))
        else:
            bad = re.search(r"unrecognized arguments: (.*)", message)
            if not bad:
                return ""
            word = next((w for w in bad.group(1).split() if w.startswith("-")), "")
            words = [o for p in self._command_parsers() for a in p._actions
                     for o in a.option_strings]
        close = difflib.get_close_matches(word.split("=")[0], words, n=1, cutoff=0.6)
        return f"; did you mean '{close[0]}'?" if close else ""

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        self._argv = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def _command_parsers(self) -> list[argparse.ArgumentParser]:
        """This parser and the (sub)subcommand parsers the command line named."""
        found: list[argparse.ArgumentParser] = [self]
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                named = [w for w in getattr(self, "_argv", []) if w in action.choices]
                if named:
                    p = action.choices[named[0]]
                    found += p._command_parsers() if isinstance(p, Parser) else [p]
        return found


def _prog() -> str:
    """``srw`` when installed, ``python main.py`` from a checkout."""
    return "python main.py" if os.path.basename(sys.argv[0]) == "main.py" else "srw"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=_prog(),
        description="SR Workbench: super-resolution for research. "
                    "Run with no arguments (or with image files) to open the window.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--max-pixels", metavar="N", help="image budget, checked from file "
                        "headers before decoding (default 100M pixels; allowed anywhere on the "
                        "line; cli/errors.py)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser("sr", help="super-resolve files, folders or globs with one or more models")
    p.add_argument("input", nargs="+",
                   help="image (.png .jpg .tif .bmp .webp .exr), .npy array, or channel matrix "
                        "(.npy .npz .mat .h5 .hdf5); several files, folders and quoted globs "
                        "('data/*.png') make a batch")
    p.add_argument("-m", "--model", default=None,
                   help="model name (see 'models') or a checkpoint file, or several separated "
                        "by commas (bicubic,liif); default: the bundled default")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("-s", "--scale", help="scale factor, e.g. 4 or 2.5 (or SYxSX, e.g. 2x3)")
    g.add_argument("--size", help="exact output size WxH, e.g. 1920x1080")
    p.add_argument("-o", "--output", default=None,
                   help="output file (one input and model; format from its extension), or a "
                        "folder (created) for a batch, or a path with a name template; "
                        "default: the current folder")
    p.add_argument("--name", default=None, metavar="TEMPLATE",
                   help="output names in a folder; fields {stem} {model} {scale} {ext} {name} "
                        "(default: {stem}_{model}_x{scale}.{ext})")
    p.add_argument("--ext", default=None,
                   help="output format of a batch, e.g. png or tif (default: the input's)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON document (outputs, provenance) on stdout")
    p.add_argument("--kind", choices=["rgb", "gray", "channels", "normals"], default=None,
                   help="treat the input as this kind of data (default: detected)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace OUTPUT if it exists (a batch skips existing outputs without it)")
    add_scale_hint(p)
    add_run_options(p)
    add_executor_options(p, resume=False)   # a batch already skips existing outputs
    channels_cli.add_sr_options(p)  # --var --axes --complex --norm ... (channel data)
    normals_cli.add_sr_options(p)  # --shape-model --detail-model --sigma ... (--kind normals)
    p.set_defaults(func=commands.cmd_sr)

    p = sub.add_parser("eval", help="PSNR/SSIM of one or more models on a folder of HR images")
    p.add_argument("-m", "--model", required=True,
                   help="model name or checkpoint file, or several separated by commas "
                        "(bicubic,fsrcnn_x2): one table per model")
    p.add_argument("--data", required=True, help="folder of HR images")
    p.add_argument("--scales", default="2,3,4", help="comma-separated integer scales")
    p.add_argument("--lr", default=None,
                   help="folder with the LR images (X{s}/NAMEx{s}.png); "
                        "default: made with degrade()")
    p.add_argument("--y", action="store_true", help="measure on the Y channel (benchmark protocol)")
    p.add_argument("--shave", type=non_negative_int, default=None, help="border to ignore (default: the scale)")
    p.add_argument("--csv", default=None,
                   help="also write per-image scores to this CSV file (rows written as they "
                        "arrive; --resume completes an interrupted one)")
    p.add_argument("--save-sr", default=None, metavar="DIR",
                   help="also save each SR image as measured (8-bit PNG NAME_xS.png) in DIR")
    p.add_argument("--overwrite", action="store_true",
                   help="replace SR images that --save-sr finds in DIR (refused without it)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON document (per-scale and per-image scores) on stdout")
    p.add_argument("--degrade", choices=["matlab", "pil"], default="matlab",
                   help="how LR images are made without --lr: matlab (benchmark protocol: HR "
                        "cropped, MATLAB bicubic) or pil (yjn870's SRCNN/FSRCNN/ESPCN ports: HR "
                        "resized to a multiple of the scale, PIL bicubic)")
    add_scale_hint(p)
    add_run_options(p)
    add_executor_options(p)
    # bf16 ('auto' on recent CPUs/GPUs) moves benchmark PSNRs by ~0.1 dB: eval measures in fp32
    p.set_defaults(func=commands.cmd_eval, precision="fp32")

    p = sub.add_parser("models", help="list the available models and where their weights come from")
    p.add_argument("--json", action="store_true",
                   help="print one JSON document (models, weights, cards, spandrel) on stdout")
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


@contextmanager
def _data_loss_as_lines() -> Iterator[None]:
    """A save that clips or quantises (DataLossWarning) says so in one stderr line, each time."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", DataLossWarning)
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):  # type: ignore
            if issubclass(category, DataLossWarning):
                print(f"warning: {message}", file=sys.stderr)
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        with _data_loss_as_lines():
            return int(func(args) or 0)
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except SRWError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if getattr(args, "verbose", False) and getattr(exc, "detail", ""):
            print(exc.detail, file=sys.stderr)  # e.g. all that spandrel said about a file
        return 2
    except MemoryError:
        print("error: out of memory; try a smaller scale, a tile size (--tile) or a crop",
              file=sys.stderr)
        return 2
