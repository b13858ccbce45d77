"""Test set-up: Qt offscreen before any Qt import, the repo on sys.path, shared-data helper."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.helpers import shared_datasets  # noqa: E402,F401  (re-exported for test modules)


@pytest.fixture(scope="module")
def one_torch_thread():
    """For modules of tiny models (``pytestmark = pytest.mark.usefixtures("one_torch_thread")``):
    one torch thread is fastest, keeps runs deterministic and avoids spin-wait stalls when the
    machine's other core is busy; the count is restored after the module."""
    import torch  # lazy: only the modules that ask for it pay for torch here

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
