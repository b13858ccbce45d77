"""CLI for normal maps: ``sr --kind normals``, ``normals split|error``, ``surface``."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from cli import main as cli_main
from cli.app import SUBCOMMANDS
from core.io.normals import load_normal_map
from core.normals import angular_error_map
from core.surface import load_mesh


def _sphere_png(path: Path, size: int = 40, bits: int = 16) -> Path:
    v, u = np.mgrid[0:size, 0:size].astype(float)
    x, y = u - (size - 1) / 2, -(v - (size - 1) / 2)
    r = size * 0.45
    rr = x * x + y * y
    m = rr < (0.9 * r) ** 2
    n = np.stack([x, y, np.sqrt(np.maximum(r * r - rr, 0))], -1) / r
    top = 65535 if bits == 16 else 255
    img = np.round((n + 1) / 2 * top).astype(np.uint16 if bits == 16 else np.uint8)
    img[~m] = top                                        # white background, as DiLiGenT
    cv2.imwrite(str(path), img[..., ::-1])
    return path


def test_subcommands_are_registered():
    assert "normals" in SUBCOMMANDS and "surface" in SUBCOMMANDS


def test_normals_split_writes_both_parts(tmp_path, capsys):
    src = _sphere_png(tmp_path / "n.png")
    out = str(tmp_path / "out")
    assert cli_main(["normals", "split", str(src), "--sigma", "2", "-o", out]) == 0
    shape, detail = tmp_path / "out" / "n_shape.png", tmp_path / "out" / "n_detail.png"
    for part in (shape, detail):
        img = cv2.imread(str(part), cv2.IMREAD_UNCHANGED)
        assert img is not None and img.dtype == np.uint16 and img.shape[2] == 3, part
    err = capsys.readouterr().err
    assert "recombination error" in err
    assert cli_main(["normals", "split", str(src), "-o", str(tmp_path / "out")]) == 2
    assert "already exists" in capsys.readouterr().err


def test_normals_error_table_json_and_mismatch(tmp_path, capsys):
    a = _sphere_png(tmp_path / "a.png")
    b = _sphere_png(tmp_path / "b.png", bits=8)
    assert cli_main(["normals", "error", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "median" in out and "<11.25" in out
    assert cli_main(["normals", "error", str(a), str(b), "--json", "--region", "10,10,20,20"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["mean"] < 1.0 and stats["pixels"] > 0
    c = _sphere_png(tmp_path / "c.png", size=30)
    assert cli_main(["normals", "error", str(a), str(c)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "differ in size" in err[0]


@pytest.mark.parametrize("extra", [[], ["--normals-method", "naive"],
                                   ["--shape-model", "bicubic", "--detail-model", "lanczos",
                                    "--sigma", "1.5"]])
def test_sr_kind_normals(tmp_path, capsys, extra):
    src = _sphere_png(tmp_path / "n.png", size=24)
    out = tmp_path / "sr.png"
    args = ["sr", str(src), "-s", "2", "--kind", "normals", "-m", "bicubic", "-o", str(out), "-q"]
    assert cli_main(args + extra) == 0
    img = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert img.shape == (48, 48, 3) and img.dtype == np.uint16     # 16-bit in, 16-bit out
    hr = load_normal_map(_sphere_png(tmp_path / "hr.png", size=48))
    sr = load_normal_map(out)
    assert np.nanmedian(angular_error_map(sr, hr)) < 3.0
    assert "normals" in capsys.readouterr().err


def test_surface_writes_mesh_depth_and_render(tmp_path, capsys):
    src = _sphere_png(tmp_path / "n.png")
    (tmp_path / "K.txt").write_text("60 0 19.5\n0 60 19.5\n0 0 1\n")
    mesh, depth, render = tmp_path / "m.ply", tmp_path / "d.npy", tmp_path / "r.png"
    assert cli_main(["surface", str(src), "--K", str(tmp_path / "K.txt"), "--method", "lsq",
                     "-o", str(mesh), "--depth", str(depth), "--render", str(render),
                     "--size", "96", "-q"]) == 0
    d = np.load(depth)
    assert d.shape == (40, 40) and np.nanmedian(d) == pytest.approx(1.0)
    m = load_mesh(mesh)
    assert len(m.vertices) == int(np.isfinite(d).sum())
    img = cv2.imread(str(render))
    assert img.shape == (96, 96, 3) and (img != img[0, 0]).any(axis=2).mean() > 0.05
    assert cli_main(["surface", str(src), "--method", "bini", "--color", "height",
                     "-o", str(tmp_path / "m.obj"), "-q"]) == 0
    assert len(load_mesh(tmp_path / "m.obj").vertices) == len(m.vertices)
    (tmp_path / "K_half.txt").write_text("30 0 9.5\n0 30 9.5\n0 0 1\n")   # K of a 20 px map
    assert cli_main(["surface", str(src), "--K", str(tmp_path / "K_half.txt"), "--K-scale", "2",
                     "--depth", str(tmp_path / "d2.npy"), "-q"]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "d2.npy"), d, rtol=1e-5)


@pytest.mark.parametrize("args, words", [
    ([], "nothing to write"),
    (["-o", "m.fbx"], "mesh file"),
    (["--method", "magic", "-o", "m.ply"], "unknown method"),
    (["--K", "K_bad.txt", "-o", "m.ply"], "3 x 3"),
    (["--mask", "small.png", "-o", "m.ply"], "same size"),
    (["--view", "left", "-o", "m.ply"], "AZIMUTH"),
])
def test_surface_bad_input_is_one_line_exit_2(tmp_path, capsys, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    src = _sphere_png(tmp_path / "n.png")
    (tmp_path / "K_bad.txt").write_text("1 2 3\n4 5 6\n")
    cv2.imwrite(str(tmp_path / "small.png"), np.zeros((4, 4), np.uint8))
    assert cli_main(["surface", str(src), "-q"] + args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]
