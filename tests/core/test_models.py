"""core.models: architectures (official key names), registry detection, catalog."""

from __future__ import annotations

import pytest
import torch

from core.errors import CheckpointError
from core.models import (
    ARCHITECTURES,
    ArchSpec,
    detect_architecture,
    get_arch,
    list_models,
    load_model,
    resolve,
    save_checkpoint,
)
from core.models.archs import EDSR, RDN, Interpolation, MeanShift, edsr_baseline, edsr_full
from core.models.contracts import ArbitraryScaleSR, FixedScaleSR, make_cell, make_coord
from core.models.registry import detect_edsr, detect_liif, detect_rdn

torch.manual_seed(0)


def _tiny_edsr(scale: int = 2, **kw) -> EDSR:
    return EDSR(n_resblocks=2, n_feats=8, scale=scale, **kw).eval()


def _roundtrip(model: torch.nn.Module) -> tuple[ArchSpec, dict, torch.nn.Module]:
    sd = model.state_dict()
    arch, hp = detect_architecture(sd)
    rebuilt = arch.build(**hp)
    rebuilt.load_state_dict(sd, strict=True)
    return arch, hp, rebuilt.eval()


# -- EDSR ----------------------------------------------------------------------------------

def test_edsr_official_key_names() -> None:
    keys = set(_tiny_edsr(4).state_dict())
    for k in ("sub_mean.weight", "sub_mean.bias", "add_mean.weight", "add_mean.bias",
              "head.0.weight", "head.0.bias", "body.0.body.0.weight", "body.0.body.2.bias",
              "body.1.body.2.weight", "body.2.weight", "body.2.bias",
              "tail.0.0.weight", "tail.0.2.weight", "tail.1.weight", "tail.1.bias"):
        assert k in keys, k
    assert "body.0.body.1.weight" not in keys  # ReLU at index 1
    # Full EDSR-baseline x2 key set, written out from EDSR-PyTorch's naming.
    expected = {f"{m}_mean.{p}" for m in ("sub", "add") for p in ("weight", "bias")}
    expected |= {f"head.0.{p}" for p in ("weight", "bias")}
    wb = ("weight", "bias")
    expected |= {f"body.{i}.body.{j}.{p}" for i in range(16) for j in (0, 2) for p in wb}
    expected |= {f"body.16.{p}" for p in ("weight", "bias")}
    expected |= {f"tail.0.0.{p}" for p in wb} | {f"tail.1.{p}" for p in wb}
    with torch.device("meta"):
        assert set(edsr_baseline(2).state_dict()) == expected
    assert set(_tiny_edsr(3).state_dict()) >= {"tail.0.0.weight"}
    assert "tail.0.2.weight" not in _tiny_edsr(3).state_dict()


def test_meanshift_matches_edsr_pytorch() -> None:
    m = MeanShift(255.0)
    assert torch.equal(m.weight.view(3, 3), torch.eye(3))
    assert torch.allclose(m.bias, -255 * torch.tensor([0.4488, 0.4371, 0.4040]))
    assert not any(p.requires_grad for p in m.parameters())
    assert torch.allclose(MeanShift(1.0, sign=1).bias, torch.tensor([0.4488, 0.4371, 0.4040]))
    model = _tiny_edsr()
    assert not model.sub_mean.weight.requires_grad and model.head[0].weight.requires_grad


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_edsr_output_shape(scale: int) -> None:
    model = _tiny_edsr(scale)
    assert isinstance(model, FixedScaleSR) and model.scale == scale
    with torch.no_grad():
        y = model(torch.rand(2, 3, 5, 7))
    assert y.shape == (2, 3, 5 * scale, 7 * scale)


def test_edsr_forward_is_edsr_pytorch_in_0_255() -> None:
    """forward(x) == EDSR-PyTorch's forward on 255 x, divided by 255."""
    model = _tiny_edsr(2)
    x = torch.rand(1, 3, 6, 6)
    with torch.no_grad():
        h = model.head(model.sub_mean(x * 255))
        ref = model.add_mean(model.tail(model.body(h) + h)) / 255
        assert torch.allclose(model(x), ref, atol=1e-5)


def test_edsr_no_upsampling_and_no_mean_shift() -> None:
    enc = EDSR(n_resblocks=2, n_feats=8, no_upsampling=True, mean_shift=False, rgb_range=1.0).eval()
    keys = set(enc.state_dict())
    assert enc.out_dim == 8 and not any(k.startswith("tail.") for k in keys)
    assert {"sub_mean.weight", "add_mean.bias"} <= keys  # present for strict LIIF loading
    x = torch.rand(1, 3, 5, 6)
    with torch.no_grad():
        h = enc.head(x)
        assert torch.allclose(enc(x), enc.body(h) + h)
        assert enc(x).shape == (1, 8, 5, 6)


def test_edsr_presets_and_receptive_field() -> None:
    with torch.device("meta"):
        base, full = edsr_baseline(4), edsr_full(3)
    assert (len(base.body), base.head[0].out_channels, base.body[0].res_scale) == (17, 64, 1.0)
    assert (len(full.body), full.head[0].out_channels, full.body[0].res_scale) == (33, 256, 0.1)
    # per side: head, 32 block convs, body end at LR, then the x4 tail's 1 + 1/2 + 1/4 LR px
    assert base.receptive_field >= 1 + 32 + 1 + 2
    with pytest.raises(ValueError):
        EDSR(n_resblocks=1, n_feats=4, scale=5)


def test_meanshift_constants_filled_when_absent() -> None:
    model = _tiny_edsr()
    sd = {k: v for k, v in model.state_dict().items() if "_mean." not in k}
    other = _tiny_edsr()
    other.load_state_dict(sd, strict=True)
    assert torch.equal(other.sub_mean.bias, model.sub_mean.bias)


@pytest.mark.parametrize("scale", [1, 2, 3, 4, 8])
def test_edsr_detect_roundtrip(scale: int) -> None:
    model = _tiny_edsr(scale)
    arch, hp, rebuilt = _roundtrip(model)
    assert arch.name == "edsr" and arch.kind == "fixed"
    assert hp == dict(n_resblocks=2, n_feats=8, res_scale=1.0, n_colors=3, rgb_range=255.0,
                      scale=scale)
    x = torch.rand(1, 3, 4, 5)
    with torch.no_grad():
        assert torch.equal(model(x), rebuilt(x))


def test_edsr_detect_variants() -> None:
    gray = EDSR(n_resblocks=1, n_feats=4, n_colors=1, rgb_range=1.0, scale=2)
    hp = detect_edsr(gray.state_dict())
    assert hp is not None and hp["n_colors"] == 1 and hp["rgb_range"] == 1.0
    with torch.device("meta"):
        full = edsr_full(4).state_dict()
    hp = detect_edsr(full)
    assert hp is not None
    assert (hp["n_feats"], hp["n_resblocks"], hp["res_scale"], hp["scale"]) == (256, 32, 0.1, 4)
    enc = EDSR(n_resblocks=2, n_feats=8, no_upsampling=True).state_dict()
    assert detect_edsr(enc) is None  # a tail-less EDSR is no SR model ...
    assert detect_edsr(enc, require_tail=False)["no_upsampling"] is True  # ... but a LIIF encoder


# -- RDN -----------------------------------------------------------------------------------

def test_rdn_official_key_names() -> None:
    keys = set(RDN(G0=8, config=(2, 2, 4), scale=4).state_dict())
    for k in ("SFENet1.weight", "SFENet2.bias", "RDBs.0.convs.0.conv.0.weight",
              "RDBs.1.convs.1.conv.0.bias", "RDBs.1.LFF.weight", "GFF.0.weight", "GFF.1.weight",
              "UPNet.0.weight", "UPNet.2.weight", "UPNet.4.weight"):
        assert k in keys, k
    with torch.device("meta"):
        b = RDN(config="B", scale=2)
    assert len(b.RDBs) == 16 and len(b.RDBs[0].convs) == 8
    assert b.RDBs[0].convs[0].conv[0].out_channels == 64
    assert b.UPNet[0].out_channels == 64 * 4


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_rdn_detect_roundtrip(scale: int) -> None:
    model = RDN(G0=8, config=(2, 3, 4), scale=scale).eval()
    arch, hp, rebuilt = _roundtrip(model)
    assert arch.name == "rdn" and hp["config"] == (2, 3, 4)
    assert hp["scale"] == scale and hp["G0"] == 8
    x = torch.rand(1, 3, 5, 4)
    with torch.no_grad():
        y = model(x)
        assert y.shape == (1, 3, 5 * scale, 4 * scale)
        assert torch.equal(y, rebuilt(x))


def test_rdn_detects_named_configs_and_encoder() -> None:
    with torch.device("meta"):
        a, b = RDN(config="A", scale=3).state_dict(), RDN(config="B", scale=4).state_dict()
    assert detect_rdn(a)["config"] == "A" and detect_rdn(a)["scale"] == 3
    assert detect_rdn(b)["config"] == "B" and detect_rdn(b)["scale"] == 4
    enc = RDN(G0=8, config=(1, 2, 4), no_upsampling=True)
    assert enc.out_dim == 8 and detect_rdn(enc.state_dict()) is None
    assert detect_rdn(enc.state_dict(), require_upsampler=False)["no_upsampling"] is True
    alias = RDN(G0=8, RDNconfig=(1, 2, 4), RDNkSize=3, no_upsampling=True)
    assert set(alias.state_dict()) == set(enc.state_dict())


# -- LIIF ----------------------------------------------------------------------------------

def _liif():
    return pytest.importorskip("core.models.archs.liif",
                               reason="core/models/archs/liif.py not written yet")


def _liif_query(model, x):
    coord = make_coord((9, 11)).unsqueeze(0)
    cell = make_cell(coord, (9, 11))
    with torch.no_grad():
        return model.query(model.encode(x), coord, cell)


@pytest.mark.parametrize("encoder,enc_args,unfold,cell", [
    ("edsr-baseline", {"n_resblocks": 2, "n_feats": 8}, True, True),
    ("edsr-baseline", {"n_resblocks": 1, "n_feats": 4}, False, False),
    ("rdn", {"G0": 8, "RDNconfig": (2, 2, 4)}, True, False),
])
def test_liif_detect_roundtrip(encoder: str, enc_args: dict, unfold: bool, cell: bool) -> None:
    liif = _liif()
    spec = liif.default_liif_spec(encoder=encoder, hidden=16, depth=2, encoder_args=enc_args)
    spec["args"].update(feat_unfold=unfold, cell_decode=cell)
    model = liif.liif_from_spec(spec).eval()
    assert isinstance(model, ArbitraryScaleSR)
    sd = model.state_dict()
    assert "imnet.layers.0.weight" in sd and "imnet.layers.4.bias" in sd
    arch, hp, rebuilt = _roundtrip(model)
    assert arch.name == "liif" and arch.kind == "arbitrary"
    args = hp["spec"]["args"]
    assert args["encoder_spec"]["name"] == encoder
    assert args["imnet_spec"]["args"] == {"out_dim": 3, "hidden_list": [16, 16]}
    assert (args["feat_unfold"], args["cell_decode"]) == (unfold, cell)
    x = torch.rand(1, 3, 6, 7)
    assert torch.equal(_liif_query(model, x), _liif_query(rebuilt, x))


def test_liif_detects_official_configs() -> None:
    liif = _liif()
    for enc in ("edsr-baseline", "rdn"):
        with torch.device("meta"):
            sd = liif.liif_from_spec(liif.default_liif_spec(encoder=enc)).state_dict()
        spec = detect_liif(sd)["spec"]
        assert spec["args"]["encoder_spec"] == {"name": enc, "args": {"no_upsampling": True}}
        mlp = {"name": "mlp", "args": {"out_dim": 3, "hidden_list": [256] * 4}}
        assert spec["args"]["imnet_spec"] == mlp
        assert spec["args"]["feat_unfold"] and spec["args"]["cell_decode"]
        assert "encoder.sub_mean.weight" in sd or enc == "rdn"


# -- interpolation -------------------------------------------------------------------------

def test_interpolation_model() -> None:
    resize = pytest.importorskip("core.resize", reason="core/resize.py not written yet")
    x = torch.rand(1, 3, 8, 6)
    for method in ("nearest", "bilinear", "bicubic", "lanczos3"):
        y = Interpolation(method).resize(x, (16, 15))
        assert y.shape == (1, 3, 16, 15)
        assert torch.allclose(y, resize.imresize_torch(x, size=(16, 15), method=method))
    assert Interpolation("lanczos").method == "lanczos3"
    with pytest.raises(ValueError, match="unknown interpolation"):
        Interpolation("sinc")


# -- registry and catalog ------------------------------------------------------------------

def test_registry_list() -> None:
    names = [a.name for a in ARCHITECTURES]
    assert {"edsr", "rdn", "liif", "interp"} <= set(names) and len(names) == len(set(names))
    assert all(a.kind in ("fixed", "arbitrary", "interp") for a in ARCHITECTURES)
    assert get_arch("EDSR").name == "edsr"
    with pytest.raises(CheckpointError, match="unknown architecture"):
        get_arch("srgan")


def test_detect_names_closest_architecture() -> None:
    sd = dict(_tiny_edsr().state_dict())
    sd["conv_first.weight"] = sd.pop("head.0.weight")
    sd.pop("head.0.bias")
    with pytest.raises(CheckpointError) as info:
        detect_architecture(sd)
    msg = str(info.value)
    assert "closest is edsr" in msg and "head.0.weight" in msg and "conv_first.weight" in msg
    assert "missing" in msg and "unexpected" in msg
    with pytest.raises(CheckpointError, match="none of their expected keys"):
        detect_architecture({"encoder_x.conv9.weight": torch.zeros(1)})


def test_catalog_baselines_and_resolve(tmp_path) -> None:
    entries = list_models()
    names = [e.name for e in entries]
    assert names[:4] == ["nearest", "bilinear", "bicubic", "lanczos"]
    for e in entries[4:]:  # bundled models must have their weight file
        assert e.weights is not None and e.weights.is_file()
    assert resolve("BICUBIC").kind == "interp"
    assert resolve("lanczos3").hparams["method"] == "lanczos3"
    loaded = load_model("bilinear")
    assert loaded.kind == "interp" and loaded.scale is None
    assert isinstance(loaded.module, Interpolation)
    with pytest.raises(CheckpointError, match="unknown model"):
        resolve("no-such-model")

    # A bundled weight file with its card shows up in the catalog and loads by entry.
    model = _tiny_edsr(3)
    save_checkpoint(model, tmp_path / "tiny_edsr_x3.pth")
    card = "# tiny\n\nA tiny EDSR for tests.\n"
    (tmp_path / "tiny_edsr_x3.md").write_text(card, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored")
    entries = list_models(tmp_path)
    assert [e.name for e in entries][4:] == ["tiny_edsr_x3"]
    e = entries[4]
    assert (e.arch, e.kind, e.scales) == ("edsr", "fixed", (3,))
    assert e.description == "A tiny EDSR for tests."
    assert resolve("tiny_edsr_x3", weights_dir=tmp_path).weights == tmp_path / "tiny_edsr_x3.pth"
    user = resolve(str(tmp_path / "tiny_edsr_x3.pth"))
    assert user.arch == "edsr" and user.weights == tmp_path / "tiny_edsr_x3.pth"
    loaded = load_model(e)
    assert loaded.name == "tiny_edsr_x3" and loaded.scale == 3
