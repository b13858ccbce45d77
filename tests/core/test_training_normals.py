"""Fine-tuning on normal maps (``data.kind: normals``) and from a checkpoint (``init_from``):
the loader finds maps and masks, batches hold encoded unit normals, flips turn the vectors,
and a 2-step fine-tune of a tiny LIIF starts from the given weights. Tiny synthetic maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import ConfigError
from core.io.normals import save_normal_map
from core.jobs import run_sync
from core.models import save_checkpoint
from core.models.archs.liif import default_liif_spec, liif_from_spec
from core.normals import from_vectors, split
from core.training.config import config_from_dict
from core.training.data import (ImageSet, augment_patch, batch_rng, find_normal_maps,
                                load_normal_images, sample_query_batch)
from core.training.loop import load_training_images, train
from core.training.model_init import build_model
from core.training.steps import make_batch
from tests.helpers import tiny_liif

ROOT = Path(__file__).resolve().parents[2]


# tiny models on a shared 2-core CPU: one torch thread (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _height(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    z = 0.3 * np.sin(7 * xx + rng.random() * 3) * np.cos(5 * yy) + 0.05 * np.sin(31 * xx * yy)
    return z * max(h, w) / 8.0


def _normals_of(z: np.ndarray) -> np.ndarray:
    """Unit normals (x right, y up) of a height field over the pixel grid (rows go down)."""
    dz_drow, dz_dcol = np.gradient(z)
    v = np.stack([-dz_dcol, dz_drow, np.ones_like(z)], axis=2)  # dz/dy = -dz/drow
    return v / np.linalg.norm(v, axis=2, keepdims=True)


def _write_maps(root: Path) -> Path:
    """``obj/normal_map.png`` + ``obj/mask.png`` (DiLiGenT layout), a texture-style
    ``tex/bumps_normal.png`` and a height map beside it that must be ignored."""
    import cv2

    (root / "obj").mkdir(parents=True)
    (root / "tex").mkdir()
    n = _normals_of(_height(40, 44, 0))
    mask = np.zeros((40, 44), dtype=bool)
    mask[3:37, 2:40] = True
    save_normal_map(from_vectors(n, mask), root / "obj" / "normal_map.png", bits=16)
    cv2.imwrite(str(root / "obj" / "mask.png"), mask.astype(np.uint8) * 255)
    save_normal_map(from_vectors(_normals_of(_height(36, 36, 1))),
                    root / "tex" / "bumps_normal.png", bits=16)
    cv2.imwrite(str(root / "tex" / "bumps_height.png"), np.zeros((36, 36), np.uint8))
    return root


@pytest.fixture(scope="module")
def maps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_maps(tmp_path_factory.mktemp("normals"))



def _cfg(maps: Path, **over) -> dict:
    model = {"arch": "liif", "encoder_args": {"n_resblocks": 1, "n_feats": 8},
             "hidden_list": [16, 16]}
    model.update(over.pop("model", {}))
    data = {"kind": "normals", "part": "detail", "sigma": 2, "train": [str(maps)],
            "lr_patch": 8, "batch_size": 2, "scale_min": 1.0, "scale_max": 3.0, "sample_q": 40,
            "quantize_lr": False}
    data.update(over.pop("data", {}))
    return {"name": "tiny_normals", "seed": 3, "model": model, "data": data,
            "train": {"steps": 2, "lr": 1e-3, "precision": "fp32", "log_every": 1},
            "validation": {"data": None}}


def test_finds_maps_and_masks(maps: Path) -> None:
    found = find_normal_maps(maps)
    assert [(f.relative_to(maps).as_posix(), m.name if m else None) for f, m in found] == [
        ("obj/normal_map.png", "mask.png"), ("tex/bumps_normal.png", None)]
    imgs = load_normal_images([maps], "both", [2.0, 4.0])
    assert imgs.normals and imgs.dtype == np.float32 and len(imgs.images) == 2 * 2 * 2
    assert imgs.images[0].shape == (34, 38, 3)  # cropped to the mask's bounding box
    # the stored detail part is the split of the map, encoded, on the 0..255 scale
    nmap = from_vectors(_normals_of(_height(36, 36, 1)))
    det = split(nmap, 2.0).detail.normals
    i = imgs.names.index(next(n for n in imgs.names if "bumps" in n and n.endswith("detail@2")))
    np.testing.assert_allclose(imgs.images[i] / 255.0, (det + 1) / 2, atol=2e-5)


def test_config_normals_batches_hold_encoded_unit_normals(maps: Path) -> None:
    cfg = config_from_dict(_cfg(maps))
    assert cfg.data.kind == "normals" and cfg.data.sigma == 2.0
    images = load_training_images(cfg)
    for step in range(4):
        b = make_batch(cfg, images, step)
        gt = 2.0 * b.gt.numpy() - 1.0                       # HR pixels: exact unit vectors
        np.testing.assert_allclose(np.linalg.norm(gt, axis=-1), 1.0, atol=1e-4)
        assert gt[..., 2].mean() > 0.9                      # detail parts are close to +z
        lr = 2.0 * b.lr.numpy() - 1.0                       # bicubic LR, not quantised
        assert np.abs(np.linalg.norm(lr, axis=1) - 1).max() < 0.05
        assert not np.allclose(b.lr.numpy() * 255, np.round(b.lr.numpy() * 255))
    with pytest.raises(ConfigError, match="data.part"):
        config_from_dict(_cfg(maps, data={"part": "everything"}))
    with pytest.raises(ConfigError, match="data.kind"):
        config_from_dict(_cfg(maps, data={"kind": "voxels"}))
    with pytest.raises(ConfigError, match="data.sigma"):
        config_from_dict(_cfg(maps, data={"sigma": [2, -1]}))


@pytest.mark.parametrize("flags", [(h, v, t) for h in (0, 1) for v in (0, 1) for t in (0, 1)])
def test_flips_turn_the_vectors(flags) -> None:
    """The augmented encoded map = the map of the flipped height field."""
    hflip, vflip, transpose = map(bool, flags)
    z = _height(20, 20, 2)
    zt = z[:, ::-1] if hflip else z
    zt = zt[::-1] if vflip else zt
    zt = zt.T if transpose else zt
    enc = ((_normals_of(z) + 1) / 2 * 255).astype(np.float32)
    out = augment_patch(enc, hflip, vflip, transpose, normals=True)
    np.testing.assert_allclose(out / 255 * 2 - 1, _normals_of(zt), atol=1e-5)
    # images (not normals) are only moved, and uint8 stays uint8
    img = (np.arange(20 * 20 * 3) % 251).astype(np.uint8).reshape(20, 20, 3)
    moved = augment_patch(img, hflip, vflip, transpose)
    assert moved.dtype == np.uint8 and sorted(moved.ravel()) == sorted(img.ravel())


def test_uint8_and_float_sets_give_the_same_batches() -> None:
    rng = np.random.default_rng(0)
    img8 = [rng.integers(0, 256, (30, 32, 3)).astype(np.uint8) for _ in range(2)]
    a = sample_query_batch(ImageSet(img8, ["a", "b"]), batch_rng(0, 1), 2, 8, 1, 3, 30)
    imgf = [x.astype(np.float32) for x in img8]
    b = sample_query_batch(ImageSet(imgf, ["a", "b"]), batch_rng(0, 1), 2, 8, 1, 3, 30)
    assert torch.equal(a.gt, b.gt) and torch.allclose(a.lr, b.lr, atol=1e-6)


def test_init_from_and_two_step_finetune(maps: Path, tmp_path: Path) -> None:
    src = save_checkpoint(tiny_liif(5), tmp_path / "liif_tiny.pth")
    cfg = config_from_dict(_cfg(maps, model={"init_from": str(src)}))
    model, info = build_model(cfg)
    ref = tiny_liif(5).state_dict()
    assert info["spec"] == tiny_liif(5).spec
    for k, v in model.state_dict().items():
        assert torch.equal(v, ref[k]), k                   # the source weights, not random ones
    out = tmp_path / "run"
    res = run_sync(train(cfg, out))
    assert res.step == 2 and (out / "last.pt").is_file()
    trained = torch.load(out / "last.pt", weights_only=True)["model"]
    assert any(not torch.equal(trained[k], ref[k]) for k in ref)  # it trained


def test_init_from_errors(maps: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="model.init_from"):
        config_from_dict(_cfg(maps, model={"init_from": str(tmp_path / "missing.pth")}))
    other = save_checkpoint(liif_from_spec(default_liif_spec(
        encoder_args={"n_resblocks": 1, "n_feats": 8}, hidden=32, depth=2)),
        tmp_path / "wider.pth")
    cfg = config_from_dict(_cfg(maps, model={"init_from": str(other)}))
    with pytest.raises(ConfigError, match="does not fit.*shapes"):
        build_model(cfg)


def test_bundled_normals_config_is_valid() -> None:
    from core.training import load_config

    cfg = load_config(ROOT / "configs" / "liif_normals_detail.yaml", check_paths=False)
    assert cfg.data.kind == "normals" and cfg.data.part == "detail"
    assert cfg.model.init_from and cfg.validation.data is None
    assert not any("diligent" in f for f in cfg.data.train)  # held out for evaluation


def test_ipf_finetunes_on_normal_maps(maps: Path, tmp_path: Path) -> None:
    """IPF goes through the same command on normal maps: its image-loss batches hold encoded
    unit normals, two steps train the flow parts and leave the LIIF base as it was."""
    from core.training.data import sample_ipf_batch

    base = save_checkpoint(tiny_liif(5), tmp_path / "liif_tiny.pth")
    raw = _cfg(maps, model={"arch": "ipf", "init_liif": str(base),
                            "args": {"n_resblocks": 1, "n_feats": 8, "flow_hidden": [16, 16],
                                     "conf_hidden": [8]}})
    raw["model"] = {k: v for k, v in raw["model"].items()
                    if k not in ("encoder_args", "hidden_list")}
    raw["data"].pop("sample_q")
    raw["data"].update(lr_patch=16, scale_max=2.0)      # HR crops fit the 34x38 maps
    raw["train"]["losses"] = {"hr_patch": 16}
    cfg = config_from_dict(raw)
    images = load_training_images(cfg)
    assert images.normals
    b = sample_ipf_batch(images, np.random.default_rng(0), 2, 16, 1.0, 2.0, 16,
                         augment=True, quantize_lr=False)
    n = b.gt.numpy() * 2 - 1                           # decoded: unit vectors
    np.testing.assert_allclose(np.linalg.norm(n, axis=-1), 1.0, atol=1e-4)
    out = tmp_path / "run"
    res = run_sync(train(cfg, out))
    assert res.step == 2
    trained = torch.load(out / "last.pt", weights_only=True)["model"]
    ref = tiny_liif(5).state_dict()
    for k, v in ref.items():
        assert torch.equal(trained["liif." + k], v), k  # the base stays frozen
    assert any(k.startswith("flow_") and v.abs().sum() > 0 for k, v in trained.items())


def test_ipf_normals_config_is_valid() -> None:
    from core.training import load_config

    cfg = load_config(ROOT / "configs" / "ipf_normals_detail.yaml", check_paths=False)
    assert cfg.model.arch == "ipf" and cfg.data.kind == "normals" and cfg.data.part == "detail"
    assert not any("diligent" in f or "Fig4_reading" in f for f in cfg.data.train)
