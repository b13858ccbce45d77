"""The path checks subcommands run before they start working: outputs, and config inputs.

:func:`check_outputs` takes the parsed arguments and the names of the ones that are output
paths; every other argument that names an existing file (or folder) is an input of the run,
and :func:`core.io.atomic.check_output_path` refuses an output that is one of them, a folder,
a device / FIFO / socket, an existing file without ``--overwrite``, or an unwritable place.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Iterable

from core.errors import InputError

__all__ = ["check_outputs", "run_inputs", "check_config_file", "MAX_CONFIG_BYTES"]

#: A training config is a short YAML file; anything larger is refused before it is read.
MAX_CONFIG_BYTES = 1 << 20


def check_config_file(path: str) -> None:
    """Refuse a config that is not a small regular file before reading it (``/dev/zero``, a
    FIFO, a folder, a multi-GB file)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"config file not found: {p}")
    if p.is_dir():
        raise InputError(f"{p} is a folder; give a YAML config file")
    if not p.is_file():
        raise InputError(f"{p} is not a regular file (a device, FIFO or socket); give a YAML "
                         f"config file")
    if p.stat().st_size > MAX_CONFIG_BYTES:
        raise InputError(f"{p} is {p.stat().st_size} bytes; a config file is at most "
                         f"{MAX_CONFIG_BYTES} bytes of YAML")


def _paths(value: object) -> Iterable[str]:
    if isinstance(value, (str, os.PathLike)):
        yield os.fspath(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _paths(v)


def run_inputs(args: argparse.Namespace, outputs: Iterable[str] = ()) -> list[Path]:
    """Every argument of ``args`` (except those named in ``outputs``) that names an existing
    path, plus the files directly inside folders given as inputs."""
    skip = set(outputs)
    found: list[Path] = []
    for key, value in vars(args).items():
        if key in skip or key == "func":
            continue
        for text in _paths(value):
            p = Path(text).expanduser()
            try:
                if p.is_file():
                    found.append(p)
                elif p.is_dir():
                    found.extend(c for c in p.iterdir() if c.is_file())
            except OSError:
                continue
    return found


def check_outputs(args: argparse.Namespace, *names: str, extra: Iterable[Path] = (),
                  folders: Iterable[str] = (), overwrite: bool | None = None) -> None:
    """Check the output paths ``args.<name>`` (those given) and ``extra`` before any work;
    ``folders`` names output-folder arguments (not inputs, not checked as files).

    Raises:
        InputError: see :func:`core.io.atomic.check_output_path`.
    """
    # lazy: core.io pulls numpy and OpenCV; keeps CLI start-up (and --help) light
    from core.io.atomic import check_output_path

    inputs = run_inputs(args, (*names, *folders))
    if overwrite is None:
        overwrite = bool(getattr(args, "overwrite", False))
    targets = [getattr(args, n, None) for n in names] + list(extra)
    seen: set[str] = set()
    for t in targets:
        for text in _paths(t):
            real = os.path.realpath(text)
            if real in seen:
                raise InputError(f"{text} is given for two outputs; choose different names")
            seen.add(real)
            check_output_path(text, inputs, overwrite=overwrite)
