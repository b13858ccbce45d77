"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"


def shared_datasets(sub: str = "") -> Path:
    """``../shared/datasets/<sub>``, or skip the test with a reason naming the missing folder."""
    path = SHARED / sub if sub else SHARED
    if not path.exists():
        pytest.skip(f"needs {path} (not found: ../shared/datasets is not beside the repository)")
    return path
