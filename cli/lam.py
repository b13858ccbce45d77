"""``python main.py lam IMAGE -m MODEL -s SCALE --window X,Y[,SIZE] -o OUT.png [--npy map.npy]``.

Computes a Local Attribution Map (:func:`core.attribution.lam`) for the window (SR pixels,
top-left ``X,Y``, side ``SIZE``, default 16), writes the overlay (heat map over the LR, the
window drawn) to OUT.png, optionally the map as ``.npy``, and prints the diffusion index and
the Gini index.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from core.data import ImageData, Region, Units
from core.errors import InputError
from core.provenance import weights_digest

from .options import add_run_options, float_range, parse_scale, positive_int
from .outputs import check_outputs
from .progress import run_with_bar
from .scale import add_executor_options

__all__ = ["add_parsers", "parse_window", "cmd_lam", "LAM_RULES"]

#: The path rules of core.attribution.quadrature.RULES (kept here so --help imports no torch;
#: tests/test_cli_lam.py checks the two agree).
LAM_RULES = ("riemann", "gauss", "adaptive")


def parse_window(text: str) -> tuple[int, int, int]:
    """``"X,Y"`` or ``"X,Y,SIZE"`` (SR pixels) -> ``(x, y, size)``; size defaults to 16."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (2, 3):
        raise InputError(f"--window must be X,Y or X,Y,SIZE in SR pixels (whole numbers), "
                         f"got {text!r}")
    x, y = values[0], values[1]
    size = values[2] if len(values) == 3 else 16
    return x, y, size


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the ``lam`` subcommand."""
    p = sub.add_parser("lam", help="Local Attribution Map: which input pixels a window's "
                                   "output depends on (LAM, Gu & Dong 2021)")
    p.add_argument("input", help="the LR input image (or the HR image with --hr); a folder: one "
                                 "map per image into the folder -o, and the DI table")
    p.add_argument("-m", "--model", required=True, help="model name (see 'models') or checkpoint")
    p.add_argument("-s", "--scale", default=None,
                   help="scale factor, e.g. 4 or 2.5 (default: a fixed-scale model's own)")
    p.add_argument("--window", required=True, metavar="X,Y[,SIZE]",
                   help="the window in SR pixels: top-left X,Y and side SIZE (default 16)")
    p.add_argument("-o", "--output", required=True, help="overlay image to write (.png ...)")
    p.add_argument("--npy", default=None, help="also save the map (LR h x w float32) as .npy")
    p.add_argument("--hr", action="store_true",
                   help="INPUT is an HR image: make the LR with bicubic 1/SCALE first "
                        "(as the official LAM demo)")
    p.add_argument("--alpha", type=float_range(0, 1), default=0.5, help="heat map opacity in [0, 1]")
    p.add_argument("--panel", action="store_true",
                   help="write SR+window | heat map | overlay side by side instead")
    p.add_argument("--batch", type=positive_int, default=None,
                   help="path steps per backward pass (default: automatic)")
    p.add_argument("--rule", choices=LAM_RULES, default=None,
                   help="how the path integral is evaluated: riemann (the official LAM, "
                        "default), gauss (Gauss-Legendre: a close map from 16 steps), "
                        "adaptive (stops when the map stops changing)")
    p.add_argument("--steps", type=positive_int, default=None, metavar="N",
                   help="path steps, one model pass each (default: riemann 50, gauss 16; "
                        "adaptive: at most N, >= 15)")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--csv", default=None, help="folder input: also write the DI table here")
    add_run_options(p)
    add_executor_options(p)   # folder input (cli/lam_batch.py)
    p.set_defaults(func=cmd_lam)


def cmd_lam(args: argparse.Namespace) -> int:
    # lazy: torch, cv2, scipy; keeps CLI start-up at ~250 ms
    from core.attribution import LAMOptions, lam
    from core.attribution.quadrature import DEFAULT_RULE
    from core.attribution.render import lam_overlay, lam_panel
    from core.io import load, save
    from core.models import load_model
    from core.resize import degrade

    if Path(args.input).is_dir():   # one map per image (cli/lam_batch.py)
        from .lam_batch import cmd_lam_folder  # lazy: the folder mode's own module

        return cmd_lam_folder(args, parse_window(args.window))   # one window for all
    out = Path(args.output)
    check_outputs(args, "output", "npy")
    if not 0.0 <= args.alpha <= 1.0:
        raise InputError(f"--alpha must be in [0, 1], got {args.alpha}")
    if args.batch is not None and args.batch < 1:
        raise InputError(f"--batch must be at least 1, got {args.batch}")
    if args.steps is not None and args.steps < 1:
        raise InputError(f"--steps must be at least 1, got {args.steps}")
    x, y, size = parse_window(args.window)
    scale = parse_scale(args.scale) if args.scale else None
    data = load(Path(args.input))
    if args.hr:
        if scale is None or isinstance(scale, tuple):
            raise InputError("--hr needs one scale (-s), e.g. -s 4")
        data = data.with_pixels(degrade(data.pixels, scale))
    loaded = load_model(args.model)
    opts = LAMOptions(device=args.device, precision=args.precision, batch=args.batch,
                      steps=args.steps, rule=args.rule or DEFAULT_RULE)
    job = lam(loaded.module, data, Region(x, y, size, size), scale=scale, options=opts,
              name=loaded.name)
    res = run_with_bar(job, desc=f"LAM {loaded.name}", quiet=args.quiet)
    lr = data.pixels
    rgb = (lam_panel(res, lr, args.alpha) if args.panel
           else lam_overlay(res.map, lr, res.out_size, args.alpha, res.window))
    img = ImageData(rgb.astype(np.float32) / 255.0, kind="rgb", units=Units.for_dtype("uint8"))
    path = save(img, out, overwrite=args.overwrite)
    if args.npy:
        # lazy: cv2; keeps CLI start-up at ~250 ms
        from core.io.atomic import atomic_path

        with atomic_path(Path(args.npy)) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, res.map)
    H, W = res.out_size
    print(f"{loaded.name}: DI {res.diffusion_index:.2f}  Gini {res.gini:.4f}  "
          f"(window {x},{y} size {size} of {W}x{H})")
    print(f"{path}: {res.seconds:.1f} s on {res.device} ({res.precision}, {res.rule} "
          f"{res.steps} path steps, {res.batch} per pass)", file=sys.stderr)
    for note in res.notes:
        print(f"note: {note}", file=sys.stderr)
    if res.provenance is not None:
        prov = res.provenance.with_(weights=loaded.source.name if loaded.source else "",
                                    sha256=weights_digest(loaded.source))
        print(f"provenance: {prov.note()}", file=sys.stderr)
    return 0
