"""Training the small Y-channel models (SRCNN, FSRCNN, ESPCN, VDSR): their batches hold what the
engine feeds them, multi-scale VDSR draws one scale per batch, and a trained file loads and
runs through the registry. Tiny random images in ``tmp_path``; seconds on one CPU thread."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.errors import ConfigError
from core.jobs import run_sync
from core.metrics import rgb_to_y
from core.models import load_model
from core.resize import degrade, imresize
from core.training import (batch_rng, build_model, config_from_dict, export_file, load_config,
                           load_images, make_batch, sample_fixed_batch, train)
from core.training.steps import input_flags
from core.training.state import load_state

ROOT = Path(__file__).resolve().parents[2]
SMALL_CONFIGS = ("srcnn_x3", "fsrcnn_x2", "fsrcnn_x3", "fsrcnn_x3_stage2", "fsrcnn_x3_stage3",
                 "fsrcnn_x3_stage4", "fsrcnn_x3_stage5",
                 "fsrcnn_x4", "espcn_x3", "vdsr")


# tiny models on a shared 2-core CPU: one torch thread (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("small_train")
    rng = np.random.default_rng(0)
    for sub, n, size in (("train", 3, (72, 80)), ("val", 1, (36, 36))):
        (root / sub).mkdir()
        for i in range(n):
            small = rng.integers(0, 256, (size[0] // 4, size[1] // 4, 3)).astype(np.uint8)
            cv2.imwrite(str(root / sub / f"{i}.png"),
                        cv2.resize(small, (size[1], size[0]), interpolation=cv2.INTER_CUBIC))
    return {"train": root / "train", "val": root / "val"}


def _cfg(data: dict[str, Path], arch: str, args: dict, val_scale: int, **data_over) -> dict:
    return {"name": f"tiny_{arch}", "seed": 1, "model": {"arch": arch, "args": args},
            "data": {"train": [str(data["train"])], "lr_patch": 8, "batch_size": 2, **data_over},
            "train": {"steps": 2, "lr": 1e-3, "precision": "fp32", "log_every": 1},
            "validation": {"data": str(data["val"]), "scales": [val_scale], "every_steps": 2}}


def test_bundled_small_configs_build() -> None:
    for name in SMALL_CONFIGS:
        cfg = load_config(ROOT / "configs" / f"{name}.yaml", check_paths=False)
        cfg.model.init_from = None  # a run folder of ours (fsrcnn_x4, x3 stage 2): not in CI
        model, info = build_model(cfg)
        assert getattr(model, "y_only", False), name  # all four families run on Y
        assert info["arch"] == cfg.model.arch


def test_y_channel_batch_is_the_engine_input(data: dict[str, Path]) -> None:
    """FSRCNN batches: Y of the 8-bit bicubic LR and Y of the HR crop."""
    cfg = config_from_dict(_cfg(data, "fsrcnn", {"scale": 3, "d": 8, "s": 4, "m": 1}, 3))
    assert input_flags(cfg) == {"y_only": True, "pre_upsample": False}
    b = make_batch(cfg, load_images([data["train"]]), 4)
    assert b.lr.shape == (2, 1, 8, 8) and b.hr.shape == (2, 1, 24, 24)
    rgb_cfg = config_from_dict(_cfg(data, "edsr", {"n_resblocks": 1, "n_feats": 4, "scale": 3,
                                                    "rgb_range": 1.0}, 3))
    rgb = make_batch(rgb_cfg, load_images([data["train"]]), 4)  # same seed/step: same crops
    hr = rgb.hr[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(b.hr[0, 0].numpy(), rgb_to_y(hr), atol=1e-6)
    lr = np.round(np.clip(degrade(hr, 3), 0, 1) * 255) / 255
    np.testing.assert_allclose(b.lr[0, 0].numpy(), rgb_to_y(lr), atol=1e-6)


def test_pre_upsampled_batch_and_scale_per_batch(data: dict[str, Path]) -> None:
    cfg = config_from_dict(_cfg(data, "vdsr", {"n_layers": 3, "n_feats": 4}, 2, scales=[2, 3]))
    images = load_images([data["train"]])
    seen = set()
    for step in range(12):
        b = make_batch(cfg, images, step)
        assert b.lr.shape == b.hr.shape and b.lr.shape[1] == 1  # bicubic-upscaled Y input
        seen.add(b.hr.shape[-1] // 8)
    assert seen == {2, 3}
    # the input is the MATLAB-bicubic upscale of the quantised LR, as the engine makes it
    rgb = sample_fixed_batch(images, batch_rng(5, 0), 2, 8, 3)
    y = sample_fixed_batch(images, batch_rng(5, 0), 2, 8, 3, y_only=True, pre_upsample=True)
    lr = rgb.lr[1].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(y.lr[1, 0].numpy(), rgb_to_y(imresize(lr, size=(24, 24))),
                               atol=1e-5)


def test_scales_key_is_checked(data: dict[str, Path]) -> None:
    with pytest.raises(ConfigError, match="data.scales"):  # FSRCNN is fixed at one scale
        config_from_dict(_cfg(data, "fsrcnn", {"scale": 2}, 2, scales=[2, 3]))
    with pytest.raises(ConfigError, match="data.scales"):
        config_from_dict(_cfg(data, "vdsr", {}, 2, scales=[1, 2]))
    with pytest.raises(ConfigError, match="trained at x2, x3"):
        config_from_dict(_cfg(data, "vdsr", {}, 4, scales=[2, 3]))


@pytest.mark.parametrize("arch,args,scale,extra", [
    ("fsrcnn", {"scale": 3, "d": 8, "s": 4, "m": 1}, 3, {}),
    ("espcn", {"scale": 2, "n1": 8, "n2": 4}, 2, {}),
    ("srcnn", {"f1": 5, "f2": 1, "f3": 3, "n1": 8, "n2": 4, "n_colors": 1, "scale": 3}, 3, {}),
    ("vdsr", {"n_layers": 3, "n_feats": 4}, 2, {"scales": [2, 3]}),
])
def test_train_export_load_and_run(data: dict[str, Path], tmp_path: Path, arch: str, args: dict,
                                   scale: int, extra: dict) -> None:
    cfg = config_from_dict(_cfg(data, arch, args, scale, **extra))
    result = run_sync(train(cfg, tmp_path / "run"))
    assert result.step == 2 and result.best_psnr is not None and np.isfinite(result.best_psnr)
    assert load_state(tmp_path / "run" / "last.pt")["step"] == 2
    dst = tmp_path / f"{arch}_x{scale}.pth"
    export_file(tmp_path / "run", dst)
    loaded = load_model(dst)
    assert loaded.arch == arch and getattr(loaded.module, "y_only", False)
    if arch == "fsrcnn":  # its scale cannot be read from shapes: it travels in the file
        assert loaded.scale == 3


def test_run_saved_before_an_optional_model_key_still_resumes(data: dict[str, Path],
                                                             tmp_path: Path) -> None:
    """A last.pt written before ``model.init_liif`` existed (the key is absent, not None)."""
    cfg = config_from_dict(_cfg(data, "espcn", {"scale": 2, "n1": 8, "n2": 4}, 2))
    run = tmp_path / "run"
    run_sync(train(cfg, run, steps=1))
    state = torch.load(run / "last.pt", weights_only=True)
    del state["config"]["model"]["init_liif"]
    torch.save(state, run / "last.pt")
    assert run_sync(train(cfg, run, resume=True, steps=2)).step == 2
    other = config_from_dict(_cfg(data, "espcn", {"scale": 2, "n1": 16, "n2": 4}, 2))
    with pytest.raises(ConfigError, match="another 'model' section"):
        run_sync(train(other, run, resume=True, steps=3))
