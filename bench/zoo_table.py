"""The zoo consistency matrix's table and its logic: cells, the best of each column, the
inversions and the card lines that explain them, the text and Markdown tables. Pure (no torch,
no files): :mod:`bench.zoo_matrix` measures the cells and prints what this builds, and the fast
tests use it directly. The marks and the inversion rule are described in :mod:`bench.zoo_matrix`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Iterable

__all__ = ["TOLERANCE_DB", "KNOWN_INVERSION", "Cell", "Inversion", "Matrix", "best_per_column",
           "find_inversions", "card_explanation", "build_matrix", "cell_text", "format_matrix",
           "inversion_lines"]

#: A cell beats another by more than this (dB) to count: half the printed 0.01 dB.
TOLERANCE_DB = 0.005
#: The greppable line of a model card that explains an inversion it loses.
KNOWN_INVERSION = "Known inversion:"


@dataclass(frozen=True)
class Cell:
    """One model at one (dataset, scale): mean Y-PSNR over ``n`` of ``of`` images."""

    model: str
    dataset: str
    scale: int
    psnr: float
    n: int
    of: int
    claimed: bool                 # the model claims this scale
    resampled: str = ""           # "" or how its output was resized (Resample.text())
    baseline: bool = False        # the interpolation baseline (claims no scale, not marked)

    @property
    def complete(self) -> bool:
        return self.n == self.of and self.n > 0

    @property
    def off_scale(self) -> bool:
        """Not the model's own result at a scale it claims (resampled, or unclaimed)."""
        return bool(self.resampled) or not self.claimed


@dataclass(frozen=True)
class Inversion:
    """At ``scale`` on ``dataset``, ``loser`` (which claims it) is beaten by ``winner``."""

    dataset: str
    scale: int
    loser: str
    loser_psnr: float
    winner: str
    winner_psnr: float
    winner_resampled: bool
    explained: str = ""           # the loser's card line that explains it ("" if none)

    def text(self) -> str:
        how = " resampled" if self.winner_resampled else ""
        note = f" (card: {self.explained})" if self.explained else ""
        return (f"INVERSION {self.dataset} x{self.scale}: {self.winner}{how} "
                f"{self.winner_psnr:.2f} > {self.loser} {self.loser_psnr:.2f} "
                f"(+{self.winner_psnr - self.loser_psnr:.2f} dB){note}")


@dataclass
class Matrix:
    """Cells by (model, dataset, scale) with the best per column and the inversions."""

    models: list[str]
    columns: list[tuple[str, int]]
    cells: dict[tuple[str, str, int], Cell]
    best: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    inversions: list[Inversion] = field(default_factory=list)
    outranked: list[Inversion] = field(default_factory=list)


def best_per_column(cells: Iterable[Cell]) -> dict[tuple[str, int], list[str]]:
    """The models with the highest complete cell of each (dataset, scale); ties share it."""
    by: dict[tuple[str, int], list[Cell]] = {}
    for c in cells:
        if c.complete:
            by.setdefault((c.dataset, c.scale), []).append(c)
    out = {}
    for col, cs in by.items():
        top = max(c.psnr for c in cs)
        out[col] = [c.model for c in cs if round(c.psnr, 2) == round(top, 2)]
    return out


def find_inversions(cells: Iterable[Cell], tolerance: float = TOLERANCE_DB
                    ) -> tuple[list[Inversion], list[Inversion]]:
    """``(inversions, outranked)`` over the complete cells.

    For every cell at a scale its model claims and every other model's cell of the same
    column that beats it by more than ``tolerance``: an inversion when the winner runs off
    its claimed scales there (resampled or unclaimed; the bicubic baseline claims none), else
    the loser is only outranked (by another model at that model's own scale).
    """
    by: dict[tuple[str, int], list[Cell]] = {}
    for c in cells:
        if c.complete:
            by.setdefault((c.dataset, c.scale), []).append(c)
    inv, ranked = [], []
    for (dataset, scale), cs in sorted(by.items()):
        for loser in cs:
            if not loser.claimed or loser.resampled:
                continue
            for w in sorted(cs, key=lambda c: -c.psnr):
                if w.model == loser.model or w.psnr <= loser.psnr + tolerance:
                    continue
                item = Inversion(dataset, scale, loser.model, loser.psnr, w.model, w.psnr,
                                 bool(w.resampled))
                (inv if w.off_scale else ranked).append(item)
    return inv, ranked


_CLAIM_SCALES = re.compile(r"at\s+(x\d+(?:\s*(?:,|and|/)\s*x\d+)*)\b")


def card_explanation(card_text: str, inversion: Inversion) -> str:
    """The line of a model card that explains ``inversion``: it starts (after list or bold
    marks) with :data:`KNOWN_INVERSION`, then ``at x4,`` (or ``at x2 and x4,``) names the
    scale, and the winner is named before the line's ``Why:``; "" if there is none. A scale or
    a model named anywhere else in the line (its reasons, its numbers) does not count."""
    for line in card_text.splitlines():
        text = line.strip().lstrip("-*> ").strip()
        if not text.startswith(KNOWN_INVERSION):
            continue
        claim = text[len(KNOWN_INVERSION):].lstrip("* ").split("Why:")[0]
        at = _CLAIM_SCALES.match(claim)
        if at is None or str(inversion.scale) not in re.findall(r"x(\d+)", at.group(1)):
            continue
        if re.search(rf"\b{re.escape(inversion.winner)}\b", claim):
            return text
    return ""


def build_matrix(cells: Iterable[Cell], models: list[str], columns: list[tuple[str, int]],
                 cards: dict[str, str] | None = None,
                 tolerance: float = TOLERANCE_DB) -> Matrix:
    """The matrix of ``cells``: best per column, inversions (with the explaining card line
    when ``cards`` (model -> card text) has one) and the outranked pairs."""
    cells = list(cells)
    inv, ranked = find_inversions(cells, tolerance)
    order = {col: i for i, col in enumerate(columns)}         # the table's column order
    inv.sort(key=lambda i: order.get((i.dataset, i.scale), len(order)))
    cards = cards or {}
    inv = [Inversion(**{**asdict(i), "explained": card_explanation(cards.get(i.loser, ""), i)})
           for i in inv]
    return Matrix(models, columns, {(c.model, c.dataset, c.scale): c for c in cells},
                  best_per_column(cells), inv, ranked)


def cell_text(m: Matrix, model: str, col: tuple[str, int], markdown: bool = False) -> str:
    """``31.73 r``, ``*37.71``, ``31.63 !``, ``29.10 (3/5)``, ``-`` (not measured)."""
    c = m.cells.get((model, col[0], col[1]))
    if c is None:
        return "-"
    text = f"{c.psnr:.2f}"
    if not c.complete:
        return f"{text} ({c.n}/{c.of})"
    if model in m.best.get(col, []):
        text = f"**{text}**" if markdown else f"*{text}"
    marks = "r" if c.resampled else "u" if not (c.claimed or c.baseline) else ""
    if any(i.loser == model and (i.dataset, i.scale) == col for i in m.inversions):
        marks += "!"
    return f"{text} {marks}" if marks else text


def format_matrix(m: Matrix, claims: dict[str, str], markdown: bool = False) -> str:
    """The matrix as text (aligned columns) or as a Markdown table, then the inversions."""
    head = ["model", "claims"] + [f"{d} x{s}" for d, s in m.columns]
    rows = [[name, claims.get(name, "")] + [cell_text(m, name, col, markdown) for col in m.columns]
            for name in m.models]
    lines = []
    if markdown:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        lines += ["| " + " | ".join(r) + " |" for r in rows]
    else:
        widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
        fmt = lambda r: "  ".join(v.ljust(widths[i]) if i < 2 else v.rjust(widths[i])  # noqa
                                  for i, v in enumerate(r))
        lines.append(fmt(head))
        lines += [fmt(r) for r in rows]
    lines.append("")
    lines.append(f"Y-PSNR (dB). {'bold' if markdown else '*'}: best of the column; r: RESAMPLED "
                 "(the model's own output resized with bicubic); u: a scale the model does not "
                 "claim; !: INVERSION (beaten at a claimed scale by a model off its own scale, "
                 f"by more than {TOLERANCE_DB} dB); -: not measured.")
    lines += [("- " if markdown else "") + t for t in inversion_lines(m.inversions)]
    if not m.inversions:
        lines.append("No inversion at a claimed scale among the measured cells.")
    return "\n".join(lines)


def inversion_lines(inversions: list[Inversion]) -> list[str]:
    """One line per losing cell: ``INVERSION Set5 x4 edsr_baseline_x4 31.63 < edsr_baseline_x3
    r 31.73 (+0.10)``, the winners by PSNR, then the card line that explains it, if any."""
    by: dict[tuple[str, int, str], list[Inversion]] = {}
    for i in inversions:
        by.setdefault((i.dataset, i.scale, i.loser), []).append(i)
    out = []
    for (dataset, scale, loser), items in by.items():
        items = sorted(items, key=lambda i: -i.winner_psnr)
        wins = ", ".join(f"{i.winner}{' r' if i.winner_resampled else ''} {i.winner_psnr:.2f} "
                         f"(+{i.winner_psnr - i.loser_psnr:.2f})" for i in items)
        line = f"INVERSION {dataset} x{scale} {loser} {items[0].loser_psnr:.2f} < {wins}"
        if all(i.explained for i in items):
            line += f"; card: {items[0].explained}"
        out.append(line)
    return out
