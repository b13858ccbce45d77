"""``model.init_partial``: a model starts from a checkpoint that shares most of its tensors.

EDSR's recipe (x4 initialised from the trained x2: head and body are scale-independent, the
x2 upsampler conv is the first of the x4 upsampler's two) on tiny EDSRs made on the fly and
saved to ``tmp_path``; no dependency on ../shared.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.errors import ConfigError
from core.models import save_checkpoint
from core.models.archs import EDSR
from core.training import build_model, config_from_dict
from core.training.loop import init_weights


def _edsr(scale: int, n_resblocks: int = 1, seed: int = 0) -> EDSR:
    torch.manual_seed(seed)
    return EDSR(n_resblocks=n_resblocks, n_feats=8, scale=scale).eval()


def _cfg(src: Path | None, scale: int = 4, n_resblocks: int = 1, partial: bool = True):
    model = {"arch": "edsr", "args": {"n_resblocks": n_resblocks, "n_feats": 8, "scale": scale},
             "init_partial": partial}
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
