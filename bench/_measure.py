"""Measure one benchmark case in a fresh subprocess: wall time (median) and peak RSS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def in_subprocess(module: str, case: dict) -> dict:
    """Run ``python -m module --case JSON`` and return its JSON result plus ``peak_mb``.

    Peak memory is the child's maximum resident set size (``wait4`` rusage), so every case is
    measured alone, from a fresh interpreter.
    """
    proc = subprocess.Popen([sys.executable, "-m", module, "--case", json.dumps(case)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"case {case} failed with exit code {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024.0
    return result
