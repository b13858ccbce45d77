"""``python main.py figure HR.png -m bicubic,liif -s 4 --roi X,Y,W,H [--roi ...] -o fig.pdf``.

The comparison figure of an SR paper: the HR with the region boxes, and a zoomed crop per model
(and the HR) labelled with the model and the region's PSNR/SSIM, as the window's metrics table
measures it. ``-m`` degrades the HR with the benchmark ``degrade()`` and runs the models (as the
window's Degrade does); ``--sr a.png b.png`` takes existing results instead (``--lr`` for the
LR, to show it or to state the scale). PNG at ``--dpi``, PDF or SVG by the output's extension.
Layout, measuring and drawing live in :mod:`core.app.figure` and :mod:`core.app.figure_render`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.errors import InputError
from core.provenance import Provenance

from .options import (add_run_options, non_negative_int, parse_scale, positive_float,
                      positive_int)
from .outputs import check_outputs
from .options import run_options as _options
from .progress import run_with_bar

__all__ = ["add_parsers", "cmd_figure"]

LAYOUT_CHOICES = ("row", "two-rows", "column")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("figure", help="the paper figure: HR with region boxes, a zoomed crop "
                                      "per model with its region PSNR/SSIM (PNG/PDF/SVG)")
    p.add_argument("hr", help="the HR image (degraded with -s to make the LR for -m)")
    p.add_argument("-m", "--models", default=None,
                   help="comma-separated model names or checkpoints, e.g. bicubic,liif")
    p.add_argument("--sr", nargs="+", default=None, metavar="IMAGE",
                   help="existing SR results instead of -m (labelled by file name)")
    p.add_argument("--lr", default=None, help="the LR image (with --sr)")
    p.add_argument("-s", "--scale", default=None, help="scale for -m, e.g. 4")
    p.add_argument("--roi", action="append", required=True, metavar="X,Y,W,H",
                   help="a region in HR pixels; repeat for a second one")
    p.add_argument("-o", "--output", required=True, help="fig.png, fig.pdf or fig.svg")
    p.add_argument("--layout", choices=LAYOUT_CHOICES, default="row",
                   help="crops in one row per region, two rows, or below the image")
    p.add_argument("--font-size", type=positive_float, default=7.0, help="points (default 7)")
    p.add_argument("--width", type=positive_float, default=7.0, help="figure width in inches (7)")
    p.add_argument("--dpi", type=positive_int, default=300, help="PNG resolution (default 300)")
    p.add_argument("--base", choices=["HR", "LR"], default="HR", help="the big image")
    p.add_argument("--rgb", action="store_true", help="measure on RGB (default: Y, BT.601)")
    p.add_argument("--shave", type=non_negative_int, default=None, help="border to ignore (default: scale)")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    add_run_options(p)
    # bf16 ('auto' on recent CPUs) moves PSNRs by ~0.1 dB: a paper figure measures in fp32
    p.set_defaults(func=cmd_figure, precision="fp32")


def cmd_figure(args: argparse.Namespace) -> int:
    # lazy: torch and cv2 (models, io), matplotlib (~0.4 s); keeps CLI start-up at ~250 ms
    from core.app.figure import (FigureOptions, degrade_and_run_job, figure_content,
                                 parse_roi)
    from core.app.figure_render import FIGURE_FORMATS, save_figure
    from core.io import load

    out = Path(args.output)
    if out.suffix.lower() not in FIGURE_FORMATS:
        raise InputError(f"the output is a {', '.join(FIGURE_FORMATS)} file, got {out.name}")
    # the one output check (as sr's): never an input (the HR, --sr, --lr), a folder, a device,
    # a missing folder; an existing file only with --overwrite
    check_outputs(args, "output")
    if (args.models is None) == (args.sr is None):
        raise InputError("give either -m MODELS (with -s) or --sr IMAGES")
    regions = [parse_roi(r) for r in args.roi]
    options = FigureOptions(layout=args.layout.replace("-", " "), font_size=args.font_size,
                            width=args.width, dpi=args.dpi, base=args.base)
    hr = load(args.hr)
    if args.models is not None:
        if args.scale is None:
            raise InputError("-m needs -s SCALE (the HR is degraded by it)")
        scale = parse_scale(args.scale)
        if isinstance(scale, tuple):
            raise InputError("the figure takes one scale for both axes")
        models = [m.strip() for m in args.models.split(",") if m.strip()]
        lr, hr, runs = run_with_bar(degrade_and_run_job(hr, models, scale, _options(args)),
                                    desc="figure", quiet=args.quiet)
        results = {k: (r.name, r.image) for k, r in runs.items()}
        made = {k: r.provenance for k, r in runs.items()}
        shave = args.shave if args.shave is not None else int(round(scale))
    else:
        lr = load(args.lr) if args.lr else None
        results = {p: (Path(p).stem, load(p)) for p in args.sr}
        how = f"file {Path(args.lr).name}" if args.lr else ""
        made = {p: Provenance(Path(p).stem, lr_source=how) for p in args.sr}
        scale = hr.width / lr.width if lr is not None else 0
        shave = args.shave if args.shave is not None else int(round(scale))
    content = figure_content(hr, results, regions, y_channel=not args.rgb, shave=shave,
                             provenance=made, lr=lr, base=args.base)
    path = save_figure(content, options, out)
    for crop in content.crops:
        if not crop.reference:
            print(f"region {crop.region + 1}  {crop.label:24s} {crop.text()}")
    print(f"{path}: {content.caption}", file=sys.stderr)
    return 0
