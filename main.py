"""SR Workbench entry point in a checkout (installed, the same is the ``srw`` command).

``python main.py``                 opens the window (on a bundled sample image)
``python main.py a.png b.npy``     opens the window with these files
``python main.py SUBCOMMAND ...``  runs the command line (``sr``, ``eval``, ``models``; see -h)
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")


def main(argv: list[str] | None = None) -> int:
    from srw import main as srw_main

    return srw_main(argv)


if __name__ == "__main__":
    sys.exit(main())
