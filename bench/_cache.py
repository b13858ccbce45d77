"""Per-result JSON-lines caches for the slow benchmarks (results of one image, one setting).

A bench appends one line per measured result as soon as it has it, so a table can be filled
over several runs (or by several processes at once, each on a shard of the images), and a
later run skips what is there. Keys name the weight file by content (:func:`file_id`), so the
results of two different files never mix.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Hashable
from pathlib import Path


@functools.lru_cache(maxsize=None)
def file_id(path: str | Path | None) -> str:
    """``name:sha1`` of a weight file (first 10 hex digits), ``"none"`` without one."""
    if not path or not Path(path).is_file():
        return "none"
    return f"{Path(path).name}:{hashlib.sha1(Path(path).read_bytes()).hexdigest()[:10]}"


def read_jsonl(path: Path, key: Callable[[dict], Hashable]) -> dict[Hashable, dict]:
    """Every record of ``path`` by ``key(record)`` (a later line wins); empty without a file."""
    out: dict[Hashable, dict] = {}
    if Path(path).is_file():
        for line in Path(path).read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                out[key(rec)] = rec
    return out


def append_jsonl(path: Path, record: dict) -> None:
    """Append one record as a line (one ``write`` of a whole line: shards may share a file)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fh.write(json.dumps(record) + "\n")
