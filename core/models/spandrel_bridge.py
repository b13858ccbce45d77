"""Optional: checkpoints of architectures we do not have, through spandrel when it is installed.

spandrel (chaiNNer's model loader) knows dozens of image-to-image architectures (ESRGAN, HAT,
DAT, OmniSR, ...). It is not a dependency: it needs torchvision, and installing it with pip
normally replaces the pinned CPU torch with a multi-GB CUDA build. When it is importable and our
own detection finds no architecture, :func:`load_with_spandrel` asks it; the model then runs
through the engine like any fixed-scale model (tiles, progress, device, precision), with the
margin and padding its descriptor states.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import CheckpointError
from .contracts import FixedScaleSR

__all__ = ["spandrel_available", "spandrel_status", "load_with_spandrel", "SpandrelModel"]


def spandrel_status() -> tuple[bool, str]:
    """``(importable, why)``: "not installed (pip install ...)", or installed but failing to
    import with the exception that says why (often torchvision built for CUDA), or its version."""
    import importlib.util

    try:
        found = importlib.util.find_spec("spandrel") is not None
    except (ValueError, ImportError):  # imported already without a spec (a stand-in)
        found = True
    if not found:
        return False, "not installed (pip install 'sr-workbench[spandrel]')"
    try:
        import spandrel
    except Exception as exc:  # ImportError, or a broken install (torchvision mismatch)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return False, f"installed but fails to import: {type(exc).__name__}: {first}"
    return True, f"spandrel {getattr(spandrel, '__version__', '')}".strip()


def spandrel_available() -> bool:
    return spandrel_status()[0]


class SpandrelModel(FixedScaleSR):
    """A spandrel ``ImageModelDescriptor`` under our fixed-scale contract.

    What the descriptor states is honoured here and by the engine: ``size_requirements``
    (``multiple_of`` -> ``window``, the engine pads to it; ``minimum`` and ``square`` -> the
    input is reflect-padded here and the output cropped back), ``supports_half`` /
    ``supports_bfloat16`` (a run in a precision the model does not support is done in float32
    and cast back), and ``tiling`` (``DISCOURAGED`` or ``INTERNAL``: ``untiled``, the engine
    runs the whole image unless ``--tile`` asks otherwise).
    """

    receptive_field = 32  # spandrel does not say; generous tile margins keep tiles seamless

    def __init__(self, descriptor: Any):
        super().__init__()
        self.net = descriptor.model          # registered: .to() / dtype / eval reach it
        self.scale = int(descriptor.scale)
        self.in_channels = int(descriptor.input_channels)
        self.y_only = self.in_channels == 1
        req = getattr(descriptor, "size_requirements", None)
        self.window = max(1, int(getattr(req, "multiple_of", 1) or 1))
        self.minimum = max(0, int(getattr(req, "minimum", 0) or 0))
        self.square = bool(getattr(req, "square", False))
        self.supports_half = bool(getattr(descriptor, "supports_half", False))
        self.supports_bfloat16 = bool(getattr(descriptor, "supports_bfloat16", False))
        tiling = getattr(descriptor, "tiling", None)
        self.tiling = str(getattr(tiling, "name", tiling or "SUPPORTED")).upper()
        self.untiled = self.tiling in ("DISCOURAGED", "INTERNAL")
        arch = getattr(descriptor, "architecture", None)
        self.arch_name = str(getattr(arch, "id", None) or getattr(arch, "name", None) or "spandrel")
        self.hparams = {"scale": self.scale, "architecture": self.arch_name}

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        th, tw = max(h, self.minimum), max(w, self.minimum)
        if self.square:
            th = tw = max(th, tw)
        if (th, tw) != (h, w):
            mode = "reflect" if th - h < h and tw - w < w else "replicate"
            x = F.pad(x, (0, tw - w, 0, th - h), mode=mode)
        dtype = x.dtype
        unsupported = (dtype == torch.float16 and not self.supports_half) or (
            dtype == torch.bfloat16 and not self.supports_bfloat16)
        if unsupported:
            with torch.autocast(x.device.type, enabled=False):
                y = self.net.float()(x.float()).to(dtype)
        else:
            y = self.net(x)
        return y[..., : h * self.scale, : w * self.scale]


def load_with_spandrel(path: Path) -> SpandrelModel:
    """The model of ``path`` as spandrel loads it. Raises CheckpointError when spandrel is
    missing, does not know the file, or the model is not a single-image SR model."""
    available, why = spandrel_status()
    if not available:
        raise CheckpointError(f"spandrel is {why}")
    from spandrel import ImageModelDescriptor, ModelLoader
    said = io.StringIO()   # spandrel may print or warn at length: kept for -v, not shown
    try:
        with warnings.catch_warnings(record=True) as caught, \
                contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
            warnings.simplefilter("always")
            descriptor = ModelLoader().load_from_file(str(path))
    except Exception as exc:  # spandrel's own errors: unsupported model, bad file
        text = str(exc).strip()
        first = text.splitlines()[0][:160] if text else type(exc).__name__
        err = CheckpointError(f"spandrel cannot load {path.name}: {first}")
        err.detail = "\n".join([text, said.getvalue(), *(str(w.message) for w in caught)])
        raise err from None
    if not isinstance(descriptor, ImageModelDescriptor):
        raise CheckpointError(f"{path.name} is a {type(descriptor).__name__}, not an image "
                              f"super-resolution model")
    if int(descriptor.input_channels) not in (1, 3) or \
            int(descriptor.output_channels) != int(descriptor.input_channels):
        raise CheckpointError(f"{path.name}: spandrel model maps {descriptor.input_channels} to "
                              f"{descriptor.output_channels} channels; only 1->1 and 3->3 run here")
    return SpandrelModel(descriptor).eval()
