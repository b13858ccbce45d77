"""One explicit list of architectures, and the catalog of named models.

Spandrel style: every :class:`ArchSpec` says how to recognise its state dict (``detect`` reads
hyperparameters from key names and tensor shapes) and how to build the module (``build``).
:func:`detect_architecture` tries them in order; a state dict that matches nothing gets a
:class:`~core.errors.CheckpointError` naming the closest architecture and the keys that differ.

The catalog (:func:`list_models`, :func:`resolve`) is what users type after ``-m``: the four
interpolation baselines, plus one entry per bundled ``resources/weights/<name>.pth`` (with its
model card ``<name>.md``).
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from torch import Tensor, nn

from ..errors import CheckpointError
from .archs.edsr import EDSR
from .archs.interp import Interpolation
from .archs.rdn import RDN, RDN_CONFIGS

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
]

StateDict = Mapping[str, Tensor]


@dataclass(frozen=True)
class ArchSpec:
    """One architecture family.

    ``detect(state_dict)`` returns the keyword arguments of ``build`` read from the state dict,
    or ``None`` when the state dict is not this architecture. ``required_keys`` are keys every
    checkpoint of the family has (an entry ending in ``.`` means "some key with this prefix");
    ``key_patterns`` are regular expressions that every key of the family matches. Both only
    serve the "closest architecture" error message.
    """

    name: str
    kind: str  # "fixed" | "arbitrary" | "interp"
    detect: Callable[[StateDict], dict[str, Any] | None]
    build: Callable[..., nn.Module]
    required_keys: tuple[str, ...] = ()
    description: str = ""
    key_patterns: tuple[str, ...] = ()

    def share_present(self, state_dict: StateDict) -> float:
        """Share of ``required_keys`` present in ``state_dict`` (0 when it has none)."""
        if not self.required_keys:
            return 0.0
        return sum(_has_key(state_dict, k) for k in self.required_keys) / len(self.required_keys)

    def missing_keys(self, state_dict: StateDict) -> list[str]:
        return [k for k in self.required_keys if not _has_key(state_dict, k)]

    def unexpected_keys(self, state_dict: StateDict) -> list[str]:
        pats = [re.compile(p) for p in self.key_patterns]
        return [k for k in state_dict if not any(p.search(k) for p in pats)]


def _has_key(sd: StateDict, key: str) -> bool:
    if key.endswith("."):
        return any(k.startswith(key) for k in sd)
    return key in sd


def _shape(sd: StateDict, key: str) -> tuple[int, ...] | None:
    t = sd.get(key)
    return tuple(t.shape) if isinstance(t, Tensor) else None


def _count(sd: StateDict, fmt: str) -> int:
    """Number of consecutive ``i = 0, 1, ...`` with ``fmt.format(i)`` in ``sd``."""
    n = 0
    while fmt.format(n) in sd:
        n += 1
    return n


# ---------------------------------------------------------------------------------------------
# EDSR
# ---------------------------------------------------------------------------------------------

def detect_edsr(sd: StateDict, require_tail: bool = True) -> dict[str, Any] | None:
    """EDSR-PyTorch hyperparameters from a state dict, or ``None``.

    ``n_feats`` / ``n_colors`` from ``head.0.weight``, ``n_resblocks`` by counting
    ``body.{i}.body.0.weight``, the scale from the upsampler convolutions (``4 n`` outputs per
    x2 step, ``9 n`` for x3), ``rgb_range`` from ``sub_mean.bias`` (= -rgb_range * mean).
    ``res_scale`` is not stored: 0.1 for 256+ features (EDSR), else 1 (EDSR-baseline).
    With ``require_tail=False`` a tail-less state dict gives ``no_upsampling=True``.
    """
    head = _shape(sd, "head.0.weight")
    if head is None or len(head) != 4 or head[2:] != (3, 3):
        return None
    n_feats, n_colors = head[0], head[1]
    n_resblocks = _count(sd, "body.{}.body.0.weight")
    if _shape(sd, f"body.{n_resblocks}.weight") != (n_feats, n_feats, 3, 3):
        return None
    for i in range(n_resblocks):
        if (_shape(sd, f"body.{i}.body.0.weight") != (n_feats, n_feats, 3, 3)
                or _shape(sd, f"body.{i}.body.2.weight") != (n_feats, n_feats, 3, 3)):
            return None
    hp: dict[str, Any] = dict(n_resblocks=n_resblocks, n_feats=n_feats,
                              res_scale=0.1 if n_feats >= 256 else 1.0, n_colors=n_colors)
    bias = sd.get("sub_mean.bias")
    if isinstance(bias, Tensor) and bias.numel() == n_colors and not bias.is_meta:
        from .archs.common import DIV2K_RGB_MEAN

        mean0 = DIV2K_RGB_MEAN[0] if n_colors == 3 else sum(DIV2K_RGB_MEAN) / 3
        rng = -float(bias.flatten()[0]) / mean0
        if math.isfinite(rng) and rng > 0:
            if abs(rng - 255) < 0.5:
                rng = 255.0
            elif abs(rng - 1) < 1e-3:
                rng = 1.0
            hp["rgb_range"] = rng
    tail_last = _shape(sd, "tail.1.weight")
    if tail_last is None:
        if require_tail or any(k.startswith("tail.") for k in sd):
            return None
        hp["no_upsampling"] = True
        return hp
    if tail_last != (n_colors, n_feats, 3, 3):
        return None
    idx = sorted(int(m.group(1)) for k in sd if (m := re.fullmatch(r"tail\.0\.(\d+)\.weight", k)))
    outs = [_shape(sd, f"tail.0.{i}.weight") for i in idx]
    if idx != [2 * j for j in range(len(idx))]:
        return None
    if any(o is None or o[1:] != (n_feats, 3, 3) for o in outs):
        return None
    if all(o[0] == 4 * n_feats for o in outs):  # type: ignore[index]
        scale = 2 ** len(outs)
    elif len(outs) == 1 and outs[0][0] == 9 * n_feats:  # type: ignore[index]
        scale = 3
    else:
        return None
    hp["scale"] = scale
    return hp


EDSR_SPEC = ArchSpec(
    name="edsr",
    kind="fixed",
    detect=detect_edsr,
    build=lambda **hp: EDSR(**hp),
    required_keys=("sub_mean.weight", "sub_mean.bias", "head.0.weight", "head.0.bias",
                   "body.0.body.0.weight", "body.0.body.2.weight", "tail.1.weight", "tail.1.bias",
                   "add_mean.weight", "add_mean.bias"),
    description="EDSR / EDSR-baseline (Lim et al. 2017), EDSR-PyTorch checkpoints, x2/x3/x4",
    key_patterns=(r"^(sub|add)_mean\.(weight|bias)$", r"^head\.0\.(weight|bias)$",
                  r"^body\.\d+\.body\.[02]\.(weight|bias)$", r"^body\.\d+\.(weight|bias)$",
                  r"^tail\.0\.\d+\.(weight|bias)$", r"^tail\.1\.(weight|bias)$"),
)


# ---------------------------------------------------------------------------------------------
# RDN
# ---------------------------------------------------------------------------------------------

def detect_rdn(sd: StateDict, require_upsampler: bool = True) -> dict[str, Any] | None:
    """RDN hyperparameters (``G0``, ``kernel_size``, ``config``, ``scale``, ``n_colors``)."""
    sfe = _shape(sd, "SFENet1.weight")
    if sfe is None or len(sfe) != 4:
        return None
    G0, n_colors, k = sfe[0], sfe[1], sfe[2]
    D = _count(sd, "RDBs.{}.LFF.weight")
    C = _count(sd, "RDBs.0.convs.{}.conv.0.weight")
    first = _shape(sd, "RDBs.0.convs.0.conv.0.weight")
    if D == 0 or C == 0 or first is None:
        return None
    G = first[0]
    if _shape(sd, "GFF.0.weight") != (G0, D * G0, 1, 1):
        return None
    if _shape(sd, "SFENet2.weight") != (G0, G0, k, k):
        return None
    if _shape(sd, "RDBs.0.LFF.weight") != (G0, G0 + C * G, 1, 1):
        return None
    config: str | tuple[int, int, int] = next(
        (name for name, cfg in RDN_CONFIGS.items() if cfg == (D, C, G)), (D, C, G))
    hp: dict[str, Any] = dict(G0=G0, kernel_size=k, config=config, n_colors=n_colors)
    up0 = _shape(sd, "UPNet.0.weight")
    if up0 is None:
        if require_upsampler:
            return None
        hp["no_upsampling"] = True
        return hp
    if "UPNet.4.weight" in sd:
        scale = 4
    else:
        r = math.isqrt(up0[0] // G) if up0[0] % G == 0 else 0
        if r not in (2, 3) or r * r * G != up0[0]:
            return None
        scale = r
    hp["scale"] = scale
    return hp


RDN_SPEC = ArchSpec(
    name="rdn",
    kind="fixed",
    detect=detect_rdn,
    build=lambda **hp: RDN(**hp),
    required_keys=("SFENet1.weight", "SFENet2.weight", "RDBs.0.convs.0.conv.0.weight",
                   "RDBs.0.LFF.weight", "GFF.0.weight", "GFF.1.weight", "UPNet.0.weight"),
    description="RDN (Zhang et al. 2018), EDSR-PyTorch / LIIF code, configs A and B, x2/x3/x4",
    key_patterns=(r"^SFENet[12]\.(weight|bias)$",
                  r"^RDBs\.\d+\.convs\.\d+\.conv\.0\.(weight|bias)$",
                  r"^RDBs\.\d+\.LFF\.(weight|bias)$", r"^GFF\.[01]\.(weight|bias)$",
                  r"^UPNet\.\d+\.(weight|bias)$"),
)


# ---------------------------------------------------------------------------------------------
# LIIF
# ---------------------------------------------------------------------------------------------

def detect_liif(sd: StateDict) -> dict[str, Any] | None:
    """``{'spec': <official LIIF spec>}`` reconstructed from ``encoder.*`` / ``imnet.layers.*``.

    The encoder (EDSR-baseline, EDSR or RDN, without upsampler) is read like a plain model;
    MLP widths from the ``imnet.layers.{0,2,4,...}.weight`` shapes; ``feat_unfold`` and
    ``cell_decode`` from the first layer's input width ``F * (9 | 1) + 2 (+ 2)``.
    ``local_ensemble`` is not stored: True (the official default).
    """
    enc = {k[len("encoder."):]: v for k, v in sd.items() if k.startswith("encoder.")}
    if not enc:
        return None
    eh = detect_edsr(enc, require_tail=False)
    if eh is not None and eh.get("no_upsampling"):
        feat_dim = eh["n_feats"]
        full = eh["n_feats"] >= 256
        name = "edsr" if full else "edsr-baseline"
        preset = (32, 256) if full else (16, 64)
        args: dict[str, Any] = {}
        if eh["n_resblocks"] != preset[0]:
            args["n_resblocks"] = eh["n_resblocks"]
        if eh["n_feats"] != preset[1]:
            args["n_feats"] = eh["n_feats"]
        if eh["n_colors"] != 3:
            args["n_colors"] = eh["n_colors"]
        args["no_upsampling"] = True
        encoder_spec = {"name": name, "args": args}
    else:
        rh = detect_rdn(enc, require_upsampler=False)
        if rh is None or not rh.get("no_upsampling"):
            return None
        feat_dim = rh["G0"]
        args = {}
        if rh["G0"] != 64:
            args["G0"] = rh["G0"]
        if rh["kernel_size"] != 3:
            args["RDNkSize"] = rh["kernel_size"]
        if rh["config"] != "B":
            args["RDNconfig"] = rh["config"]
        if rh["n_colors"] != 3:
            args["n_colors"] = rh["n_colors"]
        args["no_upsampling"] = True
        encoder_spec = {"name": "rdn", "args": args}

    pattern = re.compile(r"imnet\.layers\.(\d+)\.weight")
    idx = sorted(int(m.group(1)) for k in sd if (m := pattern.fullmatch(k)))
    if not idx or idx != [2 * j for j in range(len(idx))]:
        return None
    widths = [_shape(sd, f"imnet.layers.{i}.weight") for i in idx]
    if any(w is None or len(w) != 2 for w in widths):
        return None
    for a, b in zip(widths, widths[1:]):
        if b[1] != a[0]:  # type: ignore[index]
            return None
    in_dim = widths[0][1]  # type: ignore[index]
    options = {(True, True): feat_dim * 9 + 4, (True, False): feat_dim * 9 + 2,
               (False, True): feat_dim + 4, (False, False): feat_dim + 2}
    found = [opt for opt, dim in options.items() if dim == in_dim]
    if not found:
        return None
    feat_unfold, cell_decode = found[0]
    spec = {
        "name": "liif",
        "args": {
            "encoder_spec": encoder_spec,
            "imnet_spec": {"name": "mlp", "args": {
                "out_dim": widths[-1][0],  # type: ignore[index]
                "hidden_list": [w[0] for w in widths[:-1]]}},  # type: ignore[index]
            "local_ensemble": True,
            "feat_unfold": feat_unfold,
            "cell_decode": cell_decode,
        },
    }
    return {"spec": spec}


def _build_liif(spec: dict) -> nn.Module:
    from .archs.liif import liif_from_spec  # lazy: keeps the registry importable on its own

    return liif_from_spec(spec)


LIIF_SPEC = ArchSpec(
    name="liif",
    kind="arbitrary",
    detect=detect_liif,
    build=_build_liif,
    required_keys=("encoder.", "imnet.layers.0.weight", "imnet.layers.0.bias",
                   "imnet.layers.2.weight", "imnet.layers.2.bias"),
    description="LIIF (Chen et al. 2021) with an EDSR-baseline, EDSR or RDN encoder, any scale",
    key_patterns=(r"^encoder\.", r"^imnet\.layers\.\d+\.(weight|bias)$"),
)

INTERP_SPEC = ArchSpec(
    name="interp",
    kind="interp",
    detect=lambda sd: None,
    build=lambda method="bicubic": Interpolation(method),
    description="classical interpolation (nearest, bilinear, bicubic, Lanczos-3), no weights",
)

#: Every architecture, in detection order.
ARCHITECTURES: list[ArchSpec] = [LIIF_SPEC, EDSR_SPEC, RDN_SPEC, INTERP_SPEC]


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
