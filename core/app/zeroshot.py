"""The Zero-shot tab's work as core Jobs (plain generators, no Qt): ZSSR or MZSR on the
window's LR.

:func:`zssr_job` re-yields the training progress of :func:`core.zeroshot.zssr_data` unchanged
(:class:`core.zeroshot.ZSSRProgress`, with the iteration in ``done``, the L1 ``loss`` and the
``lr``), so the tab can draw the loss curve live, then yields the result as a
:class:`core.jobs.Step` (``key="result"``, value ``(key, ModelResult)``) for the normal result
views. :func:`curve_point` says which progress items are points of the curve.

MZSR (:func:`mzsr_job`) adapts meta-weights (:func:`mzsr_weights`: the file the user picked,
else the bundled x2 file) in a few SGD steps, then super-resolves; its result key is
:func:`mzsr_key` (``"MZSR(10)"``). :func:`mzsr_problem` says, before anything runs, why an
input cannot go through MZSR. Its progress carries the L1 of each adaptation step, so the
curve shows the adaptation too.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.data import ImageData
from core.engine.device import pick_device, pick_dtype
from core.engine.run import SRResult
from core.jobs import Job, Progress, Step
from core.provenance import Provenance, weights_digest
from core.session import ModelResult
from core.zeroshot import ZSSRConfig, finish, mzsr, preset_kernel, zssr_data
from core.zeroshot.presets import PRESETS
from core.zeroshot.mzsr import mzsr_adapt

from .display import diff_map, display_array

__all__ = ["ZSSR_KEY", "KERNELS", "METHODS", "NO_MZSR_WEIGHTS", "ZeroShotRequest",
           "MZSRRequest", "zssr_job", "curve_point", "mzsr_key", "mzsr_weights", "mzsr_problem",
           "mzsr_job"]

#: The key (and label) of the ZSSR result among the window's results.
ZSSR_KEY = "ZSSR"
#: Kernel choices of the tab: "bicubic" (no kernel) and the presets of core.zeroshot.kernels.
KERNELS = ("bicubic", *PRESETS)
#: The tab's methods.
METHODS = ("ZSSR", "MZSR")
#: What the tab says when there are no MZSR weights to use.
NO_MZSR_WEIGHTS = ("no MZSR weights: none are bundled yet (resources/weights/zeroshot/"
                   "mzsr_x2.pth) and none were picked. Train them with python main.py mzsr "
                   "train configs/mzsr_x2.yaml, then pick the run's mzsr.pt with Weights…")


@dataclass(frozen=True)
class ZeroShotRequest:
    """A ZSSR run, frozen on the GUI thread: the LR and HR on screen, the scale (> 1), the
    maximum iterations per stage, the kernel preset, the shown channel, device and precision."""

    lr: ImageData
    hr: ImageData | None
    scale: float
    iters: int
    kernel: str = "bicubic"
    channel: int = 0
    device: str = "cpu"
    precision: str = "auto"
    lr_source: str = "input"              # how the window's LR was made (the run plan's)


def _precision_name(device: str, precision: str) -> str:
    """``fp32`` / ``bf16`` / ``fp16``: what ``precision`` (``auto`` too) means on ``device``."""
    dt = pick_dtype(pick_device(device), precision)
    return {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dt, str(dt))


def curve_point(p: Progress) -> tuple[int, float, float] | None:
    """``(iteration, loss, lr)`` of a training progress item, else None (setup, SR, done)."""
    loss = getattr(p, "loss", float("nan"))
    if not math.isfinite(loss) or p.done >= p.total:
        return None
    return int(p.done), float(loss), float(getattr(p, "lr", 0.0))


def zssr_job(req: ZeroShotRequest) -> Job[ModelResult]:
    """ZSSR of ``req.lr``; yields its progress, then ``Step("result", (ZSSR_KEY, result))``."""
    kernel = None if req.kernel == "bicubic" else preset_kernel(req.kernel)
    cfg = ZSSRConfig(scale=float(req.scale), max_iters=int(req.iters), device=req.device,
                     precision=req.precision if req.precision in ("auto", "fp32", "bf16")
                     else "auto")
    t0 = time.perf_counter()
    image, res = yield from zssr_data(req.lr, cfg, kernel)
    seconds = time.perf_counter() - t0
    notes = (f"{res.iterations} iterations, final L1 {res.losses[-1]:.4g}, lr {res.lrs[-1]:.1e}",
             *res.notes)
    prov = Provenance("ZSSR", native_scale="any (trained on the input)",
                      precision=_precision_name(req.device, cfg.precision),
                      device=str(pick_device(req.device)),
                      lr_source=f"{req.lr_source}; {req.kernel} kernel")
    sr = SRResult(image, ZSSR_KEY, (image.height / req.lr.height, image.width / req.lr.width),
                  req.device, cfg.precision, seconds, tuple(notes), provenance=prov)
    diff, hi = diff_map(image, req.hr)
    mr = ModelResult(ZSSR_KEY, sr, display_array(image, req.channel), diff, hi)
    yield Step(1, 1, f"ZSSR done in {seconds:.1f} s", key="result", value=(ZSSR_KEY, mr))
    return mr


# -- MZSR ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MZSRRequest:
    """An MZSR run, frozen on the GUI thread: the LR and HR on screen, the loaded meta-weights
    (``net``, ``info`` of :func:`core.zeroshot.mzsr.load_mzsr`) and their file, the adaptation
    steps, the kernel preset, the shown channel, device and precision."""

    lr: ImageData
    hr: ImageData | None
    net: Any
    info: dict
    weights: Path
    steps: int = 10
    kernel: str = "bicubic"
    channel: int = 0
    device: str = "cpu"
    precision: str = "auto"
    lr_source: str = "input"              # how the window's LR was made (the run plan's)


def mzsr_key(steps: int) -> str:
    """The result key (and label) of an MZSR run of ``steps`` adaptation steps."""
    return f"MZSR({int(steps)})"


def mzsr_weights(picked: str | Path | None = None) -> Path | None:
    """The weights an MZSR run uses: ``picked``, else the bundled file, else None."""
    return Path(picked) if picked else mzsr.bundled_mzsr()


def mzsr_problem(lr: ImageData, scale: float, kernel: str, info: dict) -> str | None:
    """Why ``lr`` at ``scale`` with ``kernel`` cannot go through the weights of ``info``
    (a message for the user), or None. Gray images are fine (replicated to RGB)."""
    if lr.kind not in ("rgb", "gray"):
        what = {"channels": "channel data", "normals": "a normal map"}.get(lr.kind, lr.kind)
        return f"MZSR runs on RGB (or gray) images; this input is {what}: use ZSSR for it"
    if kernel != "bicubic" and float(scale) != int(scale):
        return f"a blur kernel needs a whole-number scale; the scale is x{scale:g}"
    ws = int(info.get("scale", 2))
    if float(scale) != ws:
        return f"these MZSR weights are x{ws}; set the scale to {ws} (it is x{scale:g})"
    return None


def mzsr_job(req: MZSRRequest) -> Job[ModelResult]:
    """MZSR of ``req.lr`` (gray replicated to RGB and averaged back); yields the adaptation
    progress, then ``Step("result", (mzsr_key(steps), result))``."""
    kernel = None if req.kernel == "bicubic" else preset_kernel(req.kernel)
    px = req.lr.pixels
    gray = px.shape[2] == 1 and req.net.channels == 3
    scale = int(req.info.get("scale", 2))
    inner_lr = float(req.info.get("config", {}).get("inner_lr", 1e-2))
    precision = req.precision if req.precision in ("auto", "fp32", "bf16") else "auto"
    t0 = time.perf_counter()
    y = yield from mzsr_adapt(req.net, np.repeat(px, 3, axis=2) if gray else px, scale, kernel,
                              int(req.steps), inner_lr, 0, precision, req.device)
    seconds = time.perf_counter() - t0
    image = finish(req.lr, y.mean(axis=2, keepdims=True) if gray else y)
    key = mzsr_key(req.steps)
    notes = (f"{req.steps} adaptation steps at lr {inner_lr:g}, {req.kernel}, weights "
             f"{req.weights.name}",)
    prov = Provenance(key, weights=req.weights.name, sha256=weights_digest(req.weights),
                      native_scale=f"x{scale}", precision=_precision_name(req.device, precision),
                      device=str(pick_device(req.device)),
                      lr_source=f"{req.lr_source}; {req.kernel} kernel, {req.steps} "
                                f"adaptation steps")
    sr = SRResult(image, key, (float(scale), float(scale)), req.device, precision, seconds,
                  notes, provenance=prov)
    diff, hi = diff_map(image, req.hr)
    mr = ModelResult(key, sr, display_array(image, req.channel), diff, hi)
    yield Step(1, 1, f"MZSR done in {seconds:.1f} s", key="result", value=(key, mr))
    return mr
