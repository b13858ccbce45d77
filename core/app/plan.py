"""The run plan: kind, scale, size and reference decided once, before anything runs.

Every front end (the window, ``sr``, ``eval``, the batch executors) asks :func:`plan_run`
what a run will do, from sizes alone (no pixels are touched, so it is cheap enough to call
on every change of a control):

* the LR and output geometry (``degrade`` makes the LR from the input; an attached HR
  reference fixes the output size and must *be* the input times the scale, within that
  scale's rounding, or the run is refused with both sizes named, unless the user asks for the
  reference to be resized, which the plan then records);
* per model: its native scale and whether its output will have to be resampled to reach the
  requested size (an x3 model asked for x4 is resampled, and is marked so everywhere);
* what the results are measured against and how the LR was made, for their provenance.

A refusal is a :class:`core.errors.SRWError` with a one-line message. The plan is a frozen
value; :meth:`RunPlan.provenance` gives each model's :class:`core.provenance.Provenance` as
far as the plan knows it (the engine adds precision, device and the actual resize).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from core.engine.run import output_size
from core.errors import InputError, ScaleError
from core.provenance import Provenance, Resample

__all__ = ["ModelPlan", "RunPlan", "plan_run", "reference_scale", "fits_reference",
           "native_scale_text", "lr_source_text", "ReferenceCheck", "check_reference"]


@dataclass(frozen=True)
class ModelPlan:
    """What one model will do in the run."""

    key: str                      # name or checkpoint path
    label: str
    kind: str                     # fixed | arbitrary | interp
    native_scale: str             # "x4", "x2,x3" or "any"
    resample: Resample | None     # predicted resize after the model (None: its own output)


@dataclass(frozen=True)
class RunPlan:
    """The geometry and provenance of a run, decided once."""

    reference: str                       # none | hr | degrade
    scale: float                         # the scale asked for (or implied by a size)
    lr_hw: tuple[int, int]
    out_hw: tuple[int, int]
    hr_hw: tuple[int, int] | None        # the reference's size after alignment (None: none)
    reference_fix: str                   # "" or how the reference was aligned (crop/resize)
    lr_source: str
    reference_text: str
    models: tuple[ModelPlan, ...] = ()

    def model(self, key: str) -> ModelPlan | None:
        return next((m for m in self.models if m.key == key), None)

    def provenance(self, key: str, label: str | None = None) -> Provenance:
        """The planned part of ``key``'s provenance (model, native scale, LR, reference)."""
        m = self.model(key)
        return Provenance(label or (m.label if m else key),
                          native_scale=m.native_scale if m else "",
                          resample=m.resample if m else None, lr_source=self.lr_source,
                          reference=self.reference_text)


def native_scale_text(kind: str, scales: tuple[int, ...] | None) -> str:
    """``x4`` (one scale), ``x2,x3`` (several), ``any`` (arbitrary-scale, interpolation and
    pre-upsampling models, whose ``scales`` is None)."""
    if kind != "fixed" or not scales:
        return "any"
    return ",".join(f"x{int(s)}" for s in scales)


def lr_source_text(reference: str, scale: float, degradation: str = "MATLAB bicubic") -> str:
    """How the LR is made: ``input`` or ``MATLAB bicubic x4 of the input``."""
    if reference == "degrade":
        return f"{degradation} x{scale:g} of the input"
    return "input"


def _resample(kind: str, scales: tuple[int, ...] | None, lr_hw: tuple[int, int],
              out_hw: tuple[int, int]) -> Resample | None:
    """The resize a fixed-scale model's output will need (None: it lands on ``out_hw``)."""
    if kind != "fixed" or not scales:
        return None
    h, w = lr_hw
    for s in scales:                          # a model with several scales picks a fitting one
        if (h * s, w * s) == tuple(out_hw):
            return None
    s = int(scales[0])
    return Resample("bicubic", (h * s, w * s), tuple(out_hw))  # type: ignore[arg-type]


def fits_reference(lr_hw: tuple[int, int], hr_hw: tuple[int, int], scale: float) -> bool:
    """True when ``hr_hw`` is ``lr_hw`` times ``scale`` within that scale's rounding: per axis
    ``hr // s == lr`` for a whole-number scale (an HR that was cropped to a multiple of the
    scale, or not), ``round(hr / s) == lr`` (half up, as :func:`core.resize.degrade`) else."""
    s = float(scale)
    if not math.isfinite(s) or s <= 0:
        return False
    for lr, hr in zip(lr_hw, hr_hw):
        if s == int(s):
            if hr // int(s) != lr:
                return False
        elif math.floor(hr / s + 0.5) != lr:
            return False
    return True


def reference_scale(lr_hw: tuple[int, int], hr_hw: tuple[int, int]) -> float | None:
    """The scale at which ``hr_hw`` is a reference of ``lr_hw`` (a whole number when one
    fits, else the width ratio when it fits both axes), or None when it is no reference of
    it at any scale (another picture, a different aspect ratio, or smaller)."""
    h, w = lr_hw
    H, W = hr_hw
    if h <= 0 or w <= 0 or H < h or W < w:
        return None
    k = H // h
    if k >= 1 and fits_reference(lr_hw, hr_hw, k):
        return float(k)
    s = W / w
    return s if fits_reference(lr_hw, hr_hw, s) else None


@dataclass(frozen=True)
class ReferenceCheck:
    """What attaching a reference of some size to an input means at the current scale.

    ``fits``: it is the input times ``scale``; else ``scale`` is the scale it does fit (adopt
    it, and say ``message``), or None when it fits no scale: then it can only be used resized
    (``message`` says both sizes; ask the user)."""

    fits: bool
    scale: float | None
    message: str


def check_reference(src_hw: tuple[int, int], hr_hw: tuple[int, int],
                    scale: float) -> ReferenceCheck:
    """Decide what an HR reference of ``hr_hw`` means for an input of ``src_hw``."""
    if fits_reference(src_hw, hr_hw, scale):
        return ReferenceCheck(True, float(scale), "")
    k = reference_scale(src_hw, hr_hw)
    if k is not None:
        return ReferenceCheck(False, k, f"the {_hw(hr_hw)} reference is the {_hw(src_hw)} "
                              f"input times {k:g}: scale set to x{k:g}")
    return ReferenceCheck(False, None, f"the {_hw(hr_hw)} reference is not the {_hw(src_hw)} "
                          f"input at any scale (another picture, or another aspect ratio)")


def _hw(hw: tuple[int, int]) -> str:
    return f"{hw[1]}x{hw[0]}"


def _align_reference(lr_hw: tuple[int, int], hr_hw: tuple[int, int], scale: float,
                     resize: bool) -> tuple[tuple[int, int], str]:
    """The output size a reference fixes, and how it was aligned ("" when it is exact)."""
    s = float(scale)
    if fits_reference(lr_hw, hr_hw, s):
        if s == int(s):
            want = (lr_hw[0] * int(s), lr_hw[1] * int(s))
            if want != tuple(hr_hw):
                return want, f"cropped from {_hw(hr_hw)} to {_hw(want)} (a multiple of x{int(s)})"
            return want, ""
        return tuple(hr_hw), ""  # type: ignore[return-value]
    want = output_size(lr_hw[0], lr_hw[1], scale=s)
    if resize:
        return want, f"resized from {_hw(hr_hw)} to {_hw(want)} with bicubic (asked for)"
    hint = ""
    k = reference_scale(lr_hw, hr_hw)
    if k is not None:
        hint = f"; it fits scale x{k:g}: set the scale to {k:g}"
    raise InputError(
        f"the HR reference is {_hw(hr_hw)} but the {_hw(lr_hw)} input at x{s:g} needs "
        f"{_hw(want)}{hint}, or resize the reference explicitly")


def plan_run(src_hw: tuple[int, int], *, reference: str = "none",
             hr_hw: tuple[int, int] | None = None,
             scale: float | tuple[float, float] = 4.0,
             size: tuple[int, int] | None = None, models: tuple[tuple[str, str, Any], ...] = (),
             resize_reference: bool = False, hr_name: str = "",
             degradation: str = "MATLAB bicubic") -> RunPlan:
    """Plan a run on an input of ``src_hw`` (height, width).

    ``reference``: ``none``, ``hr`` (an attached reference of ``hr_hw``, named ``hr_name``)
    or ``degrade`` (the input is the HR; the LR is made from it at ``scale``). ``size`` (an
    exact output size) replaces ``scale`` when there is no reference. ``models``: ``(key,
    label, entry)`` with ``entry`` a :class:`core.models.ModelEntry` (its ``kind`` and
    ``scales``) or None (unknown: planned as arbitrary-scale). Raises ScaleError/InputError
    with a one-line reason when the run cannot be made.
    """
    h, w = int(src_hw[0]), int(src_hw[1])
    hr_out: tuple[int, int] | None = None
    fix = ""
    if reference == "degrade":
        s = float(scale)
        if not math.isfinite(s) or s < 1:
            raise ScaleError(f"degrade needs a scale >= 1, got {scale!r}")
        if s == int(s):
            si = int(s)
            if h < si or w < si:
                raise ScaleError(f"a {w}x{h} image is smaller than the scale {si}")
            lr_hw = (h // si, w // si)
            out_hw = (h // si * si, w // si * si)
            if out_hw != (h, w):
                fix = f"cropped from {w}x{h} to {_hw(out_hw)} (a multiple of x{si})"
        else:
            lr_hw = (math.floor(h / s + 0.5), math.floor(w / s + 0.5))
            if min(lr_hw) < 1:
                raise ScaleError(f"scale {s:g} shrinks a {w}x{h} image to nothing")
            out_hw = (h, w)
        hr_out = out_hw
        ref_text = "the input (degrade)"
    elif reference == "hr" and hr_hw is not None:
        lr_hw = (h, w)
        out_hw, fix = _align_reference(lr_hw, (int(hr_hw[0]), int(hr_hw[1])), scale,
                                       resize_reference)
        hr_out = out_hw
        ref_text = f"HR {hr_name}".strip() if hr_name else "the attached HR"
    else:
        lr_hw = (h, w)
        out_hw = output_size(h, w, size=size) if size is not None else \
            output_size(h, w, scale=scale)
        ref_text = ""
    if fix:
        ref_text = f"{ref_text}, {fix}"
    plans = []
    for key, label, entry in models:
        kind = getattr(entry, "kind", "arbitrary")
        scales = getattr(entry, "scales", None)
        plans.append(ModelPlan(key, label, kind, native_scale_text(kind, scales),
                               _resample(kind, scales, lr_hw, out_hw)))
    scalar = float(scale) if not isinstance(scale, (tuple, list)) else float(scale[0])
    return RunPlan(reference=reference, scale=scalar, lr_hw=lr_hw, out_hw=out_hw,
                   hr_hw=hr_out, reference_fix=fix,
                   lr_source=lr_source_text(reference, scalar, degradation),
                   reference_text=ref_text, models=tuple(plans))
