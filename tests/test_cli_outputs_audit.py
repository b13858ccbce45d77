"""Hostile outputs (audit): every refusal is one ``error:`` line, exit 2, and nothing is
created, overwritten or lost; a rerun that is allowed to replace says so (``--overwrite``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from cli import main as cli_main


def _png(path: Path, h=16, w=16, seed=0) -> Path:
    rng = np.random.default_rng(seed)
    cv2.imwrite(str(path), rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its content digest (what a refusal must not change)."""
    return {str(p.relative_to(root)): _digest(p) if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


def _refused(capsys, rc: int, *words: str) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert rc == 2, err
    assert len(lines) == 1, err
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


# --- figure -------------------------------------------------------------------------------

@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_figure_never_writes_over_its_hr_input(tmp_path, capsys, overwrite):
    hr = _png(tmp_path / "fig_hr.png", 32, 32)
    before = _tree(tmp_path)
    rc = cli_main(["figure", str(hr), "-m", "bicubic", "-s", "2", "--roi", "0,0,8,8",
                   "-o", str(hr), "-q", *overwrite])
    _refused(capsys, rc, "input")
    assert _tree(tmp_path) == before


def test_figure_refuses_a_missing_folder_and_makes_none(tmp_path, capsys):
    hr = _png(tmp_path / "hr.png", 32, 32)
    before = _tree(tmp_path)
    rc = cli_main(["figure", str(hr), "-m", "bicubic", "-s", "2", "--roi", "0,0,8,8",
                   "-o", str(tmp_path / "nofolder" / "fig.png"), "-q"])
    _refused(capsys, rc, "does not exist")
    assert _tree(tmp_path) == before


def test_save_figure_is_atomic_and_keeps_the_format(tmp_path, monkeypatch):
    from core.app import figure_render
    from core.app.figure import FigureOptions, figure_content, parse_roi
    from core.errors import InputError
    from core.io import load

    hr = load(_png(tmp_path / "hr.png", 32, 32))
    content = figure_content(hr, {"hr copy": ("copy", hr)}, [parse_roi("0,0,8,8")],
                             y_channel=True, shave=0)
    out = figure_render.save_figure(content, FigureOptions(dpi=50), tmp_path / "f.pdf")
    assert out.read_bytes().startswith(b"%PDF")
    png = figure_render.save_figure(content, FigureOptions(dpi=50), tmp_path / "f.png")
    assert png.read_bytes().startswith(b"\x89PNG")
    with pytest.raises(InputError, match="does not exist"):
        figure_render.save_figure(content, FigureOptions(dpi=50), tmp_path / "no" / "f.png")
    assert not (tmp_path / "no").exists()
    before = _digest(png)

    def broken(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(figure_render.Figure, "savefig", broken)
    with pytest.raises(RuntimeError):
        figure_render.save_figure(content, FigureOptions(dpi=50), png)
    assert _digest(png) == before   # the old figure is whole, no temp file is left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pdf", "f.png", "hr.png"]


# --- sr / zssr batches ----------------------------------------------------------------------

@pytest.mark.parametrize("bad", [["-s", "abc"], ["-s", "2x3x4"], ["--size", "12"],
                                 ["--size", "axb"]])
def test_a_batch_checks_its_scale_once_before_making_anything(tmp_path, capsys, bad):
    a, b = _png(tmp_path / "a.png", seed=1), _png(tmp_path / "b.png", seed=2)
    before = _tree(tmp_path)
    rc = cli_main(["sr", str(a), str(b), "-m", "bicubic", *bad, "-o",
                   str(tmp_path / "outdir1"), "-q"])
    _refused(capsys, rc)
    assert capsys.readouterr().out == ""     # no table of items that all failed alike
    assert _tree(tmp_path) == before         # no empty outdir1/


@pytest.mark.parametrize("name", ["out.png", "out.TIF", "res.npy", "x.exr"])
@pytest.mark.parametrize("how", ["two inputs", "two models", "a folder"])
def test_a_batch_refuses_a_file_name_as_its_output_folder(tmp_path, capsys, name, how):
    d = tmp_path / "in"
    d.mkdir()
    a, b = _png(d / "a.png", seed=1), _png(d / "b.png", seed=2)
    inputs = {"two inputs": [str(a), str(b)], "two models": [str(a)], "a folder": [str(d)]}[how]
    models = "bicubic,nearest" if how == "two models" else "bicubic"
    before = _tree(tmp_path)
    rc = cli_main(["sr", *inputs, "-m", models, "-s", "2", "-o", str(tmp_path / name), "-q"])
    _refused(capsys, rc, "output folder", name)
    assert _tree(tmp_path) == before
    # a trailing slash says "a folder", whatever its name
    assert cli_main(["sr", *inputs, "-m", models, "-s", "2", "-o", f"{tmp_path / name}/",
                     "-q"]) == 0
    assert (tmp_path / name).is_dir()


def test_zssr_of_a_folder_refuses_a_file_name_as_its_output(tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    _png(d / "a.png")
    before = _tree(tmp_path)
    rc = cli_main(["zssr", str(d), "-s", "2", "-o", str(tmp_path / "out.png"), "-q"])
    _refused(capsys, rc, "output folder")
    assert _tree(tmp_path) == before
