"""core.models.checkpoints: every checkpoint format, the safe loader, readable errors."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from core.errors import CheckpointError
from core.models import load_model, load_state_dict_file, save_checkpoint
from core.models.archs import EDSR, RDN
from core.models.checkpoints import SAFE_PICKLE
from core.models.safe_unpickle import Inert
from core.models.contracts import make_cell, make_coord
from tests.helpers import shared_datasets

torch.manual_seed(0)
X = torch.rand(1, 3, 5, 6)


def _edsr(scale: int = 2, **kw) -> EDSR:
    return EDSR(n_resblocks=2, n_feats=8, scale=scale, **kw).eval()


def _same_output(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    with torch.no_grad():
        return torch.equal(a(X), b(X))


# -- formats -------------------------------------------------------------------------------

def _write(path: Path, obj) -> Path:
    torch.save(obj, path)
    return path


@pytest.mark.parametrize("fmt", ["plain", "params", "params_ema", "state_dict", "model", "net",
                                 "module_prefix", "safetensors", "ours", "ours_safetensors",
                                 "pickled_whole_model"])
def test_formats_roundtrip(tmp_path: Path, fmt: str) -> None:
    model = _edsr(4)
    sd = model.state_dict()
    decoy = _edsr(4).state_dict()  # different random weights
    p = tmp_path / "ckpt.pth"
    if fmt == "plain":
        _write(p, sd)
    elif fmt in ("params", "state_dict", "model", "net"):
        _write(p, {fmt: sd, "epoch": 7})
    elif fmt == "params_ema":
        _write(p, {"params": decoy, "params_ema": sd})  # EMA weights are preferred
    elif fmt == "module_prefix":
        _write(p, {"state_dict": {f"module.{k}": v for k, v in sd.items()}})
    elif fmt == "safetensors":
        p = tmp_path / "ckpt.safetensors"
        save_file({k: v.contiguous() for k, v in sd.items()}, p)
    elif fmt == "ours":
        save_checkpoint(model, p, meta={"note": "test"})
    elif fmt == "ours_safetensors":
        p = save_checkpoint(model, tmp_path / "ckpt.safetensors")
    elif fmt == "pickled_whole_model":
        torch.save({"epoch": 3, "model": model}, p)  # the old whole-model habit
    loaded = load_model(p)
    assert (loaded.arch, loaded.kind, loaded.scale, loaded.source) == ("edsr", "fixed", 4, p)
    assert not loaded.module.training
    assert _same_output(model, loaded.module)
    _, meta = load_state_dict_file(p)
    if fmt == "module_prefix":
        assert meta["stripped_prefix"] == "module."
    if fmt == "pickled_whole_model":
        assert meta["loader"] == "restricted" and meta["class"] == "core.models.archs.edsr.EDSR"
        assert meta["extra"] == {"epoch": 3}
    if fmt == "ours":
        assert meta["arch"] == "edsr" and meta["meta"] == {"note": "test"}


def test_our_format_keeps_what_shapes_cannot_tell(tmp_path: Path) -> None:
    model = EDSR(n_resblocks=1, n_feats=8, res_scale=0.5, rgb_range=1.0, mean_shift=False,
                 scale=2).eval()
    for name in ("m.pth", "m.safetensors"):
        loaded = load_model(save_checkpoint(model, tmp_path / name))
        assert loaded.hparams["res_scale"] == 0.5 and loaded.hparams["mean_shift"] is False
        assert _same_output(model, loaded.module)
    rdn = RDN(G0=8, config=(2, 2, 4), scale=3).eval()
    loaded = load_model(save_checkpoint(rdn, tmp_path / "rdn.pth"))
    assert loaded.arch == "rdn" and loaded.scale == 3 and _same_output(rdn, loaded.module)
    loaded = load_model(save_checkpoint(rdn, tmp_path / "rdn.safetensors"))  # config tuple via JSON
    assert _same_output(rdn, loaded.module)


def test_save_is_atomic_and_overwrites(tmp_path: Path) -> None:
    p = tmp_path / "sub" / "m.pth"
    save_checkpoint(_edsr(), p)
    second = _edsr()
    save_checkpoint(second, p)
    assert _same_output(second, load_model(p).module)
    assert sorted(os.listdir(p.parent)) == ["m.pth"]  # no temp file left behind
    with pytest.raises(ValueError):
        save_checkpoint(torch.nn.Conv2d(1, 1, 1), tmp_path / "x.pth")
    assert not (tmp_path / "x.pth").exists()
    assert not any(n.endswith(".tmp") for n in os.listdir(tmp_path))


def _liif():
    return pytest.importorskip("core.models.archs.liif",
                               reason="core/models/archs/liif.py not written yet")


def test_liif_self_describing_format(tmp_path: Path) -> None:
    liif = _liif()
    spec = liif.default_liif_spec(hidden=16, depth=2, encoder_args={"n_resblocks": 1, "n_feats": 8})
    model = liif.liif_from_spec(spec).eval()
    coord = make_coord((7, 9)).unsqueeze(0)
    cell = make_cell(coord, (7, 9))

    def run(m):
        with torch.no_grad():
            return m.query(m.encode(X), coord, cell)

    # The official layout: {'model': {'name', 'args', 'sd'}, ...}
    official = tmp_path / "official_liif.pth"
    torch.save({"model": {**spec, "sd": model.state_dict()}, "epoch": 1000}, official)
    sd, meta = load_state_dict_file(official)
    assert meta["format"] == "liif" and meta["spec"]["name"] == "liif"
    assert meta["spec"]["args"]["encoder_spec"]["args"]["n_feats"] == 8
    for p in (official, save_checkpoint(model, tmp_path / "ours.pth"),
              save_checkpoint(model, tmp_path / "ours.safetensors")):
        loaded = load_model(p)
        assert (loaded.arch, loaded.kind, loaded.scale) == ("liif", "arbitrary", None)
        assert torch.equal(run(model), run(loaded.module))
    saved = torch.load(tmp_path / "ours.pth", weights_only=True)
    assert set(saved["model"]) == {"name", "args", "sd"}
    # A bare LIIF state dict: the spec is reconstructed from the shapes.
    torch.save(model.state_dict(), tmp_path / "bare.pth")
    assert torch.equal(run(model), run(load_model(tmp_path / "bare.pth").module))


# -- bad files -----------------------------------------------------------------------------

def _expect(path: Path | str, *words: str) -> str:
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    msg = str(info.value)
    for w in words:
        assert w in msg, msg
    assert "\n" not in msg
    return msg


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit.script
def test_missing_empty_truncated_and_garbage_files(tmp_path: Path) -> None:
    _expect(tmp_path / "nope.pth", "not found", "nope.pth")
    _expect(str(tmp_path / "nope.pth"), "checkpoint file not found")
    (tmp_path / "empty.pth").write_bytes(b"")
    _expect(tmp_path / "empty.pth", "empty")
    p = save_checkpoint(_edsr(), tmp_path / "full.pth")
    data = p.read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: len(data) // 2])
    _expect(tmp_path / "cut.pth", "cut.pth", "truncated or corrupt")
    legacy = tmp_path / "legacy.pth"
    torch.save(_edsr().state_dict(), legacy, _use_new_zipfile_serialization=False)
    assert _same_output(load_model(legacy).module, load_model(legacy).module)
    legacy.write_bytes(legacy.read_bytes()[:500])
    _expect(legacy, "truncated or corrupt")
    (tmp_path / "noise.pth").write_bytes(bytes([7, 200, 13, 99]) + os.urandom(2000))
    _expect(tmp_path / "noise.pth", "not a PyTorch checkpoint")
    (tmp_path / "config.json").write_text(json.dumps({"model": "edsr", "scale": 2}))
    _expect(tmp_path / "config.json", "text file", "not a PyTorch checkpoint")
    scripted = tmp_path / "scripted.pt"
    torch.jit.script(torch.nn.Conv2d(1, 1, 1)).save(str(scripted))
    _expect(scripted, "TorchScript")  # refused before torch.load could hand it to torch.jit.load
    st = tmp_path / "cut.safetensors"
    save_file({"a": torch.zeros(100)}, st)
    st.write_bytes(st.read_bytes()[:-50])
    _expect(st, "truncated or corrupt")


def test_not_a_state_dict(tmp_path: Path) -> None:
    _expect(_write(tmp_path / "list.pth", [1, 2, 3]), "holds a list", "not a state dict")
    meta = _write(tmp_path / "meta.pth", {"epoch": 3, "lr": 0.1})
    _expect(meta, "keys epoch, lr", "not a state dict")
    _expect(_write(tmp_path / "emptysd.pth", {}), "not a state dict")


def test_nan_weight_is_named(tmp_path: Path) -> None:
    sd = _edsr().state_dict()
    sd["body.1.body.2.weight"][0, 0, 1, 1] = float("nan")
    sd["tail.1.bias"][0] = float("inf")
    _expect(_write(tmp_path / "nan.pth", sd), "body.1.body.2.weight", "NaN/Inf")


def test_wrong_architecture_names_the_closest(tmp_path: Path) -> None:
    sd = dict(RDN(G0=8, config=(1, 2, 4), scale=2).state_dict())
    sd["GFF_fusion.weight"] = sd.pop("GFF.0.weight")
    msg = _expect(_write(tmp_path / "rdnish.pth", sd), "matches no known architecture",
                  "closest is rdn",
                  "missing GFF.0.weight", "unexpected", "GFF_fusion.weight")
    assert msg.startswith("rdnish.pth")
    srcnn = {"conv1.weight": torch.zeros(64, 1, 9, 9), "conv1.bias": torch.zeros(64)}
    _expect(_write(tmp_path / "srcnn.pth", srcnn), "matches no known architecture",
            "closest is srcnn", "missing conv2.weight")


def test_shape_and_key_mismatch_on_strict_load(tmp_path: Path) -> None:
    big = EDSR(n_resblocks=1, n_feats=16, scale=2)
    p = tmp_path / "lying.pth"
    torch.save({"arch": "edsr", "hparams": {"n_resblocks": 1, "n_feats": 8, "scale": 2},
                "state_dict": big.state_dict()}, p)
    _expect(p, "head.0.weight", "(16, 3, 3, 3)", "(8, 3, 3, 3)", "expects")
    sd = _edsr().state_dict()
    sd.pop("body.0.body.0.bias")
    sd["extra.weight"] = torch.zeros(1)
    hp = {"n_resblocks": 2, "n_feats": 8, "scale": 2}
    torch.save({"arch": "edsr", "hparams": hp, "state_dict": sd}, p)
    _expect(p, "missing body.0.body.0.bias", "unexpected extra.weight")
    torch.save({"arch": "srgan", "hparams": {}, "state_dict": sd}, p)
    _expect(p, "unknown architecture 'srgan'")


# -- the safe loader -----------------------------------------------------------------------

class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _EvilEval:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (eval, (f"open({str(self.marker)!r}, 'w').write('x')",))


@pytest.mark.parametrize("evil_cls", [_Evil, _EvilEval])
def test_malicious_pickles_are_not_executed(tmp_path: Path, evil_cls) -> None:
    marker = tmp_path / "PWNED"
    payload = evil_cls(marker)
    zip_file = _write(tmp_path / "evil_zip.pth", {"model": payload})
    _expect(zip_file, "not a state dict", "not loaded, for safety")
    legacy = tmp_path / "evil_legacy.pth"
    torch.save({"state_dict": payload}, legacy, _use_new_zipfile_serialization=False)
    _expect(legacy, "not a state dict")
    raw = tmp_path / "evil_raw.pkl"
    raw.write_bytes(pickle.dumps(payload, protocol=2))
    _expect(raw, "not a PyTorch checkpoint")
    mixed = _edsr().state_dict()
    mixed["x"] = payload
    _expect(_write(tmp_path / "evil_mixed.pth", {"params": mixed}), "not a state dict")
    obj = SAFE_PICKLE.loads(pickle.dumps(payload))
    assert isinstance(obj, Inert)
    assert not marker.exists()


# -- the real third-party files ------------------------------------------------------------

@pytest.mark.shared
def test_official_checkpoints_load_their_tensors() -> None:
    folder = shared_datasets("checkpoints/official")
    sd, meta = load_state_dict_file(folder / "srcnn_915_x3_chxy95.pkl")
    assert {k: tuple(v.shape) for k, v in sd.items()} == {
        "conv1.weight": (64, 1, 9, 9), "conv1.bias": (64,), "conv2.weight": (32, 64, 1, 1),
        "conv2.bias": (32,), "conv3.weight": (1, 32, 5, 5), "conv3.bias": (1,)}
    for s in (2, 3, 4):
        sd, meta = load_state_dict_file(folder / f"fsrcnn_x{s}_yjn870.pth")
        assert len(sd) == 23 and tuple(sd["first_part.0.weight"].shape) == (56, 1, 5, 5)
        assert tuple(sd["last_part.weight"].shape) == (56, 1, 9, 9)
        assert meta["loader"] == "weights_only"
    sd, meta = load_state_dict_file(folder / "vdsr_twtygqyy_epoch50.pth")  # a pickled whole model
    assert meta["loader"] == "restricted" and meta["class"] == "vdsr.Net"
    assert meta["extra"] == {"epoch": 50}
    assert tuple(sd["input.weight"].shape) == (64, 1, 3, 3)
    assert tuple(sd["output.weight"].shape) == (1, 64, 3, 3)
    convs = [k for k in sd if k.startswith("residual_layer.")]
    assert convs == [f"residual_layer.{i}.conv.weight" for i in range(18)]
    assert all(tuple(sd[k].shape) == (64, 64, 3, 3) for k in convs) and len(sd) == 20
    assert all(0 < float(t.std()) < 1 for t in sd.values())
