"""Live zoom: query an arbitrary-scale model for the visible window of a virtual output.

Every view change of the live-zoom pane is a request on ``jobs``: it supersedes the previous
one (which stops at its next query chunk) and a superseded request's tiles are dropped. The
encoded image is cached across requests and cleared when the LR changes.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject

from core.app import zoom
from core.engine.run import SROptions, output_size
from core.errors import SRWError
from core.session import Session

from ..jobs import JobPool, Notices

__all__ = ["ZoomController"]


class ZoomController(QObject):
    def __init__(self, session: Session, notices: Notices, pool: JobPool,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.notices = notices
        self.jobs = pool.handle("zoom", notices, parent=self)
        self.cache: dict = {}
        self._lr = None
        session.subscribe(self._on_session)

    def _on_session(self, topic: str) -> None:
        if topic in ("inputs", "all") and self.session.lr is not self._lr:
            self._lr = self.session.lr
            self.jobs.cancel()
            self.cache.clear()

    def models(self) -> list[str]:
        """Keys of the arbitrary-scale models (those live zoom can query)."""
        return [k for k, e in self.session.catalog.items() if e.kind == "arbitrary"]

    def request(self, key: str, scale: float, window: tuple[int, int, int, int],
                stride: int, coarse: int | None,
                on_tile: Callable[[tuple], None],
                on_progress: Callable | None = None) -> int:
        """Query ``key`` for ``window`` of the virtual output at ``scale``; returns the request's
        generation (0 when nothing can be asked)."""
        s = self.session
        if s.lr is None or key not in s.catalog:
            return 0
        try:
            out_hw = output_size(s.lr.height, s.lr.width, scale=scale, budget=False)
        except SRWError as exc:
            self.notices.message.emit(str(exc))
            return 0
        st = s.state
        req = zoom.ZoomRequest(key, s.lr, out_hw, window, max(1, int(stride)), coarse,
                               SROptions(device=st.device, precision=st.precision))
        return self.jobs.submit(zoom.zoom_job(req, self.cache),
                                on_step=lambda p: on_tile(p.value), on_progress=on_progress)

    def cancel(self) -> None:
        self.jobs.cancel()
