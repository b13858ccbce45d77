"""The paper figure from the window: the compare grid's results, the region(s), the metrics
table's colour space and shave, drawn by :mod:`core.app.figure_render` (the CLI's renderer).

The crops' numbers come from :func:`core.app.run.metrics_job` on the same images with the same
options as the metrics table (and its whole-image cache), so they are the table's ROI values.
"""

from __future__ import annotations

from pathlib import Path

from core.app.display import is_channel_data
from core.app.figure import FigureContent, FigureOptions, figure_content
from core.app.figure_render import save_figure
from core.data import Region
from core.errors import SRWError
from core.session import Session

from ..jobs import Notices
from .metrics import MetricsController

__all__ = ["FigureController"]


class FigureController:
    """Builds and writes the figure of the session's results."""

    def __init__(self, session: Session, notices: Notices, metrics: MetricsController):
        self.session = session
        self.notices = notices
        self.metrics = metrics

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

    def content(self, keys: list[str] | None = None, extra: list[Region] | None = None,
                base: str = "HR") -> FigureContent:
        """The figure of ``keys`` (default: every result) for the region and ``extra`` ones."""
        s = self.session
        why = self.unavailable()
        if why:
            raise SRWError(why)
        keys = [k for k in (keys or list(s.results)) if k in s.results]
        res = {k: s.results[k] for k in keys}
        return figure_content(
            s.hr, {k: (s.label(k), r.image) for k, r in res.items()},
            [s.roi_region(), *(extra or [])], y_channel=s.state.y_channel, shave=s.shave(),
            provenance={k: r.provenance for k, r in res.items()}, lr=s.lr, base=base,
            hr_display=s.hr_display, lr_display=s.lr_display,
            displays={k: r.display for k, r in res.items()}, cache=self.metrics.cache)

    def export(self, path: str | Path, options: FigureOptions, keys: list[str] | None = None,
               extra: list[Region] | None = None) -> bool:
        """Write the figure (PNG/PDF/SVG by extension); errors go to the notices."""
        try:
            out = save_figure(self.content(keys, extra, options.base), options, path)
        except (SRWError, OSError) as exc:
            self.notices.error.emit(f"could not make the figure: {exc}")
            return False
        self.notices.message.emit(f"Figure saved to {out}")
        return True
