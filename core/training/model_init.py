"""The model a training run starts from: built from the config (:func:`fresh_model`), its
weights loaded from ``model.init_from`` (:func:`init_weights`: strict, partial with
``init_partial`` / ``init_fresh``, or mapped from another architecture with ``init_map``), and
the parameters under ``model.freeze`` kept out of training (:func:`freeze_parameters`).
"""

from __future__ import annotations

from typing import Any, Iterable

from torch import nn

from ..errors import CheckpointError, ConfigError
from ..models.archs.liif import default_liif_spec, liif_from_spec
from ..models.catalog import load_model
from ..models.registry import get_arch
from .config import TrainConfig
from .init_maps import apply_init_map
from .ipf import build_ipf

__all__ = ["fresh_model", "build_model", "init_weights", "names_under", "freeze_parameters"]


def fresh_model(cfg: TrainConfig) -> tuple[nn.Module, dict[str, Any]]:
    """The model of ``cfg.model``, freshly initialised (uses the torch RNG), and its
    ``model_info`` for checkpoints: LIIF from its spec, IPF around its frozen LIIF
    (:mod:`.ipf`), any other arch from the registry with ``model.args``."""
    m = cfg.model
    if m.arch == "ipf":  # IPF around a trained, frozen LIIF (core.training.ipf)
        return build_ipf(cfg)
    if m.arbitrary:
        spec = default_liif_spec(m.encoder, encoder_args=dict(m.encoder_args))
        spec["args"]["imnet_spec"]["args"]["hidden_list"] = list(m.hidden_list)
        try:
            module = liif_from_spec(spec)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"cannot build LIIF from 'model': {exc}") from None
        return module, {"spec": module.spec}
    try:
        module = get_arch(m.arch).build(**m.args)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cannot build {m.arch} from 'model.args' {m.args}: {exc}") from None
    hparams = dict(getattr(module, "hparams", None) or m.args)
    return module, {"arch": m.arch, "hparams": hparams}


def names_under(names: Iterable[str], prefixes: list[str], option: str) -> list[str]:
    """The ``names`` under one of ``prefixes`` (a whole name component: ``encoder`` matches
    ``encoder.head.0.weight``, not ``encoder2.x``); a prefix that matches nothing is a
    :class:`ConfigError` naming ``option`` and the model's top-level parts."""
    names = list(names)
    hit: list[str] = []
    for prefix in prefixes:
        mine = [n for n in names if n == prefix or n.startswith(prefix.rstrip(".") + ".")]
        if not mine:
            tops = sorted({n.split(".")[0] for n in names})
            raise ConfigError(f"'{option}' {prefix!r} names no parameter; the model's "
                              f"parts are {', '.join(tops)}")
        hit += [n for n in mine if n not in hit]
    return hit


def freeze_parameters(model: nn.Module, prefixes: list[str]) -> int:
    """Keep the parameters under ``prefixes`` (:func:`names_under`) out of training; returns
    how many tensors were frozen."""
    names = dict(model.named_parameters())
    frozen = 0
    for n in names_under(names, prefixes, "model.freeze"):
        frozen += int(names[n].requires_grad)
        names[n].requires_grad_(False)
    return frozen


def build_model(cfg: TrainConfig) -> tuple[nn.Module, dict[str, Any]]:
    """A freshly initialised model (uses the torch RNG) and its ``model_info`` for checkpoints;
    with ``model.init_from`` its weights are then those of that checkpoint (fine-tuning)."""
    module, info = fresh_model(cfg)
    if cfg.model.init_from:
        init_weights(module, cfg)
    return module, info


def init_weights(module: nn.Module, cfg: TrainConfig) -> list[str]:
    """Load the weights of ``model.init_from`` (a checkpoint path, relative to the repository
    root, or a bundled model name such as ``liif``) into ``module``: same parameter names and
    shapes (strict), else a :class:`ConfigError` naming the difference.

    With ``model.init_partial`` only the tensors the two share by name and shape are loaded
    (EDSR's recipe: x3/x4 start from the trained x2, whose head and body are scale-independent);
    a shared name with another shape is still an error unless ``model.init_fresh`` names it
    (EDSR x3 from x2: ``[tail.0.0]``, the upsampler conv that makes 3 x 3 instead of 2 x 2
    sub-pixels), and at least half of the model's tensors must come from the file. Tensors
    under ``model.init_fresh`` are never loaded. With ``model.init_map`` the file's tensors are first
    mapped onto this architecture (:mod:`core.training.init_maps`: an EDSR body as a LIIF
    encoder). Returns the names left freshly initialised."""
    src = str(cfg.model.init_from)
    path = cfg.resolve(src)
    try:
        loaded = load_model(path if path.is_file() else src)
    except CheckpointError as exc:
        raise ConfigError(f"'model.init_from' {src} cannot be loaded: {exc}") from None
    theirs, mine = loaded.module.state_dict(), module.state_dict()
    if cfg.model.init_map:
        theirs = apply_init_map(cfg.model.init_map, theirs, loaded.arch, loaded.hparams,
                                cfg.model.arch)
    fresh = set(names_under(mine, cfg.model.init_fresh, "model.init_fresh"))
    theirs = {k: v for k, v in theirs.items() if k not in fresh}
    missing, extra = sorted(set(mine) - set(theirs)), sorted(set(theirs) - set(mine))
    shapes = [f"{k} {tuple(theirs[k].shape)} vs {tuple(mine[k].shape)}"
              for k in mine if k in theirs and theirs[k].shape != mine[k].shape]
    partial = cfg.model.init_partial
    if partial and not shapes and len(missing) <= len(mine) // 2:
        module.load_state_dict({k: v for k, v in theirs.items() if k in mine}, strict=False)
        return missing
    if missing or extra or shapes:
        what = "; ".join(x for x in (
            f"missing {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}" if missing
            else "",
            f"unexpected {', '.join(extra[:4])}{' ...' if len(extra) > 4 else ''}" if extra
            else "",
            f"shapes (file vs config) {', '.join(shapes[:3])}" if shapes else "") if x)
        if partial and not shapes:
            what = f"only {len(mine) - len(missing)} of {len(mine)} tensors shared ({what})"
        raise ConfigError(f"'model.init_from' {src} ({loaded.arch}) does not fit the model "
                          f"of the config ({cfg.model.arch}): {what}")
    module.load_state_dict(theirs, strict=True)
    return []
