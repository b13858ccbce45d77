"""The Zero-shot tab's work as a core Job (plain generators, no Qt): ZSSR on the window's LR.

:func:`zssr_job` re-yields the training progress of :func:`core.zeroshot.zssr_data` unchanged
(:class:`core.zeroshot.ZSSRProgress`, with the iteration in ``done``, the L1 ``loss`` and the
``lr``), so the tab can draw the loss curve live, then yields the result as a
:class:`gui.tasks.Step` (``key="result"``, value ``(key, ModelResult)``) for the normal result
views. :func:`curve_point` says which progress items are points of the curve.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from core.data import ImageData
from core.engine.run import SRResult
from core.jobs import Job, Progress
from core.session import ModelResult
from core.zeroshot.kernels import PRESETS

from .tasks import Step, _diff, display_array

__all__ = ["ZSSR_KEY", "KERNELS", "ZeroShotRequest", "zssr_job", "curve_point"]

#: The key (and label) of the ZSSR result among the window's results.
ZSSR_KEY = "ZSSR"
#: Kernel choices of the tab: "bicubic" (no kernel) and the presets of core.zeroshot.kernels.
KERNELS = ("bicubic", *PRESETS)


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


def curve_point(p: Progress) -> tuple[int, float, float] | None:
    """``(iteration, loss, lr)`` of a training progress item, else None (setup, SR, done)."""
    loss = getattr(p, "loss", float("nan"))
    if not math.isfinite(loss) or p.done >= p.total:
        return None
    return int(p.done), float(loss), float(getattr(p, "lr", 0.0))


def zssr_job(req: ZeroShotRequest) -> Job[ModelResult]:
    """ZSSR of ``req.lr``; yields its progress, then ``Step("result", (ZSSR_KEY, result))``."""
    from core.zeroshot import ZSSRConfig, preset_kernel, zssr_data

    kernel = None if req.kernel == "bicubic" else preset_kernel(req.kernel)
    cfg = ZSSRConfig(scale=float(req.scale), max_iters=int(req.iters), device=req.device,
                     precision=req.precision if req.precision in ("auto", "fp32", "bf16")
                     else "auto")
    t0 = time.perf_counter()
    image, res = yield from zssr_data(req.lr, cfg, kernel)
    seconds = time.perf_counter() - t0
    notes = (f"{res.iterations} iterations, final L1 {res.losses[-1]:.4g}, lr {res.lrs[-1]:.1e}",
             *res.notes)
    sr = SRResult(image, ZSSR_KEY, (image.height / req.lr.height, image.width / req.lr.width),
                  req.device, cfg.precision, seconds, tuple(notes))
    diff, hi = _diff(image, req.hr)
    mr = ModelResult(ZSSR_KEY, sr, display_array(image, req.channel), diff, hi)
    yield Step(1, 1, f"ZSSR done in {seconds:.1f} s", key="result", value=(ZSSR_KEY, mr))
    return mr
