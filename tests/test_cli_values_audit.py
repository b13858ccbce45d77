"""The hostile-value audit: every numeric option is checked when the line is parsed (one
``error:`` line naming the option, exit 2, nothing written), values that also come from the GUI
are checked again in core, no run plans more output than the pixel budget, and a multi-page
TIFF is read whole."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

import main as entry
from cli import build_parser
from cli.options import SEED_LIMIT, finite_float, int_range, positive_int, seed
from core.budget import check_output_pixels, max_pixels, set_max_pixels
from core.errors import InputError, ResourceError, ScaleError


def _png(path: Path, h: int = 16, w: int = 16) -> Path:
    rng = np.random.default_rng(0)
    cv2.imwrite(str(path), (rng.random((h, w, 3)) * 255).astype(np.uint8))
    return path


def _normals(path: Path, n: int = 32) -> Path:
    y, x = np.mgrid[:n, :n]
    u, v = (x - (n - 1) / 2) / (n / 2 - 2), (y - (n - 1) / 2) / (n / 2 - 2)
    r2 = u * u + v * v
    inside = r2 < 1
    nz = np.sqrt(np.clip(1 - r2, 0, 1))
    enc = np.where(inside[..., None], (np.dstack([u, -v, nz]) + 1) / 2, 0)
    cv2.imwrite(str(path), (enc * 65535).astype(np.uint16)[..., ::-1])
    return path


@pytest.fixture()
def files(tmp_path):
    d = tmp_path
    _png(d / "rgb16.png")
    _normals(d / "N.png")
    (d / "K.txt").write_text("40 0 16\n0 40 16\n0 0 1\n")
    np.save(d / "c.npy", np.random.default_rng(1).random((8, 8, 4)).astype(np.float32))
    (d / "x.yaml").write_text("name: x\n")
    return d


def _run(args: list[str], capsys) -> tuple[int, list[str]]:
    rc = entry.main(args)
    err = capsys.readouterr().err.strip().splitlines()
    return rc, err


# -- principle 1: numeric options are checked at parse time, everywhere ----------------------

def _all_actions(parser: argparse.ArgumentParser, prefix: str = ""):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _all_actions(sub, f"{prefix} {name}".strip())
        else:
            yield prefix, action


def test_no_numeric_option_is_a_bare_int_or_float():
    """A plain ``type=int``/``type=float`` takes -1, nan and inf: every numeric option uses a
    checked type from cli.options (a fixed ``choices`` list is a check too)."""
    bare = [f"{cmd} {'/'.join(a.option_strings)}" for cmd, a in _all_actions(build_parser())
            if a.type in (int, float) and not a.choices]
    assert not bare, f"numeric options without a range check: {bare}"


def test_type_helpers():
    assert seed("0") == 0 and seed(str(SEED_LIMIT - 1)) == SEED_LIMIT - 1
    for bad in ("-1", str(SEED_LIMIT), "1.5", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            seed(bad)
    for bad in ("nan", "inf", "-inf", "1e999"):
        with pytest.raises(argparse.ArgumentTypeError):
            finite_float(bad)
    assert finite_float("-3.5") == -3.5
    with pytest.raises(argparse.ArgumentTypeError):
        positive_int("0")
    with pytest.raises(argparse.ArgumentTypeError, match="between 2 and 5"):
        int_range(2, 5)("6")


def test_the_largest_seed_is_one_numpy_and_torch_take():
    import torch

    np.random.seed(SEED_LIMIT - 1)
    np.random.default_rng(SEED_LIMIT - 1)
    torch.manual_seed(SEED_LIMIT - 1)


# (arguments, a word the one line must name); every case: exit 2, nothing written
BAD = [
    (["channels", "sample", "-o", "{d}/s1.npy", "--size", "8x8x2", "--seed", "-1"], "--seed"),
    (["channels", "sample", "-o", "{d}/s1.npy", "--size", "8x8x2", "--seed", str(2**64)],
     "--seed"),
    (["channels", "sample", "-o", "{d}/s1.npy", "--size", "8x8x2", "--snr", "nan"], "--snr"),
    (["channels", "sample", "-o", "{d}/s1.npy", "--size", "8x8x2", "--paths", "0"], "--paths"),
    (["channels", "degrade", "{d}/c.npy", "-s", "inf", "-o", "{d}/lr.npy"], "--scale"),
    (["channels", "compare", "{d}/c.npy", "{d}/c.npy", "--shave", "-1"], "--shave"),
    (["zssr", "{d}/rgb16.png", "-s", "2", "-o", "{d}/z1.png", "--iters", "1", "--seed", "-1"],
     "--seed"),
    (["zssr", "{d}/rgb16.png", "-s", "nan", "-o", "{d}/z1.png", "--iters", "1"], "--scale"),
    (["zssr", "{d}/rgb16.png", "-s", "1e6", "-o", "{d}/z1.png", "--iters", "1"], "--scale"),
    (["zssr", "{d}/rgb16.png", "-s", "2", "-o", "{d}/z1.png", "--crop", "-5"], "--crop"),
    (["mzsr", "train", "{d}/x.yaml", "--threads", "-1"], "--threads"),
    (["mzsr", "train", "{d}/x.yaml", "--threads", "0"], "--threads"),
    (["mzsr", "sr", "{d}/rgb16.png", "-o", "{d}/m.png", "--seed", "-1"], "--seed"),
    (["train", "{d}/x.yaml", "--workers", "-1"], "--workers"),
    (["figure", "{d}/rgb16.png", "--sr", "{d}/rgb16.png", "--roi", "0,0,4,4", "-o",
      "{d}/f.png", "--dpi", "10000000"], "dpi"),
    (["figure", "{d}/rgb16.png", "--sr", "{d}/rgb16.png", "--roi", "0,0,4,4", "-o",
      "{d}/f.png", "--font-size", "nan"], "--font-size"),
    (["figure", "{d}/rgb16.png", "--sr", "{d}/rgb16.png", "--roi", "0,0,4,4", "-o",
      "{d}/f.png", "--width", "1e9"], "width"),
    (["surface", "{d}/N.png", "--K", "{d}/K.txt", "--depth-scale", "nan", "--depth",
      "{d}/d.npy", "-o", "{d}/m.ply"], "--depth-scale"),
    (["surface", "{d}/N.png", "--K", "{d}/K.txt", "--depth-scale", "0", "--depth",
      "{d}/d.npy"], "--depth-scale"),
    (["surface", "{d}/N.png", "--view", "nan,inf", "-o", "{d}/m.ply", "--render",
      "{d}/r.png"], "--view"),
    (["surface", "{d}/N.png", "--max-size", "-1", "-o", "{d}/m.ply"], "--max-size"),
    (["surface", "{d}/N.png", "--max-size", "1", "-o", "{d}/m.ply", "--depth", "{d}/d.npy"],
     "--max-size"),
    (["surface", "{d}/N.png", "--step", "-inf", "--depth", "{d}/d.npy"], "--step"),
    (["normals", "split", "{d}/N.png", "--sigma", "nan", "-o", "{d}/parts"], "--sigma"),
    (["sr", "{d}/c.npy", "-m", "bicubic", "-s", "2", "-o", "{d}/c2.npy", "--percentiles",
      "nan,inf"], "--percentiles"),
    (["sr", "{d}/c.npy", "-m", "bicubic", "-s", "2", "-o", "{d}/c2.npy", "--percentiles",
      "99,1"], "--percentiles"),
    (["sr", "{d}/c.npy", "-m", "bicubic", "-s", "2", "-o", "{d}/c2.npy", "--percentiles",
      "1,99", "--norm", "global"], "--percentiles"),
    (["sr", "{d}/c.npy", "-m", "bicubic", "-s", "2", "-o", "{d}/c2.npy", "--batch", "0"],
     "--batch"),
    (["sr", "{d}/rgb16.png", "-m", "bicubic", "-s", "2", "-o", "{d}/o.png", "--tile", "-3"],
     "--tile"),
    (["lam", "{d}/rgb16.png", "-m", "bicubic", "-s", "2", "--window", "4,4,8", "-o",
      "{d}/l.png", "--alpha", "nan"], "--alpha"),
    (["eval", "-m", "bicubic", "--data", "{d}", "--shave", "-2"], "--shave"),
    (["study", "mosaic", "--data", "{d}/rgb16.png", "-m", "bicubic", "-s", "0"], "--scale"),
    (["zssr", "{d}", "-s", "2", "-o", "{d}/out", "--workers", "0"], "--workers"),
    (["sr", "{d}/rgb16.png", "-m", "bicubic", "-s", "999", "-o", "{d}/o1.png"], "budget"),
    (["sr", "{d}/rgb16.png", "-m", "bicubic", "--size", "15000x15000", "-o", "{d}/o1.png"],
     "budget"),
]


@pytest.mark.parametrize("args, word", BAD, ids=[" ".join(a[:1] + a[-2:]) for a, _ in BAD])
def test_bad_values_are_one_clear_line_and_write_nothing(files, capsys, args, word):
    before = sorted(p.name for p in files.rglob("*"))
    rc, err = _run([a.format(d=files) for a in args], capsys)
    assert rc == 2, err
    assert len(err) == 1 and err[0].startswith("error:"), err
    assert "unexpected" not in err[0] and word in err[0], err
    assert sorted(p.name for p in files.rglob("*")) == before


def test_mzsr_threads_are_checked_before_torch_is_touched(files, capsys):
    import torch

    threads = torch.get_num_threads()
    rc, err = _run(["mzsr", "train", str(files / "x.yaml"), "--threads", "0"], capsys)
    assert rc == 2 and torch.get_num_threads() == threads


def test_mzsr_sr_seed_says_it_changes_nothing():
    parser = build_parser()
    helps = {" ".join(a.option_strings): a.help for cmd, a in _all_actions(parser)
             if cmd == "mzsr sr"}
    assert "changes nothing" in helps["--seed"]


def test_percentiles_alone_mean_norm_percentile(files, capsys):
    rc, err = _run(["sr", str(files / "c.npy"), "-m", "bicubic", "-s", "2", "-o",
                    str(files / "c3.npy"), "--percentiles", "2,98", "-q"], capsys)
    assert rc == 0 and "norm percentile" in "\n".join(err)


# -- the same values checked in core (the GUI's way in) --------------------------------------

def test_figure_options_are_bounded_in_core():
    from core.app.figure import FigureOptions

    FigureOptions(font_size=7, width=7, dpi=300)
    for bad in (dict(dpi=10_000_000), dict(font_size=math.nan), dict(width=math.inf),
                dict(width=50, dpi=2400), dict(dpi=0)):
        with pytest.raises(InputError):
            FigureOptions(**bad)


def test_surface_values_are_checked_in_core():
    from core.jobs import run_sync
    from core.surface import integrate, mesh_from_surface, render_mesh

    n = 16
    normals = np.zeros((n, n, 3), np.float32)
    normals[..., 2] = 1
    K = np.array([[20, 0, 8], [0, 20, 8], [0, 0, 1]], float)
    for bad in (math.nan, 0.0, -1.0, math.inf):
        with pytest.raises(InputError, match="depth scale"):
            run_sync(integrate(normals, K=K, depth_scale=bad))
    with pytest.raises(InputError, match="step"):
        run_sync(integrate(normals, step=math.nan))
    surf = run_sync(integrate(normals))
    for bad in (-1, 0, 1, 2.5):
        with pytest.raises(InputError, match="max_size"):
            mesh_from_surface(surf, max_size=bad)
    mesh = mesh_from_surface(surf, max_size=None)
    with pytest.raises(InputError, match="azimuth"):
        render_mesh(mesh, azimuth=math.nan)


def test_multipath_snr_and_seed_are_checked_in_core():
    from core.channels import multipath_channel

    for kw in (dict(snr_db=math.nan), dict(snr_db=math.inf), dict(seed=-1), dict(seed=2**40)):
        with pytest.raises(InputError):
            multipath_channel(4, 4, 2, **kw)


def test_percentiles_are_checked_whatever_the_norm():
    from core.channels import channels_from_array

    a = np.random.default_rng(0).random((4, 4, 2))
    for bad in ((math.nan, math.inf), (99, 1)):
        with pytest.raises(InputError, match="percentiles"):
            channels_from_array(a, norm="channel", percentiles=bad)


# -- principle 2: the output is held to the pixel budget -------------------------------------

def test_output_size_holds_the_output_to_the_budget(monkeypatch):
    from core.engine.run import output_size

    monkeypatch.delenv("SRW_MAX_PIXELS", raising=False)
    with pytest.raises(ResourceError, match="15984 x 15984.*--max-pixels"):
        output_size(16, 16, scale=999)
    with pytest.raises(ResourceError, match="budget"):
        output_size(16, 16, size=(15000, 15000))
    assert output_size(16, 16, scale=999, budget=False) == (15984, 15984)  # live zoom
    set_max_pixels(300_000_000)
    try:
        assert max_pixels() == 300_000_000
        assert output_size(16, 16, scale=999) == (15984, 15984)
    finally:
        set_max_pixels(None)
    check_output_pixels(10_000, 10_000)
    with pytest.raises(ResourceError):
        check_output_pixels(10_000, 10_001)


def test_the_run_plan_holds_the_budget():
    from core.app.plan import plan_run

    with pytest.raises(ResourceError):
        plan_run((16, 16), scale=999.0)


def test_zssr_scale_is_bounded_by_the_output_budget():
    from core.zeroshot.internal import check_input

    check_input((64, 64, 3), 4.0, None, True)
    with pytest.raises((ScaleError, ResourceError)):
        check_input((64, 64, 3), 1e6, None, True)
    with pytest.raises(ResourceError, match="budget"):
        check_input((64, 64, 3), 500.0, None, True)


# -- principle 3: a multi-page TIFF is read whole --------------------------------------------

def test_multipage_tiff_is_read_as_a_channel_stack(tmp_path, capsys):
    tifffile = pytest.importorskip("tifffile")
    from core.io import load

    a = np.random.default_rng(2).random((16, 12, 5)).astype(np.float32)
    tifffile.imwrite(tmp_path / "ch5.tif", a)            # 16 pages of 12 x 5
    got = load(tmp_path / "ch5.tif")
    assert got.pixels.shape == (16, 12, 5) and got.kind == "channels"
    np.testing.assert_allclose(got.units.to_file(got.pixels), a, rtol=1e-6, atol=1e-6)

    b = np.random.default_rng(3).random((5, 16, 12)).astype(np.float32)
    tifffile.imwrite(tmp_path / "ij.tif", b, imagej=True)  # axes CYX
    got = load(tmp_path / "ij.tif")
    np.testing.assert_allclose(got.units.to_file(got.pixels), b.transpose(1, 2, 0),
                               rtol=1e-6, atol=1e-6)

    rc, err = _run(["sr", str(tmp_path / "ch5.tif"), "-m", "bicubic", "-s", "2", "-o",
                    str(tmp_path / "o4.npy"), "-q"], capsys)
    assert rc == 0, err
    assert np.load(tmp_path / "o4.npy").shape == (32, 24, 5)
