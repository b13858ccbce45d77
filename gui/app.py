"""Start the window on the files given on the command line (``python main.py [files]``)."""

from __future__ import annotations

import sys

from .main_window import MainWindow
from .settings import Settings
from .startup import apply_theme, create_app

__all__ = ["run_app"]


def run_app(argv: list[str]) -> int:
    """Open the main window on the given files (``a.png`` input, ``b.png`` HR reference,
    ``*.json`` a session, ``*.pth`` a checkpoint), or on a bundled sample when none is given."""
    app = create_app()
    settings = Settings()
    apply_theme(app, settings.theme)
    window = MainWindow(settings)
    paths = [a for a in argv if not a.startswith("-")]
    if not paths or not window.open_paths(paths):
        inputs = window.controllers.inputs
        if window.session.source is None and inputs.open_sample("astronaut"):
            inputs.set_reference("degrade")  # the sample is an HR image
    window.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_app(sys.argv[1:]))
