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


# --- eval -----------------------------------------------------------------------------------

@pytest.fixture
def hrdir(tmp_path) -> Path:
    d = tmp_path / "hr"
    d.mkdir()
    for i in range(3):
        _png(d / f"{i}.png", 24, 24, seed=i)
    return d


def _eval(hrdir, *more):
    return cli_main(["eval", "-m", "bicubic", "--data", str(hrdir), "--scales", "2", "-q",
                     *more])


def test_eval_save_sr_rerun_needs_overwrite_and_says_so_before_running(tmp_path, hrdir, capsys,
                                                                       monkeypatch):
    out = tmp_path / "savesr"
    assert _eval(hrdir, "--save-sr", str(out)) == 0
    capsys.readouterr()
    before = _tree(tmp_path)
    import core.evaluate

    ran = []
    real = core.evaluate.score_image
    monkeypatch.setattr(core.evaluate, "score_image", lambda *a, **k: ran.append(1) or real(
        *a, **k))
    line = _refused(capsys, _eval(hrdir, "--save-sr", str(out)), "already exists",
                    "--overwrite")
    assert "overwrite=True" not in line and not ran     # refused before any SR is made
    assert _tree(tmp_path) == before
    assert _eval(hrdir, "--save-sr", str(out), "--overwrite") == 0 and ran


def test_eval_save_sr_is_made_only_after_the_models_are_checked(tmp_path, hrdir, capsys):
    before = _tree(tmp_path)
    rc = cli_main(["eval", "-m", "no_such_model_xyz", "--data", str(hrdir), "--scales", "2",
                   "--save-sr", str(tmp_path / "newdir"), "-q"])
    _refused(capsys, rc)
    assert _tree(tmp_path) == before


def test_eval_save_sr_refuses_two_images_saved_under_one_name(tmp_path, hrdir, capsys):
    _png(hrdir / "0.bmp", 24, 24, seed=7)      # 0.png and 0.bmp -> both 0_x2.png
    before = _tree(tmp_path)
    _refused(capsys, _eval(hrdir, "--save-sr", str(tmp_path / "s")), "0_x2.png")
    assert _tree(tmp_path) == before


def test_eval_says_how_many_images_failed_and_what_the_mean_does_with_inf(tmp_path, hrdir,
                                                                          capsys):
    for i in range(2):
        (hrdir / f"bad{i}.png").write_bytes(b"not a png")
        cv2.imwrite(str(hrdir / f"flat{i}.png"), np.full((24, 24, 3), 90, np.uint8))
    assert _eval(hrdir) == 2
    cap = capsys.readouterr()
    lines = cap.out.splitlines()
    assert "7 images, 2 not scored" in lines[0]
    row = next(line.split() for line in lines if line.strip().startswith("x2"))
    assert len(row) == 3 and row[1] != "inf"      # the 3 columns scripts parse; finite mean
    assert any("over 5 of 7 images; 2 failed" in line for line in lines)
    assert any("2 of 5 images match their HR exactly (PSNR inf)" in line
               and "mean PSNR is over the other 3" in line for line in lines)
    assert sum(line.startswith("error:") for line in cap.err.splitlines()) == 2
    assert _eval(hrdir, "--json") == 2
    import json

    doc = json.loads(capsys.readouterr().out)
    sc = doc["scales"][0]
    assert (sc["n"], sc["n_inf"], sc["failed"]) == (5, 2, 2) and np.isfinite(sc["psnr"])


# --- resumable CSVs: nothing written before every refusal is decided ------------------------

@pytest.mark.parametrize("content", [bytes(range(256)) * 8, b"image,scale\x00,psnr\n\x00\x00",
                                     b"\xff\xfe" + "image,scale\n".encode("utf-16-le")],
                         ids=["binary", "nul-header", "utf16"])
def test_eval_resume_of_a_file_that_is_not_a_csv(tmp_path, hrdir, capsys, content):
    bad = tmp_path / "binary.csv"
    bad.write_bytes(content)
    before = _tree(tmp_path)
    _refused(capsys, _eval(hrdir, "--csv", str(bad), "--resume"), "binary.csv")
    assert _tree(tmp_path) == before


def test_read_complete_names_the_file_for_binary_and_nul_content(tmp_path):
    from core.errors import InputError
    from core.scale.rows import read_complete

    p = tmp_path / "x.csv"
    p.write_bytes(bytes(range(256)))
    with pytest.raises(InputError, match="is not a CSV file"):
        read_complete(p, ("a", "b"), what="eval")
    for content in (b"a,b\n1,\x002\n" * 3, b"\x00" * 64):   # refused or read, never a crash
        p.write_bytes(content)
        try:
            read_complete(p, ("a", "b"), what="eval")
        except InputError as exc:
            assert str(p) in str(exc)


def test_a_refused_study_leaves_its_csv_untouched(tmp_path, capsys):
    from core.studies.batch import CSV_FIELDS

    d = tmp_path / "hr"
    d.mkdir()
    _png(d / "a.png", 64, 64)
    csv = tmp_path / "s.csv"
    row = dict.fromkeys(CSV_FIELDS, "")
    row.update(image="a.png", study="swap", model="bicubic", psnr="30.0", x="0")
    text = ",".join(CSV_FIELDS) + "\n" + ",".join(row[f] for f in CSV_FIELDS) + "\n" \
        + "cut,off,line\n" + "a.png,swap,bicubic\n"       # rows a resume would drop
    csv.write_text(text)
    rc = cli_main(["study", "crop", "--data", str(d), "-m", "bicubic", "--csv", str(csv),
                   "-q"])
    _refused(capsys, rc, "another study")
    assert csv.read_text() == text


def test_rowfile_writes_only_when_rows_come(tmp_path):
    from core.scale.rows import RowFile

    p = tmp_path / "t.csv"
    p.write_text("k,v\n1,a\n2,b\n3,")      # a cut-off last line
    t = RowFile(p, ("k", "v"), lambda r: (r["k"],), valid=lambda r: r["v"] != "")
    assert [r["k"] for r in t.open()] == ["1", "2"]
    assert p.read_text() == "k,v\n1,a\n2,b\n3,"     # read, not yet rewritten
    t.append(2, [{"k": "4", "v": "d"}])
    assert p.read_text().splitlines() == ["k,v", "1,a", "2,b", "4,d"]


# --- lam FOLDER: every target of every item -------------------------------------------------

def _lam(src, out, npy, *more):
    return cli_main(["lam", str(src), "-m", "bicubic", "-s", "2", "--window", "4,4,8", "-o",
                     str(out), "--npy", str(npy), "--steps", "4", "-q", *more])


def test_lam_folder_never_replaces_a_map_without_overwrite(tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    for n in ("a", "b"):
        _png(d / f"{n}.png", 12, 12, seed=ord(n))
    out, npy = tmp_path / "out", tmp_path / "maps"
    npy.mkdir()
    mine = npy / "a.npy"
    np.save(mine, np.arange(3))                    # the user's own map, no overlay beside it
    before = _digest(mine)
    rc = _lam(d, out, npy)
    assert rc == 0, capsys.readouterr().err
    assert _digest(mine) == before                 # kept: a.png's item was skipped
    assert "1 image(s) skipped" in capsys.readouterr().err
    assert sorted(p.name for p in npy.iterdir()) == ["a.npy", "b.npy"]
    assert sorted(p.name for p in out.iterdir()) == ["b_lam.png"]
    assert _lam(d, out, npy, "--overwrite") == 0
    assert _digest(mine) != before and (out / "a_lam.png").is_file()


def test_lam_folder_refuses_a_target_that_is_an_input_or_shared(tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    _png(d / "a.png", 12, 12)
    _png(d / "a_lam.png", 12, 12, seed=5)      # an input where a.png's overlay would go
    before = _tree(tmp_path)
    _refused(capsys, _lam(d, d, tmp_path / "maps", "--overwrite"), "input")
    assert _tree(tmp_path) == before
    (d / "a_lam.png").unlink()
    _png(d / "a.bmp", 12, 12, seed=6)          # a.png and a.bmp: one a_lam.png, one a.npy
    before = _tree(tmp_path)
    _refused(capsys, _lam(d, tmp_path / "out", tmp_path / "maps"), "a.png", "a.bmp")
    assert _tree(tmp_path) == before           # no folder made either


# --- study ----------------------------------------------------------------------------------

def test_study_gallery_is_checked_before_the_run_and_needs_overwrite(tmp_path, capsys):
    d = tmp_path / "hr"
    d.mkdir()
    _png(d / "im0.png", 64, 64)
    gal = tmp_path / "gallery"
    gal.mkdir()
    mine = gal / "im0_mosaic.png"
    mine.write_bytes(b"the user's file")
    args = ["study", "mosaic", "--data", str(d), "-m", "bicubic", "-s", "2", "--gallery",
            str(gal), "--csv", str(tmp_path / "m.csv"), "-q"]
    before = _tree(tmp_path)
    _refused(capsys, cli_main(args), "im0_mosaic.png", "--overwrite")
    assert _tree(tmp_path) == before               # no CSV either: refused before the run
    assert cli_main([*args, "--overwrite"]) == 0
    assert mine.read_bytes().startswith(b"\x89PNG")


def test_study_gallery_of_two_models_holds_both(tmp_path, capsys):
    d = tmp_path / "hr"
    d.mkdir()
    _png(d / "im0.png", 64, 64)
    gal = tmp_path / "g"
    gal.mkdir()
    args = ["study", "mosaic", "--data", str(d), "-s", "2", "--gallery", str(gal), "-q"]
    assert cli_main([*args, "-m", "bicubic"]) == 0
    one = cv2.imread(str(gal / "im0_mosaic.png")).shape[1]
    assert cli_main([*args, "-m", "bicubic", "nearest", "--overwrite"]) == 0
    two = cv2.imread(str(gal / "im0_mosaic.png")).shape[1]
    assert two > one                               # the second model's regions were not lost


@pytest.mark.parametrize("passes", ["0", "-3", "10001", "99999999999999999999999"])
def test_study_tta_passes_are_bounded(tmp_path, capsys, passes):
    src = _png(tmp_path / "one.png", 64, 64)
    with pytest.raises(SystemExit) as stop:  # refused when the line is parsed
        cli_main(["study", "mosaic", "--data", str(src), "-m", "bicubic", "-s", "2", "-q",
                  "--tta-passes", passes])
    _refused(capsys, stop.value.code, "--tta-passes", "between 1 and 10000")


@pytest.mark.parametrize("flag", ["-o", "--npy"])
def test_lam_folder_refuses_a_file_name_as_its_output_folder(tmp_path, capsys, flag):
    d = tmp_path / "in"
    d.mkdir()
    _png(d / "a.png", 12, 12)
    out, npy = tmp_path / "out", tmp_path / "maps"
    if flag == "-o":
        out = tmp_path / "out.png"
    else:
        npy = tmp_path / "maps.npy"
    before = _tree(tmp_path)
    _refused(capsys, _lam(d, out, npy), flag, "output folder")
    assert _tree(tmp_path) == before
