"""One explicit list of architectures, detection dispatch, and the catalog of named models.

Spandrel style: every architecture module (``archs/<family>.py``) exports one
:class:`~core.models.spec.ArchSpec` called ``SPEC``, which says how to recognise its state dict
(``detect`` reads hyperparameters from key names and tensor shapes) and how to build the module
(``build``). :data:`ARCHITECTURES` lists them in detection order; :func:`detect_architecture`
tries them in that order, and a state dict that matches nothing gets a
:class:`~core.errors.CheckpointError` naming the closest architecture and the keys that differ.

The catalog (:func:`list_models`, :func:`resolve`) is what users type after ``-m``: the four
interpolation baselines, plus one entry per bundled ``resources/weights/<name>.pth`` (with its
model card ``<name>.md``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from .archs import (edsr, espcn, fsrcnn, interp, liif, lrfnet, rcan, rdn, srcnn, srresnet, swinir,
                    vdsr)
from .archs import ipf as ipf_arch
from .archs.edsr import detect_edsr
from .archs.liif import detect_liif
from .archs.rdn import detect_rdn
from .spec import ArchSpec, StateDict, count_seq, has_key, shape_of

__all__ = [
    "ArchSpec",
    "ARCHITECTURES",
    "get_arch",
    "detect_architecture",
    "closest_architecture",
    "detect_edsr",
    "detect_rdn",
    "detect_liif",
    "ModelEntry",
    "BASELINES",
    "WEIGHTS_DIR",
    "list_models",
    "resolve",
    "default_model_name",
    "CHECKPOINT_SUFFIXES",
]

# The per-family specs and shape helpers under their historical names.
EDSR_SPEC, RDN_SPEC, LIIF_SPEC, INTERP_SPEC = edsr.SPEC, rdn.SPEC, liif.SPEC, interp.SPEC
_has_key, _shape, _count = has_key, shape_of, count_seq

#: Every architecture, in detection order. LRFNet precedes EDSR: its atrous variant has EDSR's
#: key names plus a ``dilations`` buffer, which EDSR's detector would ignore.
ARCHITECTURES: list[ArchSpec] = [
    ipf_arch.SPEC,  # IPF holds a LIIF under ``liif.*``: tried first
    liif.SPEC,
    lrfnet.SPEC,
    edsr.SPEC,
    rdn.SPEC,
    rcan.SPEC,
    swinir.SPEC,
    srresnet.SPEC,
    srresnet.MSRRESNET_SPEC,
    srcnn.SPEC,
    fsrcnn.SPEC,
    espcn.SPEC,
    vdsr.SPEC,
    interp.SPEC,
]


def get_arch(name: str) -> ArchSpec:
    """The :class:`ArchSpec` called ``name`` (case-insensitive)."""
    for arch in ARCHITECTURES:
        if arch.name == str(name).lower():
            return arch
    known = ", ".join(a.name for a in ARCHITECTURES)
    raise CheckpointError(f"unknown architecture {name!r}; known: {known}")


def closest_architecture(state_dict: StateDict) -> tuple[ArchSpec, float]:
    """The architecture whose required keys are most present, and that share."""
    scored = [(a.share_present(state_dict), a) for a in ARCHITECTURES if a.required_keys]
    share, arch = max(scored, key=lambda t: t[0])
    return arch, share


def _preview(keys: list[str], n: int = 5) -> str:
    more = f" (+{len(keys) - n} more)" if len(keys) > n else ""
    return ", ".join(keys[:n]) + more


def detect_architecture(state_dict: StateDict) -> tuple[ArchSpec, dict[str, Any]]:
    """``(arch, hparams)`` of the first architecture whose ``detect`` accepts ``state_dict``.

    Raises:
        CheckpointError: nothing matches; the message names the closest architecture (by the
            share of its required keys present) with up to 5 missing and 5 unexpected keys.
    """
    for arch in ARCHITECTURES:
        if not arch.required_keys:
            continue
        try:
            hp = arch.detect(state_dict)
        except Exception:  # a malformed tensor layout is "not this architecture"
            hp = None
        if hp is not None:
            return arch, hp
    known = ", ".join(a.name for a in ARCHITECTURES if a.required_keys)
    arch, share = closest_architecture(state_dict)
    if share == 0:
        raise CheckpointError(
            f"the state dict matches no known architecture ({known}) and has none of their "
            f"expected keys; its first keys are {_preview(list(state_dict))}")
    missing = arch.missing_keys(state_dict)
    unexpected = arch.unexpected_keys(state_dict)
    detail = []
    if missing:
        detail.append(f"missing {_preview(missing)}")
    if unexpected:
        detail.append(f"unexpected {_preview(unexpected)}")
    if not detail:
        detail.append("the key names match but the tensor shapes do not form a valid model")
    n_req = len(arch.required_keys)
    raise CheckpointError(
        f"the state dict matches no known architecture ({known}); closest is {arch.name} "
        f"({n_req - len(missing)} of {n_req} expected keys present): {'; '.join(detail)}")


# ---------------------------------------------------------------------------------------------
# Named models (the CLI's -m NAME)
# ---------------------------------------------------------------------------------------------

#: Where bundled weights and their model cards live.
WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "resources" / "weights"
_WEIGHT_SUFFIXES = (".pth", ".pt", ".safetensors")
_CHECKPOINT_SUFFIXES = _WEIGHT_SUFFIXES + (".pkl", ".ckpt", ".bin", ".tar")
#: File suffixes read as checkpoints (what the window offers and lists from folders).
CHECKPOINT_SUFFIXES = _CHECKPOINT_SUFFIXES


@dataclass
class ModelEntry:
    """A model users can name. ``weights`` is None for weightless baselines; ``scales`` is
    None when any scale works, else the integer scales the model supports."""

    name: str
    arch: str
    kind: str
    weights: Path | None = None
    card: Path | None = None
    description: str = ""
    scales: tuple[int, ...] | None = None
    hparams: dict[str, Any] = field(default_factory=dict)


#: The interpolation baselines (always available).
BASELINES: tuple[ModelEntry, ...] = (
    ModelEntry("nearest", "interp", "interp", description="nearest-neighbour interpolation",
               hparams={"method": "nearest"}),
    ModelEntry("bilinear", "interp", "interp",
               description="bilinear interpolation (MATLAB imresize)",
               hparams={"method": "bilinear"}),
    ModelEntry("bicubic", "interp", "interp", description="bicubic interpolation (MATLAB imresize)",
               hparams={"method": "bicubic"}),
    ModelEntry("lanczos", "interp", "interp",
               description="Lanczos-3 interpolation (MATLAB imresize)",
               hparams={"method": "lanczos3"}),
)
_NAME_ALIASES = {"lanczos3": "lanczos", "nn": "nearest", "cubic": "bicubic", "linear": "bilinear"}

_entry_cache: dict[tuple[str, int, int], ModelEntry] = {}


def _card_summary(card: Path | None) -> str:
    if card is None:
        return ""
    try:
        for line in card.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "---")):
                return line
    except OSError:
        pass
    return ""


def _entry_for_file(path: Path, name: str | None = None,
                    description: str | None = None) -> ModelEntry:
    """Read a weight file and describe it (architecture, kind, scales). Cached per file version."""
    from .checkpoints import describe_checkpoint  # lazy: checkpoints imports this module

    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    cached = _entry_cache.get(key)
    if cached is None:
        arch, hparams, kind, scale = describe_checkpoint(path)
        card = path.with_suffix(".md")
        card = card if card.is_file() else None
        cached = ModelEntry(name=path.stem, arch=arch, kind=kind, weights=path, card=card,
                            description=_card_summary(card), scales=(scale,) if scale else None,
                            hparams=hparams)
        _entry_cache[key] = cached
    entry = ModelEntry(**{**cached.__dict__})
    if name is not None:
        entry.name = name
    if description is not None and not entry.description:
        entry.description = description
    return entry


def list_models(weights_dir: Path | None = None) -> list[ModelEntry]:
    """The interpolation baselines, then one entry per bundled weight file (sorted by name).

    A bundled file that cannot be read is left out with a warning.
    """
    entries = [ModelEntry(**{**e.__dict__, "hparams": dict(e.hparams)}) for e in BASELINES]
    folder = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in _WEIGHT_SUFFIXES or not path.is_file():
                continue
            try:
                entries.append(_entry_for_file(path, description="bundled weights"))
            except CheckpointError as exc:
                warnings.warn(f"bundled model {path.name} skipped: {exc}", stacklevel=2)
    return entries


def resolve(name_or_path: str | Path, weights_dir: Path | None = None) -> ModelEntry:
    """The :class:`ModelEntry` for a model name (case-insensitive) or a checkpoint path.

    A path to an existing file is a user checkpoint: it is read and its architecture detected
    here, so a wrong file fails early.

    Raises:
        CheckpointError: unknown name and no such file, or an unreadable/unknown checkpoint.
    """
    text = str(name_or_path).strip()
    key = _NAME_ALIASES.get(text.lower(), text.lower())
    entries = list_models(weights_dir)
    if not isinstance(name_or_path, Path):
        for entry in entries:
            if entry.name.lower() == key:
                return entry
    path = Path(text).expanduser()
    if path.is_file():
        return _entry_for_file(path, description=f"user checkpoint {path}")
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a model name or a checkpoint file")
    if path.suffix.lower() in _CHECKPOINT_SUFFIXES or "/" in text or "\\" in text:
        raise CheckpointError(f"checkpoint file not found: {path}")
    names = ", ".join(e.name for e in entries)
    raise CheckpointError(f"unknown model {text!r}: not one of the available models ({names}) "
                          f"and no file with that path exists")


#: The model the app and ``sr`` use when none is named: the bundled LIIF once it exists.
PREFERRED_DEFAULTS = ("liif", "bicubic")


def default_model_name(weights_dir: Path | None = None) -> str:
    """The first of :data:`PREFERRED_DEFAULTS` that is available (bicubic always is)."""
    names = {e.name.lower() for e in list_models(weights_dir)}
    for name in PREFERRED_DEFAULTS:
        if name in names:
            return name
    return "bicubic"
