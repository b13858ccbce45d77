"""The controller's background studies (a mixin of :class:`gui.controller.Controller`).

A study runs on the current HR image (the reference: the input itself in ``degrade`` mode, or
the attached HR) and region, for the ticked models, on the ``study`` channel with progress
and Cancel; the result goes to the session (topic ``study``) for the plot, the table and the
gallery, and can be exported as the CLI's study CSV.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal

from core.errors import InputError, SRWError

from core.app import analysis as at
from .controller_lam import eta_text

__all__ = ["StudyMixin"]


class StudyMixin:
    study_progress = Signal(float, str)
    study_running = Signal(bool)

    def _study_scale(self) -> int:
        from core.studies import StudyOptions

        return StudyOptions(scale=self.session.state.scale).scale   # whole numbers only

    def study_paper_preset(self) -> tuple[int, ...] | None:
        """The seed paper's full-vs-crop protocol: the region becomes the centred 56x56 LR
        pixels of a 64x64 LR block; returns the margins to use (the preset's 4 included)."""
        from core.studies import DEFAULT_MARGINS, PAPER_PRESET, preset_region

        s = self.session
        if s.hr is None:
            self.error.emit(self._no_hr_text())
            return None
        try:
            reg = preset_region((s.hr.height, s.hr.width), self._study_scale())
        except SRWError as exc:
            self.error.emit(str(exc))
            return None
        self.set_roi((reg.x, reg.y, reg.w, reg.h))
        return tuple(sorted(set(DEFAULT_MARGINS) | {PAPER_PRESET.margin}))

    @staticmethod
    def _no_hr_text() -> str:
        return ("the studies measure against an HR image: choose 'degrade' (the input is the "
                "HR) or attach an HR reference")

    def run_study(self, study: str, use_region: bool = True, **params: Any) -> bool:
        """Run ``study`` (crop, swap, size, mosaic) with the view's ``params`` (see
        :class:`core.app.analysis.StudyRequest`); supersedes a study in progress."""
        from core.studies import StudyOptions

        s, st = self.session, self.session.state
        if s.source is None:
            self.error.emit("open an image first (File > Open)")
            return False
        if s.hr is None:
            self.error.emit(self._no_hr_text())
            return False
        models = [k for k in st.models if k in s.catalog]
        if not models:
            self.error.emit("tick at least one model in the Models list")
            return False
        try:
            if study not in at.STUDIES:
                raise InputError(f"unknown study {study!r}")
            options = StudyOptions(scale=st.scale, y_channel=st.y_channel, device=st.device,
                                   precision=st.precision)
            params = at.study_params(params)
        except SRWError as exc:
            self.error.emit(str(exc))
            return False
        name = Path(st.input_path).name if st.input_path else (st.sample or "image")
        req = at.StudyRequest(study, s.hr, name, s.roi_region() if use_region else None,
                              tuple((k, s.label(k)) for k in models), options,
                              exclude_sample=st.sample, **params)
        s.set_study(None)
        self._study_t0 = time.perf_counter()
        self._submit("study", at.study_job(req), progress=self._study_progress,
                     done=self._study_done, failed=self._study_failed)
        self.study_running.emit(True)
        self.study_progress.emit(0.0, "starting")
        return True

    def cancel_study(self) -> None:
        if self._cancel_channel("study"):
            self.study_running.emit(False)
            self.study_progress.emit(0.0, "cancelled")
            self.message.emit("Study cancelled")

    def _study_progress(self, p) -> None:
        f = p.fraction
        self.study_progress.emit(f, p.message + eta_text(f, time.perf_counter() - self._study_t0))

    def _study_done(self, result) -> None:
        elapsed = time.perf_counter() - self._study_t0
        self.session.set_study(result)
        self.study_running.emit(False)
        self.study_progress.emit(1.0, f"done in {elapsed:.1f} s")
        self.message.emit(f"{at.STUDIES[result.study]}: {len(result.rows)} measurements in "
                          f"{elapsed:.1f} s")

    def _study_failed(self, message: str) -> None:
        self.study_running.emit(False)
        self.study_progress.emit(0.0, "failed")
        self.error.emit(message)

    def export_study_csv(self, path: str | Path) -> bool:
        """The last study's rows as the CLI's CSV (image, study, model, group, setting, x,
        psnr)."""
        from core.io.atomic import atomic_path
        from core.studies.batch import CSV_FIELDS

        res = self.session.study
        if res is None:
            self.error.emit("no study results yet: run a study first")
            return False
        try:
            with atomic_path(Path(path)) as tmp, open(tmp, "w", newline="",
                                                      encoding="utf-8") as fh:
                w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
                w.writeheader()
                w.writerows(at.study_csv_rows(res))
        except (OSError, SRWError) as exc:
            self.error.emit(f"could not write {path}: {exc}")
            return False
        self.message.emit(f"Study CSV saved to {path}")
        return True
