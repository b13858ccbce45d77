"""The CLI subcommands: thin wrappers that parse, call core, and print."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from types import SimpleNamespace

from core.errors import InputError
from core.provenance import FIELDS as PROVENANCE_FIELDS
from core.provenance import Provenance, weights_digest

from .options import parse_scale, parse_scales, parse_size
from .options import run_options as _options
from .outputs import check_outputs
from .progress import run_with_bar


def cmd_sr(args: argparse.Namespace) -> int:
    """``sr INPUT... [-m a,b] [-o FILE|FOLDER]``: one file, or a batch (cli/batch.py)."""
    from core.models import default_model_name

    from .batch import expand_inputs, json_document, plan_outputs, print_summary, run_batch
    from .batch import split_models

    files, single = expand_inputs(args.input)
    models = split_models(args.model, default_model_name())
    items, as_file = plan_outputs(files, models, args.output, scale_text=args.scale or args.size,
                                  ext=args.ext, template=args.name, single=single)
    cache: dict = {}
    if as_file:  # one named output: every problem is an error at once (exit 2, one line)
        item = items[0]
        item.info, item.status = _sr_one(args, item.input, item.output, item.model, cache,
                                         quiet=args.quiet, report=True), "written"
        if args.json:
            print(json_document(items))
        return 0
    run_batch(items, lambda it: _sr_one(args, it.input, it.output, it.model, cache, quiet=True),
              overwrite=args.overwrite, quiet=args.quiet)
    if args.json:
        print(json_document(items))
        failed = [i for i in items if i.status == "failed"]
        for i in failed:
            print(f"error: {i.input}: {i.error}", file=sys.stderr)
    else:
        print_summary(items)
    return 2 if any(i.status == "failed" for i in items) else 0


def _sr_one(args: argparse.Namespace, inp: Path, out: Path, model: str, cache: dict, *,
            quiet: bool, report: bool = False) -> dict:
    """Super-resolve one input with one model into ``out``; returns what the summary and the
    JSON document say about it (size, device, precision, provenance)."""
    # lazy: torch, cv2, scipy; keeps CLI start-up (--help) at ~250 ms
    from core.app.inputs import detect_kind
    from core.app.plan import plan_run
    from core.app.run import with_provenance
    from core.engine import super_resolve
    from core.io import load, save
    from core.models import load_model

    from .channels import cmd_sr_channels, wants_channels
    from .normals import cmd_sr_normals

    one = argparse.Namespace(**{**vars(args), "input": str(inp), "output": str(out),
                                "model": model, "quiet": quiet})
    if one.kind == "normals":  # split/naive SR of a normal map (cli/normals.py)
        cmd_sr_normals(one)
        return {"summary": "normal map"}
    if wants_channels(one):  # channel matrices: per-channel normalisation and SR
        cmd_sr_channels(one)
        return {"summary": "channel data"}
    check_outputs(one, "output")  # issue #19: inputs, devices, folders, unwritable places
    scale = parse_scale(args.scale) if args.scale else None
    size = parse_size(args.size) if args.size else None
    data = load(inp, kind=args.kind)
    found = detect_kind(data, inp) if args.kind is None else None
    if found is not None and found.kind == "normals":   # the split SR of normal maps
        mask = getattr(args, "mask", None) or found.mask
        print(f"{inp.name}: {found.reason}; --kind rgb treats it as an image"
              + (f"; mask: {mask}" if mask else ""), file=sys.stderr)
        one.kind, one.mask = "normals", str(mask) if mask else None
        cmd_sr_normals(one)
        return {"summary": "normal map"}
    key = (model, args.scale_hint)
    if key not in cache:
        cache[key] = load_model(model, scale=args.scale_hint)
    loaded = cache[key]
    # the run plan (as the window's): output geometry, native scale, a resize after the model
    entry = SimpleNamespace(kind=loaded.kind, scales=(loaded.scale,) if loaded.scale else None)
    plan = plan_run((data.height, data.width), scale=scale if scale is not None else 1.0,
                    size=size, models=((model, loaded.name, entry),))
    job = super_resolve(loaded.module, data, size=plan.out_hw, options=_options(args),
                        name=loaded.name)
    result = run_with_bar(job, desc=loaded.name, quiet=quiet)
    result = with_provenance(result, plan.provenance(model, loaded.name), loaded.source)
    path = save(result.image, out, overwrite=args.overwrite)
    h, w = result.image.height, result.image.width
    if report:
        print(f"{path}: {w}x{h} with {loaded.name} on {result.device} ({result.precision}) "
              f"in {result.seconds:.2f} s", file=sys.stderr)
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
        print(f"provenance: {result.provenance.note()}", file=sys.stderr)
    return {"width": w, "height": h, "seconds": round(result.seconds, 3),
            "device": str(result.device), "precision": str(result.precision),
            "notes": list(result.notes), "provenance": result.provenance.row(),
            "summary": f"{w}x{h}, {result.seconds:.2f} s; {result.provenance.note()}"}


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
    save_sr = Path(args.save_sr) if args.save_sr else None
    if save_sr is not None:
        save_sr.mkdir(parents=True, exist_ok=True)
    loaded = load_model(args.model, scale=args.scale_hint)
    scores: list = []
    base = Provenance(loaded.name, weights=loaded.source.name if loaded.source else "",
                      sha256=weights_digest(loaded.source))
    job = evaluate(loaded.module, files, scales, y_channel=args.y, shave=args.shave,
                   lr_root=lr_root, options=_options(args), name=loaded.name, scores=scores,
                   degradation=args.degrade, provenance=base, save_sr=save_sr)
    rows = run_with_bar(job, desc=f"eval {loaded.name}", quiet=args.quiet)
    channel = "Y" if args.y else "RGB"
    from core.engine.device import pick_device, pick_dtype

    lr_from = "LR from --lr" if lr_root is not None else f"LR by {args.degrade} bicubic"
    precision = str(pick_dtype(pick_device(args.device), args.precision)).replace("torch.", "")
    if args.csv:
        _write_eval_csv(Path(args.csv), scores)
    if args.json:
        print(json.dumps({
            "model": loaded.name, "data": str(Path(args.data)), "images": len(files),
            "lr": lr_from, "channel": channel, "precision": precision,
            "shave": "scale" if args.shave is None else args.shave,
            "save_sr": str(save_sr) if save_sr else None,
            "scales": [{"scale": r.scale, "psnr": r.psnr, "ssim": r.ssim, "n": r.n,
                        "provenance": r.provenance.row() if r.provenance else None}
                       for r in rows],
            "images_scores": [{"image": sc.name, "scale": sc.scale, "psnr": sc.psnr,
                               "ssim": sc.ssim,
                               "provenance": sc.provenance.row() if sc.provenance else None}
                              for sc in scores]}, indent=2))
        return 0
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
    return 0


def _write_eval_csv(path: Path, scores: list) -> None:
    from core.io.atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        # the first four columns are the promised format; how each score was made follows
        writer.writerow(["image", "scale", "psnr", "ssim", *PROVENANCE_FIELDS])
        for s in scores:
            row = s.provenance.row() if s.provenance else {}
            writer.writerow([s.name, s.scale, f"{s.psnr:.4f}", f"{s.ssim:.6f}",
                             *(row.get(f, "") for f in PROVENANCE_FIELDS)])


def cmd_models(args: argparse.Namespace) -> int:
    from core.models import default_model_name, list_models
    from core.models.spandrel_bridge import spandrel_status

    entries = list_models()
    if args.json:
        available, why = spandrel_status()
        print(json.dumps({
            "default": default_model_name(),
            "models": [{"name": e.name, "arch": e.arch, "kind": e.kind,
                        "scales": list(e.scales) if e.scales else None,
                        "weights": str(e.weights) if e.weights else None,
                        "card": str(e.card) if e.card else None,
                        "description": e.description} for e in entries],
            "spandrel": {"available": available, "detail": why}}, indent=2))
        return 0
    width = max(len(e.name) for e in entries)
    print(f"{'name':<{width}}  {'kind':<9}  {'scales':<8}  weights")
    for e in entries:
        scales = ",".join(str(s) for s in e.scales) if e.scales else "any"
        src = str(e.weights) if e.weights else "none (interpolation)"
        print(f"{e.name:<{width}}  {e.kind:<9}  {scales:<8}  {src}")
    return 0
