"""Building models from checkpoints, and saving them so they rebuild with no config.

:func:`load_checkpoint` builds the model in a checkpoint file (by name or path:
:func:`core.models.catalog.load_model`); the file is read by
:func:`~core.models.state_dict_io.load_state_dict_file` (weights-only first, then the
restricted unpickler of :mod:`.safe_unpickle` for pickled whole models), the architecture
comes from the file (LIIF spec, our format) or is detected from the state dict, and the module
is loaded with ``strict=True``. :func:`save_checkpoint` writes our format (or LIIF's),
atomically. Errors are :class:`~core.errors.CheckpointError` with one readable sentence.
"""

from __future__ import annotations

import functools
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch
from safetensors.torch import save_file
from torch import Tensor, nn

from ..errors import CheckpointError, short_message
from ..io.atomic import atomic_path
from .contracts import ArbitraryScaleSR
from .registry import detect_architecture, get_arch, preview_keys
from .budget import check_budget
from .safe_unpickle import SAFE_PICKLE
from .spandrel_bridge import load_with_spandrel, spandrel_status
from .state_dict_io import WRAPPER_KEYS, load_state_dict_file

__all__ = [
    "LoadedModel",
    "load_state_dict_file",
    "load_checkpoint",
    "save_checkpoint",
    "describe_checkpoint",
    "build_checked",
    "scale_from_name",
    "WRAPPER_KEYS",
    "SAFE_PICKLE",
]

# ---------------------------------------------------------------------------------------------
# Building models
# ---------------------------------------------------------------------------------------------

@dataclass
class LoadedModel:
    """A ready model: ``module`` in eval mode, with what it is and where it came from.

    ``scale`` is the integer scale of fixed-scale models, None for arbitrary-scale and
    interpolation models and for fixed-scale models that run at any scale (SRCNN, VDSR: their
    input is bicubic-upscaled; ``hparams['scale']`` then holds the training scale when known);
    ``source`` is the weight file (None for baselines).
    """

    module: nn.Module
    arch: str
    hparams: dict[str, Any]
    kind: str
    scale: int | None
    source: Path | None
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def _arch_for(sd: Mapping[str, Tensor], meta: Mapping[str, Any],
              name: str) -> tuple[Any, dict[str, Any]]:
    if "spec" in meta:
        spec = meta["spec"]
        spec_name = str(spec.get("name"))
        if spec_name not in ("liif", "ipf"):
            raise CheckpointError(f"{name} describes a {spec_name!r} model in LIIF's format; only "
                                  f"'liif' and 'ipf' are supported in that format")
        return get_arch(spec_name), {"spec": spec}
    if "arch" in meta:
        try:
            return get_arch(str(meta["arch"])), dict(meta.get("hparams") or {})
        except CheckpointError as exc:
            raise CheckpointError(f"{name}: {exc}") from None
    try:
        return detect_architecture(sd)
    except CheckpointError as exc:
        raise CheckpointError(f"{name}: {exc}") from None


def _fmt_hp(hp: Mapping[str, Any]) -> str:
    if "spec" in hp:
        return "its spec"
    return ", ".join(f"{k}={v}" for k, v in hp.items())


def _fit_problem(own: Mapping[str, Any], sd: Mapping[str, Tensor], arch: str,
                 hp: Mapping[str, Any], name: str) -> CheckpointError | None:
    """Why ``sd``'s tensors do not have the shapes of a module whose state dict is ``own``
    (shapes by key), or None. Missing and unexpected keys are left to the strict load (some
    architectures drop or compute buffers in their load hooks, e.g. SwinIR's ``attn_mask``).

    ``own`` may come from a module built on the ``meta`` device, so this runs before any
    memory is allocated for the model."""
    mismatched = [(k, tuple(sd[k].shape), tuple(v)) for k, v in own.items()
                  if k in sd and tuple(sd[k].shape) != tuple(v)]
    if mismatched:
        k, found, expected = mismatched[0]
        n = len(mismatched) - 1
        more = f" (and {n} more mismatched tensors)" if n else ""
        return CheckpointError(f"{name}: tensor '{k}' has shape {found} in the checkpoint but "
                               f"{arch} ({_fmt_hp(hp)}) expects {expected}{more}")
    return None


def _strict_load(module: nn.Module, sd: Mapping[str, Tensor], arch: str, hp: Mapping[str, Any],
                 name: str) -> None:
    try:
        module.load_state_dict(sd, strict=True)
    except Exception as exc:  # noqa: BLE001 - keys, or a value the module refuses
        try:
            result = module.load_state_dict(sd, strict=False)
        except Exception:  # noqa: BLE001 - not a key problem
            detail = " ".join(str(exc).split("\n", 1)[-1].split())
            raise CheckpointError(f"{name} does not fit {arch} ({_fmt_hp(hp)}): "
                                  f"{detail[:200]}") from None
        parts = []
        if result.missing_keys:
            parts.append(f"missing {preview_keys(list(result.missing_keys))}")
        if result.unexpected_keys:
            parts.append(f"unexpected {preview_keys(list(result.unexpected_keys))}")
        detail = "; ".join(parts) or "load failed"
        raise CheckpointError(f"{name} does not fit {arch} ({_fmt_hp(hp)}): {detail}") from None


_SCALE_IN_NAME = re.compile(r"(?:^|[_\-.\s])x(\d{1,2})(?=$|[_\-.\s])", re.IGNORECASE)


def scale_from_name(name: str | Path) -> int | None:
    """The scale a file name states as ``_x{N}`` (``fsrcnn_x3.pth``, ``EDSR-x4.pt``), or None
    when it states none or several different ones."""
    found = {int(m.group(1)) for m in _SCALE_IN_NAME.finditer(Path(name).name)} - {0}
    return found.pop() if len(found) == 1 else None


def _scale_key(hp: Mapping[str, Any]) -> str:
    return "upscale" if "upscale" in hp and "scale" not in hp else "scale"


def _apply_scale(arch: Any, hp: dict[str, Any], name: str, hint: int | None) -> dict[str, Any]:
    """Settle the scale of a fixed-scale model from its tensors, the user's hint and the name.

    The tensors (or our own hparams) win when they know it; a hint that contradicts them, or
    a hint that contradicts the file name of a family whose scale only the name can tell
    (FSRCNN), is an error; with no hint the name's ``_x{N}`` is used; a family that needs a
    scale and has none gets an error asking for ``--scale-hint``.
    """
    if arch.kind != "fixed":
        return hp
    key = _scale_key(hp)
    known = hp.get(key)
    from_name = scale_from_name(name)
    if hint is not None:
        try:
            hint = int(hint)
        except (TypeError, ValueError):
            raise CheckpointError(f"the scale hint must be an integer, got {hint!r}") from None
        if hint < 1:
            raise CheckpointError(f"the scale hint must be a positive integer, got {hint}")
        if known is not None and int(known) != hint:
            raise CheckpointError(
                f"{name}: the scale hint x{hint} contradicts the checkpoint, whose {arch.name} "
                f"tensors are for x{known}; drop --scale-hint or use the matching checkpoint")
        if from_name is not None and from_name != hint:
            raise CheckpointError(
                f"{name}: the scale hint x{hint} contradicts the file name, which says "
                f"x{from_name}; use the checkpoint trained for x{hint} (or rename the file)")
        return {**hp, key: hint}
    if known is None and from_name is not None:
        return {**hp, key: from_name}
    if known is None and arch.needs_scale:
        raise CheckpointError(
            f"{name}: the scale of this {arch.name} checkpoint cannot be read from its tensors "
            f"(the same shapes serve every scale) nor from its file name (no '_x<N>'); pass "
            f"--scale-hint N (or load_model(path, scale=N))")
    return hp


def _nominal_scale(arch: Any, hp: Mapping[str, Any]) -> int | None:
    if arch.kind != "fixed" or arch.any_scale:
        return None
    return int(hp.get(_scale_key(hp)) or 2)


def build_checked(arch: Any, hp: Mapping[str, Any], sd: Mapping[str, Tensor],
                  name: str) -> nn.Module:
    """Build ``arch`` with ``hp`` and load ``sd`` into it (``strict=True``), after checking on
    the ``meta`` device that the hyperparameters fit the tensors and the memory budget
    (:func:`core.models.budget.check_budget`). Every failure is a :class:`CheckpointError`."""
    shapes = check_budget(arch, hp, sd, name)
    problem = _fit_problem(shapes, sd, arch.name, hp, name)
    if problem is not None:
        raise problem
    try:
        module = arch.build(**hp)
    except MemoryError:
        raise CheckpointError(f"{name}: not enough memory to build {arch.name} with "
                              f"{_fmt_hp(hp)}") from None
    except Exception as exc:  # noqa: BLE001 - every build failure is the file's problem
        raise CheckpointError(f"{name}: cannot build {arch.name} with {_fmt_hp(hp)} "
                              f"({short_message(exc)})") from None
    _strict_load(module, sd, arch.name, hp, name)
    return module


def _one_line_errors(func):
    """Every failure of a checkpoint load is a :class:`CheckpointError` naming the file."""

    @functools.wraps(func)
    def wrapper(path, *args, **kwargs):
        try:
            return func(path, *args, **kwargs)
        except CheckpointError:
            raise
        except MemoryError:
            raise CheckpointError(f"{Path(path).name}: not enough memory to load this "
                                  f"checkpoint") from None
        except Exception as exc:  # noqa: BLE001 - a hostile or broken file, whatever it holds
            raise CheckpointError(f"{Path(path).name} cannot be loaded as a model checkpoint "
                                  f"({type(exc).__name__}: {short_message(exc)})") from None

    return wrapper


@_one_line_errors
def describe_checkpoint(path: str | Path,
                        scale: int | None = None) -> tuple[str, dict[str, Any], str, int | None]:
    """``(arch, hparams, kind, scale)`` of a checkpoint file, without building the model.

    ``scale`` is None for arbitrary-scale models and for fixed-scale ones that run at any scale
    (pre-upsampled input: SRCNN, VDSR). ``scale=`` is the user's hint (see :func:`load_model`).
    """
    sd, meta = load_state_dict_file(path)
    name = Path(path).name
    arch, hp = _arch_for(sd, meta, name)
    hp = _apply_scale(arch, hp, name, scale)
    shapes = check_budget(arch, hp, sd, name)
    problem = _fit_problem(shapes, sd, arch.name, hp, name)
    if problem is not None:
        raise problem
    return arch.name, hp, arch.kind, _nominal_scale(arch, hp)


@_one_line_errors
def load_checkpoint(path: Path, name: str, scale: int | None = None) -> LoadedModel:
    """Build the model in checkpoint file ``path`` (called ``name``; ``scale``: a hint, see
    :func:`core.models.catalog.load_model`), loaded ``strict=True``, in eval mode."""
    sd, meta = load_state_dict_file(path)
    try:
        arch, hp = _arch_for(sd, meta, path.name)
    except CheckpointError as ours:  # no architecture of ours: spandrel's, when installed
        available, why = spandrel_status()
        if not available and why.startswith("installed"):  # say why it was not asked
            raise CheckpointError(f"{ours}; spandrel, which may know it, is {why}") from None
        if not available:
            raise
        try:
            module = load_with_spandrel(path)
        except CheckpointError as theirs:
            both = CheckpointError(f"{ours}; {theirs}")
            both.detail = getattr(theirs, "detail", "")   # all spandrel said, for -v
            raise both from None
        return LoadedModel(module=module, arch=f"spandrel:{module.arch_name}",
                           hparams=dict(module.hparams), kind="fixed", scale=module.scale,
                           source=path, name=name, meta=meta)
    hp = _apply_scale(arch, hp, path.name, scale)
    module = build_checked(arch, hp, sd, path.name)
    module.eval()
    full_hp = dict(getattr(module, "hparams", None) or hp)  # every constructor argument, when known
    return LoadedModel(module=module, arch=arch.name, hparams=full_hp, kind=arch.kind,
                       scale=_nominal_scale(arch, full_hp), source=path, name=name, meta=meta)


# ---------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------

def save_checkpoint(module: nn.Module, path: str | Path, *, spec: dict | None = None,
                    arch: str | None = None, hparams: Mapping[str, Any] | None = None,
                    meta: Mapping[str, Any] | None = None, half: bool = False) -> Path:
    """Write ``module`` so that :func:`load_model` rebuilds it with no config. Atomic.

    ``half``: store floating-point tensors as float16 (half the file; they load back into
    the float32 model, so only the storage is rounded: a relative error under 5e-4 per
    weight, which moved benchmark PSNR by at most a few thousandths of a dB in our checks).

    LIIF (an :class:`ArbitraryScaleSR` with a ``spec``, or ``spec=`` given) is written in the
    official ``{'model': {'name', 'args', 'sd'}}`` layout; other models as
    ``{'arch': name, 'hparams': {...}, 'state_dict': ..., 'meta': {...}}`` with ``arch`` /
    ``hparams`` defaulting to the module's ``arch_name`` / ``hparams``. A ``.safetensors``
    path writes safetensors with the same information in its string metadata. ``meta`` must
    hold plain values (numbers, strings, lists, dicts).
    """
    path = Path(path)
    sd = OrderedDict((k, v.detach().cpu().clone().contiguous())
                     for k, v in module.state_dict().items())
    if half:
        big = [k for k, v in sd.items() if v.is_floating_point()
               and v.abs().max().item() > float(torch.finfo(torch.float16).max)]
        if big:
            raise ValueError(f"{', '.join(big[:3])} exceed the float16 range; store as float32")
        sd = OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in sd.items())
    if spec is None and isinstance(module, ArbitraryScaleSR):
        spec = getattr(module, "spec", None)
    safetensors = path.suffix.lower() == ".safetensors"
    if spec is not None:
        spec = {"name": spec.get("name", "liif"), "args": spec.get("args", {})}
        obj: dict[str, Any] = {"model": {**spec, "sd": sd}}
        st_meta = {"format": "liif", "spec": json.dumps(spec)}
    else:
        arch = arch or getattr(module, "arch_name", None)
        hp = dict(hparams if hparams is not None else getattr(module, "hparams", {}) or {})
        if not arch:
            raise ValueError("save_checkpoint needs arch= for a module without an arch_name")
        get_arch(arch)  # must be a known architecture so it loads back
        obj = {"arch": arch, "hparams": hp, "state_dict": sd}
        st_meta = {"format": "srw", "arch": arch, "hparams": json.dumps(hp)}
    if meta:
        obj["meta"] = dict(meta)
        st_meta["meta"] = json.dumps(dict(meta), default=str)

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        if safetensors:
            save_file(dict(sd), str(tmp), metadata=st_meta)
        else:
            torch.save(obj, tmp)
    return path
