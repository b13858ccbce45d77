"""The training loop as a :data:`~core.jobs.Job`: one :class:`TrainProgress` per step.

``train(config, out_dir)`` builds the model from the config (seeded), preloads the images, and
runs L1 / Adam steps, with bf16 autocast where the hardware runs it fast (float32 master
weights and optimiser state), validating PSNR every ``validation.every_steps`` steps. The run
folder gets:

* ``last.pt``: the resumable state (:mod:`.state`), every ``checkpoint.every_minutes`` minutes,
  at the end, and when the job is closed (cancel) or fails between two steps;
* ``best.pt``: loadable float32 weights with the best validation PSNR (at the first scale);
* ``log.csv``: ``step, loss, lr, val_psnr, seconds, val_other`` (loss = mean since the previous
  row, seconds = training time so far);
* ``config.yaml``: the resolved config of the run.

Resuming (``resume=True``) continues from ``last.pt`` and gives bit-identical weights to an
uninterrupted run: batches are seeded per step and the optimiser/scheduler/RNG states are
restored. The config's schedule may change on resume where the steps already trained keep
their learning rates (milestones that lie ahead moved, ``train.steps`` shortened): the run then
equals one started with the new config (:func:`resume_schedule`). LIIF's loss is L1 on [0, 1] values times ``train.loss_scale`` = 2, i.e. exactly the
official L1 on values normalised by ``(x - 0.5) / 0.5``.

Fine-tuning: ``model.init_from`` starts from a trained checkpoint (strict names and shapes),
and ``data.kind: normals`` trains on the shape/detail parts of normal maps (:mod:`.data`),
e.g. ``configs/liif_normals_detail.yaml``.
"""

from __future__ import annotations

import csv
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch import nn

from ..engine import SROptions
from ..engine.device import pick_device, pick_dtype
from ..errors import ConfigError
from ..evaluate import evaluate, find_images
from ..jobs import Job, Progress
from .config import REPO_ROOT, TrainConfig
from .data import ImageSet, load_images, load_normal_images
from .ipf import IPFTrainer
from .model_init import fresh_model, freeze_parameters, init_weights
from .prefetch import batches
from .schedule import make_optimizer, make_scheduler, resume_schedule
from .state import export_weights, load_state, save_state, set_rng_state
from .steps import input_flags, train_step

__all__ = ["TrainProgress", "TrainResult", "validate", "train", "default_out_dir",
           "load_training_images"]

_LOG_HEADER = ["step", "loss", "lr", "val_psnr", "seconds", "val_other"]


@dataclass(frozen=True)
class TrainProgress(Progress):
    """Progress of a training run. ``event``: ``""`` (a step), ``"val"`` (validation done,
    ``val`` maps scale -> PSNR), ``"checkpoint"`` (``last.pt`` written) or ``"setup"``."""

    loss: float | None = None
    lr: float = 0.0
    sec_per_step: float = 0.0
    val: dict[int, float] | None = None
    best_psnr: float | None = None
    event: str = ""


@dataclass
class TrainResult:
    out_dir: Path
    step: int
    total: int
    best_psnr: float | None
    last: Path
    best: Path | None
    seconds: float
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.step >= self.total


def default_out_dir(cfg: TrainConfig) -> Path:
    """``runs/<config name>/`` inside the repository (git-ignored)."""
    return REPO_ROOT / "runs" / cfg.name


def load_training_images(cfg: TrainConfig) -> ImageSet:
    """The training set of ``data``: image files, or normal-map parts (``data.kind``)."""
    folders = [cfg.resolve(f) for f in cfg.data.train]
    if cfg.data.kind == "normals":
        return load_normal_images(folders, cfg.data.part, cfg.data.sigma)
    return load_images(folders)


def validate(model: nn.Module, cfg: TrainConfig, scales: list[int],
             device: str = "auto") -> Job[dict[int, float]]:
    """Mean PSNR per scale on ``validation.data`` (benchmark protocol: bicubic LR quantised to
    8 bit, Y channel when ``y_channel``, shave = scale), run by the engine."""
    v = cfg.validation
    files = find_images(cfg.resolve(v.data))
    was_training = model.training
    try:
        rows = yield from evaluate(model, files, list(scales), y_channel=v.y_channel,
                                   options=SROptions(device=device, precision=v.precision),
                                   name=cfg.name)
    finally:
        model.train(was_training)
    return {r.scale: r.psnr for r in rows}


def _rewrite_log(path: Path, upto_step: int) -> None:
    """Drop log rows after ``upto_step`` (written after the state we resume from)."""
    if not path.is_file():
        return
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    keep = [r for r in rows[1:] if r and r[0].isdigit() and int(r[0]) <= upto_step]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(_LOG_HEADER)
        w.writerows(keep)


def _write_config(cfg: TrainConfig, path: Path) -> None:
    d = cfg.to_dict()
    d.pop("source", None)
    d["checkpoint"] = {"every_minutes": d.pop("checkpoint_minutes")}
    path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")


def _model_section(model: Any) -> Any:
    """The model section without keys left at None or empty (``freeze: []``), so that a run
    saved before an optional key existed still resumes with the config that has it."""
    if not isinstance(model, dict):
        return model
    return {k: v for k, v in model.items() if v is not None and v != [] and v != {}}


def train(cfg: TrainConfig, out_dir: str | Path | None = None, *, resume: bool = False,
          steps: int | None = None, threads: int | None = None,
          device: str = "auto", workers: int = 0) -> Job[TrainResult]:
    """Train ``cfg`` into ``out_dir`` (default ``runs/<name>/``) up to ``steps`` total steps
    (default ``train.steps``); see the module docstring. ``workers``: processes that make the
    batches ahead (:mod:`.prefetch`; the batches are the same with any number). Returns a
    :class:`TrainResult`."""
    out = Path(out_dir) if out_dir is not None else default_out_dir(cfg)
    total = int(steps if steps is not None else cfg.train.steps)
    if total < 1:
        raise ConfigError(f"the number of steps must be >= 1, got {total}")
    if workers < 0:
        raise ConfigError(f"--workers must be >= 0, got {workers}")
    if threads is not None:
        if threads < 1:
            raise ConfigError(f"--threads must be >= 1, got {threads}")
        torch.set_num_threads(int(threads))
    last_path, best_path, log_path = out / "last.pt", out / "best.pt", out / "log.csv"
    state = None
    if resume:
        state = load_state(last_path)
        if _model_section(state["config"].get("model")) != _model_section(cfg.to_dict()["model"]):
            raise ConfigError(f"the run in {out} was trained with another 'model' section "
                              f"({state['config'].get('model')}); resume it with its own config")
    elif last_path.exists():
        raise ConfigError(f"{out} already holds a run (last.pt); pass --resume to continue it "
                          f"or choose another --out folder")
    dev = pick_device(device)
    compute = pick_dtype(dev, cfg.train.precision)
    autocast_dtype = compute if compute != torch.float32 else None

    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    model, model_info = fresh_model(cfg)
    fresh = init_weights(model, cfg) if cfg.model.init_from else []
    frozen = freeze_parameters(model, cfg.model.freeze)
    model.to(dev)
    if cfg.train.channels_last:
        model.to(memory_format=torch.channels_last)
    opt = make_optimizer(cfg, model)
    sched = make_scheduler(cfg, opt)
    trainer = None
    if cfg.model.arch == "ipf":  # its losses and discriminator (core.training.ipf)
        trainer = IPFTrainer(cfg, model, dev)
    start, best, elapsed, schedule_note = 0, None, 0.0, ""
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        schedule_note = resume_schedule(cfg.train, state["config"].get("train", {}), opt, sched,
                                        state["scheduler"], int(state["step"]))
        set_rng_state(state["rng"])
        if trainer is not None:
            trainer.load_state_dict(state.get("extra", {}).get("ipf", {}))
        start, best, elapsed = int(state["step"]), state["best_psnr"], float(state["elapsed"])
        _rewrite_log(log_path, start)
    model.train()
    out.mkdir(parents=True, exist_ok=True)
    if not resume or schedule_note:
        _write_config(cfg, out / "config.yaml")
    if not log_path.exists():
        with open(log_path, "w", newline="") as fh:
            csv.writer(fh).writerow(_LOG_HEADER)

    if cfg.model.init_from and not resume:
        via = f" mapped by {cfg.model.init_map}" if cfg.model.init_map else ""
        yield TrainProgress(start, total, f"weights from {cfg.model.init_from}{via}" + (
            f"; fresh: {', '.join(fresh)}" if fresh else "") + (
            f"; frozen: {frozen} tensors under {', '.join(cfg.model.freeze)}" if frozen else ""),
            event="setup")
    if schedule_note:
        yield TrainProgress(start, total, schedule_note, event="setup")
    yield TrainProgress(start, total, "loading training images", event="setup")
    images = load_training_images(cfg)
    what = (f"normal-map {cfg.data.part} parts" if cfg.data.kind == "normals" else "images")
    yield TrainProgress(start, total, f"{len(images.images)} {what} "
                        f"({images.nbytes / 1e6:.0f} MB) in memory; "
                        f"{'bf16 autocast' if autocast_dtype else 'fp32'} on {dev.type}, "
                        f"{torch.get_num_threads()} thread(s)", event="setup")

    def save_last(step_now: int) -> None:
        save_state(last_path, model=model, optimizer=opt, scheduler=sched, step=step_now,
                   best_psnr=best, elapsed=elapsed, config=cfg.to_dict(), model_info=model_info,
                   extra={"log_window": list(window),
                          **({"ipf": trainer.state_dict()} if trainer is not None else {})})

    flags = None if cfg.model.arbitrary else input_flags(cfg)
    feed = batches(cfg, images, start, total, flags, workers)
    step, saved_step, consistent = start, start, True
    last_save = time.monotonic()
    window: list[float] = list(state.get("extra", {}).get("log_window", [])) if state else []
    timed: list[float] = []  # seconds of each step since the last log row (no validation)
    sec_per_step = 0.0
    history: list[dict[str, Any]] = []
    v = cfg.validation
    try:
        while step < total:
            t0 = time.perf_counter()
            batch = next(feed)
            consistent = False
            loss = (trainer.step(batch, autocast_dtype, dev, opt) if trainer is not None
                    else train_step(model, opt, batch, cfg, autocast_dtype, dev))
            sched.step()
            step += 1
            consistent = True
            timed.append(time.perf_counter() - t0)
            elapsed += timed[-1]
            if not math.isfinite(loss):
                raise ConfigError(f"the loss became {loss} at step {step}; lower train.lr "
                                  f"or resume from an earlier last.pt")
            window.append(loss)
            lr_now = float(opt.param_groups[0]["lr"])
            val: dict[int, float] | None = None
            if v.data is not None and (step % v.every_steps == 0 or step == total):
                scales = list(v.scales)
                if (step // v.every_steps) % v.extra_every == 0:
                    scales += [s for s in v.extra_scales if s not in scales]
                yield TrainProgress(step, total, f"validating at x{', x'.join(map(str, scales))}",
                                    loss=loss, lr=lr_now, best_psnr=best, event="setup")
                try:
                    val = yield from validate(model, cfg, scales, device=str(dev))
                except Exception as exc:  # a broken validation must not end hours of training
                    model.train()
                    yield TrainProgress(step, total, f"validation failed, training goes on: "
                                        f"{type(exc).__name__}: {exc}", loss=loss, lr=lr_now,
                                        best_psnr=best, event="setup")
                    val = None
            if val is not None:
                primary = val[v.scales[0]]
                if best is None or primary > best:
                    best = primary
                    export_weights(model, model_info, best_path,
                                   meta={"step": step, "val_psnr": primary, "run": cfg.name,
                                         "val_scale": v.scales[0]})
            shown_loss = loss
            if step % cfg.train.log_every == 0 or val is not None or step == total:
                sec_per_step = float(np.mean(timed)) if timed else 0.0
                mean_loss = float(np.mean(window)) if window else float("nan")
                shown_loss = mean_loss
                other = ";".join(f"x{s}={p:.4f}" for s, p in (val or {}).items()
                                 if s != v.scales[0])
                row = [step, f"{mean_loss:.6f}", f"{lr_now:.3e}",
                       f"{val[v.scales[0]]:.4f}" if val else "", f"{elapsed:.1f}", other]
                with open(log_path, "a", newline="") as fh:
                    csv.writer(fh).writerow(row)
                history.append({"step": step, "loss": mean_loss, "lr": lr_now, "val": val})
                window, timed = [], []
            msg = f"loss {shown_loss:.4f} lr {lr_now:.1e} {sec_per_step:.2f} s/step"
            if val is not None:
                msg = "val " + " ".join(f"x{s} {p:.2f} dB" for s, p in val.items()) + \
                      f" (best {best:.2f})"
            event = "val" if val is not None else ""
            if time.monotonic() - last_save >= cfg.checkpoint_minutes * 60:
                save_last(step)
                saved_step, last_save = step, time.monotonic()
                event = event or "checkpoint"
            yield TrainProgress(step, total, msg, loss=loss, lr=lr_now, sec_per_step=sec_per_step,
                                val=val, best_psnr=best, event=event)
    finally:
        # closed (cancel), finished, or failed: keep the last consistent state on disk first,
        # then stop the batch workers (which may wait for batches in flight)
        try:
            if consistent and step != saved_step:
                save_last(step)
        finally:
            feed.close()
    return TrainResult(out, step, total, best, last_path, best_path if best_path.exists()
                       else None, elapsed, history)
