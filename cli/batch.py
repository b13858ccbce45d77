"""``sr`` over many inputs and models: expanding files/folders/globs, output names from a
template, skip-existing, per-item failures that do not stop the batch, and the summary.

The per-item work is a function given by :mod:`cli.commands`; this module only decides what
to run, where it goes, and how the batch is reported (a table, or one JSON document).
"""

from __future__ import annotations

import glob
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from core.errors import InputError, SRWError

__all__ = ["DEFAULT_TEMPLATE", "Item", "expand_inputs", "split_models", "plan_outputs",
           "check_output_folder",
           "run_batch", "prepare_item", "print_summary", "json_document"]

#: Output names in a folder: ``photo_liif_x2.png``.
DEFAULT_TEMPLATE = "{stem}_{model}_x{scale}.{ext}"


@dataclass
class Item:
    """One (input, model) pair of a batch, and what became of it."""

    input: Path
    model: str
    output: Path
    status: str = "pending"   # written | skipped | failed
    error: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return {"input": str(self.input), "model": self.model, "output": str(self.output),
                "status": self.status, **({"error": self.error} if self.error else {}),
                **self.info}


def expand_inputs(specs: Sequence[str]) -> tuple[list[Path], bool]:
    """Files, folders (their readable files, sorted) and globs -> files; and whether the
    caller named exactly one plain file (the single-file mode of ``sr``)."""
    from core.io import SUPPORTED_EXTENSIONS  # lazy: cv2

    files: list[Path] = []
    for spec in specs:
        p = Path(spec)
        if p.is_dir():
            found = sorted(f for f in p.iterdir()
                           if f.is_file() and f.suffix.lower() in SUPPORTED_EXTENSIONS)
            if not found:
                raise InputError(f"no readable files ({' '.join(SUPPORTED_EXTENSIONS)}) in {p}")
            files += found
        elif p.exists() or not glob.has_magic(spec):
            files.append(p)   # a missing plain file fails with its own message, later
        else:
            found = sorted(Path(f) for f in glob.glob(spec, recursive=True) if Path(f).is_file())
            if not found:
                raise InputError(f"no file matches {spec!r}")
            files += found
    files = list(dict.fromkeys(files))
    single = len(specs) == 1 and len(files) == 1 and not Path(specs[0]).is_dir() \
        and not glob.has_magic(specs[0])
    return files, single


def split_models(text: str | None, default: str) -> list[str]:
    """``-m a,b`` -> ``["a", "b"]``; none -> the default model."""
    names = [m.strip() for m in (text or default).split(",") if m.strip()]
    return list(dict.fromkeys(names)) or [default]


def _model_label(model: str) -> str:
    return Path(model).stem if any(c in model for c in "/\\") or "." in model else model


#: Beside the formats core.io reads and writes, names that are files, never folders: a batch
#: refuses them (and those formats) as its ``-o`` folder.
OTHER_FILE_SUFFIXES = (".pdf", ".svg", ".csv", ".json", ".txt", ".gif")


def check_output_folder(output: str, flag: str = "-o", *, template: bool = True) -> None:
    """Refuse a batch's output folder that does not exist and is named like a file
    (``out.png``): it would silently become a folder of that name. A trailing slash says
    "a folder", whatever the name."""
    from core.io import SUPPORTED_EXTENSIONS  # lazy: cv2

    out = Path(output)
    if out.exists() or output.endswith(("/", "\\")) \
            or out.suffix.lower() not in (*SUPPORTED_EXTENSIONS, *OTHER_FILE_SUFFIXES):
        return
    raise InputError(f"{flag} {output}: this run has several outputs and needs an output "
                     f"folder, but {out.name!r} looks like a file name; give a folder "
                     f"(e.g. {flag} {out.with_suffix('')})"
                     + (f" or a name template such as "
                        f"{out.parent / ('{stem}_{model}' + out.suffix)}" if template else ""))


def plan_outputs(files: list[Path], models: list[str], output: str | None, *, scale_text: str,
                 ext: str | None, template: str | None,
                 single: bool) -> tuple[list[Item], bool]:
    """The items of a batch with their output paths, and whether ``output`` names the one
    output file (single mode: every problem is an error, as for one file always).

    ``output``: a file (single input and model), a folder (created when written), a path whose
    name holds ``{...}`` fields, or None (the current folder). Fields: ``{stem} {model} {scale}
    {ext} {name}`` (``name``: the input's file name).
    """
    out = Path(output) if output else Path(".")
    as_file = (single and len(models) == 1 and output is not None and "{" not in output
               and not output.endswith(("/", "\\")) and not out.is_dir()
               and (bool(out.suffix) or out.exists()))   # /dev/null: a file, checked as one
    if as_file:
        return [Item(files[0], models[0], out)], True
    if output and "{" not in out.name and out.exists() and not out.is_dir():
        raise InputError(f"-o {output} exists and is not a folder; several outputs need a "
                         f"folder or a name template such as {{stem}}_{{model}}.png")
    if output and "{" not in out.name:
        check_output_folder(output)
    if output and "{" in out.name:
        folder, name = out.parent, out.name
    else:
        folder, name = out, template or DEFAULT_TEMPLATE
    items = []
    for model in models:
        for f in files:
            fields = {"stem": f.stem, "name": f.name, "model": _model_label(model),
                      "scale": scale_text, "ext": (ext or f.suffix.lstrip(".")).lstrip(".")}
            try:
                target = folder / name.format(**fields)
            except (KeyError, IndexError, ValueError) as exc:
                raise InputError(f"output name template {name!r}: unknown field {exc}; use "
                                 f"{{stem}} {{model}} {{scale}} {{ext}} {{name}}") from None
            items.append(Item(f, model, target))
    targets = [i.output for i in items]
    if len(set(targets)) != len(targets):
        raise InputError(f"the name template {name!r} gives several outputs the same name; "
                         "add {model} or {stem}")
    return items, False


def prepare_item(item: Item, overwrite: bool) -> bool:
    """Whether ``item`` is to run: an existing output is skipped (unless ``overwrite``), an
    output that is the input fails; the output's folder is made. Sets the item's status."""
    if item.output.exists() and not overwrite:
        item.status = "skipped"
        return False
    try:
        if item.output.resolve() == item.input.resolve():
            raise InputError(f"the output {item.output} is the input file")
        item.output.parent.mkdir(parents=True, exist_ok=True)
    except SRWError as exc:
        item.status, item.error = "failed", str(exc)
        return False
    except OSError as exc:
        item.status, item.error = "failed", f"{type(exc).__name__}: {exc}"
        return False
    return True


def run_batch(items: list[Item], run_one: Callable[[Item], dict[str, Any]], *,
              overwrite: bool, quiet: bool) -> None:
    """Run every item (skipping existing outputs unless ``overwrite``) under one progress
    bar; a failing item is recorded and the batch goes on."""
    from tqdm import tqdm  # lazy: keeps CLI start-up at ~250 ms

    bar = tqdm(total=len(items), desc="sr", file=sys.stderr, disable=True if quiet else None,
               leave=False, dynamic_ncols=True)
    try:
        for item in items:
            bar.set_postfix_str(f"{item.input.name} {item.model}"[:50])
            if prepare_item(item, overwrite):
                try:
                    item.info = run_one(item)
                    item.status = "written"
                except SRWError as exc:
                    item.status, item.error = "failed", str(exc)
                except (OSError, ValueError, RuntimeError) as exc:  # a file no reader expected
                    item.status, item.error = "failed", f"{type(exc).__name__}: {exc}"
            bar.update(1)
    finally:
        bar.close()


def _counts(items: list[Item]) -> dict[str, int]:
    return {s: sum(i.status == s for i in items) for s in ("written", "skipped", "failed")}


def print_summary(items: list[Item]) -> None:
    """The summary table (stdout), then one line per failure (stderr)."""
    w_in = max(len(i.input.name) for i in items)
    w_m = max(len(i.model) for i in items)
    print(f"{'input':<{w_in}}  {'model':<{w_m}}  {'status':<7}  output")
    for i in items:
        extra = f"  ({i.info['summary']})" if i.info.get("summary") else ""
        print(f"{i.input.name:<{w_in}}  {i.model:<{w_m}}  {i.status:<7}  {i.output}{extra}")
    c = _counts(items)
    skipped = f", {c['skipped']} skipped (exist; --overwrite replaces them)" if c["skipped"] else ""
    print(f"{c['written']} written{skipped}, {c['failed']} failed")
    for i in items:
        if i.status == "failed":
            print(f"error: {i.input}: {i.error}", file=sys.stderr)


def json_document(items: list[Item]) -> str:
    """One JSON document: every item (with its provenance) and the counts."""
    return json.dumps({"items": [i.record() for i in items], **_counts(items)}, indent=2)
