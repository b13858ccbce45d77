"""Fixtures of the core tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import write_smooth_pngs


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Training and validation folders of smooth random PNGs (tests/core/training_setup.py)."""
    root = tmp_path_factory.mktemp("train_data")
    return {"train": write_smooth_pngs(root / "train", 4, (64, 72)),
            "val": write_smooth_pngs(root / "val", 2, (24, 32), seed=1)}
