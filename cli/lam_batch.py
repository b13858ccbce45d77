"""``lam FOLDER -m MODEL --window X,Y[,SIZE] -o OUTDIR [--csv di.csv]``: one Local Attribution
Map per image, the same window rule for every image, and the diffusion-index table.

Each image is one unit (:mod:`core.scale`), run here or on Ray (``--executor ray``) by
:func:`lam_unit`; the model is loaded once per worker. Overlays go to
``OUTDIR/{stem}_lam.png`` (``--npy DIR``: maps as ``DIR/{stem}.npy``); existing overlays are
skipped unless ``--overwrite``. The table (and ``--csv``, written as rows arrive, resumable
with ``--resume``) lists image, DI, Gini and how each map was made; an image the window does
not fit, or that cannot be read, is reported and the run goes on (exit 2 at the end).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import fields
from pathlib import Path

from core.errors import InputError

from .options import parse_scale
from .outputs import check_outputs, run_inputs

__all__ = ["cmd_lam_folder", "lam_unit", "CSV_FIELDS"]

CSV_FIELDS = ("image", "model", "window", "di", "gini", "device", "precision",
              "weights_sha256", "overlay")   # no times: a run's table is the same anywhere


def _lam_options(args: argparse.Namespace):
    """The :class:`core.attribution.LAMOptions` of the command line: every field that
    ``args`` has (the single-image ``lam`` options, whatever they grow to)."""
    from core.attribution import LAMOptions  # lazy: torch

    return LAMOptions(**{f.name: getattr(args, f.name) for f in fields(LAMOptions)
                         if getattr(args, f.name, None) is not None})


def lam_unit(args: argparse.Namespace, window: tuple[int, int, int], model: str, digest: str,
             inp: Path, out: Path, npy: Path | None) -> dict[str, str]:
    """One image's LAM for ``window`` (x, y, size in SR pixels; overlay or panel written to
    ``out``); its row of the DI table."""
    # lazy: torch, cv2, scipy; only a worker that computes imports them
    import numpy as np

    from core.attribution import lam
    from core.attribution.render import lam_overlay, lam_panel
    from core.data import ImageData, Region, Units
    from core.io import load, save
    from core.io.atomic import atomic_path
    from core.resize import degrade
    from core.scale.worker import cached_model

    x, y, size = window
    scale = parse_scale(args.scale) if args.scale else None
    data = load(Path(inp))
    if args.hr:
        data = data.with_pixels(degrade(data.pixels, scale))
    loaded = cached_model(model, None, digest)
    res = _drain(lam(loaded.module, data, Region(x, y, size, size), scale=scale,
                     options=_lam_options(args), name=loaded.name))
    lr = data.pixels
    rgb = (lam_panel(res, lr, args.alpha) if args.panel
           else lam_overlay(res.map, lr, res.out_size, args.alpha, res.window))
    save(ImageData(rgb.astype(np.float32) / 255.0, kind="rgb", units=Units.for_dtype("uint8")),
         Path(out), overwrite=args.overwrite)
    if npy is not None:
        with atomic_path(Path(npy), overwrite=args.overwrite) as tmp, open(tmp, "wb") as fh:
            np.save(fh, res.map)
    return {"image": Path(inp).name, "model": loaded.name, "window": f"{x},{y},{size}",
            "di": f"{res.diffusion_index:.2f}", "gini": f"{res.gini:.4f}",
            "device": str(res.device),
            "precision": str(res.precision), "weights_sha256": digest, "overlay": str(out)}


def _check_targets(args: argparse.Namespace, targets: dict[Path, list[Path]]) -> None:
    """Refuse the run when two items share a target, or a target is an input, a folder or
    a device (whatever ``--overwrite`` says); existing files are the caller's to skip."""
    from core.io.atomic import check_output_path  # lazy: core.io pulls cv2

    inputs = run_inputs(args, ("output", "npy", "csv"))
    seen: dict[Path, Path] = {}
    for f, paths in targets.items():
        for t in paths:
            if t in seen:
                raise InputError(f"{seen[t].name} and {f.name} would both be written to {t}; "
                                 f"rename one of them")
            seen[t] = f
            if t.parent.is_dir() and (args.overwrite or not os.path.lexists(t)):
                # (an existing target without --overwrite skips its item: nothing written)
                check_output_path(t, inputs, overwrite=True, probe=False)


def _drain(job):
    from core.jobs import run_sync  # lazy: keeps this module's import light

    return run_sync(job)


def cmd_lam_folder(args: argparse.Namespace, window: tuple[int, int, int]) -> int:
    """``lam FOLDER``: ``window`` is ``--window`` as ``cli.lam`` parsed it (x, y, size)."""
    # lazy: torch, cv2; keeps CLI start-up at ~250 ms
    from core.evaluate import find_images
    from core.models import load_model
    from core.provenance import weights_digest
    from core.scale import Unit
    from core.scale.rows import RowFile
    from core.scale.worker import remember_model

    from .batch import check_output_folder
    from .scale import check_executor, print_failures, run_planned

    check_executor(args)
    files = find_images(args.input)
    outdir = Path(args.output)
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"-o {outdir}: a folder of images gives a folder of overlays, and "
                         f"this is a file")
    check_output_folder(args.output, template=False)   # not a folder named out.png
    npydir = Path(args.npy) if args.npy else None
    if npydir is not None:
        check_output_folder(args.npy, "--npy", template=False)
    if not 0.0 <= args.alpha <= 1.0:
        raise InputError(f"--alpha must be in [0, 1], got {args.alpha}")
    if args.batch is not None and args.batch < 1:
        raise InputError(f"--batch must be at least 1, got {args.batch}")
    scale = parse_scale(args.scale) if args.scale else None
    if args.hr and (scale is None or isinstance(scale, tuple)):
        raise InputError("--hr needs one scale (-s), e.g. -s 4")
    if args.csv and Path(args.csv).exists() and not args.resume:
        raise InputError(f"{args.csv} already exists; choose another CSV file name "
                         f"(or --resume to complete it)")
    if npydir is not None and npydir.exists() and not npydir.is_dir():
        raise InputError(f"--npy {npydir}: the maps of a folder go to a folder, and this is "
                         f"a file")
    check_outputs(args, "csv", folders=("output", "npy"), overwrite=True)
    # every target of every item (overlay and map), before anything is loaded or made
    targets = {f: [outdir / f"{f.stem}_lam.png",
                   *([npydir / f"{f.stem}.npy"] if npydir is not None else [])] for f in files}
    _check_targets(args, targets)
    table = RowFile(args.csv, CSV_FIELDS, lambda r: (r["image"],),
                    valid=lambda r: float(r["di"]) >= 0, what="LAM") if args.csv else None
    old = {r["image"]: r for r in table.open()} if table is not None else {}
    loaded = load_model(args.model)
    remember_model(args.model, None, loaded)
    digest = weights_digest(loaded.source)
    for d in (outdir, npydir):
        if d is not None:
            try:
                d.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(f"cannot make the folder {d}: {exc.strerror or exc}") from None
    index = {f.name: i for i, f in enumerate(files)}
    remote = argparse.Namespace(**{k: v for k, v in vars(args).items() if k != "func"})
    rows: dict[int, dict[str, str]] = {}
    skipped = []
    units = []
    for i, f in enumerate(files):
        out, *rest = targets[f]
        if f.name in old:
            rows[i] = old[f.name]
        elif any(t.exists() for t in targets[f]) and not args.overwrite:
            skipped.append(f)   # the overlay or the map is there: the item is done
        else:
            npy = rest[0] if rest else None
            units.append(Unit(i, str(f), lam_unit, (remote, window, args.model, digest, f, out,
                                                       npy)))

    def arrived(o) -> None:
        if not o.error:
            rows[o.index] = o.value
            if table is not None:
                table.append(o.index, [o.value])

    try:
        stats = run_planned(args, units, arrived, f"LAM {loaded.name}", what="images")
    finally:
        if table is not None:
            table.finish(lambda r: index.get(r["image"]))
    w = max([len("image")] + [len(r["image"]) for r in rows.values()])
    print(f"{'image':<{w}}  {'DI':>6}  {'Gini':>6}  overlay")
    for i in sorted(rows):
        r = rows[i]
        print(f"{r['image']:<{w}}  {float(r['di']):6.2f}  {float(r['gini']):6.4f}  "
              f"{r['overlay']}")
    if rows:
        di = [float(r["di"]) for r in rows.values()]
        print(f"{loaded.name}: mean DI {sum(di) / len(di):.2f} over {len(di)} image(s), "
              f"window {args.window}")
    if skipped:
        what = "overlay or map" if npydir is not None else "overlay"
        print(f"{len(skipped)} image(s) skipped: their {what} exists (--overwrite replaces "
              f"them)", file=sys.stderr)
    print_failures(stats)
    return 2 if stats.failed else 0
