"""The IPF part of a training config: the ``train.losses`` keys with their defaults and the
checks of the IPF keys (``model.init_liif``, ``model.args``, ``train.losses``).

Kept apart from :mod:`.config` (the config of every architecture, which calls
:func:`check_ipf_config` for ``arch: ipf``) so that the IPF trainer and its steps read the loss
defaults without importing the whole config parser.
"""

from __future__ import annotations

from typing import Any

from ..config_values import number, text
from ..errors import ConfigError

__all__ = ["LOSS_DEFAULTS", "check_ipf_config"]


#: ``train.losses`` keys and defaults (IPF only).
LOSS_DEFAULTS: dict[str, Any] = {
    "pixel": 1.0,        # pixel-loss weight (train.loss, times train.loss_scale)
    "gamma_adv": 0.005,  # adversarial weight (ESRGAN's 5e-3)
    "perceptual": 0.1,   # VGG or frozen-encoder feature L1
    "gradient": 0.5,     # gradient-domain L1 (SPSR-style), substitute only unless set with vgg
    "vgg": None,         # path to a torchvision VGG16/19 state dict, or None (substitute)
    "vgg_layer": None,   # index in vgg.features of the last conv used (default: last conv)
    "d_lr": 1.0e-4,      # discriminator learning rate (Adam, same betas)
    "hr_patch": 48,      # side of the HR query patch per image
}


def check_ipf_config(cfg: Any, check_paths: bool = True) -> None:
    """Validate the IPF keys of a :class:`TrainConfig` (ConfigError naming the key)."""
    m, o = cfg.model, cfg.train
    if not m.init_liif:
        raise ConfigError("'model.init_liif' is required for arch ipf: the trained LIIF to build "
                          "on (e.g. runs/liif_edsr_baseline/best.pt or resources/weights/liif.pth)")
    unknown = sorted(set(m.args) - {"n_resblocks", "n_feats", "flow_hidden", "conf_hidden"})
    if unknown:
        raise ConfigError(f"unknown key(s) in 'model.args' for ipf: {', '.join(unknown)} "
                          f"(known: conf_hidden, flow_hidden, n_feats, n_resblocks)")
    losses = dict(o.losses or {})
    unknown = sorted(set(losses) - set(LOSS_DEFAULTS))
    if unknown:
        raise ConfigError(f"unknown key(s) in 'train.losses': {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(LOSS_DEFAULTS))})")
    for key in ("pixel", "gamma_adv", "perceptual", "gradient", "d_lr"):
        number(losses.get(key, LOSS_DEFAULTS[key]), f"train.losses.{key}", minimum=0)
    number(losses.get("hr_patch", LOSS_DEFAULTS["hr_patch"]), "train.losses.hr_patch",
           integer=True, minimum=16, maximum=cfg.data.lr_patch)
    if losses.get("vgg") is not None:
        text(losses["vgg"], "train.losses.vgg")
    if losses.get("vgg_layer") is not None:
        number(losses["vgg_layer"], "train.losses.vgg_layer", integer=True, minimum=0)
    if check_paths and not cfg.resolve(str(m.init_liif)).is_file():
        raise ConfigError(f"'model.init_liif' {m.init_liif} does not exist (looked for "
                          f"{cfg.resolve(str(m.init_liif))}); train LIIF first "
                          f"(configs/liif_edsr_baseline.yaml)")
    if check_paths and losses.get("vgg") and not cfg.resolve(str(losses["vgg"])).is_file():
        raise ConfigError(f"'train.losses.vgg' file {losses['vgg']} does not exist")
