"""The catalog of named models: what users type after ``-m``, and loading by name.

The four interpolation baselines, plus one entry per bundled ``resources/weights/<name>.pth``
(with its model card ``<name>.md``), plus any checkpoint path (:func:`resolve`).
:func:`load_model` takes a catalog name, a :class:`ModelEntry` or a path and returns a
:class:`~core.models.checkpoints.LoadedModel`. Layers: :mod:`.registry` (architectures) <-
:mod:`.checkpoints` (files) <- this module (names).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from ..resources import RESOURCES_DIR
from .archs.interp import Interpolation
from .checkpoints import LoadedModel, describe_checkpoint, load_checkpoint

__all__ = [
    "WEIGHTS_DIR", "WEIGHT_SUFFIXES", "CHECKPOINT_SUFFIXES", "ModelEntry", "BASELINES",
    "PREFERRED_DEFAULTS", "list_models", "resolve", "default_model_name", "load_model",
]

# ---------------------------------------------------------------------------------------------
# Named models (the CLI's -m NAME)
# ---------------------------------------------------------------------------------------------

#: Where bundled weights and their model cards live.
WEIGHTS_DIR = RESOURCES_DIR / "weights"
WEIGHT_SUFFIXES = (".pth", ".pt", ".safetensors")
CHECKPOINT_SUFFIXES = WEIGHT_SUFFIXES + (".pkl", ".ckpt", ".bin", ".tar")


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
            if path.suffix.lower() not in WEIGHT_SUFFIXES or not path.is_file():
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
    if path.suffix.lower() in CHECKPOINT_SUFFIXES or "/" in text or "\\" in text:
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


def load_model(path_or_name: Any, scale: int | None = None) -> LoadedModel:
    """Load a model by catalog name (``bicubic``, a bundled model), :class:`ModelEntry` or path.

    The architecture comes from the file (LIIF spec, our format) or is detected from the state
    dict; the module is built and loaded with ``strict=True`` and put in eval mode. ``scale``
    is a hint for checkpoints whose scale the tensors do not tell (FSRCNN; the CLI's
    ``--scale-hint``); without it the file name's ``_x{N}`` is used. A hint that contradicts the
    tensors or the file name is an error. ``LoadedModel.scale`` is None for models that run at
    any scale (arbitrary-scale, interpolation, pre-upsampled SRCNN / VDSR).

    Raises:
        CheckpointError: see :func:`load_state_dict_file`; also no matching architecture
            (naming the closest), a tensor whose shape does not fit (expected vs found), an
            unknown or contradictory scale.
    """
    if isinstance(path_or_name, ModelEntry):
        entry = path_or_name
    elif isinstance(path_or_name, Path):
        return load_checkpoint(path_or_name.expanduser(), path_or_name.stem, scale)
    else:
        text = str(path_or_name)
        p = Path(text).expanduser()
        if not _is_catalog_name(text) and p.exists():  # folders, devices: refused there
            return load_checkpoint(p, p.stem, scale)
        entry = resolve(text)
    if entry.kind == "interp":
        method = entry.hparams.get("method", entry.name)
        return LoadedModel(module=Interpolation(method).eval(), arch="interp",
                           hparams={"method": method}, kind="interp", scale=None, source=None,
                           name=entry.name)
    if entry.weights is None:
        raise CheckpointError(f"model {entry.name!r} has no weight file")
    return load_checkpoint(Path(entry.weights), entry.name, scale)


def _is_catalog_name(text: str) -> bool:
    key = _NAME_ALIASES.get(text.lower(), text.lower())
    return any(e.name == key for e in BASELINES)
