"""Training configurations: one YAML file per model, checked before any work starts.

A config has five sections (every key but ``model.arch`` and ``data.train`` has a default)::

    name: liif_edsr_baseline          # run name (default: the file name without .yaml)
    seed: 0
    model:  {arch: liif, encoder: edsr-baseline, hidden_list: [256, 256, 256, 256]}
            # or {arch: edsr, args: {n_resblocks: 16, n_feats: 64, scale: 4}}
    data:   {train: [../shared/datasets/train/T91, ...], lr_patch: 48, batch_size: 16,
             scale_min: 1.0, scale_max: 4.0, sample_q: 2304, augment: true}
            # or normal maps: {kind: normals, part: detail, sigma: 4, train: [folders], ...}
    train:  {steps: 20000, lr: 1.0e-4, schedule: {type: step, step_size: 8000, gamma: 0.5},
             loss: l1, loss_scale: 2.0, precision: auto, channels_last: true, log_every: 10}
    validation: {data: ../shared/datasets/benchmark/Set5/HR, scales: [4], every_steps: 300,
                 extra_scales: [2, 8], extra_every: 4, precision: auto}
    checkpoint: {every_minutes: 5}

Relative paths are relative to the repository root (the folder holding ``main.py``), so the
bundled configs work from any working directory. Every problem is a :class:`ConfigError` with
one sentence naming the key.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping


from ..config_values import build_section, number, prefixes, read_yaml, section
from ..errors import ConfigError
from ..resources import CONFIGS_DIR, checkout_root
from ..models.registry import get_arch
from .data import NORMAL_PARTS
from .init_maps import INIT_MAPS
from .ipf_config import LOSS_DEFAULTS, check_ipf_config

__all__ = ["TrainConfig", "ModelConfig", "DataConfig", "OptimConfig", "ValConfig",
           "load_config", "config_from_dict", "REPO_ROOT", "ARBITRARY_ARCHS", "FIXED_ARCHS",
           "LOSS_DEFAULTS", "check_ipf_config"]

#: The repository root: relative paths in configs are relative to it (installed: the cwd).
REPO_ROOT = checkout_root() or Path.cwd()
#: Architectures that can be trained, by kind.
ARBITRARY_ARCHS = ("liif", "ipf")
FIXED_ARCHS = ("edsr", "rdn", "rcan", "swinir", "srresnet", "msrresnet", "lrfnet", "srcnn",
               "fsrcnn", "espcn", "vdsr")
_SCHEDULES = ("constant", "step", "multistep", "cosine")
_PRECISIONS = ("auto", "fp32", "bf16")
PIXEL_LOSSES = ("l1", "mse")


@dataclass
class ModelConfig:
    """``arch`` (liif | edsr | rdn) and its arguments.

    LIIF: ``encoder`` (edsr-baseline | edsr | rdn), ``encoder_args``, ``hidden_list``.
    Fixed-scale: ``args`` passed to the architecture (``scale`` among them).
    """

    arch: str
    encoder: str = "edsr-baseline"
    encoder_args: dict[str, Any] = field(default_factory=dict)
    hidden_list: list[int] = field(default_factory=lambda: [256, 256, 256, 256])
    args: dict[str, Any] = field(default_factory=dict)
    init_liif: str | None = None  # ipf: the trained LIIF it is built on (see core.training.ipf)
    #: fine-tuning: weights loaded into the freshly built model (strict names and shapes): a
    #: checkpoint path or a bundled model name (``liif``); see :func:`model_init.build_model`
    init_from: str | None = None
    #: with ``init_from``: load only the tensors whose names and shapes the model shares with
    #: the file (EDSR x4 from the trained x2: all but the second upsampler conv); the others
    #: keep their fresh initialisation and are listed when the run starts
    init_partial: bool = False
    #: with ``init_partial``: parameter-name prefixes never loaded from the file, left freshly
    #: initialised even where the file has the name with another shape (EDSR x3 from the
    #: trained x2: ``[tail.0.0]``, the upsampler conv making 3 x 3 sub-pixels, not 2 x 2)
    init_fresh: list[str] = field(default_factory=list)
    #: with ``init_from``: a named mapping of the file's tensors onto this model first
    #: (:data:`core.training.init_maps.INIT_MAPS`, e.g. ``edsr_body_to_liif_encoder``)
    init_map: str | None = None
    #: parameter-name prefixes kept fixed during training (``[encoder]``: a LIIF decoder
    #: trained on the features of an encoder loaded with ``init_from``); see
    #: :func:`model_init.freeze_parameters`
    freeze: list[str] = field(default_factory=list)

    @property
    def arbitrary(self) -> bool:
        return self.arch in ARBITRARY_ARCHS

    @property
    def scale(self) -> int:
        """Training scale of a fixed-scale model (``args.scale``, default 2)."""
        return int(self.args.get("scale", 2))


@dataclass
class DataConfig:
    """Training data: image folders (preloaded as uint8), patch and batch sizes.

    ``lr_patch``: LR patch side. Fixed-scale models get HR crops of ``lr_patch * scale``
    (``scales``: one scale per batch drawn from this list, for models that take a
    bicubic-upscaled input and serve several scales, like VDSR);
    arbitrary-scale ones a scale ``s ~ U(scale_min, scale_max)`` per batch, HR crops of
    ``round(lr_patch * s)`` and ``sample_q`` query pixels per image. ``quantize_lr``: round the
    LR to 8 bit as the benchmark LR files are.

    ``kind``: ``images`` (image files, uint8) or ``normals`` (normal maps found recursively in
    the folders, :func:`core.training.data.load_normal_images`): each map is split into shape and
    detail at ``sigma`` pixels (a number, or a list to split every map at each), and the
    ``part`` (detail | shape | both) is encoded ``(n + 1) / 2`` as float32 training images.
    Flips/rotations of normal maps also turn the vectors; set ``quantize_lr: false`` to keep
    the LR in float, as the normal-map SR pipeline feeds it.
    """

    train: list[str]
    kind: str = "images"
    part: str = "detail"
    sigma: Any = 4.0
    lr_patch: int = 48
    batch_size: int = 16
    scale_min: float = 1.0
    scale_max: float = 4.0
    sample_q: int = 2304
    scales: list[int] | None = None
    augment: bool = True
    quantize_lr: bool = True


@dataclass
class OptimConfig:
    """Optimiser, schedule and numerics.

    ``schedule``: ``{type: constant}``, ``{type: step, step_size, gamma}``,
    ``{type: multistep, milestones, gamma}`` or ``{type: cosine, min_lr}`` (over ``steps``).
    ``loss``: the pixel loss, ``l1`` (EDSR, LIIF) or ``mse`` (the loss of the SRCNN, FSRCNN and
    VDSR papers, and the one PSNR measures). ``loss_scale`` multiplies it, computed on [0, 1]
    values (2 = L1 on [-1, 1] values, LIIF's normalisation). ``precision``: ``bf16`` autocast
    with float32 master weights, ``fp32``, or ``auto`` (bf16 on CPUs / GPUs with fast bf16).
    """

    steps: int = 20000
    lr: float = 1e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    weight_decay: float = 0.0
    schedule: dict[str, Any] = field(default_factory=lambda: {"type": "constant"})
    loss: str = "l1"
    loss_scale: float = 1.0
    precision: str = "auto"
    channels_last: bool = True
    grad_clip: float | None = None
    log_every: int = 10
    losses: dict[str, Any] = field(default_factory=dict)  # ipf only (core.training.ipf)


@dataclass
class ValConfig:
    """Validation: PSNR (Y channel, shave = scale) on a folder of HR images.

    Every ``every_steps`` steps at ``scales`` (the first one picks ``best.pt``); every
    ``extra_every``-th validation also at ``extra_scales``. ``data: null`` turns it off.
    """

    data: str | None = None
    scales: list[int] = field(default_factory=lambda: [4])
    every_steps: int = 300
    extra_scales: list[int] = field(default_factory=list)
    extra_every: int = 4
    precision: str = "auto"
    y_channel: bool = True


@dataclass
class TrainConfig:
    name: str
    model: ModelConfig
    data: DataConfig
    train: OptimConfig = field(default_factory=OptimConfig)
    validation: ValConfig = field(default_factory=ValConfig)
    checkpoint_minutes: float = 5.0
    seed: int = 0
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (YAML/JSON/torch.save safe) of the whole config."""
        return asdict(self)

    def resolve(self, path: str) -> Path:
        """A config path: absolute as given, relative to the repository root otherwise."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (REPO_ROOT / p)


# ---------------------------------------------------------------------------------------------

def _check_folder(cfg: TrainConfig, path: str, key: str) -> None:
    p = cfg.resolve(path)
    if not p.is_dir():
        raise ConfigError(f"'{key}' folder {path} does not exist (looked for {p})")


def config_from_dict(raw: Mapping[str, Any], name: str = "run", check_paths: bool = True,
                     source: str | None = None) -> TrainConfig:
    """Build and validate a :class:`TrainConfig` from a plain mapping (parsed YAML)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"a training config must be a mapping, got {type(raw).__name__}")
    raw = copy.deepcopy(dict(raw))
    top_known = {"name", "seed", "model", "data", "train", "validation", "checkpoint"}
    unknown = sorted(set(raw) - top_known)
    if unknown:
        raise ConfigError(f"unknown section(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(top_known))}")
    model = build_section(ModelConfig, section(raw, "model", required=True), "model")
    data = build_section(DataConfig, section(raw, "data", required=True), "data")
    optim = build_section(OptimConfig, section(raw, "train"), "train")
    val = build_section(ValConfig, section(raw, "validation"), "validation")
    ck = section(raw, "checkpoint")
    if set(ck) - {"every_minutes"}:
        extra = ", ".join(sorted(set(ck) - {"every_minutes"}))
        raise ConfigError(f"unknown key(s) in 'checkpoint': {extra} (known: every_minutes)")
    cfg = TrainConfig(
        name=str(raw.get("name") or name), model=model, data=data, train=optim, validation=val,
        checkpoint_minutes=number(ck.get("every_minutes", 5.0), "checkpoint.every_minutes",
                                   positive=True),
        seed=number(raw.get("seed", 0), "seed", integer=True, minimum=0), source=source)

    _check_model(model, data)
    _check_data(model, data)
    _check_optim(optim)
    _check_validation(val, model, data)
    if model.arch == "ipf":
        check_ipf_config(cfg, check_paths)
    if check_paths:
        _check_paths(cfg)
    return cfg


def _check_model(model: ModelConfig, data: DataConfig) -> None:
    """Normalise and check the ``model`` section (and ``data.scales``, which only some
    architectures take)."""
    model.arch = str(model.arch).lower()
    if model.arch not in ARBITRARY_ARCHS + FIXED_ARCHS:
        raise ConfigError(f"unknown model arch {model.arch!r} in 'model.arch'; trainable: "
                          f"{', '.join(ARBITRARY_ARCHS + FIXED_ARCHS)}")
    if model.arch == "ipf":
        pass  # the LIIF base comes from model.init_liif; checked with train.losses below
    elif model.arbitrary:
        if model.encoder not in ("edsr-baseline", "edsr", "rdn"):
            raise ConfigError(f"unknown LIIF encoder {model.encoder!r} in 'model.encoder'; "
                              "expected edsr-baseline, edsr or rdn")
        if not model.hidden_list or not all(isinstance(h, int) and h > 0
                                            for h in model.hidden_list):
            raise ConfigError(f"'model.hidden_list' must be a list of positive integers, "
                              f"got {model.hidden_list!r}")
    else:
        number(model.args.get("scale", 2), "model.args.scale", integer=True, minimum=1)
    if model.init_from is not None:
        if not isinstance(model.init_from, str) or not model.init_from.strip():
            raise ConfigError(f"'model.init_from' must be a checkpoint path or a model name, "
                              f"got {model.init_from!r}")
    if model.init_partial and not model.init_from:
        raise ConfigError("'model.init_partial' needs 'model.init_from'")
    model.init_fresh = prefixes(model.init_fresh, "model.init_fresh", "tail.0.0")
    if model.init_fresh and not model.init_partial:
        raise ConfigError("'model.init_fresh' leaves part of the model fresh: it needs "
                          "'model.init_from' and 'model.init_partial: true'")
    if model.init_map is not None:
        if model.init_map not in INIT_MAPS:
            raise ConfigError(f"unknown 'model.init_map' {model.init_map!r}; known: "
                              f"{', '.join(INIT_MAPS)}")
        if not model.init_from:
            raise ConfigError("'model.init_map' needs 'model.init_from'")
        if INIT_MAPS[model.init_map].target_arch != model.arch:
            raise ConfigError(f"'model.init_map' {model.init_map} makes a "
                              f"{INIT_MAPS[model.init_map].target_arch}, not a {model.arch}")
        if model.arch == "liif" and (model.encoder not in ("edsr-baseline", "edsr") or
                                     float(model.encoder_args.get("rgb_range", 1.0)) != 1.0):
            raise ConfigError(f"'model.init_map' {model.init_map} needs an EDSR encoder on "
                              f"LIIF's (x - 0.5) / 0.5 input ('model.encoder' edsr-baseline or "
                              f"edsr, no 'rgb_range' in 'model.encoder_args')")
        if INIT_MAPS[model.init_map].partial and not model.init_partial:
            raise ConfigError(f"'model.init_map' {model.init_map} leaves part of the model "
                              f"fresh: set 'model.init_partial: true'")
    model.freeze = prefixes(model.freeze, "model.freeze", "encoder")
    if model.freeze and not model.init_from:
        raise ConfigError("'model.freeze' keeps weights fixed: it needs 'model.init_from' "
                          "(frozen fresh weights would stay random)")
    if data.scales is not None:
        if (model.arbitrary or not get_arch(model.arch).any_scale
                or not isinstance(data.scales, list) or not data.scales):
            raise ConfigError("'data.scales' is a non-empty list of integer scales, for "
                              "fixed-scale models with a bicubic-upscaled input (vdsr, srcnn)")
        data.scales = [number(s, "data.scales", integer=True, minimum=2) for s in data.scales]


def _check_data(model: ModelConfig, data: DataConfig) -> None:
    data.kind = str(data.kind).lower()
    if data.kind not in ("images", "normals"):
        raise ConfigError(f"'data.kind' must be images or normals, got {data.kind!r}")
    if data.kind == "normals":
        if data.part not in NORMAL_PARTS:
            raise ConfigError(f"'data.part' must be one of {', '.join(NORMAL_PARTS)}, "
                              f"got {data.part!r}")
        sig = data.sigma if isinstance(data.sigma, list) else [data.sigma]
        if not sig:
            raise ConfigError("'data.sigma' must be a number of pixels or a non-empty list")
        sig = [number(v, "data.sigma", positive=True) for v in sig]
        data.sigma = sig if isinstance(data.sigma, list) else sig[0]
    if isinstance(data.train, str):
        data.train = [data.train]
    if not data.train:
        raise ConfigError("'data.train' must list at least one image folder")
    data.lr_patch = number(data.lr_patch, "data.lr_patch", integer=True, minimum=4)
    data.batch_size = number(data.batch_size, "data.batch_size", integer=True, minimum=1)
    data.scale_min = number(data.scale_min, "data.scale_min", minimum=1)
    data.scale_max = number(data.scale_max, "data.scale_max", minimum=1)
    if data.scale_max < data.scale_min:
        raise ConfigError(f"'data.scale_max' ({data.scale_max}) is below 'data.scale_min' "
                          f"({data.scale_min})")
    data.sample_q = number(data.sample_q, "data.sample_q", integer=True, minimum=1)
    if model.arch == "liif" and data.sample_q > data.lr_patch ** 2:  # ipf: train.losses.hr_patch
        # at s close to 1 the HR crop has only lr_patch^2 pixels to sample from
        raise ConfigError(f"'data.sample_q' ({data.sample_q}) exceeds the {data.lr_patch}x"
                          f"{data.lr_patch} pixels of the smallest HR crop")


def _check_optim(optim: OptimConfig) -> None:
    optim.steps = number(optim.steps, "train.steps", integer=True, minimum=1)
    optim.lr = number(optim.lr, "train.lr", positive=True)
    optim.loss_scale = number(optim.loss_scale, "train.loss_scale", positive=True)
    if str(optim.loss).lower() not in PIXEL_LOSSES:
        raise ConfigError(f"'train.loss' must be one of {', '.join(PIXEL_LOSSES)}, "
                          f"got {optim.loss!r}")
    optim.loss = str(optim.loss).lower()
    optim.log_every = number(optim.log_every, "train.log_every", integer=True, minimum=1)
    if optim.grad_clip is not None:
        optim.grad_clip = number(optim.grad_clip, "train.grad_clip", positive=True)
    if str(optim.precision).lower() not in _PRECISIONS:
        raise ConfigError(f"'train.precision' must be one of {', '.join(_PRECISIONS)}, "
                          f"got {optim.precision!r}")
    optim.precision = str(optim.precision).lower()
    sched = optim.schedule or {"type": "constant"}
    if not isinstance(sched, Mapping) or sched.get("type") not in _SCHEDULES:
        raise ConfigError(f"'train.schedule.type' must be one of {', '.join(_SCHEDULES)}, "
                          f"got {sched!r}")
    if sched["type"] == "step":
        number(sched.get("step_size"), "train.schedule.step_size", integer=True, minimum=1)
    if sched["type"] == "multistep" and not isinstance(sched.get("milestones"), list):
        raise ConfigError("'train.schedule.milestones' must be a list of step numbers")
    optim.schedule = dict(sched)


def _check_validation(val: ValConfig, model: ModelConfig, data: DataConfig) -> None:
    if val.data is not None:
        val.scales = [number(s, "validation.scales", integer=True, minimum=1) for s in val.scales]
        val.extra_scales = [number(s, "validation.extra_scales", integer=True, minimum=1)
                            for s in val.extra_scales]
        if not val.scales:
            raise ConfigError("'validation.scales' must list at least one scale")
        trained = data.scales or [model.scale]
        if not model.arbitrary and val.scales[0] not in trained:
            raise ConfigError(f"'validation.scales' starts with x{val.scales[0]} but the model "
                              f"is trained at x{', x'.join(map(str, trained))}")
        val.every_steps = number(val.every_steps, "validation.every_steps", integer=True,
                                  minimum=1)
        val.extra_every = number(val.extra_every, "validation.extra_every", integer=True,
                                  minimum=1)
        if str(val.precision).lower() not in _PRECISIONS:
            raise ConfigError(f"'validation.precision' must be one of {', '.join(_PRECISIONS)}")


def _check_paths(cfg: TrainConfig) -> None:
    """The files and folders the config names exist (``model.init_from`` where it is a path,
    not a bundled model name)."""
    model, data, val = cfg.model, cfg.data, cfg.validation
    src = model.init_from
    if src and not cfg.resolve(src).is_file() and (
            "/" in src or "\\" in src or Path(src).suffix.lower() in (".pth", ".pt", ".pkl")):
        raise ConfigError(f"'model.init_from' {src} does not exist (looked for "
                          f"{cfg.resolve(src)})")
    for i, folder in enumerate(data.train):
        _check_folder(cfg, folder, f"data.train[{i}]")
    if val.data is not None:
        _check_folder(cfg, val.data, "validation.data")


def load_config(path: str | Path, check_paths: bool = True) -> TrainConfig:
    """Read and validate a YAML training config (see the module docstring for the keys)."""
    p = Path(path)
    if not p.is_file() and (CONFIGS_DIR / p.name).is_file() and p.parent.name == "configs":
        p = CONFIGS_DIR / p.name  # configs/NAME.yaml names a bundled config (installed too)
    if not p.is_file():
        raise ConfigError(f"training config {p} not found")
    raw = read_yaml(p)
    if raw is None:
        raise ConfigError(f"{p.name} is empty")
    return config_from_dict(raw, name=p.stem, check_paths=check_paths, source=str(p))

