"""``sr`` as a batch tool, and the ``--json`` documents of ``models``, ``eval`` and ``sr``."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from cli import main as cli_main


def _png(path: Path, h=12, w=16, seed=0) -> Path:
    rng = np.random.default_rng(seed)
    cv2.imwrite(str(path), rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    _png(d / "a.png", seed=1)
    _png(d / "b.png", h=10, w=14, seed=2)
    (d / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n corrupt")
    (d / "notes.txt").write_text("not an image")
    return d


def test_a_folder_with_two_models_writes_template_names_and_finishes_past_a_bad_file(
        folder, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["sr", str(folder), "-m", "bicubic,nearest", "-s", "2", "-o", f"{out}/", "-q"]
    assert cli_main(args) == 2
    captured = capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == [
        "a_bicubic_x2.png", "a_nearest_x2.png", "b_bicubic_x2.png", "b_nearest_x2.png"]
    assert cv2.imread(str(out / "b_nearest_x2.png")).shape == (20, 28, 3)
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and all("c.png" in line for line in errors)
    assert "4 written, 2 failed" in captured.out
    # the second run skips what exists, and says how many
    assert cli_main(args) == 2
    assert "0 written, 4 skipped" in capsys.readouterr().out
    (folder / "c.png").unlink()
    assert cli_main([*args, "--overwrite"]) == 0
    assert "4 written, 0 failed" in capsys.readouterr().out


def test_globs_ext_and_a_json_document(folder, tmp_path, capsys):
    out = tmp_path / "o"
    assert cli_main(["sr", str(folder / "[ab].png"), "-m", "bicubic", "-s", "2x3", "-o",
                     str(out), "--ext", "tif", "--json", "-q"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["written"] == 2 and doc["failed"] == 0
    item = doc["items"][0]
    assert item["output"].endswith("a_bicubic_x2x3.tif") and item["status"] == "written"
    assert item["provenance"]["model"] == "bicubic" and item["width"] == 48
    assert (out / "b_bicubic_x2x3.tif").is_file()


def test_a_name_template_in_the_output_path(folder, tmp_path, capsys):
    assert cli_main(["sr", str(folder / "a.png"), str(folder / "b.png"), "-m", "nearest",
                     "-s", "2", "-o", str(tmp_path / "r" / "{model}-{stem}.png"), "-q"]) == 0
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["nearest-a.png",
                                                                 "nearest-b.png"]
    assert cli_main(["sr", str(folder / "a.png"), "-m", "nearest", "-s", "2", "-o",
                     str(tmp_path / "{oops}.png")]) == 2
    assert "oops" in capsys.readouterr().err


def test_one_file_keeps_its_strict_single_mode(folder, tmp_path, capsys):
    out = tmp_path / "x.png"
    assert cli_main(["sr", str(folder / "a.png"), "-m", "nearest", "-s", "2", "-o", str(out),
                     "-q", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["items"][0]["output"] == str(out) and doc["written"] == 1
    assert cli_main(["sr", str(folder / "a.png"), "-m", "nearest", "-s", "2", "-o",
                     str(out), "-q"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_models_json_lists_every_bundled_model_and_spandrel(capsys):
    from core.models import WEIGHTS_DIR

    assert cli_main(["models", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    names = {m["name"]: m for m in doc["models"]}
    for pth in WEIGHTS_DIR.glob("*.pth"):
        assert names[pth.stem]["weights"] == str(pth)
    assert {"bicubic", "nearest"} <= set(names)
    assert isinstance(doc["spandrel"]["available"], bool) and doc["spandrel"]["detail"]


def test_eval_json_and_save_sr(folder, tmp_path, capsys):
    (folder / "c.png").unlink()
    hr = tmp_path / "hr"
    hr.mkdir()
    for name in ("a.png", "b.png"):
        _png(hr / name, h=24, w=24, seed=len(name))
    csv = tmp_path / "s.csv"
    assert cli_main(["eval", "-m", "bicubic", "--data", str(hr), "--scales", "2",
                     "--save-sr", str(tmp_path / "sr"), "--json", "-q", "--csv", str(csv)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["scales"][0]["scale"] == 2 and len(doc["images_scores"]) == 2
    assert sorted(p.name for p in (tmp_path / "sr").iterdir()) == ["a_x2.png", "b_x2.png"]
    assert csv.read_text().splitlines()[0].startswith("image,scale,psnr,ssim,")


def test_one_file_into_an_existing_folder_uses_the_template(folder, tmp_path, capsys):
    """``-o EXISTING_DIR`` was refused as 'already exists' (issue #19 case 8); with the batch
    command line (issue #18) a folder output takes the template names."""
    out = tmp_path / "odir"
    out.mkdir()
    src = sorted(p for p in folder.iterdir() if p.suffix == ".png")[0]
    assert cli_main(["sr", str(src), "-m", "bicubic", "-s", "2", "-o", str(out), "-q"]) == 0
    assert [p.name for p in out.iterdir()] == [f"{src.stem}_bicubic_x2.png"]
