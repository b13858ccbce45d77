"""Drive a core Job from the terminal: a progress bar on stderr, and Ctrl-C as a stop request."""

from __future__ import annotations

import signal
import sys
from typing import Callable, TypeVar

from core.jobs import Job, Progress, run_sync

__all__ = ["run_with_bar", "StopFlag"]

T = TypeVar("T")


def run_with_bar(job: Job[T], desc: str = "", quiet: bool = False, *,
                 lines: Callable[[Progress], str | None] | None = None,
                 should_stop: Callable[[], bool] = lambda: False) -> T:
    """Run ``job`` to the end, showing a tqdm bar on stderr (nothing when ``quiet``).

    ``lines(progress)`` may return a text line for a report (e.g. a validation result): it is
    printed above the bar, or to stdout when there is no bar (quiet, or stderr not a terminal,
    as in a log file). ``should_stop`` is passed to :func:`run_sync` (cancel between yields).
    """
    if quiet or (lines is not None and not sys.stderr.isatty()):
        def plain(p: Progress) -> None:
            text = lines(p) if lines is not None else None
            if text:
                print(text, flush=True)

        return run_sync(job, on_progress=plain, should_stop=should_stop)
    # lazy: tqdm; keeps CLI start-up at ~250 ms
    from tqdm import tqdm

    bar = tqdm(total=1, desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True,
               disable=None,
               bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]{postfix}")

    def update(p: Progress) -> None:
        if bar.total != p.total and p.total > 0:
            bar.total = p.total
        bar.n = p.done
        if p.message:
            bar.set_postfix_str(p.message[:60], refresh=False)
        bar.refresh()
        text = lines(p) if lines is not None else None
        if text:
            bar.write(text, file=sys.stdout)

    try:
        return run_sync(job, on_progress=update, should_stop=should_stop)
    finally:
        bar.close()


class StopFlag:
    """SIGINT/SIGTERM -> stop after the current step (last.pt is saved); a second Ctrl-C
    interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._old: dict[int, object] = {}

    def __enter__(self) -> "StopFlag":
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except (ValueError, OSError):  # not the main thread
                pass
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)  # type: ignore[arg-type]

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        print("\nstopping after this step; saving last.pt (Ctrl-C again to abort at once)",
              file=sys.stderr, flush=True)

    def __call__(self) -> bool:
        return self.requested
