"""The optimiser and learning-rate schedule of a training run, and how a resumed run gets its
schedule back (:func:`resume_schedule`: as saved, or the config's where it changes no step
already trained)."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError
from .config import OptimConfig, TrainConfig

__all__ = ["make_optimizer", "make_scheduler", "scheduler_for", "lr_history", "resume_schedule"]


def make_optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    o = cfg.train
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.Adam(params, lr=o.lr, betas=tuple(o.betas), weight_decay=o.weight_decay)


def make_scheduler(cfg: TrainConfig, opt: torch.optim.Optimizer) -> Any:
    """Per-step learning-rate schedule from ``train.schedule``."""
    return scheduler_for(cfg.train, opt)


def scheduler_for(train: OptimConfig, opt: torch.optim.Optimizer) -> Any:
    """The schedule of one ``train`` section (``cfg.train``, or a saved run's)."""
    s = train.schedule
    sched = torch.optim.lr_scheduler
    kind = s.get("type", "constant")
    if kind == "step":
        return sched.StepLR(opt, step_size=int(s["step_size"]), gamma=float(s.get("gamma", 0.5)))
    if kind == "multistep":
        return sched.MultiStepLR(opt, milestones=[int(v) for v in s["milestones"]],
                                 gamma=float(s.get("gamma", 0.5)))
    if kind == "cosine":
        return sched.CosineAnnealingLR(opt, T_max=int(s.get("steps", train.steps)),
                                       eta_min=float(s.get("min_lr", 0.0)))
    return sched.LambdaLR(opt, lambda _: 1.0)


def _advance(sched: Any, steps: int) -> None:
    with warnings.catch_warnings():  # "scheduler.step() before optimizer.step()": on purpose
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(steps):
            sched.step()


def lr_history(train: OptimConfig, steps: int) -> list[float]:
    """The learning rate after each of the first ``steps`` steps under ``train``'s schedule
    (a function of the step alone)."""
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=train.lr)
    sched = scheduler_for(train, opt)
    out = []
    for _ in range(steps):
        _advance(sched, 1)
        out.append(float(opt.param_groups[0]["lr"]))
    return out


def resume_schedule(train: OptimConfig, saved_train: dict[str, Any], opt: torch.optim.Optimizer,
                    sched: Any, saved_state: dict[str, Any], start: int) -> str:
    """Restore the schedule of a run resumed at step ``start``; returns a note ('' if none).

    The schedule is the config's. When its ``train.steps`` / ``schedule`` / ``lr`` are the ones
    the run was saved with, the scheduler's state is restored as saved. When they changed (a run
    shortened or lengthened), the change is accepted only if it gives every step already
    trained the learning rate it had (e.g. milestones moved that lie ahead): then the run equals
    one started with the new config, and the config's schedule is replayed up to ``start``.
    A change that rewrites steps already trained raises :class:`ConfigError`."""
    keys = ("steps", "lr", "schedule")
    if all(saved_train.get(k) == getattr(train, k) for k in keys):
        sched.load_state_dict(saved_state)
        return ""
    before = OptimConfig(**{k: v for k, v in saved_train.items()
                            if k in OptimConfig.__dataclass_fields__})
    old, new = lr_history(before, start), lr_history(train, start)
    if old != new:
        at = next(i for i, (a, b) in enumerate(zip(old, new)) if a != b) + 1
        raise ConfigError(f"the config's train schedule changes steps already trained (the lr "
                          f"after step {at} was {old[at - 1]:.3e}, it would be "
                          f"{new[at - 1]:.3e}); keep the run's schedule or start a new run")
    for g in opt.param_groups:
        g["lr"] = g["initial_lr"]
    _advance(sched, start)
    changed = ", ".join(f"{k} {saved_train.get(k)} -> {getattr(train, k)}" for k in keys
                        if saved_train.get(k) != getattr(train, k))
    return (f"schedule changed on resume at step {start} ({changed}); the steps trained so far "
            f"had the same learning rates under both")
