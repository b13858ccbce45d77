"""MZSR meta-training resumes exactly from last.pt (stopped by --steps, by cancel, and by CLI)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from cli.app import main as cli_main
from core.errors import ConfigError
from core.jobs import run_sync
from core.training.state import TRAIN_FORMAT, load_state
from core.zeroshot.mzsr import load_mzsr, load_mzsr_config
from core.zeroshot.mzsr_train import train_mzsr

# 2 pre-training steps + 3 meta steps: a stop at step 3 is inside the meta phase
TINY = ("hr_patch: 16\nwidth: 8\ndepth: 2\npretrain_steps: 2\nmeta_steps: 3\nmeta_batch: 2\n"
        "task_batch: 1\npretrain_batch: 2\ninner_steps: 2\nprecision: fp32\n")


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    folder = tmp_path / "train"
    folder.mkdir()
    for i in range(2):
        cv2.imwrite(str(folder / f"{i}.png"), (rng.random((24, 24, 3)) * 255).astype(np.uint8))
    path = tmp_path / "m.yaml"
    path.write_text(f"name: t\ntrain: [{folder}]\n" + TINY)
    return path


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_mzsr(path)[0].state_dict()


def _assert_same(a: Path, b: Path) -> None:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.allclose(wa[k], wb[k], atol=1e-6, rtol=0), k


def _meta_rows(run: Path) -> list[str]:
    return [r.split(",")[0] + r.split(",")[1] for r in (run / "log.csv").read_text().splitlines()]


@pytest.mark.parametrize("stop_at", [3, 1])
def test_resume_equals_uninterrupted(config: Path, tmp_path: Path, stop_at: int) -> None:
    cfg = load_mzsr_config(config)
    whole = run_sync(train_mzsr(cfg, tmp_path / "whole"))
    part = tmp_path / "part"
    run_sync(train_mzsr(cfg, part, steps=stop_at))
    state = load_state(part / "last.pt")
    assert state["format"] == TRAIN_FORMAT and state["step"] == stop_at
    with pytest.raises(ConfigError, match="--resume"):
        run_sync(train_mzsr(cfg, part))
    resumed = run_sync(train_mzsr(cfg, part, resume=True))
    assert load_state(part / "last.pt")["step"] == 5
    _assert_same(whole, resumed)
    assert load_mzsr(resumed)[1]["phase"] == "done"
    assert (part / "pretrain.pt").exists()
    assert _meta_rows(part) == _meta_rows(tmp_path / "whole")


def test_cancel_saves_and_resumes(config: Path, tmp_path: Path) -> None:
    cfg = load_mzsr_config(config)
    whole = run_sync(train_mzsr(cfg, tmp_path / "whole"))
    run = tmp_path / "run"
    job = train_mzsr(cfg, run)
    for _ in range(4):  # 4 steps, then the user cancels (the generator is closed)
        next(job)
    job.close()
    assert load_state(run / "last.pt")["step"] == 4
    _assert_same(whole, run_sync(train_mzsr(cfg, run, resume=True)))


def test_cli_resume(config: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert cli_main(["mzsr", "train", str(config), "--out", str(run), "--steps", "3", "-q"]) == 0
    assert cli_main(["mzsr", "train", str(config), "--out", str(run), "-q"]) == 2  # needs --resume
    assert cli_main(["mzsr", "train", str(config), "--out", str(run), "--resume", "-q"]) == 0
    assert load_state(run / "last.pt")["step"] == 5
    other = tmp_path / "wide.yaml"
    other.write_text(config.read_text().replace("width: 8", "width: 16"))
    assert cli_main(["mzsr", "train", str(other), "--out", str(run), "--resume", "-q"]) == 2


def test_plain_train_command_takes_an_mzsr_config(config: Path, tmp_path: Path) -> None:
    """Issue 9: ``python main.py train`` with an MZSR config trains (and resumes) MZSR."""
    run = tmp_path / "via_train"
    assert cli_main(["train", str(config), "--out", str(run), "--steps", "2", "-q"]) == 0
    assert cli_main(["train", str(config), "--out", str(run), "--resume", "--steps", "3",
                     "-q"]) == 0
    assert load_state(run / "last.pt")["step"] == 3
    direct = tmp_path / "direct"
    assert cli_main(["mzsr", "train", str(config), "--out", str(direct), "--steps", "3",
                     "-q"]) == 0
    a, b = load_state(run / "last.pt")["model"], load_state(direct / "last.pt")["model"]
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert cli_main(["export-weights", str(run), str(tmp_path / "w.pth")]) == 2  # says mzsr.pt
