"""``python main.py study {crop,swap,size,mosaic} --data DIR -m MODEL... [--csv out.csv]``.

Runs a background study (:mod:`core.studies`) over a folder of HR images (or one image) for
one or more models, with a progress bar; writes a CSV (resumable: rows already there are
skipped) and prints the summary table. Unreadable or unusable images are skipped and listed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.budget import MAX_SCALE
from core.data import ImageData, Region, Units
from core.errors import InputError

from .options import add_run_options, int_range, positive_int
from .outputs import check_outputs
from .scale import add_executor_options

__all__ = ["add_parsers", "cmd_study", "parse_ints", "parse_region"]

STUDY_HELP = {
    "crop": "full vs crop: region PSNR restored from the whole image vs from crops with a "
            "margin (default region: the paper's preset, 64x64 LR crop, centre 56x56)",
    "swap": "background swap: the foreground pasted into other backgrounds (own flips, "
            "--background files)",
    "size": "background size sweep: 16x16 foreground, foreign ring of width 0..96 HR px, "
            "growing from the centre or from the edges",
    "mosaic": "self-similar 5x5 mosaic vs plain restoration vs 8-way TTA at equal compute",
}


def parse_ints(text: str, what: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip() != ""]
    except ValueError:
        raise InputError(f"{what} must be whole numbers separated by commas, "
                         f"got {text!r}") from None


def parse_region(text: str):
    """``X,Y,W,H`` or ``X,Y,SIZE`` (HR pixels) -> :class:`core.data.Region`."""
    v = parse_ints(text, "--region")
    if len(v) == 3:
        v = [v[0], v[1], v[2], v[2]]
    if len(v) != 4:
        raise InputError(f"--region must be X,Y,W,H or X,Y,SIZE in HR pixels, got {text!r}")
    return Region(*v)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``study`` with one sub-command per study."""
    p = sub.add_parser("study", help="background studies over images: crop, swap, size, mosaic")
    studies = p.add_subparsers(dest="study", metavar="STUDY", required=True)
    for name, text in STUDY_HELP.items():
        q = studies.add_parser(name, help=text, description=text)
        q.add_argument("--data", required=True, help="a folder of HR images, or one HR image")
        q.add_argument("-m", "--model", nargs="+", required=True, dest="models",
                       help="one or more model names or checkpoint files")
        q.add_argument("-s", "--scale", type=int_range(1, int(MAX_SCALE)), default=4, help="integer SR scale (default 4)")
        q.add_argument("--csv", default=None, help="CSV of all rows; an existing one is resumed")
        q.add_argument("--region", default=None, metavar="X,Y,W,H",
                       help="the foreground in HR pixels (default: centred, per study)")
        q.add_argument("--rgb", action="store_true", help="PSNR on RGB (default: Y, BT.601)")
        q.add_argument("--gallery", default=None, metavar="DIR",
                       help="also write HR foreground + restored regions per image as PNG")
        q.add_argument("--overwrite", action="store_true",
                       help="replace gallery images that exist in DIR (refused without it)")
        if name == "crop":
            q.add_argument("--margins", default="0,2,4,8,16,32", help="LR pixels, e.g. 0,4,16")
        if name in ("swap", "size"):
            q.add_argument("--background", default=None,
                           help="background image (size: default the next image of the "
                                "folder) or, for swap, a folder of background images")
        if name == "swap":
            q.add_argument("--no-flips", action="store_true",
                           help="do not use the image's own flips as backgrounds")
        if name == "size":
            q.add_argument("--widths", default="0,32,48,64,80,96", help="ring widths, HR px")
            q.add_argument("--modes", default="centre,edges", help="centre, edges or both")
        if name == "mosaic":
            q.add_argument("--tta-passes", type=int_range(1, 10000), default=25,
                           help="TTA passes over the 8 flips/rotations (default 25 = the "
                                "mosaic's compute)")
        add_run_options(q)
        add_executor_options(q, resume=False)
        q.add_argument("--resume", action="store_true",
                       help="continue an interrupted run (an existing --csv is always resumed: "
                            "its rows are kept and only the missing ones run)")
        q.set_defaults(func=cmd_study)


def _spec(args: argparse.Namespace, options, files: list[Path]):
    """The :class:`core.studies.units.StudySpec` of the command line."""
    # lazy: torch, cv2; keeps CLI start-up at ~250 ms
    from core import studies as st
    from core.studies.mosaic import check_tta_passes
    from core.studies.units import StudySpec

    region = parse_region(args.region) if args.region else None
    kw: dict = {}
    if args.study == "crop":
        kw["margins"] = tuple(parse_ints(args.margins, "--margins"))
    elif args.study == "swap":
        kw["backgrounds"] = tuple(st.study_images(args.background)) if args.background else ()
        kw["flips"] = not args.no_flips
    elif args.study == "size":
        kw["widths"] = tuple(parse_ints(args.widths, "--widths"))
        kw["modes"] = tuple(v.strip() for v in args.modes.split(",") if v.strip())
        kw["background"] = Path(args.background) if args.background else None
        if kw["background"] is not None and not kw["background"].is_file():
            raise InputError(f"--background {args.background} is not a file")
    else:
        kw["tta_passes"] = check_tta_passes(args.tta_passes, "--tta-passes")
    return StudySpec(args.study, options, region, keep_results=bool(args.gallery),
                     files=tuple(files), **kw)


def _print_table(table: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                        enumerate(zip(row, widths))))


def cmd_study(args: argparse.Namespace) -> int:
    """One unit per (image, model), run by ``--executor``; rows in plan order (image-major)."""
    # lazy: torch, cv2; keeps CLI start-up at ~250 ms
    from core import studies as st
    from core.models import load_model
    from core.provenance import weights_digest
    from core.scale import Unit
    from core.scale.worker import remember_model
    from core.studies.units import ModelRef, plan_units, study_unit

    from .scale import check_executor, run_planned

    check_executor(args)
    if args.scale < 1:
        raise InputError(f"--scale must be a whole number >= 1, got {args.scale}")
    files = st.study_images(args.data)
    if args.study == "size" and not args.background and len(files) < 2:
        raise InputError("the size sweep needs a foreign background: pass --background FILE "
                         "(or run on a folder, where the next image is used)")
    if args.gallery and not Path(args.gallery).is_dir():
        raise InputError(f"--gallery folder {args.gallery} does not exist")
    if args.csv:  # resumable: an existing CSV is appended to, but never an input or a device
        check_outputs(args, "csv", folders=("gallery",), overwrite=True)
    options = st.StudyOptions(scale=args.scale, y_channel=not args.rgb, device=args.device,
                              precision=args.precision, keep_regions=bool(args.gallery))
    spec = _spec(args, options, files)
    refs = []
    for m in dict.fromkeys(args.models):
        loaded = load_model(m)
        remember_model(m, None, loaded)   # the local executor loads nothing twice
        refs.append(ModelRef(m, weights_digest(loaded.source), loaded.name))
    table = st.open_table(Path(args.csv), args.study) if args.csv else None
    old = table.old if table is not None else []
    todo, index = plan_units(spec, refs, {(r["image"], r["model"]) for r in old})
    if args.gallery:   # every gallery image this run will write, checked before it runs
        images = dict.fromkeys(f for _k, _i, f, _m in todo)   # a.png and a.jpg: refused
        check_outputs(args, extra=[_gallery_target(Path(args.gallery), f.name, args.study)
                                   for f in images], folders=("gallery",))
    units = [Unit(k, f.name, study_unit, (spec, m, f, i)) for k, i, f, m in todo]
    new: dict[int, list[dict[str, str]]] = {}
    results = []

    def arrived(out) -> None:
        if out.error:
            return
        rows, res = out.value
        new[out.index] = rows
        if res is not None:
            results.append((out.index, res))
        if table is not None:
            table.append(out.index, rows)

    def order(r: dict[str, str]):
        return index.get((r["image"], r["model"]))

    try:
        stats = run_planned(args, units, arrived, f"study {args.study}", what="units")
    finally:
        if table is not None:
            table.finish(order)
    rows = list(old) + [r for k in sorted(new) for r in new[k]]
    rows.sort(key=lambda r: (order(r) is None, order(r) or 0))
    if args.gallery:
        _write_galleries([r for _, r in sorted(results, key=lambda t: t[0])],
                         Path(args.gallery), files, bool(args.overwrite))
    if old:
        print(f"resumed {len(old)} rows from {args.csv}", file=sys.stderr)
    skipped = list(dict.fromkeys(stats.failed))   # one line per image, whatever the models
    if not rows:
        first = f" (first: {skipped[0][0]}: {skipped[0][1]})" if skipped else ""
        raise InputError(f"nothing could be processed: {len({n for n, _ in skipped})} of "
                         f"{len(files)} image(s) skipped{first}")
    for name, why in skipped:
        print(f"skipped {name}: {why}", file=sys.stderr)
    channel = "RGB" if args.rgb else "Y"
    print(f"study {args.study}, x{args.scale}, PSNR on {channel} (dB), "
          f"{len({r['image'] for r in rows})} image(s)")
    _print_table(st.summarize(args.study, rows))
    return 0


def _gallery_target(folder: Path, image: str, study: str) -> Path:
    return folder / f"{Path(image).stem}_{study}.png"


def _write_galleries(results, folder: Path, inputs: list[Path], overwrite: bool) -> None:
    """One PNG per image: its HR foreground and the regions of every model of this run (a
    unit is one (image, model); their results are merged per image). The targets were
    checked before the run (:func:`cli.outputs.check_outputs`); checked again here."""
    # lazy: torch, cv2; keeps CLI start-up at ~250 ms
    from core.io import save
    from core.io.atomic import check_output_path
    from core.studies import gallery

    per_image: dict[str, object] = {}
    for r in results:
        first = per_image.get(r.image)
        per_image[r.image] = r if first is None else replace(
            first, regions={**first.regions, **r.regions})
    for r in per_image.values():
        rgb = gallery(r)
        img = ImageData(rgb.astype(np.float32) / 255.0, units=Units.for_dtype("uint8"))
        target = _gallery_target(folder, r.image, r.study)
        check_output_path(target, inputs, overwrite=overwrite)  # never over a study input
        save(img, target, overwrite=overwrite)
