"""The ``srw`` commands: the distribution's own top-level name (entry points, version).

``srw``           no arguments, or image/data files: the window; a subcommand: the command line
``srw-gui``       always the window
``python -m srw`` the same as ``srw``

Dispatching sits here, above ``gui`` and ``cli`` (which never import each other); ``main.py``
in a checkout calls :func:`main` too. Installed, ``srw/resources`` and ``srw/configs`` hold the
bundled weights, model cards and training configs (package data, see ``core.resources``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Sequence

from core import __version__
from core.errors import InputError
from gui.launch import parse_launch  # the window's options: argparse only, no Qt

__all__ = ["__version__", "main", "gui_main", "opens_window", "missing_files"]


def opens_window(argv: Sequence[str]) -> bool:
    """True when ``argv`` asks for the window: nothing, or files to open (``lr.png hr.png``).

    Anything else goes to the command line, whose parser answers a subcommand, ``--version``,
    ``-h``, or an unknown word (exit 2, "did you mean ...") without ever starting Qt.
    """
    if not argv:
        return True
    first = argv[0]
    if first.startswith("-"):
        return False
    from cli.app import SUBCOMMANDS

    if first in SUBCOMMANDS:
        return False
    # a file to open: it exists, or it looks like one (a suffix or a folder part)
    return Path(first).exists() or bool(Path(first).suffix) or os.sep in first


def missing_files(argv: Sequence[str]) -> str | None:
    """The first file argument of a window launch that does not exist, else None. Options the
    window's parser rejects are left to the window, which shows them (``srw-gui`` never
    checks here: started from a desktop, its stderr is seen by nobody, the dialog is)."""
    try:
        paths = parse_launch(list(argv)).paths
    except InputError:
        return None
    return next((p for p in paths if not Path(p).exists()), None)


def main(argv: Sequence[str] | None = None) -> int:
    """``srw [SUBCOMMAND ...]``: the window with no subcommand, else the command line."""
    os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")
    args = list(sys.argv[1:] if argv is None else argv)
    if opens_window(args):
        missing = missing_files(args)
        if missing:  # a typo in a terminal: one line there, not a window with a dialog
            print(f"error: {missing}: no such file or folder", file=sys.stderr)
            return 2
        return gui_main(args)
    from cli.errors import run_cli  # stdlib only: the CLI's one top-level handler

    return run_cli(args, _cli)   # imports, parsing, signals, errors: one line each


def _cli(args: list[str]) -> int:
    """The command line, imported inside :func:`cli.errors.run_cli` (so that an import error or
    a Ctrl-C during the imports is one line too)."""
    from cli import main as cli_main

    return cli_main(args)


def gui_main(argv: Sequence[str] | None = None) -> int:
    """``srw-gui [FILES]``: the window (on a bundled sample when no file is given)."""
    from gui.app import run_app

    return run_app(list(sys.argv[1:] if argv is None else argv))
