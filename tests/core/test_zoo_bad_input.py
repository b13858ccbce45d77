"""Model zoo, bad input: wrong or broken checkpoints, contradictory scales, odd channel counts.

Every failure is a CheckpointError / InputError with a readable message; from the CLI it is
exit code 2 with one line on stderr and no output file.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from cli import main as cli_main
from core.data import ImageData
from core.engine import super_resolve
from core.errors import CheckpointError
from core.jobs import run_sync
from core.models import load_model, save_checkpoint
from core.models.archs import EDSR, FSRCNN, SRCNN, VDSR


def _png(path: Path, h: int = 12, w: int = 14) -> Path:
    rng = np.random.default_rng(0)
    cv2.imwrite(str(path), rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    return path


def _fsrcnn(scale: int = 2) -> FSRCNN:
    torch.manual_seed(0)
    return FSRCNN(scale, d=8, s=4, m=1).eval()


def _cli_fails(tmp_path: Path, capsys, model: Path, *extra: str) -> str:
    """``sr`` with ``model`` exits 2, prints one error line, writes nothing; the message."""
    src = _png(tmp_path / "in.png")
    out = tmp_path / "out.png"
    code = cli_main(["sr", str(src), "-m", str(model), "-s", "2", "-o", str(out), "-q", *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and not out.exists(), err
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_wrong_kinds_of_file(tmp_path: Path, capsys) -> None:
    opt = tmp_path / "optimizer.pth"
    torch.save({"state": {}, "param_groups": [{"lr": 1e-4, "params": [0, 1]}]}, opt)
    assert "not a state dict" in _cli_fails(tmp_path, capsys, opt)
    image = tmp_path / "photo.pth"
    image.write_bytes(_png(tmp_path / "p.png").read_bytes())
    assert "not a PyTorch checkpoint" in _cli_fails(tmp_path, capsys, image)
    other = tmp_path / "unet.pth"
    torch.save({"down1.conv.weight": torch.zeros(4, 3, 3, 3), "up1.weight": torch.zeros(4)}, other)
    assert "matches no known architecture" in _cli_fails(tmp_path, capsys, other)


def test_truncated_checkpoints(tmp_path: Path, capsys) -> None:
    for name, model in (("fsrcnn_x2.pth", _fsrcnn()), ("vdsr.pth", VDSR(4, 8))):
        full = tmp_path / ("full_" + name)
        torch.save(model.state_dict(), full)
        cut = tmp_path / name
        cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
        with pytest.raises(CheckpointError, match="truncated or corrupt"):
            load_model(cut)
        assert "truncated or corrupt" in _cli_fails(tmp_path, capsys, cut)


def test_nan_weights_are_refused(tmp_path: Path, capsys) -> None:
    sd = _fsrcnn().state_dict()
    sd["mid_part.2.weight"][0, 0, 1, 1] = float("nan")
    path = tmp_path / "fsrcnn_x2.pth"
    torch.save(sd, path)
    with pytest.raises(CheckpointError, match=r"'mid_part\.2\.weight' contains 1 NaN/Inf"):
        load_model(path)
    assert "NaN/Inf" in _cli_fails(tmp_path, capsys, path)
    model = SRCNN(n1=4, n2=2)
    with torch.no_grad():
        model.conv3.bias.fill_(float("inf"))
    ours = save_checkpoint(model, tmp_path / "srcnn_inf.pth")
    with pytest.raises(CheckpointError, match="conv3.bias"):
        load_model(ours)


def test_scale_conflicts(tmp_path: Path, capsys) -> None:
    named = tmp_path / "fsrcnn_x2.pth"
    torch.save(_fsrcnn(2).state_dict(), named)
    err = _cli_fails(tmp_path, capsys, named, "--scale-hint", "3")
    assert "contradicts the file name" in err and "x2" in err
    anonymous = tmp_path / "fsrcnn.pth"
    torch.save(_fsrcnn(2).state_dict(), anonymous)
    assert "--scale-hint" in _cli_fails(tmp_path, capsys, anonymous)
    edsr = tmp_path / "edsr.pth"
    torch.save(EDSR(1, 8, scale=2).state_dict(), edsr)
    assert "tensors are for x2" in _cli_fails(tmp_path, capsys, edsr, "--scale-hint", "4")
    # the same FSRCNN with a hint works, and an eval with a contradicting hint writes no CSV
    src, out = _png(tmp_path / "in.png"), tmp_path / "ok.png"
    assert cli_main(["sr", str(src), "-m", str(anonymous), "--scale-hint", "2", "-s", "2",
                     "-o", str(out), "-q"]) == 0
    assert cv2.imread(str(out)).shape == (24, 28, 3)
    data = tmp_path / "hr"
    data.mkdir()
    _png(data / "a.png", 16, 16)
    csv = tmp_path / "scores.csv"
    assert cli_main(["eval", "-m", str(named), "--data", str(data), "--scales", "2",
                     "--scale-hint", "3", "--csv", str(csv), "-q"]) == 2
    assert not csv.exists()
    capsys.readouterr()


def test_state_dict_for_another_scale_runs_with_a_note(tmp_path: Path, capsys) -> None:
    edsr = tmp_path / "edsr.pth"
    torch.save(EDSR(1, 8, scale=2).state_dict(), edsr)
    src, out = _png(tmp_path / "in.png"), tmp_path / "x4.png"
    assert cli_main(["sr", str(src), "-m", str(edsr), "-s", "4", "-o", str(out), "-q"]) == 0
    err = capsys.readouterr().err
    assert "note:" in err and "fixed at x2" in err and "resized" in err
    assert cv2.imread(str(out)).shape == (48, 56, 3)


def test_y_channel_model_on_rgb_and_multichannel_data() -> None:
    model = _fsrcnn(2)
    rng = np.random.default_rng(3)
    rgb = ImageData(rng.random((10, 12, 3), dtype=np.float32), kind="rgb")
    res = run_sync(super_resolve(model, rgb, scale=2))
    assert res.image.shape == (20, 24, 3) and any("ran on Y" in n for n in res.notes)
    assert np.isfinite(res.image.pixels).all()
    five = ImageData(rng.random((10, 12, 5), dtype=np.float32), kind="channels")
    res5 = run_sync(super_resolve(model, five, scale=2))
    assert res5.image.shape == (20, 24, 5) and any("each channel" in n for n in res5.notes)
    one = ImageData(five.pixels[..., 3:4], kind="channels")
    alone = run_sync(super_resolve(model, one, scale=2)).image.pixels[..., 0]
    np.testing.assert_allclose(res5.image.pixels[..., 3], alone, atol=1e-6)
    # three channels that are not RGB are not converted to YCbCr
    three = ImageData(five.pixels[..., :3], kind="channels")
    res3 = run_sync(super_resolve(model, three, scale=2))
    np.testing.assert_allclose(res3.image.pixels, res5.image.pixels[..., :3], atol=1e-6)
