"""The layer contracts of DESIGN.md, as ``pyproject.toml`` states them for import-linter:
core never imports Qt; core.app never imports gui, cli or Qt; nothing else in core imports
core.app; gui and cli sit above core and apart from each other."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.helpers import ROOT


def _lint_imports() -> list[str] | None:
    exe = shutil.which("lint-imports")
    if exe:
        return [exe]
    try:
        import importlinter.cli  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command;"
            " sys.exit(lint_imports_command())"]


def test_import_contracts_hold():
    cmd = _lint_imports()
    if cmd is None:
        pytest.skip("import-linter is not installed (pip install -r requirements-test.txt)")
    proc = subprocess.run([*cmd, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
