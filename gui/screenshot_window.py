"""README screenshots of the window's layout features (runs offscreen; throw-away settings).

``python -m gui.screenshot_window docs/grid_1366.png --grid``: every bundled model ticked on
the astronaut degraded x4, at 1366x768 (``--size 1680x1050`` for a larger screen): the tiles
wrap into rows, titles elided.

``python -m gui.screenshot_window docs/folder.png --folder``: the Folder tab after bicubic,
edsr_baseline_x4 and fsrcnn_x4 over Set5 (``../shared/datasets/benchmark/Set5/HR``) at x4.

``python -m gui.screenshot_window docs/profile.png --profile``: the Profile tab (a line across
the astronaut's face, every result along it, the HR histogram).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from .screenshot import open_window, save_window

__all__ = ["make_grid_screenshot", "make_folder_screenshot", "make_profile_screenshot"]

SET5 = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "benchmark" / "Set5" / "HR"
FOLDER_MODELS = ["bicubic", "edsr_baseline_x4", "fsrcnn_x4"]


def make_grid_screenshot(path: str | Path, size: tuple[int, int] = (1366, 768)) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        app, window, c, errors, settle = open_window(tmp, size, timeout=600.0)
        c.inputs.open_sample("astronaut")
        c.inputs.set_reference("degrade")
        c.run.set_scale(4.0)
        c.models.set_models(list(window.session.catalog))
        settle()
        c.run.run()
        settle(600.0)
        c.metrics.set_roi((196, 176, 100, 84))
        settle()
        return save_window(window, errors, path)


def make_folder_screenshot(path: str | Path, size: tuple[int, int] = (1366, 768)) -> Path:
    if not SET5.is_dir():
        raise SystemExit(f"needs {SET5}")
    with tempfile.TemporaryDirectory() as tmp:
        app, window, c, errors, settle = open_window(tmp, size, timeout=600.0)
        c.run.set_run_options("auto", "fp32", None)
        c.run.set_scale(4.0)
        c.models.set_models(FOLDER_MODELS)
        window.tabs.setCurrentWidget(window.folder_view)
        c.folder.set_folder(SET5)
        settle()
        c.folder.run()
        settle(600.0)
        return save_window(window, errors, path)


def make_profile_screenshot(path: str | Path, size: tuple[int, int] = (1366, 768)) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        app, window, c, errors, settle = open_window(tmp, size, timeout=300.0)
        c.inputs.open_sample("astronaut")
        c.inputs.set_reference("degrade")
        c.run.set_scale(4.0)
        c.models.set_models(["bicubic", "edsr_baseline_x4", "liif"])
        settle()
        c.run.run()
        settle()
        c.metrics.set_roi((180, 120, 160, 40))
        window.tabs.setCurrentWidget(window.profile)
        settle()
        return save_window(window, errors, path)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m gui.screenshot_window", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output", help="PNG to write")
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--grid", action="store_true", help="every bundled model ticked")
    which.add_argument("--folder", action="store_true", help="the Folder tab on Set5")
    which.add_argument("--profile", action="store_true", help="the Profile tab")
    ap.add_argument("--size", default="1366x768", help="window size WxH (default 1366x768)")
    a = ap.parse_args(argv)
    w, h = (int(v) for v in a.size.lower().split("x"))
    make = make_grid_screenshot if a.grid else (
        make_folder_screenshot if a.folder else make_profile_screenshot)
    print(make(a.output, (w, h)))


if __name__ == "__main__":  # pragma: no cover
    main()
