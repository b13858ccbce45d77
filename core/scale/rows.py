"""A CSV of result rows that is valid at every moment and resumable: the one rule for every
batch command (``eval --csv``, ``study --csv``).

* :meth:`RowFile.open` reads the complete rows already in the file (a cut-off last line, or a
  row that fails ``valid``, is dropped) and writes nothing: a run refused after reading (rows
  of another study, a bad option) leaves the file as it was; the first :meth:`append` (or
  :meth:`finish`) rewrites it atomically with just those rows first;
* :meth:`RowFile.append` adds rows as they arrive: one flushed and fsynced ``write``, so an
  interrupted run leaves every finished row and at most a cut-off last line (dropped on
  resume);
* :meth:`RowFile.finish` rewrites the file atomically in plan order (rows arrive in the
  order workers finish them), so a run's file does not depend on where it ran.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..errors import InputError
from ..io.atomic import atomic_path

__all__ = ["RowFile", "read_complete"]

Row = dict[str, str]


def read_complete(path: Path, fields: Sequence[str], *, accept: Iterable[Sequence[str]] = (),
                  valid: Callable[[Row], bool] = lambda r: True, what: str = "result") -> list[Row]:
    """Complete rows of an existing CSV with columns ``fields`` (or one of ``accept``: older
    layouts, read with the missing columns empty)."""
    if not path.is_file():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return _complete_rows(path, csv.DictReader(fh), fields, accept, valid, what)
    except (UnicodeDecodeError, csv.Error) as exc:  # a binary file, NUL bytes, ...
        why = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
        raise InputError(f"{path} is not a CSV file ({why}); choose another file (a {what} "
                         f"table to resume, or a new name)") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def _complete_rows(path: Path, reader: csv.DictReader, fields: Sequence[str],
                   accept: Iterable[Sequence[str]], valid: Callable[[Row], bool],
                   what: str) -> list[Row]:
    if reader.fieldnames is None:
        return []
    layouts = [tuple(fields), *(tuple(a) for a in accept)]
    if tuple(reader.fieldnames) not in layouts:
        raise InputError(f"{path} is not a {what} CSV (columns {reader.fieldnames}); "
                         f"choose another file")
    rows = []
    for r in reader:
        if None in r.values() or None in r:
            continue
        row = {f: r.get(f, "") for f in fields}
        try:
            ok = valid(row)
        except (TypeError, ValueError, KeyError):
            ok = False
        if ok:
            rows.append(row)
    return rows


class RowFile:
    """The rows of one output CSV (see the module doc). ``key(row)`` identifies a row's unit
    of work (what a resumed run skips)."""

    def __init__(self, path: str | Path, fields: Sequence[str], key: Callable[[Row], tuple], *,
                 accept: Iterable[Sequence[str]] = (), valid: Callable[[Row], bool] = lambda r: True,
                 what: str = "result") -> None:
        self.path = Path(path)
        self.fields = tuple(fields)
        self.key = key
        self._accept = list(accept)
        self._valid = valid
        self._what = what
        self.old: list[Row] = []
        self.new: list[tuple[int, Row]] = []
        self._clean = False   # the file holds exactly old + new (rewritten since open)
        self.existed = False  # the file was there when opened (a resumed run's)

    def open(self) -> list[Row]:
        """Read the complete rows already there; nothing is written yet (a refusal decided
        after this leaves the file untouched): the first :meth:`append` leaves a clean file
        with just those rows before adding its own."""
        self.old = read_complete(self.path, self.fields, accept=self._accept, valid=self._valid,
                                 what=self._what)
        self._clean = False
        self.existed = self.path.exists()
        return self.old

    def done(self) -> set[tuple]:
        return {self.key(r) for r in self.old} | {self.key(r) for _, r in self.new}

    def append(self, index: int, rows: Sequence[Row]) -> None:
        """Add the rows of plan unit ``index`` at the end of the file, now."""
        if not self._clean:   # the first rows of this run: drop cut-off / invalid lines first
            self._rewrite(self.old)
        self.new.extend((index, r) for r in rows)
        buf = io.StringIO()
        csv.DictWriter(buf, fieldnames=self.fields).writerows(rows)
        with open(self.path, "a", newline="", encoding="utf-8") as fh:
            fh.write(buf.getvalue())
            fh.flush()
            os.fsync(fh.fileno())

    def finish(self, order: Callable[[Row], int | None] | None = None) -> list[Row]:
        """Rewrite the file in plan order: ``order(row)`` gives a row's plan index (None:
        not in this plan; such resumed rows follow, in their old order). Returns the rows."""
        new = [r for _, r in sorted(self.new, key=lambda ir: ir[0])]
        rows = self.old + new
        if order is not None:
            placed = [(order(r), k, r) for k, r in enumerate(rows)]
            rows = [r for i, _, r in sorted(placed, key=lambda t: (t[0] is None, t[0] or 0,
                                                                    t[1]))]
        self._rewrite(rows)
        return rows

    def _rewrite(self, rows: Sequence[Row]) -> None:
        with atomic_path(self.path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=self.fields)
            w.writeheader()
            w.writerows(rows)
        self._clean = True
