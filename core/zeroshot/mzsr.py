"""MZSR (Soh et al. 2020): meta-transfer learning for zero-shot SR, training and meta-test.

Training (:func:`core.zeroshot.mzsr_train.train_mzsr`, a Job), on the ZSSR net (:class:`ZSSRNet`,
residual over bicubic):

1. **Bicubic pre-training** (``pretrain_steps``): HR crops of the training folders, LR made by
   MATLAB bicubic, L1 / Adam at ``pretrain_lr``.
2. **Meta-learning** (``meta_steps``): each task draws a random Gaussian kernel (isotropic or
   anisotropic, sigmas in HR pixels) and ``task_batch`` HR crops; LR = blur + subsample(HR),
   son = blur + subsample(LR). Inner loop: ``inner_steps`` (5) SGD steps at ``inner_lr`` (1e-2)
   on son -> LR; task loss: L1 of the adapted net on LR -> HR. ``meta_batch`` (5) tasks per
   Adam step at ``meta_lr`` (1e-4). ``first_order: true`` (default, used on the CPU) drops the
   second derivatives (FOMAML: the task gradient at the adapted weights is the meta-gradient);
   ``false`` back-propagates through the inner steps (second-order, ~3x slower).
   ``loss_steps`` (e.g. ``[1, 5]``) counts the task loss after each of those inner steps, with
   equal weights, as the official code's multi-step loss does over all steps (whose decaying
   weights never decay there: its step counter is not incremented); the default, ``[]``, counts
   the last step only. Each counted step costs one more LR -> HR pass. ``bicubic_p``: the share
   of tasks degraded by MATLAB bicubic instead of a Gaussian (0 in the paper, whose meta-stage
   kernels are Gaussians with covariance eigenvalues 1-5 at x2).

Meta-test (:func:`mzsr_adapt`): ``steps`` SGD steps (1 or 10) at ``inner_lr`` on the image's own
(son -> LR) pair made with its kernel (bicubic when none), then SR of the whole image.
Training is resumable from the run folder's ``last.pt`` (see :mod:`.mzsr_train`). MZSR
checkpoints: a dict with ``format`` ``srw-mzsr-1``, float32 ``state_dict``, the net shape and
the resolved config. Units: steps are optimiser steps, patch sizes in HR pixels.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.func import functional_call

from ..budget import check_output_pixels
from ..config_values import flag, number, read_yaml, text
from ..engine.device import PRECISIONS, pick_device, pick_dtype
from ..errors import CheckpointError, ConfigError, InputError, short_message
from ..jobs import Job
from ..resources import RESOURCES_DIR, checkout_root
from .kernels import check_kernel, downscale, upscale
from .net import ZSSRNet
from .internal import MIN_SON, ZSSRProgress, back_project

__all__ = ["MZSRConfig", "load_mzsr_config", "save_mzsr", "load_mzsr",
           "meta_step", "mzsr_adapt", "FORMAT", "BUNDLED_MZSR", "bundled_mzsr"]

FORMAT = "srw-mzsr-1"
#: Relative paths in MZSR configs and the default run folder: the checkout, else the cwd.
REPO_ROOT = checkout_root() or Path.cwd()
#: The bundled x2 meta-weights (a subfolder: the model registry scans weights/*.pth only).
BUNDLED_MZSR = RESOURCES_DIR / "weights" / "zeroshot" / "mzsr_x2.pth"


def bundled_mzsr() -> Path | None:
    """:data:`BUNDLED_MZSR` when the file is there, else None."""
    return BUNDLED_MZSR if BUNDLED_MZSR.is_file() else None


@dataclass(frozen=True)
class MZSRConfig:
    """MZSR training settings (paper values for the meta stage; see the module docstring)."""

    name: str = "mzsr_x2"
    scale: int = 2
    width: int = 64
    depth: int = 8
    train: tuple[str, ...] = ("../shared/datasets/train/T91", "../shared/datasets/train/BSD200")
    hr_patch: int = 64
    pretrain_steps: int = 20000
    pretrain_batch: int = 16
    pretrain_lr: float = 4e-4
    meta_steps: int = 10000
    meta_batch: int = 5
    task_batch: int = 4
    meta_lr: float = 1e-4
    inner_lr: float = 1e-2
    inner_steps: int = 5
    first_order: bool = True
    kernel_size: int = 15
    sigma_min: float = 0.2
    sigma_max: float = 4.0
    anisotropic_p: float = 0.5
    bicubic_p: float = 0.0
    loss_steps: tuple[int, ...] = ()
    seed: int = 0
    precision: str = "auto"
    device: str = "cpu"
    save_every: int = 500
    checkpoint_minutes: float = 5.0
    log: list[str] = field(default_factory=list, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("log")
        d["train"] = list(self.train)
        d["loss_steps"] = list(self.loss_steps)
        return d


#: The numeric settings and their ranges (:func:`core.config_values.number`).
_NUMBERS: dict[str, dict[str, Any]] = {
    "scale": {"integer": True, "minimum": 2}, "width": {"integer": True, "minimum": 1},
    "depth": {"integer": True, "minimum": 2}, "hr_patch": {"integer": True, "minimum": 1},
    "pretrain_steps": {"integer": True, "minimum": 0},
    "pretrain_batch": {"integer": True, "minimum": 1}, "pretrain_lr": {"positive": True},
    "meta_steps": {"integer": True, "minimum": 0}, "meta_batch": {"integer": True, "minimum": 1},
    "task_batch": {"integer": True, "minimum": 1}, "meta_lr": {"positive": True},
    "inner_lr": {"positive": True}, "inner_steps": {"integer": True, "minimum": 1},
    "kernel_size": {"integer": True, "minimum": 3}, "sigma_min": {"positive": True},
    "sigma_max": {"positive": True}, "anisotropic_p": {"minimum": 0, "maximum": 1},
    "bicubic_p": {"minimum": 0, "maximum": 1}, "seed": {"integer": True, "minimum": 0},
    "save_every": {"integer": True, "minimum": 1}, "checkpoint_minutes": {"positive": True},
}


def _checked(raw: dict[str, Any]) -> dict[str, Any]:
    """The settings of ``raw``, each checked for its kind and range (ConfigError naming the
    key); the rules across keys are :func:`load_mzsr_config`'s."""
    out = dict(raw)
    for key, rule in _NUMBERS.items():
        if key in out:
            out[key] = number(out[key], key, **rule)
    if "first_order" in out:
        out["first_order"] = flag(out["first_order"], "first_order")
    for key, choices in (("name", None), ("precision", PRECISIONS), ("device", None)):
        if key in out:
            out[key] = text(out[key], key, choices)
    if "train" in out:
        folders = out["train"] if isinstance(out["train"], list) else [out["train"]]
        out["train"] = tuple(text(f, "train") for f in folders)
    if "loss_steps" in out:
        steps = out["loss_steps"] or []
        if not isinstance(steps, list):
            raise ConfigError(f"'loss_steps' must be a list of inner steps such as [1, 5], "
                              f"got {steps!r}")
        out["loss_steps"] = tuple(number(n, "loss_steps", integer=True) for n in steps)
    return out


def load_mzsr_config(path: str | Path | None = None, **overrides: Any) -> MZSRConfig:
    """The config of a YAML file (flat keys of :class:`MZSRConfig`), with ``overrides``."""
    raw: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        raw = read_yaml(p) or {}
        if not isinstance(raw, dict):
            raise ConfigError(f"{p.name}: expected a mapping of settings")
    raw.update({k: v for k, v in overrides.items() if v is not None})
    names = {f.name for f in fields(MZSRConfig)} - {"log"}
    bad = sorted(set(raw) - names)
    if bad:
        raise ConfigError(f"unknown MZSR setting(s): {', '.join(bad)}")
    cfg = MZSRConfig(**_checked(raw))
    if cfg.kernel_size % 2 == 0:
        raise ConfigError(f"'kernel_size' must be odd (a centred kernel), got {cfg.kernel_size}")
    if cfg.sigma_min > cfg.sigma_max:
        raise ConfigError(f"'sigma_min' ({cfg.sigma_min}) must be <= 'sigma_max' "
                          f"({cfg.sigma_max})")
    if any(n < 1 or n > cfg.inner_steps for n in cfg.loss_steps):
        raise ConfigError(f"loss_steps must lie in 1..inner_steps ({cfg.inner_steps}), got "
                          f"{list(cfg.loss_steps)}")
    if cfg.scale < 2 or cfg.hr_patch % (cfg.scale ** 2) or cfg.hr_patch < MIN_SON * cfg.scale ** 2:
        raise ConfigError(f"hr_patch must be a multiple of scale^2 = {cfg.scale ** 2} and at "
                          f"least {MIN_SON * cfg.scale ** 2} (scale >= 2)")
    for key in ("meta_batch", "task_batch", "inner_steps", "pretrain_batch"):
        if getattr(cfg, key) < 1:
            raise ConfigError(f"{key} must be >= 1")
    return cfg


def _fast_loss(net: ZSSRNet, params: dict[str, Tensor], x: Tensor, y: Tensor,
               autocast: torch.dtype | None) -> Tensor:
    with torch.autocast(x.device.type, dtype=autocast or torch.bfloat16,
                        enabled=autocast is not None):
        out = functional_call(net, params, (x,))
    return F.l1_loss(out.float(), y)


def adapt_params(net: ZSSRNet, params: dict[str, Tensor], son_up: Tensor, lr: Tensor,
                 steps: int, inner_lr: float, first_order: bool,
                 autocast: torch.dtype | None = None,
                 losses: list[float] | None = None) -> dict[str, Tensor]:
    """``steps`` SGD steps of ``params`` on son_up -> lr; differentiable unless first-order.
    ``losses``: a list that gets the L1 of each step (before its update)."""
    fast = ({n: p.detach().clone().requires_grad_() for n, p in params.items()}
            if first_order else dict(params))
    for _ in range(steps):
        loss = _fast_loss(net, fast, son_up, lr, autocast)
        if losses is not None:
            losses.append(float(loss.detach()))
        grads = torch.autograd.grad(loss, list(fast.values()), create_graph=not first_order)
        fast = {n: p - inner_lr * g for (n, p), g in zip(fast.items(), grads)}
        if first_order:
            fast = {n: p.detach().requires_grad_() for n, p in fast.items()}
    return fast


def make_task(hr: Tensor, kernel: Tensor | None, s: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(son_up, lr, lr_up, hr) of one task: kernel blur + subsampling (None: MATLAB bicubic),
    twice."""
    lr = downscale(hr, s, kernel)
    son = downscale(lr, s, kernel)
    return upscale(son, tuple(lr.shape[-2:])), lr, upscale(lr, tuple(hr.shape[-2:])), hr


def meta_step(net: ZSSRNet, opt: torch.optim.Optimizer, tasks: list[tuple[Tensor, ...]],
              cfg: MZSRConfig, autocast: torch.dtype | None = None) -> float:
    """One meta-update over ``tasks`` (from :func:`make_task`); returns the mean task loss
    (after the last inner step). The task loss is counted after each inner step in
    ``cfg.loss_steps`` with equal weights (empty: after the last one only)."""
    params = dict(net.named_parameters())
    opt.zero_grad(set_to_none=True)
    counted = sorted(set(cfg.loss_steps)) or [cfg.inner_steps]
    total = 0.0
    for son_up, lr, lr_up, hr in tasks:
        fast, done = params, 0
        for n in counted:
            fast = adapt_params(net, fast, son_up, lr, n - done, cfg.inner_lr, cfg.first_order,
                                autocast)
            done = n
            loss = _fast_loss(net, fast, lr_up, hr, autocast) / (len(tasks) * len(counted))
            if cfg.first_order:
                grads = torch.autograd.grad(loss, list(fast.values()))
                for p, g in zip(params.values(), grads):
                    p.grad = g if p.grad is None else p.grad + g
            else:
                loss.backward(retain_graph=n != counted[-1])
        total += float(loss.detach()) * len(counted)
    opt.step()
    return total


def save_mzsr(net: ZSSRNet, cfg: MZSRConfig, path: Path, **extra: Any) -> Path:
    """Write an MZSR checkpoint (atomic: temp file then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, "state_dict": {k: v.detach().float().cpu() for k, v in
                                                 net.state_dict().items()},
                "channels": net.channels, "width": net.width, "depth": net.depth,
                "scale": cfg.scale, "config": cfg.to_dict(), **extra}, tmp)
    tmp.replace(path)
    return path


def load_mzsr(path: str | Path) -> tuple[ZSSRNet, dict[str, Any]]:
    """The net of an MZSR checkpoint and the checkpoint's other entries."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"MZSR checkpoint not found: {p}")
    try:
        ck = torch.load(p, map_location="cpu", weights_only=True)
    except Exception:  # corrupt, foreign or hostile file; torch's advice to drop
        # weights_only would be wrong here, so its message is not quoted
        raise CheckpointError(f"cannot read {p.name} as an MZSR checkpoint: it is not a "
                              f"weights-only PyTorch file ({FORMAT})") from None
    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        raise CheckpointError(f"{p.name} is not an MZSR checkpoint ({FORMAT})")
    sizes = {k: ck.get(k) for k in ("channels", "width", "depth")}
    limits = {"channels": 64, "width": 1024, "depth": 64}
    for k, v in sizes.items():
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= limits[k]:
            raise CheckpointError(f"{p.name}: MZSR '{k}' is {v!r}; expected an integer in "
                                  f"1..{limits[k]}")
    sd = ck.get("state_dict")
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise CheckpointError(f"{p.name}: its 'state_dict' is not a mapping of tensors")
    net = ZSSRNet(sizes["channels"], sizes["width"], sizes["depth"])
    try:
        net.load_state_dict(sd)
    except Exception as exc:  # noqa: BLE001 - missing keys, wrong shapes
        raise CheckpointError(f"{p.name} does not fit the MZSR net it describes "
                              f"({short_message(exc)})") from None
    return net, {k: v for k, v in ck.items() if k != "state_dict"}


def mzsr_adapt(net: ZSSRNet, image: np.ndarray, scale: int, kernel: np.ndarray | None = None,
               steps: int = 10, inner_lr: float = 1e-2, back_projection: int = 0,
               precision: str = "fp32", device: str = "cpu") -> Job[np.ndarray]:
    """Meta-test: adapt a copy of ``net`` to ``image`` (``H x W x C`` float32 in [0, 1]) with
    ``steps`` SGD steps on its (son -> LR) pair, then SR by ``scale``; returns ``H*s x W*s x C``.
    """
    img = np.asarray(image, dtype=np.float32)
    if img.ndim != 3 or img.shape[2] != net.channels:
        raise InputError(f"the meta-weights take {net.channels}-channel images, got shape "
                         f"{img.shape}")
    s = int(scale)
    if s != scale or s < 2:
        raise InputError(f"MZSR needs a whole-number scale >= 2, got {scale}")
    if min(img.shape[:2]) < MIN_SON * s:
        raise InputError(f"the image ({img.shape[1]} x {img.shape[0]}) is too small to make an "
                         f"LR son at x{s}: it needs at least {MIN_SON * s} pixels a side")
    check_output_pixels(img.shape[0] * s, img.shape[1] * s,
                        f"the MZSR x{s} output of the {img.shape[1]}x{img.shape[0]} input")
    dev = pick_device(device)
    dtype = pick_dtype(dev, precision)
    autocast = dtype if dtype != torch.float32 else None
    k = torch.from_numpy(check_kernel(kernel)).to(dev) if kernel is not None else None
    x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[None].to(dev)
    h, w = img.shape[:2]
    hh, ww = (h - h % s, w - w % s) if k is not None else (h, w)
    xc = x[..., :hh, :ww]
    son_up = upscale(downscale(xc, s, k, size=(round(hh / s), round(ww / s))), (hh, ww))
    model = copy.deepcopy(net).to(dev).float()
    params = dict(model.named_parameters())
    losses: list[float] = []
    for i in range(steps):
        params = adapt_params(model, params, son_up, xc, 1, inner_lr, True, autocast, losses)
        yield ZSSRProgress(i + 1, steps + 1, f"adapt {i + 1}/{steps}, L1 {losses[-1]:.4g}",
                           loss=losses[-1], lr=inner_lr)
    with torch.no_grad():
        up = upscale(x, (h * s, w * s))
        with torch.autocast(dev.type, dtype=autocast or torch.bfloat16,
                            enabled=autocast is not None):
            y = functional_call(model, {n: p.detach() for n, p in params.items()}, (up,)).float()
        y = back_project(y, x, s, k, back_projection) if back_projection else y
    yield ZSSRProgress(steps + 1, steps + 1, "super-resolved")
    return y[0].permute(1, 2, 0).cpu().numpy().astype(np.float32)
