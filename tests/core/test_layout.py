"""The design's boundaries, checked rather than hoped for."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT


def test_core_imports_no_qt():
    code = (
        "import sys, pkgutil, importlib, core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [n for n in sys.modules if n.split('.')[0] in "
        "('PySide6', 'PyQt5', 'PyQt6', 'pyqtgraph', 'qtpy', 'qdarkstyle', 'superqt')]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_hard_coded_cuda_in_core_or_gui():
    offenders = [str(p.relative_to(ROOT)) for d in ("core", "gui") for p in (ROOT / d).rglob("*.py")
                 if ".cuda()" in p.read_text(encoding="utf-8")]
    assert offenders == []
