"""The installable package: dependencies declared once, the commands, the bundled data."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest

from tests.helpers import ROOT


def _reqs(path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            out.append(re.sub(r"\s+", "", line))
    return out


def test_pyproject_declares_what_the_requirements_files_list():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert [d.replace(" ", "") for d in meta["dependencies"]] == _reqs(ROOT / "requirements.txt")
    assert meta["optional-dependencies"]["test"] == _reqs(ROOT / "requirements-test.txt")
    assert meta["license"] == "MIT" and (ROOT / "LICENSE").is_file()
    assert meta["scripts"]["srw"] == "srw:main"
    assert meta["gui-scripts"]["srw-gui"] == "srw:gui_main"


def _run(*args: str) -> subprocess.CompletedProcess:
    code = ("import sys, srw; rc = 0\ntry:\n    rc = srw.main(sys.argv[1:])\n"
            "except SystemExit as e:\n    rc = e.code\n"
            "print('QT' if 'PySide6' in sys.modules else 'NOQT', file=sys.stderr)\nsys.exit(rc)")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_version_and_typos_never_open_the_window():
    from core import __version__

    proc = _run("--version")
    assert proc.returncode == 0 and __version__ in proc.stdout
    proc = _run("srr", "x")
    assert proc.returncode == 2 and "did you mean 'sr'" in proc.stderr
    assert proc.stderr.strip().endswith("NOQT")
    proc = _run("models", "--jsn")
    assert proc.returncode == 2 and "did you mean '--json'" in proc.stderr


def test_only_files_or_nothing_open_the_window():
    from srw import opens_window

    assert opens_window([]) and opens_window(["lr.png", "hr.png"])
    assert not opens_window(["srr", "x"]) and not opens_window(["--version"])
    assert not opens_window(["models"])


def test_a_missing_file_is_one_line_and_no_window(tmp_path):
    from srw import missing_files

    real = tmp_path / "lr.png"
    real.write_bytes(b"")
    assert missing_files([str(real), "-m", "liif", "-s", "4"]) is None
    assert missing_files([str(real), str(tmp_path / "hr.png")]) == str(tmp_path / "hr.png")
    assert missing_files(["--bogus-option"]) is None  # the window shows what it can't parse
    proc = _run(str(tmp_path / "typo.png"), "-m", "liif")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[0] == f"error: {tmp_path / 'typo.png'}: no such file or folder"
    assert proc.stderr.strip().endswith("NOQT")


def test_the_wheel_holds_every_bundled_file_and_the_commands(tmp_path):
    pytest.importorskip("setuptools", minversion="77")
    # from a copy: an in-tree build/ folder could carry stale files into the wheel
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "tests", "bench", "docs"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                           "--no-build-isolation", "-w", str(tmp_path), str(src)],
                          capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("sr_workbench-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled = [p.relative_to(ROOT).as_posix() for p in (ROOT / "resources").rglob("*")
               if p.is_file()] + [p.relative_to(ROOT).as_posix()
                                  for p in (ROOT / "configs").glob("*.yaml")]
    assert bundled and [b for b in bundled if f"srw/{b}" not in names] == []
    for pkg in ("core/__init__.py", "gui/__init__.py", "cli/__init__.py", "srw/__init__.py",
                "core/models/archs/liif.py"):
        assert pkg in names
    assert not any(n.startswith(("tests/", "bench/")) for n in names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry).decode()
    assert "srw = srw:main" in text and "srw-gui = srw:gui_main" in text


def test_bundled_files_are_found_without_the_checkout(monkeypatch, tmp_path):
    import core.resources as res

    (tmp_path / "srw" / "resources" / "weights").mkdir(parents=True)
    (tmp_path / "srw" / "__init__.py").write_text("")
    monkeypatch.setattr(res, "checkout_root", lambda: None)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "srw", raising=False)
    assert res.bundled_path("resources") == tmp_path / "srw" / "resources"
