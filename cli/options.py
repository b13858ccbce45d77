"""Options and argument parsers that several subcommands share (the CLI's lowest layer: every
``cli`` module may import it, it imports no ``cli`` module)."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

from core.errors import InputError, ScaleError

if TYPE_CHECKING:
    from core.engine.run import SROptions

__all__ = ["add_run_options", "add_scale_hint", "run_options", "parse_scale", "parse_size",
           "parse_scales"]


def add_run_options(p: argparse.ArgumentParser) -> None:
    """``--device --precision --tile -q`` (read back by :func:`run_options`)."""
    p.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, mps")
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"],
                   help="compute precision (auto: bf16 where the hardware runs it fast)")
    p.add_argument("--tile", type=int, default=None,
                   help="LR tile/block size in pixels (default: automatic, memory bounded)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="after an error, the details (e.g. all that spandrel said)")


def add_scale_hint(p: argparse.ArgumentParser) -> None:
    """``--scale-hint N`` for checkpoints whose scale neither tensors nor name tell."""
    p.add_argument("--scale-hint", type=int, default=None, metavar="N",
                   help="the scale of a checkpoint whose tensors do not tell it (FSRCNN) and "
                        "whose file name has no _xN")


def parse_scale(text: str) -> float | tuple[float, float]:
    """``"4"`` -> 4.0, ``"2.5"`` -> 2.5, ``"2x3"`` -> (2.0, 3.0) (vertical x horizontal)."""
    parts = text.lower().split("x")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ScaleError(f"scale must be a number like 4 or 2.5 (or SYxSX), got {text!r}") from None
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return values[0], values[1]
    raise ScaleError(f"scale must be a number like 4 or 2.5 (or SYxSX), got {text!r}")


def parse_size(text: str) -> tuple[int, int]:
    """``"1920x1080"`` (width x height) -> ``(1080, 1920)`` as (height, width)."""
    parts = text.lower().split("x")
    try:
        w, h = (int(parts[0]), int(parts[1])) if len(parts) == 2 else (None, None)
    except ValueError:
        w = h = None
    if w is None or h is None:
        raise ScaleError(f"size must be WIDTHxHEIGHT in pixels, e.g. 1920x1080, got {text!r}")
    return h, w


def parse_scales(text: str) -> list[int]:
    """``"2,3,4"`` -> ``[2, 3, 4]``: positive integer scales (``eval --scales``)."""
    out = []
    for part in text.split(","):
        try:
            v = float(part)
        except ValueError:
            raise ScaleError(f"--scales must be integers separated by commas, "
                             f"got {text!r}") from None
        if not math.isfinite(v) or v != int(v) or v < 1:
            raise ScaleError(f"evaluation scales must be positive integers, got {part!r}")
        out.append(int(v))
    return out


def run_options(args: argparse.Namespace) -> SROptions:
    """The engine options of ``--device --precision --tile`` (see :func:`add_run_options`)."""
    from core.engine.run import SROptions  # lazy: torch; keeps CLI start-up at ~250 ms

    if args.tile is not None and args.tile < 16:
        raise InputError(f"--tile must be at least 16 pixels, got {args.tile}")
    return SROptions(device=args.device, precision=args.precision, tile=args.tile)
