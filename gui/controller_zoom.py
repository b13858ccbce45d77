"""The controller's live-zoom requests (a mixin of :class:`gui.controller.Controller`).

Every view change of the live-zoom pane is a request on the ``zoom`` channel: it supersedes
the previous one (which stops at its next query chunk) and a superseded request's tiles are
dropped. The encoded image is cached across requests and cleared when the inputs change.
"""

from __future__ import annotations

from typing import Callable

from core.engine.run import SROptions, output_size
from core.errors import SRWError

from core.app import zoom

__all__ = ["ZoomMixin"]


class ZoomMixin:
    _zoom_cache: dict

    def zoom_models(self) -> list[str]:
        """Keys of the arbitrary-scale models (those live zoom can query)."""
        return [k for k, e in self.session.catalog.items() if e.kind == "arbitrary"]

    def request_zoom(self, key: str, scale: float, window: tuple[int, int, int, int],
                     stride: int, coarse: int | None,
                     on_tile: Callable[[tuple], None],
                     on_progress: Callable | None = None) -> int:
        """Query ``key`` for ``window`` of the virtual output at ``scale``; returns the request's
        generation (0 when nothing can be asked)."""
        s = self.session
        if s.lr is None or key not in s.catalog:
            return 0
        try:
            out_hw = output_size(s.lr.height, s.lr.width, scale=scale)
        except SRWError as exc:
            self.message.emit(str(exc))
            return 0
        st = s.state
        req = zoom.ZoomRequest(key, s.lr, out_hw, window, max(1, int(stride)), coarse,
                               SROptions(device=st.device, precision=st.precision))
        return self._submit("zoom", zoom.zoom_job(req, self._zoom_cache),
                            step=lambda p: on_tile(p.value), progress=on_progress)

    def cancel_zoom(self) -> None:
        self._cancel_channel("zoom")
