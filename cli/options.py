"""Options and argument parsers that several subcommands share (the CLI's lowest layer: every
``cli`` module may import it, it imports no ``cli`` module)."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any, Callable

from core.errors import InputError, ScaleError

if TYPE_CHECKING:
    from core.engine.run import SROptions

__all__ = ["add_run_options", "add_scale_hint", "run_options", "parse_scale", "parse_size",
           "parse_scales", "finite_float", "positive_float", "non_negative_float", "float_range",
           "positive_int", "non_negative_int", "int_range", "seed", "SEED_LIMIT"]

#: Seeds are 0 <= seed < 2**32: what numpy (``np.random.seed``, ``default_rng``) and
#: ``torch.manual_seed`` all accept.
SEED_LIMIT = 2**32


# -- argparse ``type=`` helpers: numeric options are checked when the line is parsed --------------
# A bad value is an argparse error (OneLineParser: one ``error:`` line naming the option, exit
# 2) before anything is imported, loaded or written. Values that also reach core from the GUI
# are checked again in core (InputError): these are the first line, not the only one.

def _number(text: str, integer: bool) -> float | int:
    try:
        if integer:
            return int(text.strip())
        value = float(text)
    except (ValueError, AttributeError):
        kind = "an integer" if integer else "a number"
        raise argparse.ArgumentTypeError(f"must be {kind}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def _bounded(integer: bool, low: float | None, high: float | None, low_open: bool = False,
             name: str = "") -> Callable[[str], Any]:
    def fmt(v: float) -> str:
        return str(int(v)) if integer else f"{v:g}"

    def check(text: str):
        value = _number(text, integer)
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and value > high
        if too_low or too_high:
            if low is not None and high is not None:
                want = f"between {fmt(low)} and {fmt(high)}" if not low_open else \
                    f"above {fmt(low)} and at most {fmt(high)}"
            elif low is not None:
                want = f"above {fmt(low)}" if low_open else f"at least {fmt(low)}"
            else:
                want = f"at most {fmt(high)}"
            raise argparse.ArgumentTypeError(f"must be {want}, got {text!r}")
        return value

    check.__name__ = name or ("int" if integer else "float")
    return check


def float_range(low: float | None = None, high: float | None = None, *,
                low_open: bool = False):
    """``type=`` for a finite float in ``[low, high]`` (``(low, high]`` with ``low_open``)."""
    return _bounded(False, low, high, low_open)


def int_range(low: int | None = None, high: int | None = None):
    """``type=`` for an integer in ``[low, high]``."""
    return _bounded(True, low, high)


#: ``type=`` for any finite float (NaN and inf refused).
finite_float = _bounded(False, None, None, name="finite_float")
#: ``type=`` for a finite float > 0.
positive_float = _bounded(False, 0, None, low_open=True, name="positive_float")
#: ``type=`` for a finite float >= 0.
non_negative_float = _bounded(False, 0, None, name="non_negative_float")
#: ``type=`` for an integer >= 1.
positive_int = _bounded(True, 1, None, name="positive_int")
#: ``type=`` for an integer >= 0.
non_negative_int = _bounded(True, 0, None, name="non_negative_int")
#: ``type=`` for a random seed: an integer in [0, 2**32).
seed = _bounded(True, 0, SEED_LIMIT - 1, name="seed")


def add_run_options(p: argparse.ArgumentParser) -> None:
    """``--device --precision --tile -q`` (read back by :func:`run_options`)."""
    p.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, mps")
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"],
                   help="compute precision (auto: bf16 where the hardware runs it fast)")
    p.add_argument("--tile", type=int_range(16), default=None,
                   help="LR tile/block size in pixels (default: automatic, memory bounded)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="after an error, the details (e.g. all that spandrel said)")


def add_scale_hint(p: argparse.ArgumentParser) -> None:
    """``--scale-hint N`` for checkpoints whose scale neither tensors nor name tell."""
    p.add_argument("--scale-hint", type=int_range(1, 1000), default=None, metavar="N",
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
