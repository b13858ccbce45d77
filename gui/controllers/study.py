"""Background studies on the current HR image and region, for the ticked models.

A study runs on the reference (the input itself in ``degrade`` mode, or the attached HR) on
``jobs`` with progress and Cancel; the result goes to the session (topic ``study``) for the
plot, the table and the gallery, and can be exported as the CLI's study CSV. A new HR on
screen cancels a study of the old one.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject

from core.app import analysis as at
from core.errors import InputError, SRWError
from core.io.atomic import atomic_path
from core.session import Session
from core.studies import DEFAULT_MARGINS, PAPER_PRESET, StudyOptions, preset_region
from core.studies.batch import CSV_FIELDS, csv_rows

from ..jobs import JobPool, Notices
from .kinds import needs_image

__all__ = ["StudyController", "NO_HR_TEXT"]

NO_HR_TEXT = ("the studies measure against an HR image: choose 'degrade' (the input is the "
              "HR) or attach an HR reference")


class StudyController(QObject):
    def __init__(self, session: Session, notices: Notices, pool: JobPool,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.notices = notices
        self.jobs = pool.handle("study", notices, eta=True, parent=self)
        self._hr = None
        session.subscribe(self._on_session)

    def _on_session(self, topic: str) -> None:
        if topic in ("inputs", "all") and self.jobs.busy and self.session.hr is not self._hr:
            self.cancel_study()

    def unavailable(self) -> str | None:
        """Why the tab cannot study the input that is open (None: it can)."""
        return needs_image("A background study", self.session.source)

    def study_paper_preset(self) -> tuple[int, ...] | None:
        """The seed paper's full-vs-crop protocol: the region becomes the centred 56x56 LR
        pixels of a 64x64 LR block; returns the margins to use (the preset's 4 included)."""
        s = self.session
        if s.hr is None:
            self.notices.error.emit(NO_HR_TEXT)
            return None
        try:
            scale = StudyOptions(scale=s.state.scale).scale   # whole numbers only
            reg = preset_region((s.hr.height, s.hr.width), scale)
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return None
        s.set_roi((reg.x, reg.y, reg.w, reg.h))
        return tuple(sorted(set(DEFAULT_MARGINS) | {PAPER_PRESET.margin}))

    def run_study(self, study: str, use_region: bool = True, **params: Any) -> bool:
        """Run ``study`` (crop, swap, size, mosaic) with the view's ``params`` (see
        :class:`core.app.analysis.StudyRequest`); supersedes a study in progress."""
        s, st = self.session, self.session.state
        if s.source is None:
            self.notices.error.emit("open an image first (File > Open)")
            return False
        reason = self.unavailable()
        if reason:
            return self.jobs.refuse(reason)
        if s.hr is None:
            self.notices.error.emit(NO_HR_TEXT)
            return False
        models = [k for k in st.models if k in s.catalog]
        if not models:
            self.notices.error.emit("tick at least one model in the Models list")
            return False
        try:
            if study not in at.STUDIES:
                raise InputError(f"unknown study {study!r}")
            options = StudyOptions(scale=st.scale, y_channel=st.y_channel, device=st.device,
                                   precision=st.precision)
            params = at.study_params(params)
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return False
        name = Path(st.input_path).name if st.input_path else (st.sample or "image")
        req = at.StudyRequest(study, s.hr, name, s.roi_region() if use_region else None,
                              tuple((k, s.label(k)) for k in models), options,
                              exclude_sample=st.sample, **params)
        s.set_study(None)
        self._hr = s.hr
        self.jobs.submit(at.study_job(req), on_done=self._done)
        return True

    def cancel_study(self) -> None:
        self.jobs.cancel("Study cancelled")

    def _done(self, result) -> None:
        self.session.set_study(result)
        self.notices.message.emit(f"{at.STUDIES[result.study]}: {len(result.rows)} "
                                  f"measurements in {self.jobs.elapsed():.1f} s")

    def export_study_csv(self, path: str | Path) -> bool:
        """The last study's rows as the CLI's CSV (image, study, model, group, setting, x,
        psnr)."""
        res = self.session.study
        if res is None:
            self.notices.error.emit("no study results yet: run a study first")
            return False
        try:
            with atomic_path(Path(path)) as tmp, open(tmp, "w", newline="",
                                                      encoding="utf-8") as fh:
                w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
                w.writeheader()
                w.writerows(csv_rows(res))
        except (OSError, SRWError) as exc:
            self.notices.error.emit(f"could not write {path}: {exc}")
            return False
        self.notices.message.emit(f"Study CSV saved to {path}")
        return True
