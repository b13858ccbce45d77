"""Training, then out of it: the CLI's train / resume / export-weights round trip, float16
export (half the bytes, float32 at load), and LIIF files in the official layout.

Tiny models on a few random PNGs (``folders``, tests/core/conftest.py): seconds on a CPU.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.errors import CheckpointError, InputError
from core.jobs import run_sync
from core.models import load_model
from core.training import config_from_dict, export_file, train
from core.training.state import load_state
from tests.core.training_setup import edsr_cfg, liif_cfg

# tiny models on a shared 2-core CPU: one torch thread (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_cli_train_export_and_load(folders: dict[str, Path], tmp_path: Path,
                                   capsys: pytest.CaptureFixture) -> None:
    import yaml

    from cli import main as cli_main

    conf = tmp_path / "tiny.yaml"
    conf.write_text(yaml.safe_dump(edsr_cfg(folders, steps=3)))
    run = tmp_path / "run"
    assert cli_main(["train", str(conf), "--out", str(run), "--threads", "1", "-q"]) == 0
    out = capsys.readouterr().out
    assert "val x2" in out and "done: step 3/3" in out
    assert (run / "best.pt").is_file() and (run / "config.yaml").is_file()
    header = (run / "log.csv").read_text().splitlines()[0]
    assert header.startswith("step,loss,lr,val_psnr,seconds")

    # more steps on the same run
    assert cli_main(["train", str(conf), "--out", str(run), "--resume", "--steps", "4",
                     "-q"]) == 0
    assert load_state(run / "last.pt")["step"] == 4

    for src in (run, run / "last.pt"):
        dst = tmp_path / f"w_{src.name}.pth"
        assert cli_main(["export-weights", str(src), str(dst)]) == 0
        loaded = load_model(dst)
        assert loaded.arch == "edsr" and loaded.scale == 2
    assert cli_main(["export-weights", str(run), str(dst)]) == 2  # exists, no --overwrite
    err = capsys.readouterr().err
    assert "already exists" in err
    assert cli_main(["train", str(tmp_path / "nope.yaml")]) == 2
    assert "not found" in capsys.readouterr().err
    with pytest.raises(CheckpointError, match="neither best.pt nor last.pt"):
        export_file(tmp_path, tmp_path / "x.pth")


@pytest.mark.parametrize("make", [edsr_cfg, liif_cfg])
def test_half_export_stores_float16_and_runs_in_float32(make, folders: dict[str, Path],
                                                         tmp_path: Path) -> None:
    """--half halves the file; the model loads as float32 and its output moves by the
    float16 rounding of the weights only (here < 1e-2 of the [0, 1] range, ~1e-3 typical)."""
    cfg = config_from_dict(make(folders, steps=2))
    run_sync(train(cfg, tmp_path / "run"))
    full, _ = export_file(tmp_path / "run", tmp_path / "full.pth")
    half, meta = export_file(tmp_path / "run", tmp_path / "half.pth", half=True)
    assert meta["stored_as"] == "float16"
    raw = torch.load(half, map_location="cpu", weights_only=True)
    sd = raw["model"]["sd"] if "model" in raw else raw["state_dict"]
    assert {v.dtype for v in sd.values() if v.is_floating_point()} == {torch.float16}
    raw_full = torch.load(full, map_location="cpu", weights_only=True)
    sd_full = raw_full["model"]["sd"] if "model" in raw_full else raw_full["state_dict"]
    nbytes = [sum(v.numel() * v.element_size() for v in d.values()) for d in (sd_full, sd)]
    assert nbytes[1] * 2 == nbytes[0]  # (tiny models: the zip container hides it in file size)
    a, b = load_model(full).module, load_model(half).module
    assert all(p.dtype == torch.float32 for p in b.parameters())
    x = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        if cfg.model.arbitrary:
            from core.models.contracts import make_coord
            coord = make_coord((24, 24)).unsqueeze(0)
            cell = torch.full_like(coord, 2 / 24)
            ya, yb = a(x, coord, cell), b(x, coord, cell)
        else:
            ya, yb = a(x), b(x)
    assert 0 < (ya - yb).abs().max() < 1e-2

    state = load_state(tmp_path / "run" / "last.pt")
    first = next(iter(state["model"]))
    state["model"][first] = state["model"][first] * 0 + 1e6  # beyond float16's 65504
    torch.save(state, tmp_path / "big.pt")
    with pytest.raises(InputError, match="float16"):
        export_file(tmp_path / "big.pt", tmp_path / "big.pth", half=True)
    assert not (tmp_path / "big.pth").exists()


def test_liif_export_is_the_official_layout(folders: dict[str, Path], tmp_path: Path) -> None:
    cfg = config_from_dict(liif_cfg(folders, steps=2))
    run_sync(train(cfg, tmp_path / "run"))
    path, meta = export_file(tmp_path / "run" / "last.pt", tmp_path / "liif.pth")
    obj = torch.load(path, weights_only=True)
    assert set(obj["model"]) == {"name", "args", "sd"} and obj["model"]["name"] == "liif"
    assert meta["step"] == 2
    assert load_model(path).kind == "arbitrary"
