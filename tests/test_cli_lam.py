"""``python main.py lam ...`` as a user runs it: outputs, printed indices, clear errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import main as entry


# tiny models on a shared 2-core CPU: one torch thread (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _png(path: Path, h: int = 16, w: int = 16, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (3, 3), 0)
    cv2.imwrite(str(path), img)
    return path


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory) -> Path:
    from core.models import save_checkpoint
    from core.models.archs.edsr import EDSR

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "tiny_edsr_x2.pt"
    return save_checkpoint(EDSR(n_resblocks=1, n_feats=8, scale=2).eval(), path)


def test_lam_writes_overlay_and_map(tmp_path, capsys):
    src, out, npy = _png(tmp_path / "in.png"), tmp_path / "lam.png", tmp_path / "map.npy"
    rc = entry.main(["lam", str(src), "-m", "bicubic", "-s", "2", "--window", "10,12,8",
                     "-o", str(out), "--npy", str(npy), "-q"])
    assert rc == 0
    img = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert img.shape == (32, 32, 3)
    m = np.load(npy)
    assert m.shape == (16, 16) and m.dtype == np.float32 and m.max() == pytest.approx(1.0)
    text = capsys.readouterr().out
    assert "DI" in text and "Gini" in text


def test_lam_fixed_scale_checkpoint_hr_input_and_panel(tmp_path, tiny_ckpt, capsys):
    src, out = _png(tmp_path / "hr.png", 32, 32, seed=1), tmp_path / "panel.png"
    rc = entry.main(["lam", str(src), "-m", str(tiny_ckpt), "-s", "2", "--hr", "--window",
                     "8,8", "-o", str(out), "--panel", "--batch", "25", "-q"])
    assert rc == 0
    assert cv2.imread(str(out)).shape == (32, 96, 3)   # SR+window | heat map | overlay
    # the scale is optional for a fixed-scale model
    rc = entry.main(["lam", str(src), "-m", str(tiny_ckpt), "--window", "20,20,8", "-o",
                     str(tmp_path / "o2.png"), "-q"])
    assert rc == 0 and cv2.imread(str(tmp_path / "o2.png")).shape == (64, 64, 3)


@pytest.mark.parametrize("window, message", [
    ("10", "X,Y"), ("a,b", "X,Y"), ("30,2", "outside"), ("0,0,64", "larger")])
def test_lam_bad_window_is_one_clear_line(tmp_path, capsys, window, message):
    src = _png(tmp_path / "in.png")
    rc = entry.main(["lam", str(src), "-m", "bicubic", "-s", "2", "--window", window,
                     "-o", str(tmp_path / "x.png"), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("error:") and message in err[-1]
    assert not (tmp_path / "x.png").exists()


def test_lam_refuses_to_overwrite(tmp_path, capsys):
    src, out = _png(tmp_path / "in.png"), tmp_path / "out.png"
    out.write_bytes(b"keep")
    rc = entry.main(["lam", str(src), "-m", "bicubic", "-s", "2", "--window", "1,1",
                     "-o", str(out), "-q"])
    assert rc == 2 and "already exists" in capsys.readouterr().err
    assert out.read_bytes() == b"keep"


def test_lam_rule_and_steps_reach_the_map_and_its_provenance(tmp_path, tiny_ckpt, capsys):
    from core.attribution.quadrature import RULES
    from cli.lam import LAM_RULES

    assert LAM_RULES == RULES          # the parser's copy (no torch at --help) is the core's
    src = _png(tmp_path / "in.png", 12, 12, seed=3)
    maps = {}
    for rule, steps, used in (("riemann", "10", "riemann 10"), ("gauss", "6", "gauss 6"),
                              ("adaptive", "15", "adaptive")):
        out, npy = tmp_path / f"{rule}.png", tmp_path / f"{rule}.npy"
        rc = entry.main(["lam", str(src), "-m", str(tiny_ckpt), "--window", "4,4,8", "-o",
                         str(out), "--npy", str(npy), "--rule", rule, "--steps", steps,
                         "--precision", "fp32"])
        err = capsys.readouterr().err
        assert rc == 0 and f"{used}" in err            # the summary line
        assert f"LAM {used}" in err.split("provenance:")[-1]
        maps[rule] = np.load(npy)
    # the same integral: the maps agree closely, and they are not the same numbers
    for rule in ("gauss", "adaptive"):
        assert np.corrcoef(maps[rule].ravel(), maps["riemann"].ravel())[0, 1] > 0.95
        assert not np.array_equal(maps[rule], maps["riemann"])


@pytest.mark.parametrize("extra, message", [
    (["--steps", "0"], "--steps must be at least 1"),
    (["--rule", "adaptive", "--steps", "7"], ">= 15")])
def test_lam_bad_steps_are_one_clear_line(tmp_path, tiny_ckpt, capsys, extra, message):
    src = _png(tmp_path / "in.png")
    rc = entry.main(["lam", str(src), "-m", str(tiny_ckpt), "--window", "4,4,8",
                     "-o", str(tmp_path / "x.png"), "-q"] + extra)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("error:") and message in err[-1]
    assert not (tmp_path / "x.png").exists()


def test_lam_unknown_rule_is_a_usage_error(tmp_path, capsys):
    rc = entry.main(["lam", "x.png", "-m", "bicubic", "--window", "1,1", "-o",
                     str(tmp_path / "x.png"), "--rule", "simpson"])
    assert rc == 2 and "invalid choice" in capsys.readouterr().err


# --- python main.py study ... -------------------------------------------------------------

@pytest.fixture
def hr_folder(tmp_path) -> Path:
    d = tmp_path / "hr"
    d.mkdir()
    for i in range(2):
        _png(d / f"im{i}.png", 48, 64, seed=i)
    (d / "broken.png").write_bytes(b"nope")
    return d


def test_study_crop_csv_gallery_and_resume(hr_folder, tmp_path, tiny_ckpt, capsys):
    csv_path, gal = tmp_path / "crop.csv", tmp_path / "gallery"
    gal.mkdir()
    args = ["study", "crop", "--data", str(hr_folder), "-m", "bicubic", str(tiny_ckpt), "-s",
            "2", "--region", "16,16,16", "--margins", "0,4", "--csv", str(csv_path), "-q"]
    assert entry.main(args + ["--gallery", str(gal)]) == 0
    cap = capsys.readouterr()
    assert "full better" in cap.out and "tiny_edsr_x2" in cap.out
    assert "skipped broken.png" in cap.err
    lines = csv_path.read_text().splitlines()
    assert lines[0] == ("image,study,model,group,setting,x,psnr,"
                        "native_scale,resampled,precision,device") and len(lines) == 1 + 2 * 2 * 3
    assert ",x2,,fp32,cpu" in lines[-1] or ",x2,,bf16,cpu" in lines[-1]   # the tiny x2 model
    assert sorted(p.name for p in gal.iterdir()) == ["im0_crop.png", "im1_crop.png"]
    assert entry.main(args) == 0                     # everything is there: resumed, no rerun
    assert "resumed 12 rows" in capsys.readouterr().err
    assert len(csv_path.read_text().splitlines()) == 13
    # a CSV of the format before provenance was recorded resumes too
    old = [",".join(line.split(",")[:7]) for line in csv_path.read_text().splitlines()]
    csv_path.write_text("\n".join(old) + "\n")
    assert entry.main(args) == 0
    assert "resumed 12 rows" in capsys.readouterr().err


@pytest.mark.parametrize("study, extra, message", [
    ("size", [], "--background"), ("mosaic", ["--tta-passes", "0"], "between 1 and 10000")])
def test_study_errors_are_one_line(tmp_path, capsys, study, extra, message):
    src = _png(tmp_path / "one.png", 64, 64)
    rc = entry.main(["study", study, "--data", str(src), "-m", "bicubic", "-s", "2", "-q"]
                    + extra)
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1


def test_study_empty_folder(tmp_path, capsys):
    rc = entry.main(["study", "mosaic", "--data", str(tmp_path), "-m", "bicubic", "-q"])
    assert rc == 2 and "no images" in capsys.readouterr().err
