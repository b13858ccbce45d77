"""CLI: ``zssr`` (RGB and channel data, bad input) and ``mzsr train|sr`` on tiny settings."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from cli import main as cli_main
from cli.app import SUBCOMMANDS


def _png(path: Path, size: int = 20) -> Path:
    y, x = np.mgrid[0:size, 0:size]
    img = np.stack([x * 10, y * 10, (x + y) * 5], -1).clip(0, 255).astype(np.uint8)
    cv2.imwrite(str(path), img)
    return path


def test_zssr_cli_rgb_channels_and_errors(tmp_path: Path, capsys) -> None:
    assert "zssr" in SUBCOMMANDS and "mzsr" in SUBCOMMANDS
    src = _png(tmp_path / "a.png")
    out = tmp_path / "o.png"
    fast = ["--iters", "2", "--crop", "16", "--bp", "1", "--no-ensemble", "-q", "--precision",
            "fp32"]
    assert cli_main(["zssr", str(src), "-s", "2", "-o", str(out), "--kernel", "gauss1.0"]
                    + fast) == 0
    assert cv2.imread(str(out)).shape == (40, 40, 3)
    assert "2 iterations" in capsys.readouterr().err
    rng = np.random.default_rng(0)
    arr = rng.random((16, 16, 2)) + 1j * rng.random((16, 16, 2))
    np.save(tmp_path / "c.npy", arr.astype(np.complex64))
    assert cli_main(["zssr", str(tmp_path / "c.npy"), "-s", "2", "-o", str(tmp_path / "c2.npy"),
                     "--zssr-finetune", "1"] + fast) == 0
    back = np.load(tmp_path / "c2.npy")
    assert back.shape == (32, 32, 2) and np.iscomplexobj(back)
    np.save(tmp_path / "bad.npy", np.ones((3, 3)))
    assert cli_main(["zssr", str(src), "-s", "2", "-o", str(tmp_path / "x.png"),
                     "--kernel", str(tmp_path / "bad.npy")]) == 2
    assert "normalised" in capsys.readouterr().err
    assert cli_main(["zssr", str(src), "-s", "8", "--no-gradual", "-o",
                     str(tmp_path / "x.png")]) == 2
    assert "at least 32 x 32" in capsys.readouterr().err
    assert cli_main(["zssr", str(src), "-s", "2", "-o", str(out)] + fast) == 2  # exists


def test_mzsr_cli_train_and_sr(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "train"
    folder.mkdir()
    for i in range(2):
        _png(folder / f"{i}.png", 24)
    cfg = tmp_path / "m.yaml"
    cfg.write_text(f"name: t\ntrain: [{folder}]\nhr_patch: 16\nwidth: 8\ndepth: 2\n"
                   "pretrain_steps: 1\nmeta_steps: 1\nmeta_batch: 1\ntask_batch: 1\n"
                   "pretrain_batch: 1\n")
    run = tmp_path / "run"
    assert cli_main(["mzsr", "train", str(cfg), "--out", str(run), "-q"]) == 0
    out = tmp_path / "o.png"
    assert cli_main(["mzsr", "sr", str(_png(tmp_path / "a.png")), "-w", str(run / "mzsr.pt"),
                     "-o", str(out), "--steps", "2", "--kernel", "gauss1.0", "-q"]) == 0
    assert cv2.imread(str(out)).shape == (40, 40, 3)
    assert cli_main(["mzsr", "sr", str(tmp_path / "a.png"), "-w", str(cfg), "-o",
                     str(tmp_path / "b.png")]) == 2
    assert "MZSR checkpoint" in capsys.readouterr().err


def test_mzsr_cli_bundled_weights_and_scale(tmp_path: Path, capsys, monkeypatch) -> None:
    import core.zeroshot.mzsr as mz
    from core.zeroshot import ZSSRNet

    src = _png(tmp_path / "a.png")
    monkeypatch.setattr(mz, "BUNDLED_MZSR", tmp_path / "none" / "mzsr_x2.pth")
    assert mz.bundled_mzsr() is None
    assert cli_main(["mzsr", "sr", str(src), "-o", str(tmp_path / "n.png"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "no MZSR weights" in err and "configs/mzsr_x2.yaml" in err
    assert "python main.py mzsr train" in err
    # the bundled file is the default when there is one
    tiny = mz.save_mzsr(ZSSRNet(3, 8, 3), mz.MZSRConfig(width=8, depth=3),
                        tmp_path / "zeroshot" / "mzsr_x2.pth")
    monkeypatch.setattr(mz, "BUNDLED_MZSR", tiny)
    assert mz.bundled_mzsr() == tiny
    out = tmp_path / "o.png"
    assert cli_main(["mzsr", "sr", str(src), "-o", str(out), "--steps", "1", "-q"]) == 0
    assert cv2.imread(str(out)).shape == (40, 40, 3)
    assert "MZSR x2 after 1 steps" in capsys.readouterr().err
    # the scale is the weights': another one asked for is a clear error, nothing written
    assert cli_main(["mzsr", "sr", str(src), "-s", "4", "-o", str(tmp_path / "x4.png")]) == 2
    assert "these MZSR weights are x2" in capsys.readouterr().err
    assert not (tmp_path / "x4.png").exists()
