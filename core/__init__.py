"""SR Workbench computational core.

Everything that computes lives here. Nothing under ``core/`` imports Qt: the GUI talks to
the core through :mod:`core.jobs` (generators that yield progress) and plain data.
"""

import os

# OpenCV reads this once, when cv2 is first imported: set it before anything imports cv2.
os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")
