"""The CLI subcommands: thin wrappers that parse, call core, and print."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from core.errors import InputError
from core.provenance import FIELDS as PROVENANCE_FIELDS
from core.provenance import Provenance, weights_digest

from .options import parse_scale, parse_scales, parse_size
from .outputs import check_outputs
from .options import run_options as _options
from .progress import run_with_bar


def cmd_sr(args: argparse.Namespace) -> int:
    # lazy: torch, cv2, scipy; keeps CLI start-up (--help) at ~250 ms
    from core.app.inputs import detect_kind
    from core.app.run import with_provenance
    from core.engine import super_resolve
    from core.io import load, save
    from core.models import default_model_name, load_model

    from .normals import cmd_sr_normals

    if args.kind == "normals":  # split/naive SR of a normal map (cli/normals.py)
        return cmd_sr_normals(args)
    from .channels import cmd_sr_channels, wants_channels

    if wants_channels(args):  # channel matrices: per-channel normalisation and SR
        return cmd_sr_channels(args)
    inp, out = Path(args.input), Path(args.output)
    check_outputs(args, "output")  # issue #19: inputs, devices, folders, unwritable places
    scale = parse_scale(args.scale) if args.scale else None
    size = parse_size(args.size) if args.size else None
    data = load(inp, kind=args.kind)
    found = detect_kind(data, inp) if args.kind is None else None
    if found is not None and found.kind == "normals":   # the split SR of normal maps
        mask = getattr(args, "mask", None) or found.mask
        print(f"{inp.name}: {found.reason}; --kind rgb treats it as an image"
              + (f"; mask: {mask}" if mask else ""), file=sys.stderr)
        args.kind, args.mask = "normals", str(mask) if mask else None
        return cmd_sr_normals(args)
    loaded = load_model(args.model or default_model_name(), scale=args.scale_hint)
    job = super_resolve(loaded.module, data, scale=scale, size=size, options=_options(args),
                        name=loaded.name)
    result = run_with_bar(job, desc=loaded.name, quiet=args.quiet)
    result = with_provenance(result, Provenance(loaded.name, lr_source="input"), loaded.source)
    path = save(result.image, out, overwrite=args.overwrite)
    h, w = result.image.height, result.image.width
    print(f"{path}: {w}x{h} with {loaded.name} on {result.device} ({result.precision}) "
          f"in {result.seconds:.2f} s", file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"provenance: {result.provenance.note()}", file=sys.stderr)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from core.evaluate import evaluate, find_images
    from core.models import load_model

    scales = parse_scales(args.scales)
    files = find_images(args.data)
    lr_root = Path(args.lr) if args.lr else None
    if lr_root is not None and not lr_root.is_dir():
        raise InputError(f"LR folder {lr_root} does not exist")
    if args.csv and Path(args.csv).exists():
        raise InputError(f"{args.csv} already exists; choose another CSV file name")
    check_outputs(args, "csv")  # issue #19: inputs, devices, folders, unwritable places
    if lr_root is not None and args.degrade != "matlab":
        raise InputError("--degrade chooses how LR images are made, but --lr gives them: "
                         "use one or the other")
    loaded = load_model(args.model, scale=args.scale_hint)
    scores: list = []
    base = Provenance(loaded.name, weights=loaded.source.name if loaded.source else "",
                      sha256=weights_digest(loaded.source))
    job = evaluate(loaded.module, files, scales, y_channel=args.y, shave=args.shave,
                   lr_root=lr_root, options=_options(args), name=loaded.name, scores=scores,
                   degradation=args.degrade, provenance=base)
    rows = run_with_bar(job, desc=f"eval {loaded.name}", quiet=args.quiet)
    channel = "Y" if args.y else "RGB"
    from core.engine.device import pick_device, pick_dtype

    lr_from = "LR from --lr" if lr_root is not None else f"LR by {args.degrade} bicubic"
    precision = str(pick_dtype(pick_device(args.device), args.precision)).replace("torch.", "")
    print(f"{loaded.name} on {Path(args.data)} ({len(files)} images, {lr_from}, {channel}, "
          f"shave {'scale' if args.shave is None else args.shave}, {precision})")
    print(f"{'scale':>5}  {'PSNR':>7}  {'SSIM':>6}")
    for r in rows:
        print(f"{'x' + str(r.scale):>5}  {r.psnr:7.2f}  {r.ssim:6.4f}")
    for r in rows:   # below the table, whose rows scripts parse
        prov = r.provenance
        if prov is not None and prov.resampled:
            print(f"note: x{r.scale} is RESAMPLED: the model is {prov.native_scale}, its output "
                  f"was resized with {prov.resample.method} x{prov.resample.factor:.3g}")
    if args.csv:
        from core.io.atomic import atomic_path

        with atomic_path(Path(args.csv)) as tmp, open(tmp, "w", newline="") as fh:
            writer = csv.writer(fh)
            # the first four columns are the promised format; how each score was made follows
            writer.writerow(["image", "scale", "psnr", "ssim", *PROVENANCE_FIELDS])
            for s in scores:
                row = s.provenance.row() if s.provenance else {}
                writer.writerow([s.name, s.scale, f"{s.psnr:.4f}", f"{s.ssim:.6f}",
                                 *(row.get(f, "") for f in PROVENANCE_FIELDS)])
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from core.models import list_models

    entries = list_models()
    width = max(len(e.name) for e in entries)
    print(f"{'name':<{width}}  {'kind':<9}  {'scales':<8}  weights")
    for e in entries:
        scales = ",".join(str(s) for s in e.scales) if e.scales else "any"
        src = str(e.weights) if e.weights else "none (interpolation)"
        print(f"{e.name:<{width}}  {e.kind:<9}  {scales:<8}  {src}")
    return 0
