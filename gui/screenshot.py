"""Save a screenshot of a real comparison: ``python -m gui.screenshot docs/screenshot.png``.

The astronaut sample is degraded x4 with the benchmark bicubic degradation, super-resolved
with bicubic and nearest (and the bundled LIIF when there is one), a region is measured, and
the whole window is saved. Runs offscreen when there is no display; uses throw-away settings.

``python -m gui.screenshot docs/lam.png --lam``: the LAM tab instead, a 16x16 window on the
astronaut's eye attributed for bicubic and a trained model (the official FSRCNN x4 checkpoint
of ``../shared/datasets`` when it is there, else nearest).

``python -m gui.screenshot docs/zeroshot.png --zeroshot``: the Zero-shot tab after MZSR(10)
with the bundled meta-weights on the astronaut degraded x2 (bicubic), with its loss curve.

``python -m gui.screenshot docs/ipf.png --ipf``: the IPF flow tab for the bundled IPF on the
astronaut degraded x4 (flow as a colour wheel, confidence), after comparing LIIF and IPF.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from .main_window import MainWindow
from .settings import Settings
from .startup import apply_theme, create_app


def open_window(tmp: str | Path, size: tuple[int, int], *, timeout: float = 120.0,
                watch_metrics: bool = True, tail: tuple[int, float] = (20, 0.005)):
    """A themed main window with throw-away settings in ``tmp``, shown at ``size``.

    Returns ``(app, window, controllers, errors, settle)``: controller errors are collected in
    ``errors``, and ``settle()`` processes events until the workers (and, with
    ``watch_metrics``, the metrics timer) are idle, then ``tail`` more rounds of events.
    """
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")   # read when the app starts

    app = create_app()
    apply_theme(app, "dark")
    window = MainWindow(Settings(Path(tmp) / "settings.ini"))
    window.resize(*size)
    window.show()
    c = window.controllers
    errors: list[str] = []
    c.notices.error.disconnect()
    c.notices.error.connect(errors.append)
    default_timeout = timeout
    rounds, pause = tail

    def busy() -> bool:
        return bool(c.pool.busy() or (watch_metrics and c.metrics.busy))

    def settle(timeout: float = default_timeout) -> None:
        t0 = time.monotonic()
        while busy() and time.monotonic() - t0 < timeout:
            app.processEvents()
            time.sleep(0.01)
        for _ in range(rounds):
            app.processEvents()
            time.sleep(pause)

    return app, window, c, errors, settle


def save_window(window, errors: list[str], path: str | Path) -> Path:
    """Grab ``window`` into ``path`` (unless there were errors), then shut it down."""
    if errors:
        raise SystemExit("screenshot failed: " + "; ".join(errors))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        raise SystemExit(f"could not write {out}")
    window.controllers.shutdown()
    window.close()
    return out


def make_screenshot(path: str | Path, size: tuple[int, int] = (1500, 950)) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        app, window, c, errors, settle = open_window(tmp, size, timeout=120.0)
        s = window.session
        c.inputs.open_sample("astronaut")
        c.inputs.set_reference("degrade")
        c.run.set_scale(4.0)
        models = [k for k in ("bicubic", "nearest", "liif") if k in s.catalog]
        c.models.set_models(models)
        settle()
        c.run.run()
        settle()
        c.metrics.set_roi((196, 176, 100, 84))
        settle()
        window.grid.set_view_rect([120, 100, 380, 330])   # zoomed in: LR blocks vs SR detail
        settle()
        return save_window(window, errors, path)


FSRCNN = Path(__file__).resolve().parents[2] / "shared/datasets/checkpoints/official" \
    / "fsrcnn_x4_yjn870.pth"


def make_lam_screenshot(path: str | Path, size: tuple[int, int] = (1500, 950)) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        app, window, c, errors, settle = open_window(tmp, size, timeout=300.0,
                                                     watch_metrics=False)
        c.inputs.open_sample("astronaut")
        c.inputs.set_reference("degrade")
        c.run.set_scale(4.0)
        second = c.models.add_checkpoint(FSRCNN) if FSRCNN.is_file() else "nearest"
        c.models.set_models(["bicubic", second])
        window.tabs.setCurrentWidget(window.lam_view)
        settle()
        c.lam.set_lam_window(196, 96, 16)               # the astronaut's left eye
        c.lam.run_lam()
        settle()
        window.lam_view.alpha.setValue(60)
        window.tabs.parentWidget().setSizes([800, 100])   # the metrics pane: small
        first = next(iter(window.lam_view.columns.values()))
        first.sr.vb.setRange(xRange=(150, 290), yRange=(66, 146), padding=0)
        settle()
        return save_window(window, errors, path)


def make_zeroshot_screenshot(path: str | Path, size: tuple[int, int] = (1500, 950)) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        app, window, c, errors, settle = open_window(tmp, size, timeout=300.0)
        c.inputs.open_sample("astronaut")
        c.inputs.set_reference("degrade")
        c.run.set_scale(2.0)
        c.models.set_models(["bicubic"])
        settle()
        c.run.run()
        settle()
        view = window.zeroshot
        window.tabs.setCurrentWidget(view)
        view.set_method("MZSR")
        view.steps.setValue(10)
        view.run()
        settle()
        return save_window(window, errors, path)


def make_ipf_screenshot(path: str | Path, size: tuple[int, int] = (1500, 950),
                        ipf: str = "ipf") -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        app, window, c, errors, settle = open_window(tmp, size, timeout=600.0)
        c.inputs.open_sample("astronaut")
        c.inputs.set_reference("degrade")
        c.run.set_scale(4.0)
        key = ipf if ipf == "ipf" else c.models.add_checkpoint(ipf)
        c.models.set_models(["liif", key])
        settle()
        c.run.run()
        settle()
        view = window.ipf_flow
        window.tabs.setCurrentWidget(view)
        view.model.setCurrentIndex(view.model.findData(key))
        view.model.activated.emit(view.model.currentIndex())
        t0 = time.monotonic()      # the flow job starts from a short timer: wait for it
        while view._shown is None and not errors and time.monotonic() - t0 < 600:
            settle(1.0)
        settle()
        return save_window(window, errors, path)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m gui.screenshot", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output", nargs="?", default=None,
                    help="PNG to write (default: docs/screenshot.png, docs/ipf.png, ...)")
    ap.add_argument("ipf_weights", nargs="?", default=None,
                    help="with --ipf: IPF checkpoint or bundled name (default: ipf)")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--ipf", action="store_true", help="the IPF flow tab")
    which.add_argument("--zeroshot", action="store_true", help="the Zero-shot tab")
    which.add_argument("--lam", action="store_true", help="the LAM tab")
    a = ap.parse_args(argv)
    if a.ipf_weights is not None and not a.ipf:
        ap.error(f"a second argument ({a.ipf_weights!r}) is read only with --ipf")
    if a.ipf:
        print(make_ipf_screenshot(a.output or "docs/ipf.png", ipf=a.ipf_weights or "ipf"))
    elif a.zeroshot:
        print(make_zeroshot_screenshot(a.output or "docs/zeroshot.png"))
    elif a.lam:
        print(make_lam_screenshot(a.output or "docs/lam.png"))
    else:
        print(make_screenshot(a.output or "docs/screenshot.png"))


if __name__ == "__main__":  # pragma: no cover
    main()
