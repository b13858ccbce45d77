"""The import graph of the project's own modules, read with ``ast`` (no import is executed).

* No cycles among project modules, counting imports inside functions (a cycle held together
  by a function-level import is still a cycle: the split is at the wrong seam).
* No ``from X import _private`` of another project module's private name; private *modules*
  inside their own package (``from . import _codecs``) are fine.

Our own checker, so CI needs nothing outside the repository.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

#: Top-level packages and modules that are the project (tests are not imported by it).
PROJECT = ("core", "cli", "gui", "srw", "bench", "main.py")


def _modules() -> dict[str, Path]:
    files: list[Path] = []
    for top in PROJECT:
        p = ROOT / top
        files += [p] if p.is_file() else sorted(p.rglob("*.py"))
    mods = {}
    for f in files:
        parts = list(f.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = f
    return mods


def _imports(mod: str, path: Path) -> list[tuple[str, list[str], int]]:
    """``(base module, imported names, line)`` of every import in ``path``, relative ones
    resolved; plain ``import a.b`` gives ``("a.b", [], line)``."""
    pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)] if pkg else []
                base = ".".join([*up, base] if base else up)
            out.append((base, [a.name for a in node.names], node.lineno))
    return out


def _owner(name: str, mods: dict[str, Path]) -> str | None:
    """The project module ``name`` is, or lies in (``core.io.load`` -> ``core.io``)."""
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def _graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        for base, names, _ in _imports(m, p):
            for target in [base] + [f"{base}.{n}" for n in names]:
                t = _owner(target, mods)
                # a module's own package __init__ runs first anyway: not a cycle
                if t and t != m and not m.startswith(t + "."):
                    graph[m].add(t)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected sets of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = set()
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.add(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        found.append(comp)
    return found


def test_the_checker_finds_cycles_and_resolves_relative_imports(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [{"a", "b", "c"}]
    (tmp_path / "x.py").write_text("def f():\n    from ..pkg import mod, _hidden\n")
    assert _imports("top.sub.x", tmp_path / "x.py") == [("top.pkg", ["mod", "_hidden"], 2)]


def test_no_import_cycles_among_project_modules():
    mods = _modules()
    assert len(mods) > 100, "the project's modules were not found"
    cycles = [sorted(c) for c in _cycles(_graph(mods))]
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_no_imports_of_another_modules_private_names():
    mods = _modules()
    bad = []
    for m, p in mods.items():
        for base, names, line in _imports(m, p):
            if base == "__future__" or _owner(base, mods) is None:
                continue
            for n in names:
                if n.startswith("_") and not n.startswith("__") and f"{base}.{n}" not in mods:
                    bad.append(f"{p.relative_to(ROOT)}:{line}: from {base} import {n}")
    assert not bad, ("private names imported from other modules (make them public where "
                     "they are a shared service, or move them):\n" + "\n".join(bad))


def test_cli_start_up_and_core_io_stay_light():
    """``main.py --help`` builds every parser: it must not pay for torch, scipy or OpenCV; reading
    files (core.io, core.channels) must not pay for torch. Function-level imports marked
    ``# lazy:`` keep it so; this catches a top-level import that undoes them."""
    code = (
        "import sys\n"
        "from cli.app import build_parser\n"
        "build_parser()\n"
        "cli = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'scipy', 'cv2'})\n"
        "import core.io, core.channels\n"
        "io = 'torch' in sys.modules\n"
        "print(cli, io); sys.exit(1 if cli or io else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
