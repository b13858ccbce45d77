"""Local Attribution Maps (LAM, Gu & Dong, CVPR 2021) as a Job, for every model of the workbench.

Same algorithm and defaults as the official code (see :mod:`.path`), computed faster:

* several path steps share one forward and one backward pass (a batch), with input gradients
  only (no weight gradients: ``torch.autograd.grad`` on the input);
* only what reaches the window is computed (:mod:`.forward`): the LR box inside the model's
  receptive field for convolutional models, the window's output pixels for arbitrary-scale
  models;
* bf16 where the hardware runs it fast (``precision='auto'``, the engine's policy), with the
  objective, the path and the accumulation in float32; channels-last memory for convolutions.

The path integral is evaluated with the rule of :mod:`.quadrature` (``options.rule``): the
official 50-step Riemann sum (the default), Gauss-Legendre in a variable where the blur path is
smooth (a close map from 16 model passes), or an adaptive rule that stops when the map stops
changing. The rule and its steps are in :attr:`LAMResult.provenance`.

The Job yields one :class:`~core.jobs.Progress` per batch of path steps (``done`` counts path
steps, ``total = steps + 1`` with the SR run for display as the last unit; for the adaptive
rule ``steps`` is its budget), so Cancel stops it between batches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ..data import ImageData, Region
from ..engine import SROptions, native_scale, output_size, super_resolve
from ..engine.device import pick_device, pick_dtype, placed
from ..engine.memory import available_bytes
from ..errors import InputError
from ..jobs import Job, Progress, sub_job
from ..provenance import Provenance, Resample
from .forward import WindowPlan, kind_of, plan_window
from .path import (FOLD, KERNEL_SIZE, SIGMA, diffusion_index, filter_path, gini_index,
                   gradient_magnitude_sum, normalised_map)
from .quadrature import (ADAPTIVE_DI_TOL, ADAPTIVE_TOL, DEFAULT_RULE, PathNodes,
                         adaptive_levels, check_rule, fejer_nodes, gauss_nodes, riemann_nodes,
                         rule_text)

__all__ = ["LAMOptions", "LAMResult", "lam", "lam_window", "lam_models"]

_DTYPE_NAMES = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}
#: Most path steps per batch on the CPU (measured on EDSR-baseline: 10 steps per pass run
#: about 2x faster per step than 1; more gives little and costs memory).
CPU_MAX_BATCH = 10


@dataclass(frozen=True)
class LAMOptions:
    """LAM settings. ``sigma`` (LR pixels), ``fold`` (path steps of the Riemann rule) and
    ``kernel_size`` (pixels) are the official defaults; ``rule`` (:data:`.quadrature.RULES`)
    is how the path integral is evaluated and ``steps`` its model passes (None: the rule's
    default, ``fold`` for ``riemann``; the budget for ``adaptive``); ``batch`` is the path
    steps per backward pass (None: as many as fit in memory, up to :data:`CPU_MAX_BATCH` on
    the CPU); ``device``/``precision`` as in :class:`core.engine.SROptions`; ``with_sr`` also
    super-resolves the whole image for display (:attr:`LAMResult.sr`)."""

    sigma: float = SIGMA
    fold: int = FOLD
    kernel_size: int = KERNEL_SIZE
    device: str = "auto"
    precision: str = "auto"
    batch: int | None = None
    with_sr: bool = True
    rule: str = DEFAULT_RULE
    steps: int | None = None


@dataclass(frozen=True)
class LAMResult:
    """A local attribution map and how it was made.

    Attributes:
        map: ``h x w`` float32 in [0, 1], one value per LR (input) pixel: ``|sum over
            channels|`` of the attribution divided by its maximum.
        attribution: ``h x w x C`` float32, the signed path-integrated gradient (objective
            units per input unit), before the channel sum.
        gini: Gini index of ``map`` in [0, 1]. diffusion_index: ``(1 - gini) * 100``.
        window: the window in SR (output) pixels. out_size: the SR size ``(H, W)``.
        sr: the super-resolved image for display (None unless ``with_sr``).
        batch: path steps per backward pass; seconds: wall time of the whole job.
        rule: how the path integral was evaluated (``riemann``, ``gauss``, ``adaptive``);
            steps: the path steps (model passes) it took; budget: the most it could take
            (``steps`` except for ``adaptive``).
    """

    map: np.ndarray
    attribution: np.ndarray
    gini: float
    diffusion_index: float
    window: Region
    out_size: tuple[int, int]
    model: str
    device: str
    precision: str
    seconds: float
    batch: int
    sr: ImageData | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    provenance: Provenance | None = None   # model, native scale, resampling, precision, device
    rule: str = "riemann"
    steps: int = FOLD
    budget: int = FOLD


def lam_window(x: int, y: int, size: int, out_hw: tuple[int, int]) -> Region:
    """Validated LAM window (SR pixels, top-left ``(x, y)``) inside an ``out_hw`` output."""
    H, W = out_hw
    if int(size) < 2:
        raise InputError(f"the LAM window must be at least 2 pixels wide, got {size}")
    if size > H or size > W:
        raise InputError(f"the LAM window ({size}x{size}) is larger than the {W}x{H} SR output")
    if x < 0 or y < 0 or x + size > W or y + size > H:
        raise InputError(f"the LAM window at x={x}, y={y} (size {size}) lies outside the "
                         f"{W}x{H} SR output; x must be in 0..{W - size}, y in 0..{H - size}")
    return Region(int(x), int(y), int(size), int(size))


def _saved_bytes(fn, x: Tensor, params: set[int]) -> tuple[Tensor, int]:
    """Run ``fn(x)`` and count the bytes autograd saves for backward (weights excluded)."""
    total = [0]

    def pack(t: Tensor) -> Tensor:
        if not isinstance(t, nn.Parameter) and (t.is_meta or t.data_ptr() not in params):
            total[0] += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn(x)
    return out, total[0]


def _auto_batch(per_step: int, device: torch.device, fold: int) -> int:
    """Path steps per pass that fit: a share of free memory over ~2x the saved activations."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        budget, cap = 0.5 * free, fold
    else:
        budget, cap = min(0.25 * available_bytes(), 4 << 30), CPU_MAX_BATCH
    return int(max(1, min(cap, fold, budget // max(1, 2 * per_step))))


def _input_grad(plan: WindowPlan, x: Tensor, window: int) -> Tensor:
    """Gradient of the objective w.r.t. a batch of path images ``x`` (one backward pass,
    input gradients only)."""
    x.requires_grad_(True)
    with torch.enable_grad():
        out = plan.fn(x)
        if not out.requires_grad:
            raise InputError("the model is not differentiable with respect to its input "
                             "(it computes without gradients), so LAM cannot attribute it")
        obj = gradient_magnitude_sum(out, window, plan.rows, plan.cols)
        (grad,) = torch.autograd.grad(obj, x)
    return grad


def _probe_batch(plan: WindowPlan, x1: Tensor, net: nn.Module, device: torch.device,
                 fold: int) -> int:
    """Path steps per pass, from the activations one step saves (a forward pass of one)."""
    params = {p.data_ptr() for p in net.parameters()}
    with torch.enable_grad():
        out, saved = _saved_bytes(plan.fn, x1.requires_grad_(True), params)
    del out
    return _auto_batch(saved, device, fold)


def _rule_nodes(options: LAMOptions) -> tuple[str, int, list[PathNodes]]:
    """``(rule, budget, levels)``: the node sets to evaluate, one per level (one level except
    for ``adaptive``, whose levels nest: each holds the one before)."""
    rule, n = check_rule(options.rule, options.steps, options.fold)
    sig, size = options.sigma, options.kernel_size
    if rule == "riemann":
        return rule, n, [riemann_nodes(sig, n, size)]
    if rule == "gauss":
        return rule, n, [gauss_nodes(sig, n, size)]
    levels = adaptive_levels(n)
    return rule, levels[-1], [fejer_nodes(sig, m, size) for m in levels]


def _batches(n: int, batch: int) -> list[int]:
    """``n`` path steps in passes of at most ``batch``, as even as possible (12 in 10s: 6+6)."""
    k = -(-n // max(1, batch))
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def lam(model: nn.Module, data: ImageData, window: Region, *, scale=None, size=None,
        options: LAMOptions = LAMOptions(), name: str = "") -> Job[LAMResult]:
    """LAM of ``model`` on ``data`` (the LR input) for ``window`` (SR pixels) as a Job.

    ``scale`` (float or per-axis pair) or ``size`` ``(H, W)`` give the SR size; for a
    fixed-scale model both may be omitted (its own scale). ``window.w`` is the window size
    (square windows: ``w == h``).
    """
    t0 = time.perf_counter()
    kind = kind_of(model)
    if data.channels not in (1, 3):
        raise InputError(f"LAM works on RGB or gray images; this one has {data.channels} channels")
    if data.has_nonfinite():
        raise InputError("the input has NaN or infinite values; fix or mask them first")
    if scale is None and size is None:
        if kind != "fixed":
            raise InputError("give a scale (or an output size) for LAM with this model")
        scale = int(getattr(model, "scale", 1))
    out_hw = output_size(data.height, data.width, scale, size)
    if window.w != window.h:
        raise InputError(f"the LAM window must be square, got {window.w}x{window.h}")
    win = lam_window(window.x, window.y, window.w, out_hw)
    if options.fold < 1 or options.kernel_size < 1 or options.sigma < 0:
        raise InputError("LAM needs fold >= 1, kernel_size >= 1 and sigma >= 0")
    rule, budget, levels = _rule_nodes(options)

    device = pick_device(options.device)
    dtype = pick_dtype(device, options.precision) if kind != "interp" else torch.float32
    net = placed(model, device, dtype) if kind != "interp" else model
    plan = plan_window(net, (data.height, data.width), out_hw, win.x, win.y, win.w,
                       data.channels)
    y0, y1, x0, x1 = plan.in_box
    total = budget + 1
    channels_last = any(isinstance(m, nn.Conv2d) for m in net.modules())
    notes: list[str] = []
    if kind == "interp":
        notes.append("interpolation baseline: the map shows its interpolation kernel's footprint")

    def path_batch(nodes: PathNodes) -> tuple[Tensor, Tensor]:
        imgs, ders = filter_path(data.pixels, nodes.images, nodes.derivs, plan.in_box)
        x = torch.from_numpy(imgs).to(device=device, dtype=dtype)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, torch.from_numpy(ders).to(device)

    def full(box_attr: Tensor) -> np.ndarray:
        out = np.zeros((data.height, data.width, data.channels), np.float32)
        out[y0:y1, x0:x1] = box_attr.permute(1, 2, 0).cpu().numpy()
        return out

    yield Progress(0, total, f"LAM: {budget} path steps ({rule})")
    if options.batch:
        batch = max(1, int(options.batch))
    else:
        batch = _probe_batch(plan, path_batch(levels[0].subset([0]))[0], net, device,
                             max(len(level) for level in levels))
    done = 0
    # the integrand g * dgamma of every node evaluated so far (adaptive levels reuse them),
    # keyed by the node's sigma; for one-level rules only the weighted sum is kept
    seen: dict[float, Tensor] = {}
    acc = torch.zeros(data.channels, y1 - y0, x1 - x0, dtype=torch.float32, device=device)
    previous: tuple[np.ndarray, float] | None = None
    attribution = full(acc)
    for level in levels:
        todo = [i for i, s in enumerate(level.sigmas) if float(s) not in seen]
        start = 0
        for n in _batches(len(todo), batch) if todo else []:
            idx = todo[start:start + n]
            nodes = level.subset(idx)
            x, ders = path_batch(nodes)
            grad = _input_grad(plan, x, win.w).float()
            grad = torch.where(torch.isnan(grad), torch.zeros_like(grad), grad)  # as official
            f = grad * ders
            if len(levels) == 1:
                w = torch.from_numpy(nodes.weights).to(device=device, dtype=torch.float32)
                acc += (f * w.view(-1, 1, 1, 1)).sum(dim=0)
            else:
                for j, i in enumerate(idx):
                    seen[float(level.sigmas[i])] = f[j]
            del x, grad, f
            start += n
            done += n
            yield Progress(done, total, f"path step {done}/{budget}")
        if len(levels) > 1:
            acc = sum(float(w) * seen[float(s)] for s, w in zip(level.sigmas, level.weights))
        attribution = full(acc)
        if len(levels) > 1:
            amap = normalised_map(attribution)
            di = diffusion_index(gini_index(amap))
            if previous is not None:
                change = _corr(previous[0], amap)
                if change >= 1 - ADAPTIVE_TOL and abs(di - previous[1]) <= ADAPTIVE_DI_TOL:
                    break
            previous = (amap, di)
    else:
        if len(levels) > 1:
            notes.append(f"the adaptive rule used its whole budget of {budget} path steps "
                         f"before the map settled; more steps (--steps) may change it")
    steps = done if len(levels) > 1 else len(levels[0])
    if done < budget:
        yield Progress(budget, total, f"path: {steps} steps ({rule})")

    amap = normalised_map(attribution)
    if not np.any(amap):
        notes.append("the window's output does not depend on the input (the map is all zero)")
    g = gini_index(amap)

    sr = None
    if options.with_sr:
        job = super_resolve(model, data, size=out_hw, name=name,
                            options=SROptions(device=options.device, precision=options.precision))
        sr = (yield from sub_job(job, budget, 1, total, "SR: ")).image
    yield Progress(total, total, "done")
    label, precision = name or type(model).__name__, _DTYPE_NAMES.get(dtype, str(dtype))
    native = native_scale(model)
    resample = None
    if native != "any":     # a fixed-scale model at another scale: its output was resized
        s = int(native[1:])
        if (data.height * s, data.width * s) != tuple(out_hw):
            resample = Resample("bicubic", (data.height * s, data.width * s), tuple(out_hw))
            notes.append(f"the model is fixed at {native}: the map is of its output resized "
                         f"with bicubic x{resample.factor:.3g}")
    method = "LAM " + rule_text(rule, steps, budget if rule == "adaptive" else None)
    prov = Provenance(label, native_scale=native, resample=resample, precision=precision,
                      device=str(device), lr_source="input", method=method)
    return LAMResult(
        map=amap, attribution=attribution, gini=g, diffusion_index=diffusion_index(g),
        window=win, out_size=out_hw, model=label, device=str(device),
        precision=precision, seconds=time.perf_counter() - t0,
        batch=batch, sr=sr, notes=tuple(notes), provenance=prov, rule=rule, steps=steps,
        budget=budget)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two maps (1 when both are constant and equal, 0 when one is)."""
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    sa, sb = a.std(), b.std()
    if sa == 0 or sb == 0:
        return 1.0 if np.array_equal(a, b) else 0.0
    return float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb))


def lam_models(models: Sequence[tuple[str, nn.Module]], data: ImageData, window: Region, *,
               scale=None, size=None, options: LAMOptions = LAMOptions()
               ) -> Job[list[LAMResult]]:
    """The same window on several ``(name, model)`` pairs, one after the other (for a
    side-by-side comparison of attention ranges); one progress bar over all of them."""
    total = len(models) * 1000
    results: list[LAMResult] = []
    for i, (name, model) in enumerate(models):
        job = lam(model, data, window, scale=scale, size=size, options=options, name=name)
        results.append((yield from sub_job(job, i * 1000, 1000, total, f"{name}: ")))
    return results
