"""Model zoo: every architecture round-trips through its state dict, tiles exactly, keeps the
official key names; scale hints; SwinIR / LRFNet specifics."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.engine.fixed import forward_padded, run_tiled
from core.errors import CheckpointError
from core.jobs import run_sync
from core.models import detect_architecture, get_arch, load_model, save_checkpoint
from core.models.archs import (EDSR, ESPCN, FSRCNN, RCAN, RDN, SRCNN, VDSR, LRFNet, MSRResNet,
                               SRResNet, SwinIR)
from core.models.checkpoints import scale_from_name


def _swin(**kw) -> SwinIR:
    args = dict(upscale=2, embed_dim=8, depths=[1], num_heads=[2], window_size=4, num_feat=8)
    args.update(kw)
    return SwinIR(**args)


#: name -> (expected registry name, small random instance)
CASES = {
    "srcnn": ("srcnn", lambda: SRCNN(n1=8, n2=4)),
    "srcnn-955-rgb": ("srcnn", lambda: SRCNN(f2=5, n1=8, n2=4, n_colors=3)),
    "fsrcnn-x2": ("fsrcnn", lambda: FSRCNN(2, d=8, s=4, m=2)),
    "fsrcnn-x3": ("fsrcnn", lambda: FSRCNN(3, d=8, s=4, m=1)),
    "espcn-x3": ("espcn", lambda: ESPCN(3, n1=8, n2=4)),
    "vdsr": ("vdsr", lambda: VDSR(6, 8)),
    "rcan-x2": ("rcan", lambda: RCAN(1, 2, 8, 4, scale=2)),
    "rcan-x3": ("rcan", lambda: RCAN(2, 1, 8, 4, scale=3)),
    "swinir-classical": ("swinir", lambda: _swin()),
    "swinir-light-x3": ("swinir", lambda: _swin(upscale=3, depths=[2],
                                                upsampler="pixelshuffledirect")),
    "swinir-real-x4": ("swinir", lambda: _swin(upscale=4, upsampler="nearest+conv",
                                               resi_connection="3conv")),
    "srresnet-in": ("srresnet", lambda: SRResNet(1, 8, scale=2)),
    "srresnet-bn": ("srresnet", lambda: SRResNet(1, 8, scale=4, norm="batch")),
    "msrresnet-x4": ("msrresnet", lambda: MSRResNet(1, 8, upscale=4)),
    "msrresnet-x3": ("msrresnet", lambda: MSRResNet(1, 8, upscale=3)),
    "edsr": ("edsr", lambda: EDSR(1, 8, scale=2)),
    "rdn": ("rdn", lambda: RDN(8, config=(1, 2, 4), scale=2)),
    "lrfnet-s": ("lrfnet", lambda: LRFNet("separable", k=5, n_resblocks=1, n_feats=8, scale=2)),
    "lrfnet-a": ("lrfnet", lambda: LRFNet("atrous", n_resblocks=3, n_feats=8, scale=2,
                                          dilations=[1, 2, 2])),
}


def _make(name: str) -> torch.nn.Module:
    """The small instance, moved off its initial values (zero biases, identity norms)."""
    torch.manual_seed(0)
    model = CASES[name][1]().eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:  # not the constant mean shifts
                p.add_(0.05 * torch.randn_like(p))
        for mod in model.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.normal_(0, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
    return model


@pytest.mark.parametrize("name", list(CASES))
def test_random_roundtrip_through_detection(name: str, tmp_path: Path) -> None:
    model = _make(name)
    sd = model.state_dict()
    arch, hp = detect_architecture(sd)
    assert arch.name == CASES[name][0]
    if arch.needs_scale:  # FSRCNN: the tensors do not tell the scale
        assert "scale" not in hp
        hp["scale"] = model.scale
    rebuilt = arch.build(**hp).eval()
    rebuilt.load_state_dict(sd, strict=True)
    x = torch.rand(1, model.in_channels, 9, 11)
    with torch.no_grad():
        y = model(x)
        assert torch.equal(y, rebuilt(x))
    s = 1 if model.pre_upsampled else model.scale
    assert y.shape == (1, model.in_channels, 9 * s, 11 * s)
    assert bool(torch.isfinite(y).all())
    ours = load_model(save_checkpoint(model, tmp_path / "ours.safetensors"))  # our format too
    assert ours.arch == CASES[name][0] and ours.hparams == model.hparams
    with torch.no_grad():
        assert torch.equal(ours.module(x), y)


@pytest.mark.parametrize("name", list(CASES))
def test_tiled_equals_untiled(name: str) -> None:
    """40x40 input, tiles of 16, margin = the model's receptive_field: same output."""
    model = _make(name)
    torch.manual_seed(1)
    x = torch.rand(1, model.in_channels, 40, 40)
    s = 1 if model.pre_upsampled else model.scale
    with torch.no_grad():
        full = forward_padded(model, x, model.window)
    tiled = run_sync(run_tiled(model, x, s, 16, model.receptive_field, window=model.window))
    assert tiled.shape == full.shape
    err = float((tiled - full).abs().max())
    if model.global_context:  # channel attention / instance norm: statistics of the whole input
        covering = run_sync(run_tiled(model, x, s, 16, 40, window=model.window))
        assert torch.allclose(covering, full, atol=1e-5)
        assert model.receptive_field < 40 and err < 1.0
    else:
        assert err < 1e-5, err


def test_window_models_tile_on_the_window_grid() -> None:
    """SwinIR's windows start at the input's origin: tiles must start on the image's grid."""
    model = _make("swinir-classical")
    torch.manual_seed(2)
    x = torch.rand(1, 3, 41, 44)  # tile inputs would start off the 4-pixel grid
    with torch.no_grad():
        full = forward_padded(model, x, model.window)
    tiled = run_sync(run_tiled(model, x, 2, 16, model.receptive_field, window=model.window))
    assert float((tiled - full).abs().max()) < 1e-5
    unaligned = run_sync(run_tiled(model, x, 2, 16, model.receptive_field, window=1))
    assert float((unaligned - full).abs().max()) > 1e-3  # the alignment is what makes it exact


def test_y_channel_models_declare_it() -> None:
    for m in (SRCNN(), FSRCNN(3), ESPCN(3), VDSR()):
        assert m.y_only and m.in_channels == 1
    assert SRCNN().pre_upsampled and VDSR().pre_upsampled
    assert not FSRCNN(2).pre_upsampled and not ESPCN(2).pre_upsampled
    rgb = SRCNN(n_colors=3)
    assert not rgb.y_only and rgb.in_channels == 3
    assert SwinIR(2).window == 8 and get_arch("srcnn").any_scale and get_arch("fsrcnn").needs_scale


def test_official_key_names_and_param_counts() -> None:
    def n(m):
        return sum(p.numel() for p in m.parameters())

    with torch.device("meta"):
        rcan, swin, light = RCAN(scale=4), SwinIR(4), SwinIR(
            2, embed_dim=60, depths=[6] * 4, num_heads=[6] * 4, upsampler="pixelshuffledirect")
        vdsr, srcnn, fsrcnn, msr = VDSR(), SRCNN(), FSRCNN(3), MSRResNet()
        srres = SRResNet()
    assert n(rcan) == 15_592_379 and n(swin) == 11_900_199 and n(light) == 910_152
    assert n(vdsr) == 664_704 and n(srcnn) == 8_129 and n(fsrcnn) == 12_809
    assert n(msr) == 1_517_571 and n(srres) == 1_546_752
    keys = set(rcan.state_dict())
    for k in ("sub_mean.weight", "head.0.weight", "body.9.body.19.body.0.weight",
              "body.9.body.19.body.2.bias", "body.9.body.19.body.3.conv_du.0.weight",
              "body.9.body.19.body.3.conv_du.2.bias", "body.9.body.20.weight", "body.10.weight",
              "tail.0.0.weight", "tail.0.2.weight", "tail.1.weight", "add_mean.bias"):
        assert k in keys, k
    keys = set(swin.state_dict())
    p = "layers.5.residual_group.blocks.5."
    for k in ("conv_first.weight", "patch_embed.norm.weight", p + "norm1.weight",
              p + "attn.qkv.weight", p + "attn.proj.bias", p + "attn.relative_position_bias_table",
              p + "attn.relative_position_index", p + "norm2.bias", p + "mlp.fc1.weight",
              p + "mlp.fc2.weight", "layers.5.conv.weight", "norm.weight",
              "conv_after_body.weight", "conv_before_upsample.0.weight", "upsample.0.weight",
              "upsample.2.weight", "conv_last.weight"):
        assert k in keys, k
    assert not any("attn_mask" in k for k in keys)
    assert set(light.state_dict()) >= {"upsample.0.weight", "upsample.0.bias"}
    assert "upsample.2.weight" not in light.state_dict()
    table = swin.layers[0].residual_group.blocks[0].attn.relative_position_bias_table
    assert table.shape == (225, 6)  # (2 * 8 - 1)^2 positions x 6 heads
    assert set(vdsr.state_dict()) == ({"input.weight", "output.weight"}
                                      | {f"residual_layer.{i}.conv.weight" for i in range(18)})
    assert set(srcnn.state_dict()) == {f"conv{i}.{p}" for i in (1, 2, 3)
                                       for p in ("weight", "bias")}
    assert {"conv_input.weight", "residual.15.in2.bias", "bn_mid.weight", "upscale4x.3.weight",
            "conv_output.weight"} <= set(srres.state_dict())


def test_detection_reads_hyperparameters() -> None:
    with torch.device("meta"):
        _, hp = detect_architecture(SwinIR(3, embed_dim=60, depths=[6] * 4, num_heads=[6] * 4,
                                           upsampler="pixelshuffledirect").state_dict())
        assert hp["upscale"] == 3 and hp["depths"] == [6] * 4 and hp["window_size"] == 8
        assert hp["embed_dim"] == 60 and hp["mlp_ratio"] == 2.0 and hp["num_heads"] == [6] * 4
        big = SwinIR(4, window_size=7, num_heads=[6, 3, 6, 6, 6, 6])
        _, hp = detect_architecture(big.state_dict())
        assert hp["window_size"] == 7 and hp["num_heads"][1] == 3
        assert hp["upsampler"] == "pixelshuffle" and hp["upscale"] == 4
        _, hp = detect_architecture(RCAN(3, 4, 32, 8, scale=3).state_dict())
        assert (hp["n_resgroups"], hp["n_resblocks"], hp["reduction"], hp["scale"]) == (3, 4, 8, 3)
        _, hp = detect_architecture(LRFNet("separable", k=11, scale=4).state_dict())
        assert (hp["k"], hp["n_resblocks"], hp["scale"]) == (11, 16, 4)
        _, hp = detect_architecture(FSRCNN(4, d=32, s=5, m=1).state_dict())
        assert (hp["d"], hp["s"], hp["m"]) == (32, 5, 1)


def test_lrfnet_atrous_dilations_and_edsr_distinction(tmp_path: Path) -> None:
    model = LRFNet("atrous", n_feats=8, scale=2)
    assert model.hparams["dilations"] == [1, 1, 1, 1, 4, 4, 4, 4, 8, 8, 8, 8]
    arch, hp = detect_architecture(model.state_dict())
    assert arch.name == "lrfnet" and hp["dilations"] == model.hparams["dilations"]
    bare = {k: v for k, v in model.state_dict().items() if k != "dilations"}
    assert detect_architecture(bare)[0].name == "edsr"  # shapes alone are a 12-block EDSR
    path = save_checkpoint(model, tmp_path / "lrfa.pth")
    loaded = load_model(path)
    assert loaded.arch == "lrfnet" and loaded.hparams["dilations"] == model.hparams["dilations"]
    lie = {"arch": "lrfnet", "hparams": {**model.hparams, "dilations": [2] * 12},
           "state_dict": model.state_dict()}
    torch.save(lie, tmp_path / "lie.pth")
    with pytest.raises(CheckpointError, match="dilations"):
        load_model(tmp_path / "lie.pth")


def test_swinir_official_layout_loads(tmp_path: Path) -> None:
    """``params_ema`` wrapper and the official ``attn_mask`` buffers (computed here)."""
    model = _make("swinir-classical")
    sd = dict(model.state_dict())
    sd["layers.0.residual_group.blocks.0.attn_mask"] = torch.zeros(1)  # never used, dropped
    path = tmp_path / "001_classicalSR_DF2K_s64w8_SwinIR-M_x2.pth"
    torch.save({"params_ema": sd, "params": {k: v * 0 for k, v in sd.items()}}, path)
    loaded = load_model(path)
    assert loaded.arch == "swinir" and loaded.scale == 2
    x = torch.rand(1, 3, 10, 7)  # not a multiple of the window: padded inside
    with torch.no_grad():
        assert torch.equal(loaded.module(x), model(x))


def test_scale_from_name_and_hints(tmp_path: Path) -> None:
    assert scale_from_name("fsrcnn_x3_yjn870.pth") == 3
    assert scale_from_name("EDSR-X4.pt") == 4 and scale_from_name("srcnn_915_x3_chxy95.pkl") == 3
    assert scale_from_name("model.pth") is None and scale_from_name("a_x2_b_x3.pth") is None
    model = FSRCNN(3, d=8, s=4, m=1)
    plain = tmp_path / "fsrcnn.pth"
    torch.save(model.state_dict(), plain)
    with pytest.raises(CheckpointError, match="--scale-hint"):
        load_model(plain)
    assert load_model(plain, scale=3).scale == 3
    named = tmp_path / "fsrcnn_x3.pth"
    torch.save(model.state_dict(), named)
    assert load_model(named).scale == 3 and load_model(named, scale=3).scale == 3
    with pytest.raises(CheckpointError, match="contradicts the file name"):
        load_model(named, scale=2)
    ours = save_checkpoint(model, tmp_path / "ours.pth")  # our format keeps the scale
    assert load_model(ours).scale == 3
    edsr = tmp_path / "edsr.pth"
    torch.save(EDSR(1, 8, scale=2).state_dict(), edsr)
    with pytest.raises(CheckpointError, match="tensors are for x2"):
        load_model(edsr, scale=4)
    vdsr = tmp_path / "vdsr.pth"
    torch.save(VDSR(4, 8).state_dict(), vdsr)
    loaded = load_model(vdsr)
    assert loaded.scale is None and loaded.kind == "fixed"  # runs at any scale
