"""``model.init_partial``: a model starts from a checkpoint that shares most of its tensors.

EDSR's recipe (x4 initialised from the trained x2: head and body are scale-independent, the
x2 upsampler conv is the first of the x4 upsampler's two) on tiny EDSRs made on the fly and
saved to ``tmp_path``; no dependency on ../shared.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.errors import ConfigError
from core.jobs import run_sync
from core.models import save_checkpoint
from core.models.archs import EDSR
from core.training import build_model, config_from_dict, train
from core.training.model_init import freeze_parameters, init_weights
from core.training.state import load_state


def _edsr(scale: int, n_resblocks: int = 1, seed: int = 0) -> EDSR:
    torch.manual_seed(seed)
    return EDSR(n_resblocks=n_resblocks, n_feats=8, scale=scale).eval()


def _cfg(src: Path | None, scale: int = 4, n_resblocks: int = 1, partial: bool = True,
         **model_over):
    model = {"arch": "edsr", "args": {"n_resblocks": n_resblocks, "n_feats": 8, "scale": scale},
             "init_partial": partial, **model_over}
    if src is not None:
        model["init_from"] = str(src)
    return config_from_dict({
        "name": "tiny_x4_from_x2", "seed": 1, "model": model,
        "data": {"train": ["unused"], "lr_patch": 12, "batch_size": 2},
        "train": {"steps": 2, "lr": 1e-3, "precision": "fp32"}}, check_paths=False)


def test_x4_from_x2_leaves_only_the_second_upsampler_conv_fresh(tmp_path: Path) -> None:
    x2 = _edsr(2, seed=0)
    src = save_checkpoint(x2, tmp_path / "edsr_tiny_x2.pth")
    theirs = x2.state_dict()
    cfg = _cfg(src)

    torch.manual_seed(123)
    fresh_model, _ = build_model(_cfg(None, partial=False))   # what a fresh x4 looks like
    torch.manual_seed(123)
    module, _ = build_model(cfg)                               # same RNG, then x2 loaded
    mine = module.state_dict()

    fresh_names = sorted(k for k in mine if k not in theirs)
    assert fresh_names and all(k.startswith("tail.0.2.") for k in fresh_names), fresh_names
    assert {k.rsplit(".", 1)[0] for k in fresh_names} == {"tail.0.2"}
    for k, v in mine.items():
        if k in theirs:
            assert torch.equal(v, theirs[k]), f"{k} is not the x2 file's"
        else:                                  # the fresh initialisation, untouched
            assert torch.equal(v, fresh_model.state_dict()[k]), k
    # the file's tensors differ from a fresh init, so the equality above means "loaded"
    assert not torch.equal(theirs["head.0.weight"], fresh_model.state_dict()["head.0.weight"])

    # init_weights says which tensors it left fresh (listed when a run starts)
    again, _ = build_model(_cfg(None, partial=False))
    assert sorted(init_weights(again, cfg)) == fresh_names


def test_sharing_less_than_half_is_refused(tmp_path: Path) -> None:
    """A 1-block x4 file into an 8-block x4 model shares head, block 0 and tail: < half."""
    src = save_checkpoint(_edsr(4, n_resblocks=1), tmp_path / "edsr_tiny_1block_x4.pth")
    with pytest.raises(ConfigError, match=r"only \d+ of \d+ tensors shared"):
        build_model(_cfg(src, n_resblocks=8))


def test_a_shape_mismatch_is_refused(tmp_path: Path) -> None:
    """An x3 file into an x4 model: ``tail.0.0`` is 9x8 channels there, 4x8 here."""
    src = save_checkpoint(_edsr(3), tmp_path / "edsr_tiny_x3.pth")
    with pytest.raises(ConfigError, match=r"does not fit.*shapes.*tail\.0\.0"):
        build_model(_cfg(src))


def test_x3_from_x2_with_init_fresh_leaves_the_reshaped_upsampler_conv_fresh(
        tmp_path: Path) -> None:
    """``init_fresh: [tail.0.0]``: the x2 file's 4x8-channel upsampler conv is not loaded into
    the x3 model's 9x8 one (refused above without it); every other tensor is the file's."""
    x2 = _edsr(2, seed=0)
    src = save_checkpoint(x2, tmp_path / "edsr_tiny_x2.pth")
    theirs = x2.state_dict()
    cfg = _cfg(src, scale=3, init_fresh=["tail.0.0"])
    torch.manual_seed(7)
    fresh_model, _ = build_model(_cfg(None, scale=3, partial=False))
    torch.manual_seed(7)
    module, _ = build_model(cfg)
    mine = module.state_dict()
    assert theirs["tail.0.0.weight"].shape != mine["tail.0.0.weight"].shape
    for k, v in mine.items():
        want = fresh_model.state_dict()[k] if k.startswith("tail.0.0.") else theirs[k]
        assert torch.equal(v, want), k
    again, _ = build_model(_cfg(None, scale=3, partial=False))
    assert sorted(init_weights(again, cfg)) == ["tail.0.0.bias", "tail.0.0.weight"]
    # a tensor of the same shape under init_fresh is left fresh too (x4 from x2: the last conv)
    cfg4 = _cfg(src, init_fresh=["tail.1"])
    m4, _ = build_model(_cfg(None, partial=False))
    left = init_weights(m4, cfg4)
    assert "tail.1.weight" in left and not torch.equal(m4.state_dict()["tail.1.weight"],
                                                       theirs["tail.1.weight"])
    # a shape mismatch outside init_fresh is still refused; a prefix that names nothing too
    with pytest.raises(ConfigError, match=r"does not fit.*shapes.*tail\.0\.0"):
        build_model(_cfg(src, scale=3, init_fresh=["tail.1"]))
    with pytest.raises(ConfigError, match=r"'model.init_fresh' 'tial' names no parameter.*tail"):
        build_model(_cfg(src, scale=3, init_fresh=["tial"]))


def test_init_fresh_needs_a_partial_load() -> None:
    with pytest.raises(ConfigError, match="init_fresh.*init_partial: true"):
        _cfg(None, partial=False, init_fresh=["tail.0.0"])
    with pytest.raises(ConfigError, match="init_fresh.*list of parameter-name prefixes"):
        _cfg(None, partial=False, init_fresh="tail.0.0")


def test_init_partial_needs_init_from() -> None:
    with pytest.raises(ConfigError, match="init_partial.*needs.*init_from"):
        _cfg(None, partial=True)
    with pytest.raises(ConfigError, match="init_partial.*true or false"):
        config_from_dict({"name": "x", "model": {"arch": "edsr", "args": {"scale": 2},
                                                 "init_from": "edsr_baseline_x2",
                                                 "init_partial": "yes"},
                          "data": {"train": ["unused"]}}, check_paths=False)


def test_without_init_partial_the_same_file_is_refused(tmp_path: Path) -> None:
    """Strict stays the default: the x2 file into an x4 model is an error naming the missing
    tensors unless the config asks for a partial load."""
    src = save_checkpoint(_edsr(2), tmp_path / "edsr_tiny_x2.pth")
    with pytest.raises(ConfigError, match=r"does not fit.*missing tail\.0\.2"):
        build_model(_cfg(src, partial=False))


# --- model.init_map: an EDSR body as the LIIF encoder ----------------------------------------

def _liif_cfg(src: Path | None, **model_over):
    model = {"arch": "liif", "encoder_args": {"n_resblocks": 1, "n_feats": 8},
             "hidden_list": [16, 16], "init_partial": True,
             "init_map": "edsr_body_to_liif_encoder", **model_over}
    if src is not None:
        model["init_from"] = str(src)
    return config_from_dict({
        "name": "tiny_liif_from_edsr", "seed": 2, "model": model,
        "data": {"train": ["unused"], "lr_patch": 12, "batch_size": 2, "sample_q": 16},
        "train": {"steps": 2, "lr": 1e-3, "precision": "fp32"}}, check_paths=False)


def _edsr_features(edsr: EDSR, x: torch.Tensor) -> torch.Tensor:
    """EDSR's head + body output (what its tail upsamples) for an image in [0, 1]."""
    h = edsr.head(edsr.sub_mean(x * edsr.rgb_range))
    return edsr.body(h) + h


def test_edsr_body_as_liif_encoder_gives_the_same_features(tmp_path: Path) -> None:
    """The mapped encoder on LIIF's (x - 0.5) / 0.5 input makes the EDSR's features (rgb_range
    255, DIV2K mean shift) times 2 / 255 (LIIF's units, so the fresh decoder sees inputs of the
    size of its coordinates), exactly, away from the zero-padded border; only the MLP is fresh."""
    edsr = _edsr(4, seed=3)                     # rgb_range 255 with the mean shift, as bundled
    assert edsr.rgb_range == 255.0 and edsr.mean_shift
    src = save_checkpoint(edsr, tmp_path / "edsr_tiny_x4.pth")
    cfg = _liif_cfg(src)
    liif, _ = build_model(cfg)
    fresh = init_weights(build_model(_liif_cfg(None, init_partial=False,
                                               init_map=None))[0], cfg)
    assert fresh and all(k.startswith("imnet.") for k in fresh), fresh

    torch.manual_seed(0)
    x = torch.rand(2, 3, 20, 22)
    with torch.no_grad():
        ref = _edsr_features(edsr, x) * (2 / 255)
        got = liif.encode(x)
    b = 1 + 2 * 1 + 1                           # head + one block's two convs + body end
    inner = (..., slice(b, -b), slice(b, -b))
    scale = ref.abs().max()
    assert torch.allclose(got[inner], ref[inner], atol=1e-5 * scale, rtol=1e-5)
    # the border differs (EDSR pads with the mean, LIIF with 0.5 grey): "exact except there"
    assert (got[..., 0, :] - ref[..., 0, :]).abs().max() > 1e-3 * scale
    # the body's weights are the file's, bit for bit; its biases are scaled with the features
    sd = liif.state_dict()
    for k, v in edsr.state_dict().items():
        if k.startswith("body."):
            want = v * (2 / 255) if k.endswith(".bias") else v
            assert torch.allclose(sd[f"encoder.{k}"], want, rtol=1e-6, atol=0), k


def test_init_map_refusals(tmp_path: Path) -> None:
    edsr = save_checkpoint(_edsr(4), tmp_path / "edsr_tiny_x4.pth")
    with pytest.raises(ConfigError, match="unknown 'model.init_map'"):
        _liif_cfg(edsr, init_map="edsr_to_anything")
    with pytest.raises(ConfigError, match="init_map.*init_partial: true"):
        _liif_cfg(edsr, init_partial=False)
    with pytest.raises(ConfigError, match="init_map.*needs 'model.init_from'"):
        _liif_cfg(None, init_partial=False)
    with pytest.raises(ConfigError, match="rgb_range"):
        _liif_cfg(edsr, encoder_args={"n_resblocks": 1, "n_feats": 8, "rgb_range": 255})
    with pytest.raises(ConfigError, match="makes a liif, not a edsr"):
        config_from_dict({"name": "x", "model": {
            "arch": "edsr", "args": {"scale": 4}, "init_from": str(edsr), "init_partial": True,
            "init_map": "edsr_body_to_liif_encoder"}, "data": {"train": ["unused"]}},
            check_paths=False)
    # a LIIF file is no EDSR: refused when the weights are loaded
    liif_file = save_checkpoint(build_model(_liif_cfg(None, init_partial=False,
                                                      init_map=None))[0], tmp_path / "l.pth")
    with pytest.raises(ConfigError, match="maps edsr weights onto a liif.*is a liif"):
        build_model(_liif_cfg(liif_file))
    # a wider EDSR does not fit the 8-feature encoder: the shape check of init_partial
    wide = save_checkpoint(EDSR(n_resblocks=1, n_feats=16, scale=4), tmp_path / "wide_x4.pth")
    with pytest.raises(ConfigError, match="shapes"):
        build_model(_liif_cfg(wide))


# --- model.freeze ------------------------------------------------------------------------

def _train_cfg(src: Path, data: Path, freeze) -> object:
    return config_from_dict({
        "name": "tiny_frozen", "seed": 2,
        "model": {"arch": "edsr", "args": {"n_resblocks": 1, "n_feats": 8, "scale": 4},
                  "init_from": str(src), "init_partial": True, "freeze": freeze},
        "data": {"train": [str(data)], "lr_patch": 8, "batch_size": 2},
        "train": {"steps": 3, "lr": 1e-2, "precision": "fp32", "log_every": 1}})


def test_freeze_keeps_the_named_parts_and_trains_the_rest(tmp_path: Path) -> None:
    data = tmp_path / "imgs"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        cv2.imwrite(str(data / f"{i}.png"), rng.integers(0, 256, (48, 48, 3), dtype=np.uint8))
    x2 = _edsr(2, seed=0)
    src = save_checkpoint(x2, tmp_path / "x2.pth")
    notes = [p.message for p in train(_train_cfg(src, data, ["head", "body"]), tmp_path / "run")
             if getattr(p, "event", "") == "setup"]
    assert any("frozen: " in n and "under head, body" in n for n in notes), notes
    state = load_state(tmp_path / "run" / "last.pt")["model"]
    theirs = x2.state_dict()
    for k, v in state.items():
        if k.startswith(("head.", "body.")):
            assert torch.equal(v, theirs[k]), f"{k} moved although frozen"
    assert not torch.equal(state["tail.0.0.weight"], theirs["tail.0.0.weight"])  # trained
    # the same run without freeze moves the body: the check above can fail
    run_sync(train(_train_cfg(src, data, []), tmp_path / "free"))
    free = load_state(tmp_path / "free" / "last.pt")["model"]
    assert not torch.equal(free["body.0.body.0.weight"], theirs["body.0.body.0.weight"])


@pytest.mark.parametrize("freeze, message", [
    (["encoder"], "names no parameter; the model's parts are add_mean, body, head, sub_mean, tail"),
    ("head", "must be a list of parameter-name prefixes"),
    ([""], "must be a list of parameter-name prefixes"),
])
def test_freeze_refuses_what_it_cannot_mean(tmp_path: Path, freeze, message: str) -> None:
    src = save_checkpoint(_edsr(2), tmp_path / "x2.pth")
    with pytest.raises(ConfigError, match=message):
        cfg = config_from_dict({
            "name": "t", "model": {"arch": "edsr", "args": {"n_resblocks": 1, "n_feats": 8},
                                   "init_from": str(src), "freeze": freeze},
            "data": {"train": ["unused"]}, "train": {"steps": 1}}, check_paths=False)
        module, _ = build_model(cfg)
        freeze_parameters(module, cfg.model.freeze)


def test_freeze_needs_init_from() -> None:
    with pytest.raises(ConfigError, match="needs 'model.init_from'"):
        config_from_dict({"name": "t", "model": {"arch": "edsr", "freeze": ["body"]},
                          "data": {"train": ["unused"]}, "train": {"steps": 1}},
                         check_paths=False)
