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
from .outputs import check_outputs, run_inputs
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
    from core.evaluate import (CSV_FIELDS, EvalSpec, eval_unit, find_images, mean_psnr,
                               score_row)
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
    if save_sr is not None and save_sr.exists() and not save_sr.is_dir():
        raise InputError(f"--save-sr {save_sr} is a file; give a folder for the SR images")

    def key(row: dict) -> tuple:
        return (row["model"], row["scale"], row["image"])

    # --resume: the complete rows already there, read (not yet rewritten) before any refusal
    table = RowFile(args.csv, CSV_FIELDS, key, valid=lambda r: float(r["psnr"]) == float(
        r["psnr"]), what="eval") if args.csv else None
    old_rows = table.open() if table is not None else []
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
        specs.append(EvalSpec(m, args.scale_hint, digest, loaded.name, base, y_channel=args.y,
                              shave=args.shave, lr_root=lr_root, options=options,
                              degradation=args.degrade, save_sr=into,
                              overwrite=bool(args.overwrite)))
    plan = [(spec, s, f) for spec in specs for s in scales for f in files]
    index = {(spec.name, str(s), f.name): i for i, (spec, s, f) in enumerate(plan)}
    results: dict[int, tuple[float, float, object, dict]] = {}
    for row in old_rows:
        i = index.get(key(row))
        if i is not None:
            results[i] = (float(row["psnr"]), float(row["ssim"]), None, row)
    resumed = len(results)
    units = [Unit(i, str(f), eval_unit, (spec, f, s)) for i, (spec, s, f) in enumerate(plan)
             if i not in results]
    if save_sr is not None:   # every SR image's place, checked before anything runs or is made
        _check_save_sr(args, [(Path(spec.save_sr), f, s) for i, (spec, s, f) in enumerate(plan)
                              if i not in results])

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
        if table is not None and not table.old and not table.existed:
            table.path.unlink(missing_ok=True)   # no row: leave no file behind (a new one)
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
                psnr, n_inf = mean_psnr([r[0] for _, r in got])
                rows.append(SimpleNamespace(
                    scale=s, psnr=psnr, ssim=float(np.mean([r[1] for _, r in got])),
                    n=len(got), n_inf=n_inf, failed=len(files) - len(got),
                    prov=last[2], row=last[3]))
            else:
                rows.append(SimpleNamespace(scale=s, n=0, failed=len(files)))
        runs.append((spec, rows, images))
    if args.json:
        docs = [{
            "model": spec.name, "data": str(Path(args.data)), "images": len(files),
            "lr": lr_from, "channel": channel, "precision": precision, "shave": shave,
            "save_sr": str(spec.save_sr) if spec.save_sr else None,
            # psnr: the mean over the finite scores (n_inf: perfect matches, PSNR inf);
            # failed: images of the folder not scored at this scale
            "scales": [{"scale": r.scale, "psnr": r.psnr, "ssim": r.ssim, "n": r.n,
                        "n_inf": r.n_inf, "failed": r.failed,
                        "provenance": _prov_row(r.prov, r.row)} for r in rows if r.n],
            "images_scores": [{"image": f.name, "scale": s, "psnr": r[0], "ssim": r[1],
                               "provenance": _prov_row(r[2], r[3])} for f, s, r in images]}
            for spec, rows, images in runs]
        print(json.dumps(docs[0] if len(docs) == 1 else {"runs": docs}, indent=2))
    else:
        for spec, rows, _ in runs:
            bad = max(r.failed for r in rows)
            print(f"{spec.name} on {Path(args.data)} ({len(files)} images"
                  f"{f', {bad} not scored' if bad else ''}, {lr_from}, {channel}, "
                  f"shave {shave}, {precision})")
            print(f"{'scale':>5}  {'PSNR':>7}  {'SSIM':>6}")  # rows scripts parse: 3 columns
            for r in rows:
                if r.n:
                    print(f"{'x' + str(r.scale):>5}  {r.psnr:7.2f}  {r.ssim:6.4f}")
            for r in rows:   # below the table, whose rows scripts parse
                if r.failed:
                    print(f"note: x{r.scale}: " + (
                        f"the means are over {r.n} of {len(files)} images; {r.failed} failed "
                        f"(error lines on stderr)" if r.n else
                        f"no image scored; {r.failed} failed (error lines on stderr)"))
                if r.n and r.n_inf:
                    print(f"note: x{r.scale}: " + (
                        f"all {r.n} images match their HR exactly (PSNR inf)" if r.n_inf == r.n
                        else f"{r.n_inf} of {r.n} images match their HR exactly (PSNR inf); "
                             f"the mean PSNR is over the other {r.n - r.n_inf}, SSIM over all "
                             f"{r.n}"))
                prov = r.prov if r.n else None
                if prov is not None and prov.resampled:
                    print(f"note: x{r.scale} is RESAMPLED: the model is {prov.native_scale}, its "
                          f"output was resized with {prov.resample.method} "
                          f"x{prov.resample.factor:.3g}")
    print_failures(stats)
    return 2 if stats.failed else 0


def _check_save_sr(args: argparse.Namespace, todo: list[tuple[Path, Path, int]]) -> None:
    """The SR images of ``eval --save-sr`` (``(folder, HR file, scale)`` of each unit to run):
    refused before any work when one is an input, two share a name, or one exists (without
    ``--overwrite``); then their folders are made."""
    # lazy: core.io pulls cv2; keeps CLI start-up (and --help) light
    from core.evaluate import sr_name
    from core.io.atomic import check_output_path

    inputs = run_inputs(args, ("save_sr", "csv"))
    seen: dict[Path, Path] = {}
    for folder, f, s in todo:
        target = folder / sr_name(f, s)
        if target in seen:
            raise InputError(f"--save-sr: {seen[target].name} and {f.name} would both be saved "
                             f"as {target}; rename one of them")
        seen[target] = f
        if folder.is_dir():
            check_output_path(target, inputs, overwrite=bool(args.overwrite), probe=False)
    for folder in dict.fromkeys(folder for folder, _f, _s in todo):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"--save-sr: cannot make the folder {folder}: "
                             f"{exc.strerror or exc}") from None


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
