"""The CLI subcommands: thin wrappers that parse, call core, and print."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

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

    from .scale import check_executor

    check_executor(args)
    # the scale / size once, before any output is planned or any folder made (a batch would
    # otherwise fail every item alike, and leave its output folder behind)
    if args.scale:
        parse_scale(args.scale)
    if args.size:
        parse_size(args.size)
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
    if args.executor == "local":
        run_batch(items, lambda it: _sr_one(args, it.input, it.output, it.model, cache,
                                            quiet=True), overwrite=args.overwrite, quiet=args.quiet)
    else:   # the same _sr_one per (input, model), as Ray tasks (README "Scale out")
        _sr_units(args, items)
    if args.json:
        print(json_document(items))
        failed = [i for i in items if i.status == "failed"]
        for i in failed:
            print(f"error: {i.input}: {i.error}", file=sys.stderr)
    else:
        print_summary(items)
    return 2 if any(i.status == "failed" for i in items) else 0


_WORKER_MODELS: dict = {}   # a worker process's models (sr_unit), loaded once per process


def sr_unit(args: argparse.Namespace, inp: Path, out: Path, model: str) -> dict:
    """One unit of a batch ``sr`` on any executor: :func:`_sr_one` with this process's cache."""
    return _sr_one(args, Path(inp), Path(out), model, _WORKER_MODELS, quiet=True)


def _sr_units(args: argparse.Namespace, items: list) -> None:
    """A batch ``sr`` as units: skipped/failed items decided here, the rest run remotely."""
    from .scale import run_items  # lazy: as check_executor in cmd_sr

    run_items(args, items, sr_unit, "sr", "outputs", extra=lambda it: (it.model,))


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
    """``eval -m a,b --data DIR --scales 2,3``: one unit per (model, scale, image), run by the
    executor of ``--executor`` (README "Scale out"); rows in plan order whatever ran them."""
    # lazy: torch, cv2; keeps CLI start-up at ~250 ms
    from core.engine.device import pick_device, pick_dtype
    from core.evaluate import CSV_FIELDS, EvalSpec, eval_unit, find_images, score_row
    from core.models import load_model
    from core.scale import Unit
    from core.scale.rows import RowFile
    from core.scale.worker import remember_model

    from .batch import split_models
    from .scale import check_executor, print_failures, run_planned

    check_executor(args)
    scales = parse_scales(args.scales)
    files = find_images(args.data)
    lr_root = Path(args.lr) if args.lr else None
    if lr_root is not None and not lr_root.is_dir():
        raise InputError(f"LR folder {lr_root} does not exist")
    if args.csv and Path(args.csv).exists() and not args.resume:
        raise InputError(f"{args.csv} already exists; choose another CSV file name "
                         f"(or --resume to complete it)")
    check_outputs(args, "csv", overwrite=bool(args.resume))  # issue #19: inputs, devices, ...
    if lr_root is not None and args.degrade != "matlab":
        raise InputError("--degrade chooses how LR images are made, but --lr gives them: "
                         "use one or the other")
    save_sr = Path(args.save_sr) if args.save_sr else None
    if save_sr is not None:
        save_sr.mkdir(parents=True, exist_ok=True)
    specs = []
    names = split_models(args.model, args.model)
    options = _options(args)
    for m in names:
        loaded = load_model(m, scale=args.scale_hint)
        remember_model(m, args.scale_hint, loaded)   # the local executor loads nothing twice
        digest = weights_digest(loaded.source)
        base = Provenance(loaded.name, weights=loaded.source.name if loaded.source else "",
                          sha256=digest)
        into = save_sr / _label(m) if save_sr is not None and len(names) > 1 else save_sr
        if into is not None:
            into.mkdir(parents=True, exist_ok=True)
        specs.append(EvalSpec(m, args.scale_hint, digest, loaded.name, base, y_channel=args.y,
                              shave=args.shave, lr_root=lr_root, options=options,
                              degradation=args.degrade, save_sr=into))
    plan = [(spec, s, f) for spec in specs for s in scales for f in files]
    index = {(spec.name, str(s), f.name): i for i, (spec, s, f) in enumerate(plan)}

    def key(row: dict) -> tuple:
        return (row["model"], row["scale"], row["image"])

    table = RowFile(args.csv, CSV_FIELDS, key, valid=lambda r: float(r["psnr"]) == float(
        r["psnr"]), what="eval") if args.csv else None
    results: dict[int, tuple[float, float, object, dict]] = {}
    if table is not None:
        for row in table.open():  # --resume: the complete rows already there
            i = index.get(key(row))
            if i is not None:
                results[i] = (float(row["psnr"]), float(row["ssim"]), None, row)
    resumed = len(results)
    units = [Unit(i, str(f), eval_unit, (spec, f, s)) for i, (spec, s, f) in enumerate(plan)
             if i not in results]

    def arrived(out) -> None:
        if out.error:
            return
        sc = out.value
        row = score_row(sc)
        results[out.index] = (sc.psnr, sc.ssim, sc.provenance, row)
        if table is not None:
            table.append(out.index, [row])

    desc = f"eval {specs[0].name}" if len(specs) == 1 else f"eval {len(specs)} models"
    try:
        stats = run_planned(args, units, arrived, desc, what="units")
    finally:
        if table is not None:
            table.finish(lambda r: index.get(key(r)))
    if resumed:
        print(f"resumed {resumed} rows from {args.csv}", file=sys.stderr)
    if not results and stats.failed:   # nothing measured: the (first) reason, one line
        (label, why), more = stats.failed[0], len(stats.failed) - 1
        if table is not None and not table.old:
            table.path.unlink(missing_ok=True)   # no row: leave no file behind
        raise InputError(f"{label}: {why}" + (f" (and {more} more failures)" if more else ""))
    channel = "Y" if args.y else "RGB"
    lr_from = "LR from --lr" if lr_root is not None else f"LR by {args.degrade} bicubic"
    precision = str(pick_dtype(pick_device(args.device), args.precision)).replace("torch.", "")
    shave = "scale" if args.shave is None else args.shave
    runs = []
    for spec in specs:
        rows, images = [], []
        for s in scales:
            got = [(f, results[index[(spec.name, str(s), f.name)]]) for f in files
                   if index[(spec.name, str(s), f.name)] in results]
            images += [(f, s, r) for f, r in got]
            if got:
                last = got[-1][1]
                rows.append((s, float(np.mean([r[0] for _, r in got])),
                             float(np.mean([r[1] for _, r in got])), len(got), last[2], last[3]))
        runs.append((spec, rows, images))
    if args.json:
        docs = [{
            "model": spec.name, "data": str(Path(args.data)), "images": len(files),
            "lr": lr_from, "channel": channel, "precision": precision, "shave": shave,
            "save_sr": str(spec.save_sr) if spec.save_sr else None,
            "scales": [{"scale": s, "psnr": p, "ssim": q, "n": n, "provenance": _prov_row(pr, row)}
                       for s, p, q, n, pr, row in rows],
            "images_scores": [{"image": f.name, "scale": s, "psnr": r[0], "ssim": r[1],
                               "provenance": _prov_row(r[2], r[3])} for f, s, r in images]}
            for spec, rows, images in runs]
        print(json.dumps(docs[0] if len(docs) == 1 else {"runs": docs}, indent=2))
    else:
        for spec, rows, _ in runs:
            print(f"{spec.name} on {Path(args.data)} ({len(files)} images, {lr_from}, {channel}, "
                  f"shave {shave}, {precision})")
            print(f"{'scale':>5}  {'PSNR':>7}  {'SSIM':>6}")
            for s, p, q, *_ in rows:
                print(f"{'x' + str(s):>5}  {p:7.2f}  {q:6.4f}")
            for s, *_, prov, _row in rows:   # below the table, whose rows scripts parse
                if prov is not None and prov.resampled:
                    print(f"note: x{s} is RESAMPLED: the model is {prov.native_scale}, its "
                          f"output was resized with {prov.resample.method} "
                          f"x{prov.resample.factor:.3g}")
    print_failures(stats)
    return 2 if stats.failed else 0


def _label(model: str) -> str:
    """A model's name as a folder name (a checkpoint path -> its stem)."""
    return Path(model).stem if any(c in model for c in "/\\") or "." in model else model


def _prov_row(prov, row: dict) -> dict | None:
    """A score's provenance as JSON: from the run, or (resumed) from its CSV row."""
    if prov is not None:
        return prov.row()
    return {f: row.get(f, "") for f in PROVENANCE_FIELDS} if row else None


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
