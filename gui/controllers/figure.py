"""The paper figure from the window: the compare grid's results, the region(s), the metrics
table's colour space and shave, drawn by :mod:`core.app.figure_render` (the CLI's renderer).

The crops' numbers come from :func:`core.app.run.metrics_job` on the same images with the same
options as the metrics table (and its whole-image cache), so they are the table's ROI values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject

from core.app.display import is_channel_data
from core.app.figure import FigureContent, FigureOptions, figure_content
from core.app.figure_render import figure_job
from core.data import Region
from core.errors import SRWError
from core.session import Session

from ..jobs import JobPool, Notices
from .metrics import MetricsController

__all__ = ["FigureController"]


class FigureController(QObject):
    """Builds and writes the figure of the session's results (on its own job handle)."""

    def __init__(self, session: Session, notices: Notices, pool: JobPool,
                 metrics: MetricsController, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.notices = notices
        self.metrics = metrics
        self.jobs = pool.handle("figure", notices, parent=self)

    def unavailable(self) -> str:
        """Why there is no figure to make yet ("" when there is one)."""
        s = self.session
        if s.source is None:
            return "open an image first"
        if s.source.kind == "normals" or is_channel_data(s.source):
            return "the figure is for RGB and gray images"
        if s.hr is None:
            return "the figure needs a reference: attach an HR file or choose Degrade"
        if not s.results:
            return "run a model first"
        if s.roi_region() is None:
            return "draw a region first (the figure zooms into it)"
        return ""

    def arguments(self, keys: list[str] | None = None, extra: list[Region] | None = None,
                  base: str = "HR") -> dict[str, Any]:
        """:func:`core.app.figure.figure_content`'s arguments for ``keys`` (default: every
        result), the region and ``extra`` ones, frozen from the session (the arrays are never
        written to; the whole-image metrics cache is copied)."""
        s = self.session
        why = self.unavailable()
        if why:
            raise SRWError(why)
        keys = [k for k in (keys or list(s.results)) if k in s.results]
        res = {k: s.results[k] for k in keys}
        return dict(hr=s.hr, results={k: (s.label(k), r.image) for k, r in res.items()},
                    regions=[s.roi_region(), *(extra or [])], y_channel=s.state.y_channel,
                    shave=s.shave(), provenance={k: r.provenance for k, r in res.items()},
                    lr=s.lr, base=base, hr_display=s.hr_display, lr_display=s.lr_display,
                    displays={k: r.display for k, r in res.items()},
                    cache=dict(self.metrics.cache))

    def content(self, keys: list[str] | None = None, extra: list[Region] | None = None,
                base: str = "HR") -> FigureContent:
        """The figure's content, measured now (on the calling thread)."""
        return figure_content(**self.arguments(keys, extra, base))

    def export(self, path: str | Path, options: FigureOptions, keys: list[str] | None = None,
               extra: list[Region] | None = None) -> bool:
        """Write the figure (PNG/PDF/SVG by extension) on a worker; False (with the reason)
        when there is nothing to draw. Errors of the job go to the notices."""
        try:
            args = self.arguments(keys, extra, options.base)
        except SRWError as exc:
            self.notices.error.emit(f"could not make the figure: {exc}")
            return False
        self.jobs.submit(figure_job(args, options, path), on_done=self._done)
        return True

    def _done(self, out: Path) -> str:
        self.notices.message.emit(f"Figure saved to {out}")
        return f"figure saved to {Path(out).name}"
