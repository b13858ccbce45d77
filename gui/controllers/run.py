"""The run: parameters (scale / size / device), the LR/HR inputs, super-resolving, Cancel.

Changing what the LR or HR depend on (``inputs_changed``) cancels the run, clears the results
and prepares the new inputs on the pool (``inputs_jobs``); a run reuses inputs already
prepared for the same signature. ``run`` super-resolves with every ticked model on
``jobs`` (the window's progress bar and Cancel); a normal map runs the split / naive /
bicubic methods that :class:`NormalsController` describes. The one question (run with tiles?)
goes through ``notices.ask``.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject

from core.app import display, memory, run as tasks
from core.app import normals as nt
from core.engine.device import pick_device, pick_dtype
from core.engine.memory import human_bytes
from core.engine.run import SROptions
from core.errors import SRWError
from core.jobs import Step
from core.session import Session

from ..jobs import JobPool, Notices
from .channels import ChannelsController
from .models import ModelsController
from .normals import NormalsController

__all__ = ["RunController"]

_DTYPE_NAMES = {"torch.float32": "fp32", "torch.bfloat16": "bf16", "torch.float16": "fp16"}


class RunController(QObject):
    """Scale, size, device options; inputs preparation; the run of the ticked models."""

    def __init__(self, session: Session, notices: Notices, pool: JobPool,
                 models: ModelsController, normals: NormalsController,
                 channels: ChannelsController, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.notices = notices
        self.models = models
        self.normals = normals
        self.channels = channels
        self.jobs = pool.handle("run", notices, eta=True, parent=self)
        self.inputs_jobs = pool.handle("inputs", notices, parent=self)
        self._inputs_signature: tuple | None = None
        self._run_signature: tuple | None = None
        self._normals_signature: tuple | None = None
        self._errors: list[str] = []

    # -- requests and inputs ------------------------------------------------------------------
    def request(self, models: list[str] | None = None) -> tasks.RunRequest:
        s, st = self.session, self.session.state
        keys = tuple((k, s.label(k)) for k in (models if models is not None else st.models))
        return tasks.RunRequest(
            source=s.source, attached_hr=s.attached_hr if st.reference == "hr" else None,
            reference=st.reference, scale=st.scale, size=st.size, models=keys,
            entries=tuple(s.catalog.get(k) for k, _ in keys),
            resize_reference=st.resize_reference,
            options=SROptions(device=st.device, precision=st.precision, tile=st.tile),
            channel=int(st.layout.get("channel", 0)), rgb_mode=self.channels.rgb_mode())

    def prepared_lr(self):
        """The LR on screen when it is the one the current choices give, else None."""
        s = self.session
        same = self._inputs_signature == self.request([]).inputs_signature()
        return s.lr if s.lr is not None and same else None

    def inputs_changed(self) -> None:
        """The LR or HR will differ: results are stale; prepare the new inputs on the pool."""
        s = self.session
        self.jobs.cancel()
        s.clear_results()
        if s.source is None:
            return
        hr = s.attached_hr if s.state.reference == "hr" else None
        try:   # the run plan's refusals (a reference that is not the input x scale, ...)
            tasks.predict_geometry(s.source.pixels.shape[:2],
                                   (hr.height, hr.width) if hr is not None else None,
                                   s.state.reference, s.state.scale, None,
                                   s.state.resize_reference)
        except SRWError as exc:
            self.notices.message.emit(str(exc))
            s.set_inputs(None, None, None, None)
            return
        req = self.request([])
        sig = req.inputs_signature()
        self.inputs_jobs.submit(tasks.inputs_job(req),
                                on_step=lambda p: self._apply_inputs(p.value, sig),
                                on_failed=self._inputs_failed)

    def _apply_inputs(self, value, signature: tuple | None) -> None:
        lr, hr, lr_disp, hr_disp = value
        self._inputs_signature = signature
        self.session.set_inputs(lr, hr, lr_disp, hr_disp)

    def _inputs_failed(self, message: str) -> None:
        self.session.set_inputs(None, None, None, None)
        self.notices.error.emit(message)

    # -- parameters ---------------------------------------------------------------------------
    def set_scale(self, scale: float) -> None:
        st = self.session.state
        if st.scale == scale and st.size is None:
            return
        st.scale, st.size = float(scale), None
        self.session.notify("params")
        if st.reference in ("degrade", "hr"):   # the LR, or the reference's alignment, change
            self.inputs_changed()

    def set_size(self, size: tuple[int, int] | None) -> None:
        self.session.update("params", size=tuple(size) if size else None)

    def set_run_options(self, device: str | None = None, precision: str | None = None,
                        tile: int | None | str = "keep") -> None:
        st = self.session.state
        if device is not None:
            st.device = device
        if precision is not None:
            st.precision = precision
        if tile != "keep":
            st.tile = int(tile) if tile else None
        self.session.notify("params")

    def set_channel(self, channel: int) -> None:
        """Show another channel of multi-channel data (display only: results are kept)."""
        s = self.session
        ch = max(0, min(int(channel), (s.source.channels - 1) if s.source is not None else 0))
        s.state.layout["channel"] = ch
        if s.lr is not None:
            self._inputs_signature = self.request([]).inputs_signature()
            s.set_inputs(s.lr, s.hr, display.display_array(s.lr, ch),
                         display.display_array(s.hr, ch) if s.hr is not None else None)
        for key, r in list(s.results.items()):
            s.results[key] = dataclasses.replace(r, display=display.display_array(r.image, ch))
        s.notify("results")

    def device_text(self) -> str:
        """``cpu · bf16`` as the next run will use them (or why not)."""
        st = self.session.state
        try:
            dev = pick_device(st.device)
            dt = pick_dtype(dev, st.precision)
        except SRWError as exc:
            return f"{st.device}/{st.precision}: {exc}"
        return f"{dev.type} · {_DTYPE_NAMES.get(str(dt), str(dt))}"

    def memory_plan(self) -> memory.MemoryPlan | None:
        s, st = self.session, self.session.state
        models = self.models.ticked()
        if s.source is None or not models:
            return None
        hr_hw = (s.attached_hr.height, s.attached_hr.width) if (
            st.reference == "hr" and s.attached_hr is not None) else None
        lr_hw, out_hw = tasks.predict_geometry(s.source.pixels.shape[:2], hr_hw, st.reference,
                                               st.scale, st.size, st.resize_reference)
        kinds = [(s.catalog[k].kind, s.catalog[k].hparams) for k in models]
        return memory.memory_plan(lr_hw, s.source.channels, out_hw, kinds, st.tile)

    def memory_text(self) -> str:
        try:
            plan = self.memory_plan()
        except SRWError as exc:
            return str(exc)
        if plan is None:
            return ""
        flag = "" if plan.fits else " (too much!)"
        return f"next run ≈ {human_bytes(plan.needed)} of {human_bytes(plan.free)} free{flag}"

    # -- running ------------------------------------------------------------------------------
    def run(self) -> bool:
        """Super-resolve with every selected model; supersedes a run in progress."""
        s = self.session
        if s.source is None:
            self.notices.error.emit("open an image first (File > Open)")
            return False
        if self.normals.mode():
            return self._run_normals()
        models = self.models.ticked()
        if not models:
            self.notices.error.emit("tick at least one model in the Models list")
            return False
        if not self._fits_in_memory():
            return False
        self.inputs_jobs.cancel()
        self._begin()
        req = self.request(models)
        if s.lr is not None and self._inputs_signature == req.inputs_signature():
            req = dataclasses.replace(req, prepared=(s.lr, s.hr, s.lr_display, s.hr_display))
        self._run_signature = req.inputs_signature()
        self.jobs.submit(tasks.run_job(req), on_step=self._step, on_done=self._done)
        return True

    def _fits_in_memory(self) -> bool:
        """Refuse a run that cannot fit; offer tiles when they would."""
        try:
            plan = self.memory_plan()
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return False
        if plan is None or plan.fits:
            return True
        what = (f"This run would need about {human_bytes(plan.needed)} of memory but only "
                f"{human_bytes(plan.free)} is free.")
        if plan.tile is None:
            self.notices.error.emit(what + " Even tiled it would not fit: choose a smaller scale "
                                    "or output size, or crop the input.")
            return False
        if not self.notices.ask("Not enough memory", what + f"\n\nRun it in tiles of {plan.tile}"
                                f" px (about {human_bytes(plan.tiled_needed)})?"):
            self.notices.message.emit("Run not started: not enough memory")
            return False
        self.set_run_options(tile=plan.tile)
        return True

    def _run_normals(self) -> bool:
        req = self.normals.run_request()
        if req is None:
            return False
        self._begin()
        self._normals_signature = self.normals.signature()
        self.jobs.submit(nt.normals_run_job(req), on_step=self._step, on_done=self._done)
        return True

    def _begin(self) -> None:
        """Drop the last run's results and metrics."""
        self.session.clear_results()
        self._errors = []

    def cancel(self) -> None:
        self.jobs.cancel("Cancelled")

    def _step(self, p: Step) -> None:
        if p.key == "inputs":
            self._apply_inputs(p.value, self._run_signature)
        elif p.key == "io":                      # a normal-map run's LR and GT maps
            lr, hr = p.value
            self.normals.record_io(self._normals_signature, lr, hr)
        elif p.key == "result":
            key, mr = p.value
            self.session.add_result(key, mr)
        elif p.key == "error":
            key, msg = p.value
            self._errors.append(f"{self.session.label(key)}: {msg}")

    def _done(self, _summary) -> str:
        elapsed = self.jobs.elapsed()
        n = len(self.session.results)
        self.notices.message.emit(f"{n} model{'s' if n != 1 else ''} done in {elapsed:.1f} s")
        if self._errors:
            self.notices.error.emit("Some models failed:\n" + "\n".join(self._errors))
        return f"done in {elapsed:.1f} s"
