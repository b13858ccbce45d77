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


def tiny_liif(seed: int = 0):
    """A seeded random LIIF small enough for unit tests (1-block, 8-feature encoder, 16x2 MLP)."""
    import torch

    from core.models.archs.liif import default_liif_spec, liif_from_spec

    torch.manual_seed(seed)
    spec = default_liif_spec(encoder_args={"n_resblocks": 1, "n_feats": 8}, hidden=16, depth=2)
    return liif_from_spec(spec).eval()


def write_smooth_pngs(folder: Path, n: int, size: tuple[int, int], seed: int = 0) -> Path:
    """``n`` smooth random colour PNGs of ``size`` (H, W) in ``folder`` (an upscaled noise field,
    so SR has something to learn): training data for tiny models."""
    import cv2
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        small = rng.integers(0, 256, (size[0] // 4, size[1] // 4, 3)).astype(np.uint8)
        img = cv2.resize(small, (size[1], size[0]), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(folder / f"img{i:02d}.png"), img)
    return folder
