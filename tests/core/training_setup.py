"""Tiny training configs shared by the training tests (one EDSR, one LIIF; seconds on a CPU).

``folders`` (tests/core/conftest.py) holds their data: four 64x72 training PNGs and two
24x32 validation PNGs of smooth noise (:func:`tests.helpers.write_smooth_pngs`).
"""

from __future__ import annotations

from pathlib import Path


def edsr_cfg(folders: dict[str, Path], **train_over) -> dict:
    """A 1-block, 8-feature EDSR x2: 6 steps, validation at step 3 (``train_over``: train keys)."""
    return {
        "name": "tiny_edsr", "seed": 3,
        "model": {"arch": "edsr", "args": {"n_resblocks": 1, "n_feats": 8, "scale": 2,
                                           "rgb_range": 1.0}},
        "data": {"train": [str(folders["train"])], "lr_patch": 12, "batch_size": 2},
        "train": {"steps": 6, "lr": 1e-3, "precision": "fp32", "log_every": 2,
                  "schedule": {"type": "step", "step_size": 4, "gamma": 0.5}, **train_over},
        "validation": {"data": str(folders["val"]), "scales": [2], "every_steps": 3},
    }


def liif_cfg(folders: dict[str, Path], **train_over) -> dict:
    """A 1-block LIIF with a 16x2 MLP: 6 bf16 steps, validation at x3 at step 4."""
    return {
        "name": "tiny_liif", "seed": 5,
        "model": {"arch": "liif", "encoder_args": {"n_resblocks": 1, "n_feats": 8},
                  "hidden_list": [16, 16]},
        "data": {"train": [str(folders["train"])], "lr_patch": 12, "batch_size": 2,
                 "scale_max": 4.0, "sample_q": 100},
        "train": {"steps": 6, "lr": 1e-3, "precision": "bf16", "loss_scale": 2.0,
                  "log_every": 2, "schedule": {"type": "cosine"}, **train_over},
        "validation": {"data": str(folders["val"]), "scales": [3], "every_steps": 4},
    }
