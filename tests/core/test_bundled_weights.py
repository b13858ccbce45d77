"""The bundled weights: each has a model card with its measuring command, loads into a float32
model with finite weights, and all of them fit the 40 MB budget of the model-zoo issue."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.models import load_model

WEIGHTS = Path(__file__).resolve().parents[2] / "resources" / "weights"
FILES = sorted(p for p in WEIGHTS.rglob("*.pth"))


def test_the_bundle_fits_its_budget() -> None:
    total = sum(p.stat().st_size for p in WEIGHTS.rglob("*") if p.is_file())
    assert total <= 40e6, f"resources/weights holds {total / 1e6:.1f} MB, over 40 MB"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_file_has_a_card_with_its_command(path: Path) -> None:
    card = path.with_suffix(".md")
    assert card.is_file(), f"{path.name} has no model card {card.name}"
    text = card.read_text(encoding="utf-8")
    assert "python main.py train" in text or "python main.py mzsr" in text, card.name
    assert "python main.py eval" in text or "python -m bench." in text, card.name


@pytest.mark.parametrize("path", [p for p in FILES if p.parent == WEIGHTS],
                         ids=[p.stem for p in FILES if p.parent == WEIGHTS])
def test_every_model_loads_as_float32_with_finite_weights(path: Path) -> None:
    module = load_model(path).module
    params = list(module.parameters())
    assert params and all(p.dtype == torch.float32 for p in params)
    assert all(torch.isfinite(p).all() for p in params)
