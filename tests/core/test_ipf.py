"""IPF (implicit pixel flow on a frozen LIIF): contract, exactness, checkpoints, engine,
training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.models import detect_architecture, load_model, save_checkpoint
from core.models.archs.ipf import IPF, ipf_from_liif
from core.models.ipf_flow import confidence_to_image, flow_to_color, ipf_maps
from core.models.contracts import ArbitraryScaleSR, make_cell, make_coord
from tests.helpers import tiny_liif, write_smooth_pngs


# tiny models on a shared 2-core CPU: one torch thread (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")



def _tiny_ipf(seed: int = 0, random_flow: bool = False) -> IPF:
    model = ipf_from_liif(tiny_liif(seed), n_resblocks=2, n_feats=8, flow_hidden=[16, 16],
                          conf_hidden=[8, 8])
    if random_flow:
        torch.manual_seed(seed + 1)
        torch.nn.init.normal_(model.flow_net.layers[-1].weight, std=0.5)
        torch.nn.init.normal_(model.flow_net.layers[-1].bias, std=0.5)
    return model.eval()


def _query_grid(b: int, hw: tuple[int, int]):
    coord = make_coord(hw).unsqueeze(0).expand(b, -1, -1).contiguous()
    return coord, make_cell(coord, hw)


def test_contract_shapes() -> None:
    model = _tiny_ipf(random_flow=True)
    assert isinstance(model, ArbitraryScaleSR)
    x = torch.rand(2, 3, 6, 7)
    feat = model.encode(x)
    assert feat.shape == (2, 8 + 8, 6, 7)
    coord, cell = _query_grid(2, (9, 11))
    out = model.query(feat, coord, cell)
    assert out.shape == (2, 99, 3) and torch.isfinite(out).all()
    allq = model.query_all(feat, coord, cell)
    assert allq["sr"].shape == allq["sr_raw"].shape == (2, 99, 3)
    assert allq["flow"].shape == (2, 99, 2) and allq["conf"].shape == (2, 99, 1)
    assert (allq["conf"] >= 0).all() and (allq["conf"] <= 1).all()
    assert torch.equal(allq["sr"], out)
    assert not torch.equal(allq["sr"], allq["sr_raw"])  # confidence modulates the offset
    assert torch.equal(model(x, coord, cell), out)


def test_zero_flow_equals_liif_exactly() -> None:
    model = _tiny_ipf()
    x = torch.rand(1, 3, 5, 6)
    coord, cell = _query_grid(1, (13, 14))
    with torch.no_grad():
        ipf_out = model.query_all(model.encode(x), coord, cell)
        liif_out = model.liif.query(model.liif.encode(x), coord, cell)
    assert torch.equal(ipf_out["sr"], liif_out)
    assert torch.equal(ipf_out["sr_raw"], liif_out)
    assert torch.count_nonzero(ipf_out["flow"]) == 0


def test_offset_units_are_lr_pixels() -> None:
    """A constant flow of (0, 1) LR pixel = LIIF queried one LR pixel to the right."""
    model = _tiny_ipf()
    last = model.flow_net.layers[-1]
    with torch.no_grad():
        last.bias.copy_(torch.tensor([0.0, 1.0]))
        model.conf_net.layers[-1].bias.fill_(50.0)  # c ~ 1
        model.conf_net.layers[-1].weight.zero_()
    x = torch.rand(1, 3, 5, 6)
    coord, cell = _query_grid(1, (10, 12))
    with torch.no_grad():
        out = model.query_all(model.encode(x), coord, cell)["sr_raw"]
        shifted = coord.clone()
        shifted[..., 1] += 2.0 / 6
        ref = model.liif.query(model.liif.encode(x), shifted, cell)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-6)


def test_checkpoint_round_trip_and_detection(tmp_path) -> None:
    model = _tiny_ipf(random_flow=True)
    x = torch.rand(1, 3, 5, 5)
    coord, cell = _query_grid(1, (8, 8))
    with torch.no_grad():
        ref = model.query(model.encode(x), coord, cell)
    path = save_checkpoint(model, tmp_path / "ipf_tiny.pth")
    obj = torch.load(path, weights_only=True)
    assert obj["model"]["name"] == "ipf" and "liif_spec" in obj["model"]["args"]
    loaded = load_model(path)
    assert loaded.arch == "ipf" and loaded.kind == "arbitrary" and loaded.scale is None
    with torch.no_grad():
        assert torch.equal(loaded.module.query(loaded.module.encode(x), coord, cell), ref)
    # a plain state dict (no spec) is recognised by its keys
    arch, hp = detect_architecture(model.state_dict())
    assert arch.name == "ipf"
    assert hp["spec"]["args"]["flow_encoder"] == {"n_resblocks": 2, "n_feats": 8}
    assert hp["spec"]["args"]["flow_hidden"] == [16, 16]
    assert hp["spec"]["args"]["conf_hidden"] == [8, 8]
    torch.save(model.state_dict(), tmp_path / "plain.pth")
    plain = load_model(tmp_path / "plain.pth")
    assert plain.arch == "ipf"
    with torch.no_grad():
        assert torch.equal(plain.module.query(plain.module.encode(x), coord, cell), ref)
    # the LIIF base alone is still LIIF
    assert detect_architecture(model.liif.state_dict())[0].name == "liif"


def test_engine_non_integer_scale() -> None:
    from core.engine.arbitrary import run_arbitrary
    from core.jobs import run_sync

    model = _tiny_ipf(random_flow=True)
    x = torch.rand(1, 3, 7, 9)
    out_hw = (17, 22)  # x ~2.43
    coord, cell = _query_grid(1, out_hw)
    with torch.no_grad():
        ref = model.query(model.encode(x), coord, cell)[0].T.reshape(3, *out_hw)
    out = run_sync(run_arbitrary(model, x, out_hw, block=None, chunk=50))  # one block, chunked
    assert out.shape == (1, 3, 17, 22)
    torch.testing.assert_close(out[0], ref, rtol=0, atol=1e-5)
    # block-wise: exact while the flow stays under half an LR pixel (see the module docstring)
    with torch.no_grad():
        model.flow_net.layers[-1].weight.mul_(0.02)
        model.flow_net.layers[-1].bias.mul_(0.02)
        feat = model.encode(x)
        assert model.query_all(feat, coord, cell)["flow"].abs().max() < 0.5
        ref = model.query(feat, coord, cell)[0].T.reshape(3, *out_hw)
    out = run_sync(run_arbitrary(model, x, out_hw, block=4, chunk=50))
    torch.testing.assert_close(out[0], ref, rtol=0, atol=1e-5)


def test_gradients_only_into_flow_parts() -> None:
    model = _tiny_ipf(random_flow=True).train()
    assert not model.liif.training
    x = torch.rand(2, 3, 6, 6)
    coord, cell = _query_grid(2, (10, 10))
    out = model.query_all(model.encode(x), coord, cell)
    (out["sr"].mean() + out["sr_raw"].mean()).backward()
    for name, p in model.named_parameters():
        if name.startswith("liif."):
            assert not p.requires_grad and p.grad is None, name
        else:
            assert p.grad is not None, name
    for part in ("flow_encoder.", "flow_net.", "conf_net."):
        assert any(p.grad.abs().sum() > 0 for n, p in model.named_parameters()
                   if n.startswith(part)), part


def test_visualisation_images() -> None:
    flow = torch.zeros(4, 5, 2)
    flow[0, 0] = torch.tensor([0.0, 1.0])
    flow[1, 1] = torch.tensor([-1.0, 0.0])
    img = flow_to_color(flow)
    assert img.shape == (4, 5, 3) and img.dtype == np.float32
    assert np.all(img[2:] == 1.0)  # no offset -> white
    assert img.min() >= 0 and img.max() <= 1
    assert not np.allclose(img[0, 0], img[1, 1])  # direction -> hue
    conf = confidence_to_image(torch.linspace(0, 1, 6).reshape(2, 3))
    assert conf.shape == (2, 3, 3) and conf[0, 0, 0] == 0 and conf[1, 2, 0] == 1
    model = _tiny_ipf(random_flow=True)
    f_img, c_img = ipf_maps(model, torch.rand(1, 3, 5, 5), (9, 8), chunk=20)
    assert f_img.shape == c_img.shape == (9, 8, 3)


# --- training (section 2) ------------------------------------------------------------------

def _ipf_cfg(tmp_path, **losses) -> dict:
    liif_path = save_checkpoint(tiny_liif(), tmp_path / "liif_tiny.pth")
    train = write_smooth_pngs(tmp_path / "train", 2, (48, 48))
    return {
        "name": "tiny_ipf", "seed": 1,
        "model": {"arch": "ipf", "init_liif": str(liif_path),
                  "args": {"n_resblocks": 1, "n_feats": 8, "flow_hidden": [16, 16],
                           "conf_hidden": [8, 8]}},
        "data": {"train": [str(train)], "lr_patch": 16, "batch_size": 2, "scale_max": 2.5},
        "train": {"steps": 3, "lr": 1e-3, "precision": "fp32", "loss_scale": 2.0, "log_every": 1,
                  "schedule": {"type": "step", "step_size": 2, "gamma": 0.5},
                  "losses": {"hr_patch": 16, **losses}},
        "validation": {"data": None},
    }


def test_bundled_ipf_config_is_valid() -> None:
    from pathlib import Path

    from core.training import load_config

    cfg = load_config(Path(__file__).resolve().parents[2] / "configs" / "ipf.yaml",
                      check_paths=False)
    assert cfg.model.arch == "ipf" and cfg.model.init_liif
    assert cfg.train.lr == 1e-4 and cfg.train.schedule["gamma"] == 0.5
    assert cfg.data.scale_min == 1.0 and cfg.data.scale_max == 4.0


def test_ipf_config_errors(tmp_path) -> None:
    from core.errors import ConfigError
    from core.training import config_from_dict

    raw = _ipf_cfg(tmp_path)
    raw["model"]["init_liif"] = None
    with pytest.raises(ConfigError, match="model.init_liif"):
        config_from_dict(raw)
    raw = _ipf_cfg(tmp_path)
    raw["train"]["losses"]["gamma"] = 1
    with pytest.raises(ConfigError, match="train.losses"):
        config_from_dict(raw)
    bad = tmp_path / "not_vgg.pth"
    torch.save({"conv.weight": torch.zeros(2, 3, 3, 3)}, bad)
    from core.training.ipf import IPFTrainer
    from core.training import build_model

    cfg = config_from_dict(_ipf_cfg(tmp_path, vgg=str(bad)))
    model, _ = build_model(cfg)
    with pytest.raises(ConfigError, match="not a torchvision VGG16/VGG19"):
        IPFTrainer(cfg, model, torch.device("cpu"))


def test_ipf_training_steps_decrease_loss_on_fixed_batch(tmp_path) -> None:
    from core.training import build_model, config_from_dict, load_images, make_batch, make_optimizer
    from core.training.data import PatchBatch
    from core.training.ipf import IPFTrainer

    cfg = config_from_dict(_ipf_cfg(tmp_path))
    torch.manual_seed(0)
    model, info = build_model(cfg)
    assert info["spec"]["name"] == "ipf"
    images = load_images([cfg.resolve(f) for f in cfg.data.train])
    batch = make_batch(cfg, images, 0)
    assert isinstance(batch, PatchBatch) and batch.coord.shape == (2, batch.patch ** 2, 2)
    model.train()
    opt = make_optimizer(cfg, model)
    n_trainable = sum(p.numel() for g in opt.param_groups for p in g["params"])
    assert n_trainable == sum(p.numel() for p in model.trainable_parameters())
    liif_before = {k: v.clone() for k, v in model.liif.state_dict().items()}
    trainer = IPFTrainer(cfg, model, torch.device("cpu"))
    assert "substitute" in trainer.perceptual_kind
    losses = [trainer.step(batch, None, torch.device("cpu"), opt) for _ in range(5)]
    assert all(np.isfinite(losses)), losses
    assert losses[-1] < losses[0], losses
    assert "d" in trainer.last_terms
    for k, v in model.liif.state_dict().items():
        assert torch.equal(v, liif_before[k]), k  # LIIF stays frozen


def test_ipf_train_job_resumes_and_exports(tmp_path) -> None:
    from core.jobs import run_sync
    from core.training import config_from_dict, train

    cfg = config_from_dict(_ipf_cfg(tmp_path))
    out = tmp_path / "run"
    res = run_sync(train(cfg, out, steps=1))
    assert res.step == 1 and (out / "last.pt").is_file()
    state = torch.load(out / "last.pt", weights_only=True)
    assert "disc" in state["extra"]["ipf"]
    res = run_sync(train(cfg, out, resume=True, steps=2))
    assert res.step == 2
    # one uninterrupted run gives the same weights (discriminator state resumed too)
    cfg2 = config_from_dict(_ipf_cfg(tmp_path / "b"))
    run_sync(train(cfg2, tmp_path / "run2", steps=2))
    a = torch.load(out / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "run2" / "last.pt", weights_only=True)["model"]
    for k in a:
        assert torch.equal(a[k], b[k]), k
    from core.training import export_file

    exported, _ = export_file(out, tmp_path / "ipf_out.pth")
    assert load_model(exported).arch == "ipf"


def test_ipf_without_liif_base_is_named(tmp_path) -> None:
    from core.errors import CheckpointError

    sd = {k: v for k, v in _tiny_ipf().state_dict().items() if not k.startswith("liif.")}
    torch.save(sd, tmp_path / "no_base.pth")
    with pytest.raises(CheckpointError, match=r"closest is ipf.*missing liif\.encoder\."):
        load_model(tmp_path / "no_base.pth")
