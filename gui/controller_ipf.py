"""The controller's IPF side (a mixin of :class:`gui.controller.Controller`): the flow field and
the confidence map of an IPF model, for the "IPF flow" tab.

``show_ipf_flow(key)`` runs :func:`core.models.ipf_flow.ipf_flow_job` on the LR input at the
output size of the next run (blocks and chunks like the engine; the session's device and
precision) on the ``ipf`` channel: progress, Cancel, a newer request drops an older one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Signal

from core.data import ImageData
from core.engine.run import SROptions
from core.errors import InputError
from core.jobs import Job, Progress, sub_job

__all__ = ["IpfMixin", "IpfFlow", "ipf_flow_task"]


@dataclass(frozen=True, eq=False)
class IpfFlow:
    """Flow ``H x W x 2`` (LR pixels, ``(y, x)``), confidence ``H x W`` in [0, 1] and their
    images (float32 RGB in [0, 1]: colour wheel, white = no offset; grey, white = 1)."""

    key: str
    flow: np.ndarray
    conf: np.ndarray
    flow_rgb: np.ndarray
    conf_rgb: np.ndarray
    signature: tuple = ()

    @property
    def max_flow(self) -> float:
        return float(np.sqrt((self.flow ** 2).sum(axis=2)).max()) if self.flow.size else 0.0


def ipf_flow_task(key: str, lr: ImageData, out_hw: tuple[int, int], options: SROptions,
                  signature: tuple = ()) -> Job[IpfFlow]:
    """Load ``key`` (an IPF), then its flow and confidence for ``lr`` at ``out_hw``."""
    import torch

    from core.engine.device import pick_device, pick_dtype, placed
    from core.models import load_model
    from core.models.archs.ipf import IPF
    from core.models.ipf_flow import confidence_to_image, flow_to_color, ipf_flow_job

    yield Progress(0, 100, "loading the model")
    module = load_model(key).module
    if not isinstance(module, IPF):
        raise InputError(f"{key} is not an IPF model: only IPF has a flow to show")
    px = lr.pixels
    if px.shape[2] == 1:
        px = np.repeat(px, 3, axis=2)
    elif px.shape[2] != 3:
        raise InputError(f"IPF needs an RGB (or grey) input, not {px.shape[2]} channels")
    device = pick_device(options.device)
    dtype = pick_dtype(device, options.precision)
    net = placed(module, device, dtype)
    x = torch.from_numpy(np.ascontiguousarray(px)).permute(2, 0, 1)[None].to(device, dtype)
    h, w = px.shape[:2]
    block = options.tile or (None if h * w <= 512 * 512 else 256)
    flow, conf = yield from sub_job(ipf_flow_job(net, x, out_hw, block, chunk=options.chunk),
                                    5, 95, 100)
    return IpfFlow(key, flow, conf, flow_to_color(flow), confidence_to_image(conf), signature)


class IpfMixin:
    ipf_progress = Signal(float, str)
    ipf_running = Signal(bool)

    ipf_flow: IpfFlow | None = None      # the last flow shown

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
        opts = SROptions(device=st.device, precision=st.precision, tile=st.tile)
        self._submit("ipf", ipf_flow_task(key, s.lr, out, opts, self.ipf_signature(key)),
                     progress=lambda p: self.ipf_progress.emit(p.fraction, p.message),
                     done=self._ipf_done, failed=self._ipf_failed)
        self.ipf_running.emit(True)
        self.ipf_progress.emit(0.0, "starting")
        return True

    def cancel_ipf_flow(self) -> None:
        if self._cancel_channel("ipf"):
            self.ipf_running.emit(False)
            self.ipf_progress.emit(0.0, "cancelled")

    def _ipf_done(self, flow: IpfFlow) -> None:
        self.ipf_flow = flow
        self.ipf_running.emit(False)
        self.ipf_progress.emit(1.0, f"max |flow| {flow.max_flow:.3f} LR px · mean confidence "
                                    f"{float(flow.conf.mean()):.3f}")
        self.session.notify("ipf_flow")

    def _ipf_failed(self, message: str) -> None:
        self.ipf_running.emit(False)
        self.ipf_progress.emit(0.0, "failed")
        self.error.emit(message)
