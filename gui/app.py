"""Start the window on the files given on the command line (``python main.py [files]``)."""

from __future__ import annotations

import sys

from core.errors import InputError

from .launch import apply_launch, parse_launch
from .main_window import MainWindow
from .settings import Settings
from .startup import apply_theme, create_app

__all__ = ["run_app"]


def run_app(argv: list[str]) -> int:
    """Open the main window on the given files (``a.png`` input, ``b.png`` HR reference,
    ``*.json`` a session, ``*.pth`` a checkpoint), or on a bundled sample when none is given;
    ``--models --scale --degrade --roi --run`` configure it (:mod:`gui.launch`)."""
    app = create_app()
    settings = Settings()
    apply_theme(app, settings.theme)
    window = MainWindow(settings)
    try:
        opts = parse_launch(argv)
    except InputError as exc:
        window.show_error(str(exc))
        opts = parse_launch([a for a in argv if not a.startswith("-")])
    inputs = window.controllers.inputs
    if not opts.paths and inputs.open_sample("astronaut"):
        inputs.set_reference("degrade")  # the sample is an HR image
    apply_launch(window, opts)
    if window.session.source is None and inputs.open_sample("astronaut"):
        inputs.set_reference("degrade")
    window.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_app(sys.argv[1:]))
