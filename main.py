"""SR Workbench entry point.

``python main.py``                 opens the window (on a bundled sample image)
``python main.py a.png b.npy``     opens the window with these files
``python main.py SUBCOMMAND ...``  runs the command line (``sr``, ``eval``, ``models``; see -h)
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from cli.app import SUBCOMMANDS

    if argv and (argv[0] in SUBCOMMANDS or argv[0] in ("-h", "--help")):
        from cli import main as cli_main

        return cli_main(argv)
    from gui.app import run_app

    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
