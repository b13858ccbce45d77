"""MZSR training as a resumable Job: bicubic pre-training, then meta-learning.

One global step counter runs over both phases: steps ``1 .. pretrain`` are pre-training
(Adam at ``pretrain_lr``), steps ``pretrain + 1 .. pretrain + meta_steps`` are meta-updates
(a fresh Adam at ``meta_lr``). The run folder gets:

* ``last.pt``: the resumable state in the format of :mod:`core.training.state` (model, the
  optimiser of the current phase, step, elapsed seconds, config, RNG states; the MZSR-specific
  values, such as the numpy Generator that draws crops and kernels, go in its ``extra``),
  written every ``checkpoint_minutes`` minutes, at the end and when the job is closed (cancel)
  or fails between two steps;
* ``pretrain.pt`` when pre-training ends, ``mzsr.pt`` every ``save_every`` meta steps and at
  the end (the loadable MZSR checkpoints of :func:`core.zeroshot.mzsr.save_mzsr`);
* ``log.csv``: ``phase, step, loss, seconds`` (step counted within its phase, seconds =
  training time so far).

``resume=True`` continues from ``last.pt`` and gives the same weights as an uninterrupted run.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..engine.device import pick_device, pick_dtype
from ..errors import ConfigError
from ..jobs import Job
from ..training.data import load_images
from ..training.state import load_state, save_state, set_rng_state
from .kernels import downscale, random_gaussian_kernel, upscale
from .mzsr import REPO_ROOT, MZSRConfig, load_mzsr, make_task, meta_step, save_mzsr
from .net import ZSSRNet
from .internal import ZSSRProgress

__all__ = ["train_mzsr"]

_LOG_HEADER = ["phase", "step", "loss", "seconds"]


def _crops(images: list[np.ndarray], rng: np.random.Generator, n: int, size: int) -> Tensor:
    """``n`` random flipped/transposed ``size``-pixel crops as an (n, 3, size, size) tensor in
    [0, 1]."""
    pool = [a for a in images if min(a.shape[:2]) >= size]
    if not pool:
        raise ConfigError(f"no training image is at least {size} x {size} pixels")
    out = np.empty((n, size, size, 3), dtype=np.float32)
    for i in range(n):
        a = pool[int(rng.integers(len(pool)))]
        y, x = int(rng.integers(a.shape[0] - size + 1)), int(rng.integers(a.shape[1] - size + 1))
        c = a[y:y + size, x:x + size]
        if rng.random() < 0.5:
            c = c[:, ::-1]
        if rng.random() < 0.5:
            c = c[::-1]
        if rng.random() < 0.5:
            c = c.transpose(1, 0, 2)
        out[i] = c / 255.0
    return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous()


class _NoSchedule:
    """MZSR keeps constant learning rates; stands in for the scheduler state.py saves."""

    def state_dict(self) -> dict[str, Any]:
        return {}


def _net_info(net: ZSSRNet, cfg: MZSRConfig) -> dict[str, Any]:
    return {"mzsr": {"channels": net.channels, "width": net.width, "depth": net.depth,
                     "scale": cfg.scale}}


def _rewrite_log(path: Path, pre: int, upto: int) -> None:
    """Keep the log rows up to global step ``upto`` (rows written after the saved state go)."""
    rows: list[list[str]] = []
    if path.is_file():
        with open(path, newline="") as fh:
            rows = [r for r in list(csv.reader(fh))[1:] if len(r) == 4 and r[1].isdigit()]
    keep = [r for r in rows if (int(r[1]) if r[0] == "pretrain" else pre + int(r[1])) <= upto]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(_LOG_HEADER)
        w.writerows(keep)


def _check_resumable(state: dict[str, Any], cfg: MZSRConfig, out: Path) -> None:
    info = state.get("model_info", {}).get("mzsr")
    if not isinstance(info, dict) or "numpy_generator" not in state.get("extra", {}):
        raise ConfigError(f"{out / 'last.pt'} is not the state of an MZSR run")
    if (info["width"], info["depth"], info["scale"]) != (cfg.width, cfg.depth, cfg.scale):
        raise ConfigError(f"the run in {out} has width {info['width']}, depth {info['depth']}, "
                          f"scale {info['scale']}; resume it with its own config")


def train_mzsr(cfg: MZSRConfig, out_dir: str | Path, init: str | Path | None = None,
               resume: bool = False, steps: int | None = None) -> Job[Path]:
    """Pre-train (bicubic) then meta-train into ``out_dir`` (see the module docstring).

    ``init``: an MZSR checkpoint to start from (skips pre-training; not with ``resume``).
    ``resume``: continue from ``out_dir/last.pt``. ``steps``: stop at this global step (default:
    ``pretrain_steps + meta_steps``; a later ``resume`` goes on). Returns ``out_dir/mzsr.pt``.
    """
    out = Path(out_dir)
    last_path, final, log_path = out / "last.pt", out / "mzsr.pt", out / "log.csv"
    state = None
    if resume:
        if init is not None:
            raise ConfigError("--init starts a new run; it cannot be combined with --resume")
        state = load_state(last_path)
        _check_resumable(state, cfg, out)
    elif last_path.exists():
        raise ConfigError(f"{out} already holds a run (last.pt); pass --resume to continue it "
                          f"or choose another --out folder")
    if steps is not None and steps < 1:
        raise ConfigError(f"the number of steps must be >= 1, got {steps}")
    folders = [Path(f) if Path(f).is_absolute() else REPO_ROOT / f for f in cfg.train]
    for f in folders:
        if not f.is_dir():
            raise ConfigError(f"training folder not found: {f}")
    images = load_images(folders).images
    device = pick_device(cfg.device)
    dtype = pick_dtype(device, cfg.precision)
    autocast = dtype if dtype != torch.float32 else None
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    net = load_mzsr(init)[0] if init else ZSSRNet(3, cfg.width, cfg.depth)
    extra: dict[str, Any] = dict(state["extra"]) if state else {}
    pre = int(extra["pretrain_steps"]) if state else (0 if init else cfg.pretrain_steps)
    start, elapsed = (int(state["step"]), float(state["elapsed"])) if state else (0, 0.0)
    if state:
        net.load_state_dict(state["model"])
        rng.bit_generator.state = extra["numpy_generator"]
        set_rng_state(state["rng"])
    net = net.to(device)
    s, p = cfg.scale, cfg.hr_patch
    total = pre + cfg.meta_steps
    stop_at = min(total, int(steps)) if steps is not None else total

    def make_opt(phase: str) -> torch.optim.Optimizer:
        lr = cfg.pretrain_lr if phase == "pretrain" else cfg.meta_lr
        return torch.optim.Adam(net.parameters(), lr=lr)

    opt_phase = "pretrain" if start < pre else "meta"
    opt = make_opt(opt_phase)
    if state and extra.get("opt_phase") == opt_phase:
        opt.load_state_dict(state["optimizer"])
    out.mkdir(parents=True, exist_ok=True)
    if state:
        _rewrite_log(log_path, pre, start)
    else:
        with open(log_path, "w", newline="") as fh:
            csv.writer(fh).writerow(_LOG_HEADER)

    def save_last(g: int) -> None:
        save_state(last_path, model=net, optimizer=opt, scheduler=_NoSchedule(), step=g,
                   best_psnr=None, elapsed=elapsed, config=cfg.to_dict(),
                   model_info=_net_info(net, cfg),
                   extra={"pretrain_steps": pre, "opt_phase": opt_phase,
                          "numpy_generator": rng.bit_generator.state,
                          "init": str(init) if init else extra.get("init")})

    g, saved, consistent = start, start, True
    last_save = time.monotonic()
    log = open(log_path, "a", newline="")
    try:
        while g < stop_at:
            if g >= pre and opt_phase == "pretrain":
                opt_phase, opt = "meta", make_opt("meta")
            t0 = time.perf_counter()
            consistent = False
            if g < pre:
                hr = _crops(images, rng, cfg.pretrain_batch, p).to(device)
                lr_up = upscale(downscale(hr, s), (p, p))
                with torch.autocast(device.type, dtype=autocast or torch.bfloat16,
                                    enabled=autocast is not None):
                    loss_t = F.l1_loss(net(lr_up).float(), hr)
                opt.zero_grad(set_to_none=True)
                loss_t.backward()
                opt.step()
                loss = float(loss_t.detach())
            else:
                tasks = []
                for _ in range(cfg.meta_batch):
                    # draw only when bicubic tasks are on: older runs keep their sequence
                    if cfg.bicubic_p > 0 and rng.random() < cfg.bicubic_p:
                        k = None
                    else:
                        k = torch.from_numpy(random_gaussian_kernel(
                            rng, s, cfg.kernel_size, (cfg.sigma_min, cfg.sigma_max),
                            cfg.anisotropic_p)).to(device)
                    tasks.append(make_task(_crops(images, rng, cfg.task_batch, p).to(device),
                                           k, s))
                loss = meta_step(net, opt, tasks, cfg, autocast)
            g += 1
            consistent = True
            elapsed += time.perf_counter() - t0
            phase, local = ("pretrain", g) if g <= pre else ("meta", g - pre)
            log.write(f"{phase},{local},{loss:.6f},{elapsed:.1f}\n")
            log.flush()
            if g == pre:
                save_mzsr(net, cfg, out / "pretrain.pt", phase="pretrain", step=pre)
            if phase == "meta" and local % cfg.save_every == 0:
                save_mzsr(net, cfg, final, phase="meta", step=local)
            if time.monotonic() - last_save >= cfg.checkpoint_minutes * 60:
                save_last(g)
                saved, last_save = g, time.monotonic()
            n = pre if phase == "pretrain" else cfg.meta_steps
            yield ZSSRProgress(g, total, f"{phase} {local}/{n} loss {loss:.4g}", loss=loss,
                               lr=cfg.pretrain_lr if phase == "pretrain" else cfg.meta_lr)
    finally:
        log.close()
        if consistent and g != saved:
            save_last(g)
        if consistent and g > 0:
            phase = "done" if g >= total else ("pretrain" if g <= pre else "meta")
            save_mzsr(net, cfg, final, phase=phase, step=g if g <= pre else g - pre)
    return final
