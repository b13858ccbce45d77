"""The controller: user requests -> core Jobs on the pool -> results applied to the session.

Every request goes to a *channel* (``inputs``, ``run``, ``metrics``, ``zoom``, ``lam``,
``study``, ``zeroshot``). Each channel has a generation counter: a new request cancels the
channel's running job and bumps the counter, and any signal that arrives with an older
generation is dropped (counted in ``dropped``), so a stale result never overwrites a newer one.
Results are applied on the GUI thread through the Qt-free :class:`core.session.Session`, whose
subscribers (the views) redraw.

Dialogs are not shown here: errors go out through the ``error`` signal, and the one question
(run with tiles?) through the ``ask`` callable the window sets.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from core.engine.memory import human_bytes
from core.engine.run import SROptions
from core.errors import SRWError
from core.session import Session

from core.app import display, memory, run as tasks
from core.jobs import Step
from .job_channels import JobChannels
from .controller_channels import ChannelsMixin
from .controller_files import FilesMixin
from .controller_ipf import IpfMixin
from .controller_lam import LamMixin
from .controller_normals import NormalsMixin
from .controller_studies import StudyMixin
from .controller_surface import SurfaceMixin
from .controller_zeroshot import ZeroShotMixin
from .controller_zoom import ZoomMixin

__all__ = ["Controller"]


class Controller(FilesMixin, ZoomMixin, LamMixin, StudyMixin, NormalsMixin, SurfaceMixin,
                 IpfMixin, ChannelsMixin, ZeroShotMixin, JobChannels):
    progress = Signal(float, str)    # fraction in [0, 1], message (with the ETA)
    running = Signal(bool)
    message = Signal(str)            # status-bar text

    def __init__(self, session: Session | None = None, settings: Any = None,
                 pool: QThreadPool | None = None, parent: QObject | None = None):
        super().__init__(pool, parent)
        self.session = session or Session()
        self.settings = settings
        self.ask: Callable[[str, str], bool] = lambda title, text: False
        self._metric_cache: dict = {}
        self._zoom_cache: dict = {}
        self._inputs_signature: tuple | None = None
        self._run_signature: tuple | None = None
        self._run_errors: list[str] = []
        self._t0 = 0.0
        self._last_emit = 0.0
        self._metrics_timer = QTimer(self, singleShot=True, interval=40)
        self._metrics_timer.timeout.connect(self._start_metrics)
        if settings is not None:
            st = self.session.state
            st.device, st.precision, st.tile = settings.device, settings.precision, settings.tile
        self.refresh_catalog()
        self._default_models()

    def _default_models(self) -> None:
        """Bicubic, plus the bundled default model (LIIF) once there is one."""
        from core.models import default_model_name

        st, cat = self.session.state, self.session.catalog
        best = default_model_name()
        if st.models == ["bicubic"] and best != "bicubic" and best in cat:
            st.models = ["bicubic", best]

    def _request(self, models: list[str] | None = None) -> tasks.RunRequest:
        s, st = self.session, self.session.state
        keys = tuple((k, s.label(k)) for k in (models if models is not None else st.models))
        return tasks.RunRequest(
            source=s.source, attached_hr=s.attached_hr if st.reference == "hr" else None,
            reference=st.reference, scale=st.scale, size=st.size, models=keys,
            entries=tuple(s.catalog.get(k) for k, _ in keys),
            options=SROptions(device=st.device, precision=st.precision, tile=st.tile),
            resize_reference=st.resize_reference,
            channel=int(st.layout.get("channel", 0)), rgb_mode=self.rgb_mode())

    def _inputs_changed(self) -> None:
        """The LR or HR will differ: results are stale; prepare the new inputs on the pool."""
        s = self.session
        self._cancel_channel("run")
        self._cancel_channel("metrics")
        self._cancel_channel("zoom")
        self.cancel_lam()          # LAM maps and studies of the old inputs are stale
        self.cancel_study()
        self._metric_cache.clear()
        self._zoom_cache.clear()
        s.clear_results()
        if s.source is None:
            return
        hr = s.attached_hr if s.state.reference == "hr" else None
        try:
            tasks.predict_geometry(s.source.pixels.shape[:2],
                                   (hr.height, hr.width) if hr is not None else None,
                                   s.state.reference, s.state.scale, None,
                                   s.state.resize_reference)
        except SRWError as exc:
            self.message.emit(str(exc))
            s.set_inputs(None, None, None, None)
            return
        req = self._request([])
        self._submit("inputs", tasks.inputs_job(req),
                     step=lambda p: self._apply_inputs(p.value, req.inputs_signature()),
                     failed=self._inputs_failed)

    def _apply_inputs(self, value, signature: tuple | None = None) -> None:
        lr, hr, lr_disp, hr_disp = value
        self._inputs_signature = signature
        self.session.set_inputs(lr, hr, lr_disp, hr_disp)

    def _inputs_failed(self, message: str) -> None:
        self.session.set_inputs(None, None, None, None)
        self.error.emit(message)

    # -- parameters ---------------------------------------------------------------------------
    def set_scale(self, scale: float) -> None:
        st = self.session.state
        if st.scale == scale and st.size is None:
            return
        st.scale, st.size = float(scale), None
        self.session.notify("params")
        if st.reference in ("degrade", "hr"):   # the LR, or the reference's alignment, change
            self._inputs_changed()

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
            self._inputs_signature = self._request([]).inputs_signature()
            s.set_inputs(s.lr, s.hr, display.display_array(s.lr, ch),
                         display.display_array(s.hr, ch) if s.hr is not None else None)
        for key, r in list(s.results.items()):
            s.results[key] = dataclasses.replace(r, display=display.display_array(r.image, ch))
        s.notify("results")

    def set_roi(self, roi: tuple[int, int, int, int] | None) -> None:
        if roi is not None and (roi[2] <= 0 or roi[3] <= 0):
            roi = None
        if roi == self.session.state.roi:
            return
        self.session.set_roi(roi)
        self.schedule_metrics()

    def set_metric_options(self, y_channel: bool | None = None,
                           shave: int | None | str = "keep") -> None:
        st = self.session.state
        if y_channel is not None:
            st.y_channel = bool(y_channel)
        if shave != "keep":
            st.shave = None if shave is None or int(shave) < 0 else int(shave)
        self.session.notify("params")
        self.schedule_metrics()

    def device_text(self) -> str:
        """``cpu · bf16`` as the next run will use them (or why not)."""
        from core.engine.device import pick_device, pick_dtype

        st = self.session.state
        try:
            dev = pick_device(st.device)
            dt = pick_dtype(dev, st.precision)
        except SRWError as exc:
            return f"{st.device}/{st.precision}: {exc}"
        name = {"torch.float32": "fp32", "torch.bfloat16": "bf16", "torch.float16": "fp16"}
        return f"{dev.type} · {name.get(str(dt), str(dt))}"

    def memory_plan(self) -> memory.MemoryPlan | None:
        s, st = self.session, self.session.state
        models = [k for k in st.models if k in s.catalog]
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
        s, st = self.session, self.session.state
        if s.source is None:
            self.error.emit("open an image first (File > Open)")
            return False
        if self.normals_mode():    # split / naive / bicubic of the normals (controller_normals)
            return self.run_normals()
        models = [k for k in st.models if k in s.catalog]
        if not models:
            self.error.emit("tick at least one model in the Models list")
            return False
        try:
            plan = self.memory_plan()
        except SRWError as exc:
            self.error.emit(str(exc))
            return False
        if plan is not None and not plan.fits:
            what = (f"This run would need about {human_bytes(plan.needed)} of memory but only "
                    f"{human_bytes(plan.free)} is free.")
            if plan.tile is None:
                self.error.emit(what + " Even tiled it would not fit: choose a smaller scale or "
                                "output size, or crop the input.")
                return False
            if not self.ask("Not enough memory", what + f"\n\nRun it in tiles of {plan.tile} px "
                            f"(about {human_bytes(plan.tiled_needed)})?"):
                self.message.emit("Run not started: not enough memory")
                return False
            self.set_run_options(tile=plan.tile)
        self._cancel_channel("inputs")
        self._begin_run()
        req = self._request(models)
        if s.lr is not None and self._inputs_signature == req.inputs_signature():
            req = dataclasses.replace(req, prepared=(s.lr, s.hr, s.lr_display, s.hr_display))
        self._run_signature = req.inputs_signature()
        return self._submit_run(tasks.run_job(req), self._run_step)

    def _begin_run(self) -> None:
        """Drop the last run's results and metrics and start the clock of a new run."""
        self._cancel_channel("metrics")
        self._metric_cache.clear()
        self.session.clear_results()
        self._run_errors = []
        self._t0 = time.perf_counter()
        self._last_emit = 0.0

    def _submit_run(self, job, step: Callable) -> bool:
        """Start ``job`` on the run channel (``step`` handles its steps); True."""
        self._submit("run", job, step=step, progress=self._run_progress, done=self._run_done,
                     failed=self._run_failed)
        self.running.emit(True)
        self.progress.emit(0.0, "starting")
        return True

    def cancel(self) -> None:
        if self._cancel_channel("run"):
            self.running.emit(False)
            self.progress.emit(0.0, "cancelled")
            self.message.emit("Cancelled")

    def _run_step(self, p: Step) -> None:
        if p.key == "inputs":
            self._apply_inputs(p.value, self._run_signature)
        elif p.key == "result":
            key, mr = p.value
            self.session.add_result(key, mr)
            self.schedule_metrics()
        elif p.key == "error":
            key, msg = p.value
            self._run_errors.append(f"{self.session.label(key)}: {msg}")

    def _run_progress(self, p) -> None:
        now = time.perf_counter()
        if now - self._last_emit < 0.05 and not isinstance(p, Step):
            return
        self._last_emit = now
        f = p.fraction
        elapsed = now - self._t0
        eta = ""
        if 0.02 < f < 1 and elapsed > 0.3:
            left = elapsed * (1 - f) / f
            eta = f" · {left:.0f} s left" if left >= 1 else " · <1 s left"
        self.progress.emit(f, f"{p.message}{eta}")

    def _run_done(self, summary) -> None:
        elapsed = time.perf_counter() - self._t0
        self.running.emit(False)
        self.progress.emit(1.0, f"done in {elapsed:.1f} s")
        n = len(self.session.results)
        self.message.emit(f"{n} model{'s' if n != 1 else ''} done in {elapsed:.1f} s")
        if self._run_errors:
            self.error.emit("Some models failed:\n" + "\n".join(self._run_errors))

    def _run_failed(self, message: str) -> None:
        self.running.emit(False)
        self.progress.emit(0.0, "failed")
        self.error.emit(message)

    # -- metrics ------------------------------------------------------------------------------
    def schedule_metrics(self) -> None:
        self._metrics_timer.start()

    def _start_metrics(self) -> None:
        if self.start_special_metrics():   # angular error / NMSE (normal maps, channel data)
            return
        s = self.session
        if s.hr is None or not s.results:
            self._cancel_channel("metrics")
            s.set_metrics([])
            return
        images = {k: (s.label(k), r.image) for k, r in s.results.items()}
        job = tasks.metrics_job(images, s.hr, s.roi_region(), s.state.y_channel, s.shave(),
                                self._metric_cache,
                                {k: r.provenance for k, r in s.results.items()})
        self._submit("metrics", job, done=s.set_metrics)
