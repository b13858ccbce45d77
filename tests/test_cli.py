"""The command line as a user runs it: exit codes, one clear line on stderr, outputs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from cli import main as cli_main
from tests.helpers import ROOT, shared_datasets


def _png(path: Path, h=24, w=32, seed=0) -> Path:
    rng = np.random.default_rng(seed)
    cv2.imwrite(str(path), rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    return path


def test_models_lists_the_baselines(capsys):
    assert cli_main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("nearest", "bilinear", "bicubic", "lanczos"):
        assert name in out


def test_sr_writes_the_requested_size(tmp_path, capsys):
    src = _png(tmp_path / "in.png")
    out = tmp_path / "out.png"
    assert cli_main(["sr", str(src), "-m", "bicubic", "-s", "2.5", "-o", str(out), "-q"]) == 0
    img = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert img.shape == (60, 80, 3) and img.dtype == np.uint8
    assert cli_main(["sr", str(src), "-m", "nearest", "--size", "50x30", "-o",
                     str(tmp_path / "o2.png"), "-q"]) == 0
    assert cv2.imread(str(tmp_path / "o2.png")).shape == (30, 50, 3)


def test_sr_keeps_16_bit(tmp_path):
    src = tmp_path / "in16.png"
    cv2.imwrite(str(src), np.random.default_rng(1).integers(0, 65536, (10, 12, 3), dtype=np.uint16))
    out = tmp_path / "out16.png"
    assert cli_main(["sr", str(src), "-m", "bicubic", "-s", "2", "-o", str(out), "-q"]) == 0
    assert cv2.imread(str(out), cv2.IMREAD_UNCHANGED).dtype == np.uint16


@pytest.mark.parametrize("args, words", [
    (["-s", "0"], "scale"),
    (["-s", "-2"], "scale"),
    (["-s", "nan"], "scale"),
    (["-s", "1e6"], "scale"),
    (["-s", "abc"], "scale"),
    (["--size", "0x10"], "size"),
    (["-s", "2", "-m", "no_such_model"], "unknown model"),
    (["-s", "2", "-m", "missing.pth"], "not found"),
])
def test_sr_bad_arguments_exit_2_with_one_line(tmp_path, capsys, args, words):
    src = _png(tmp_path / "in.png")
    out = tmp_path / "out.png"
    argv = ["sr", str(src), "-o", str(out), "-q"] + args
    if "-m" not in args:
        argv += ["-m", "bicubic"]
    assert cli_main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and words in err[0]
    assert not out.exists()


def test_sr_bad_files(tmp_path, capsys):
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(200)))
    cases = [tmp_path / "does_not_exist.png", corrupt]
    truncated = tmp_path / "trunc.png"
    good = _png(tmp_path / "good.png", 64, 64)
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    cases.append(truncated)
    empty = tmp_path / "empty.npy"
    np.save(empty, np.zeros((0, 4, 3), np.float32))
    cases.append(empty)
    for src in cases:
        out = tmp_path / f"out_{src.stem}.png"
        assert cli_main(["sr", str(src), "-m", "bicubic", "-s", "2", "-o", str(out), "-q"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error:") and "\n" not in err, err
        assert not out.exists()


def test_sr_nan_pixels_refused(tmp_path, capsys):
    src = tmp_path / "nan.npy"
    arr = np.random.rand(8, 8, 3).astype(np.float32)
    arr[1, 1, 1] = np.nan
    np.save(src, arr)
    assert cli_main(["sr", str(src), "-m", "bicubic", "-s", "2", "-o", str(tmp_path / "o.npy"),
                     "-q"]) == 2
    assert "NaN" in capsys.readouterr().err


def test_sr_never_overwrites(tmp_path, capsys):
    src = _png(tmp_path / "in.png")
    before = src.read_bytes()
    assert cli_main(["sr", str(src), "-m", "bicubic", "-s", "2", "-o", str(src), "-q"]) == 2
    assert src.read_bytes() == before
    out = tmp_path / "out.png"
    out.write_bytes(b"keep me")
    assert cli_main(["sr", str(src), "-m", "bicubic", "-s", "2", "-o", str(out), "-q"]) == 2
    assert out.read_bytes() == b"keep me"
    assert "already exists" in capsys.readouterr().err
    assert cli_main(["sr", str(src), "-m", "bicubic", "-s", "2", "-o", str(out), "-q",
                     "--overwrite"]) == 0
    assert out.read_bytes() != b"keep me"


def test_eval_bicubic_set5_matches_the_published_numbers(capsys):
    set5 = shared_datasets("benchmark/Set5/HR")
    assert cli_main(["eval", "-m", "bicubic", "--data", str(set5), "--scales", "2,3,4", "--y",
                     "-q"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: float(line.split()[1]) for line in out.splitlines()
            if line.strip().startswith("x")}
    for scale, expected in (("x2", 33.66), ("x3", 30.39), ("x4", 28.42)):
        assert abs(rows[scale] - expected) <= 0.05, (scale, rows[scale])


def test_eval_writes_csv_and_refuses_bad_scales(tmp_path, capsys):
    data = tmp_path / "hr"
    data.mkdir()
    for i in range(2):
        _png(data / f"{i}.png", 24, 24, seed=i)
    csv_path = tmp_path / "scores.csv"
    assert cli_main(["eval", "-m", "bicubic", "--data", str(data), "--scales", "2",
                     "--csv", str(csv_path), "-q"]) == 0
    lines = csv_path.read_text().splitlines()
    # the promised four columns first, then how each score was made (provenance)
    assert lines[0].startswith("image,scale,psnr,ssim,model,weights,") and len(lines) == 3
    assert cli_main(["eval", "-m", "bicubic", "--data", str(data), "--scales", "2.5", "-q"]) == 2
    assert cli_main(["eval", "-m", "bicubic", "--data", str(tmp_path / "nope"), "-q"]) == 2


def test_main_py_subprocess_exit_code(tmp_path):
    """The real entry point: non-zero exit and one line on stderr for a bad input."""
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "sr", str(tmp_path / "x.png"),
                           "-s", "2", "-o", str(tmp_path / "y.png")], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error:") and "does not exist" in proc.stderr
