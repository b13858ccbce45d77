"""Open the window pre-configured from a script:
``python main.py IMAGE [HR] --models a,b,c --scale S [--degrade] [--run] [--roi X,Y,W,H]``.

Parsed here (the window's own options; ``main.py`` hands every non-subcommand argument list to
:func:`gui.app.run_app`): the files open as before (the first image is the input, a second one
the HR reference, sessions and checkpoints by extension), then the models are ticked, the
scale set, ``--degrade`` treats the image as the HR, the region is drawn and ``--run`` starts
the run. An unknown model or a malformed option is one readable error, the window stays up.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import InputError

__all__ = ["LaunchOptions", "parse_launch", "apply_launch", "LAUNCH_USAGE"]

LAUNCH_USAGE = ("python main.py [IMAGE [HR]] [--models a,b,c] [--scale S] [--degrade] [--run] "
                "[--roi X,Y,W,H]")


@dataclass
class LaunchOptions:
    paths: list[str] = field(default_factory=list)
    models: list[str] | None = None
    scale: float | None = None
    degrade: bool = False
    run: bool = False
    roi: tuple[int, int, int, int] | None = None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # noqa: D401 - argparse's name
        raise InputError(f"{message} (usage: {LAUNCH_USAGE})")


def parse_launch(argv: list[str]) -> LaunchOptions:
    """The window's command-line options; InputError says what is wrong."""
    p = _Parser(prog="python main.py", add_help=False)
    p.add_argument("paths", nargs="*")
    p.add_argument("-m", "--models", default=None)
    p.add_argument("-s", "--scale", type=float, default=None)
    p.add_argument("--degrade", action="store_true")
    p.add_argument("--run", action="store_true")
    p.add_argument("--roi", default=None)
    a = p.parse_args(argv)
    roi = None
    if a.roi is not None:
        try:
            x, y, w, h = (int(v) for v in a.roi.split(","))
        except ValueError:
            raise InputError(f"--roi is X,Y,W,H in HR pixels, got {a.roi!r}")
        roi = (x, y, w, h)
    if a.scale is not None and not a.scale > 0:
        raise InputError(f"--scale must be positive, got {a.scale:g}")
    models = [m.strip() for m in a.models.split(",") if m.strip()] if a.models else None
    return LaunchOptions(list(a.paths), models, a.scale, a.degrade, a.run, roi)


def apply_launch(window, opts: LaunchOptions) -> bool:
    """Configure ``window`` (a :class:`gui.main_window.MainWindow`) as ``opts`` say; False
    (with the error shown) when something could not be done."""
    c = window.controllers
    ok = True
    if opts.paths:
        ok = window.open_paths(opts.paths)
    if opts.scale is not None:
        c.run.set_scale(opts.scale)
    if opts.degrade:
        c.inputs.set_reference("degrade")
    if opts.models is not None:
        keys = []
        for m in opts.models:
            if m in window.session.catalog:
                keys.append(m)
            elif Path(m).is_file():
                key = c.models.add_checkpoint(m)
                ok = ok and key is not None
                keys += [key] if key is not None else []
            else:
                window.show_error(f"unknown model {m!r}; the models are "
                                  f"{', '.join(window.session.catalog)} or a checkpoint file")
                ok = False
        window.model_list.set_checked(keys)
    if opts.roi is not None:
        ok = c.metrics.set_roi(opts.roi) and ok
    if opts.run and window.session.source is not None:
        ok = bool(c.run.run()) and ok
    return ok
