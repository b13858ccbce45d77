"""Signals and stale temp files (issue #19 case 6): Ctrl-C and SIGTERM end in one line with
exit 130 / 143 and leave no temp file; a temp file of an earlier killed run is removed by the
next write to its folder (only our own pattern, only when its writer is gone)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import hostile_build as hb

ROOT = hb.ROOT


def _default_sigint() -> None:
    # a suite started in the background of a non-interactive shell (`( .ci/run & )`) inherits
    # SIGINT ignored, which the CLI rightly keeps: give the child a terminal's disposition
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "OMP_NUM_THREADS": "1"},
                            preexec_fn=_default_sigint)


@pytest.mark.parametrize("sig, code, word", [(signal.SIGINT, 130, "interrupted"),
                                             (signal.SIGTERM, 143, "terminated")])
@pytest.mark.parametrize("delay", [0.5, 1.5])
def test_signal_is_one_line_and_leaves_no_temp(tmp_path, sig, code, word, delay):
    img = hb.png(tmp_path / "in.png", 48, 48)
    # zssr trains for a while: the signal lands during imports or during the work
    proc = _start(["zssr", str(img), "-s", "2", "--iters", "100000", "-o",
                   str(tmp_path / "out.png"), "-q"], tmp_path)
    time.sleep(delay)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    text = err.decode()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert proc.returncode == code, text
    assert "Traceback" not in text
    assert lines == [word], text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]


def test_stale_temp_files_of_ours_are_removed_by_the_next_write(tmp_path):
    from core.io.atomic import STALE_TEMP_SECONDS, atomic_path

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".out.tmp-{dead.pid}-0123abcd.png"        # writer gone
    live = tmp_path / f".out.tmp-{os.getppid()}-0123abcd.png"     # writer alive
    old = tmp_path / ".old.tmp-89abcdef.png"                      # legacy name, old
    young = tmp_path / ".young.tmp-89abcdef.png"                  # legacy name, recent
    foreign = tmp_path / ".notes.tmp-xyz.txt"                     # not our pattern
    for p in (stale, live, old, young, foreign):
        p.write_bytes(b"x" * 10)
    past = time.time() - STALE_TEMP_SECONDS - 10
    os.utime(old, (past, past))
    with atomic_path(tmp_path / "new.png") as tmp:
        tmp.write_bytes(b"png")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([live.name, young.name, foreign.name, "new.png"])
