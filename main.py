"""SR Workbench entry point in a checkout (installed, the same is the ``srw`` command).

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
    try:
        from srw import main as srw_main
    except KeyboardInterrupt:  # Ctrl-C before the handler exists
        print("interrupted", file=sys.stderr)
        return 130
    if signal.getsignal(signal.SIGINT) is _interrupted_early:
        signal.signal(signal.SIGINT, signal.default_int_handler)   # srw installs its own
    return srw_main(argv)


if __name__ == "__main__":
    sys.exit(main())
