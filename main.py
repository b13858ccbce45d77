"""SR Workbench entry point.

``python main.py``                 opens the window (on a bundled sample image)
``python main.py a.png b.npy``     opens the window with these files
``python main.py SUBCOMMAND ...``  runs the command line (``sr``, ``eval``, ``models``; see -h)
"""

from __future__ import annotations

import os
import signal
import sys

os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")


def _interrupted_early(signum: int, frame: object) -> None:
    """Ctrl-C before the CLI's handler (cli/errors.py) is in place: one line, no traceback."""
    sys.stderr.write("interrupted\n")
    os._exit(130)


if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _interrupted_early)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    wants_window: list[bool] = []

    def entry(args: list[str]) -> int:
        from cli.app import SUBCOMMANDS

        if args and (args[0] in SUBCOMMANDS or args[0] in ("-h", "--help")):
            from cli import main as cli_main

            return cli_main(args)
        wants_window.append(True)
        return 0

    try:
        from cli.errors import run_cli  # stdlib only: the CLI's one top-level handler
    except KeyboardInterrupt:  # Ctrl-C before the handler exists
        print("interrupted", file=sys.stderr)
        return 130
    code = run_cli(argv, entry)  # imports, parsing, signals, errors: one line each
    if not wants_window:
        return code
    if signal.getsignal(signal.SIGINT) is _interrupted_early:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    from gui.app import run_app

    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
