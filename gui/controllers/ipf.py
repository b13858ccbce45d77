"""The IPF flow tab: the flow field and the confidence map of an IPF model.

``show_ipf_flow(key)`` runs :func:`core.app.ipf.ipf_flow_task` on the LR input at the output
size of the next run (the session's device and precision) on ``jobs``: progress, Cancel, a
newer request drops an older one. The last flow is kept (topic ``ipf_flow``); a failure is
kept too (:attr:`IpfController.failure`), for the tab to say in place, with no dialog.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from core.app.ipf import IpfFlow, ipf_flow_task
from core.engine.run import SROptions
from core.session import Session

from ..jobs import JobPool, Notices
from .kinds import needs_image

__all__ = ["IpfController"]


class IpfController(QObject):
    def __init__(self, session: Session, notices: Notices, pool: JobPool,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.notices = notices
        self.jobs = pool.handle("ipf", notices, parent=self)
        self.ipf_flow: IpfFlow | None = None      # the last flow shown
        self._signature: tuple = ()
        self.failure: tuple[tuple, str] | None = None   # (signature, why) of a failed request

    def unavailable(self) -> str | None:
        """Why the tab cannot show a flow for the input that is open (None: it can)."""
        src = self.session.source
        return needs_image("IPF flow", src) if src is not None and src.kind == "channels" \
            else None

    def ipf_models(self) -> list[str]:
        """Catalog keys of the IPF models, ticked ones first."""
        s = self.session
        keys = [k for k, e in s.catalog.items() if getattr(e, "arch", "") == "ipf"]
        return sorted(keys, key=lambda k: k not in s.state.models)

    def ipf_signature(self, key: str) -> tuple:
        s = self.session
        return (key, id(s.lr), s.output_hw(), s.state.device, s.state.precision)

    def ipf_current(self, key: str | None) -> bool:
        f = self.ipf_flow
        return f is not None and key is not None and f.signature == self.ipf_signature(key)

    def show_ipf_flow(self, key: str) -> bool:
        """Compute ``key``'s flow and confidence for the input on screen (supersedes)."""
        s, st = self.session, self.session.state
        out = s.output_hw()
        if s.lr is None or out is None or key not in s.catalog:
            return False
        reason = self.unavailable()
        if reason:
            return self.jobs.refuse(reason)
        self.failure = None
        self._signature = self.ipf_signature(key)
        opts = SROptions(device=st.device, precision=st.precision, tile=st.tile)
        self.jobs.submit(ipf_flow_task(key, s.lr, out, opts, self.ipf_signature(key)),
                         on_done=self._done, on_failed=self._failed)
        return True

    def cancel_ipf_flow(self) -> None:
        self.jobs.cancel()

    def failure_for(self, key: str | None) -> str | None:
        """Why the flow of ``key`` for the input on screen failed (None: it did not)."""
        f = self.failure
        return f[1] if f is not None and key is not None and f[0] == self.ipf_signature(key) \
            else None

    def _failed(self, message: str) -> None:
        self.failure = (self._signature, message)
        self.notices.message.emit(f"IPF flow: {message}")
        self.session.notify("ipf_flow")

    def _done(self, flow: IpfFlow) -> str:
        self.ipf_flow = flow
        self.session.notify("ipf_flow")
        return (f"max |flow| {flow.max_flow:.3f} LR px · mean confidence "
                f"{float(flow.conf.mean()):.3f}")
