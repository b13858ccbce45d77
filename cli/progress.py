"""Drive a core Job from the terminal with a progress bar on stderr."""

from __future__ import annotations

import sys
from typing import TypeVar

from core.jobs import Job, Progress, run_sync

T = TypeVar("T")


def run_with_bar(job: Job[T], desc: str = "", quiet: bool = False) -> T:
    """Run ``job`` to the end, showing a tqdm bar on stderr (nothing when ``quiet``)."""
    if quiet:
        return run_sync(job)
    from tqdm import tqdm

    bar = tqdm(total=1, desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True,
               disable=None, bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]{postfix}")

    def update(p: Progress) -> None:
        if bar.total != p.total and p.total > 0:
            bar.total = p.total
        bar.n = p.done
        if p.message:
            bar.set_postfix_str(p.message[:60], refresh=False)
        bar.refresh()

    try:
        return run_sync(job, on_progress=update)
    finally:
        bar.close()
