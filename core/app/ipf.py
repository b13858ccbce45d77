"""The IPF flow tab's work: an IPF model's flow field and confidence map for an LR input.

:func:`ipf_flow_task` loads the model, checks that it is an IPF and that the input is RGB (or
grey), and runs :func:`core.models.ipf_flow.ipf_flow_job` at the output size of the next run
(blocks and chunks like the engine).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.data import ImageData
from core.engine.arbitrary import block_size
from core.engine.device import pick_device, pick_dtype, placed
from core.engine.run import SROptions
from core.errors import InputError
from core.jobs import Job, Progress, sub_job
from core.models import load_model
from core.models.archs.ipf import IPF
from core.models.ipf_flow import confidence_to_image, flow_to_color, ipf_flow_job

__all__ = ["IpfFlow", "ipf_flow_task", "ipf_input_problem"]


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


def ipf_input_problem(lr: ImageData) -> str | None:
    """Why IPF cannot show a flow for ``lr`` (None: it can)."""
    c = lr.pixels.shape[2]
    if c in (1, 3):
        return None
    return f"IPF needs an RGB (or grey) input, not {c} channels"


def ipf_flow_task(key: str, lr: ImageData, out_hw: tuple[int, int], options: SROptions,
                  signature: tuple = ()) -> Job[IpfFlow]:
    """Load ``key`` (an IPF), then its flow and confidence for ``lr`` at ``out_hw``."""
    yield Progress(0, 100, "loading the model")
    module = load_model(key).module
    if not isinstance(module, IPF):
        raise InputError(f"{key} is not an IPF model: only IPF has a flow to show")
    problem = ipf_input_problem(lr)
    if problem:
        raise InputError(problem)
    px = lr.pixels
    if px.shape[2] == 1:
        px = np.repeat(px, 3, axis=2)
    device = pick_device(options.device)
    dtype = pick_dtype(device, options.precision)
    net = placed(module, device, dtype)
    x = torch.from_numpy(np.ascontiguousarray(px)).permute(2, 0, 1)[None].to(device, dtype)
    h, w = px.shape[:2]
    block = block_size(h, w, options.tile)
    flow, conf = yield from sub_job(ipf_flow_job(net, x, out_hw, block, chunk=options.chunk),
                                    5, 95, 100)
    return IpfFlow(key, flow, conf, flow_to_color(flow), confidence_to_image(conf), signature)
