"""The README a new user reads first: no block said twice, every bundled model in its table."""

from __future__ import annotations

import re
from collections import Counter

from tests.helpers import ROOT

README = ROOT / "README.md"


def _blocks(text: str) -> list[str]:
    """Paragraphs and table rows of some length (short lines such as '|---|' repeat by nature)."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text)]
    rows = [line.strip() for b in blocks if b.startswith("|") for line in b.splitlines()]
    prose = [b for b in blocks if not b.startswith("|")]
    return [b for b in prose + rows if len(b) >= 60]


def test_no_paragraph_or_table_row_appears_twice():
    twice = [b[:80] for b, n in Counter(_blocks(README.read_text(encoding="utf-8"))).items()
             if n > 1]
    assert twice == [], twice


def test_every_bundled_weight_file_is_in_the_models_table():
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Bundled models"):text.index("## Benchmarks")]
    weights = ROOT / "resources" / "weights"
    names = [p.relative_to(weights).with_suffix("").as_posix() for p in weights.rglob("*.pth")]
    missing = [n for n in names if f"| `{n}`" not in table]
    assert names and missing == [], missing
