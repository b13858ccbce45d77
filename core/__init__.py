"""SR Workbench computational core.

Everything that computes lives here. Nothing under ``core/`` imports Qt: the GUI talks to
the core through :mod:`core.jobs` (generators that yield progress) and plain data.
"""

import os

#: The version of the ``sr-workbench`` distribution (pyproject.toml reads it from here).
__version__ = "0.1.0"

# OpenCV reads this once, when cv2 is first imported: set it before anything imports cv2.
os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")
