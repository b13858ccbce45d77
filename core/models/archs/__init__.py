"""Architectures written here, with the parameter names of the official releases.

One module per family. ``LIIF`` / ``liif_from_spec`` are imported lazily from
:mod:`core.models.archs.liif` on first access.
"""

from __future__ import annotations

from typing import Any

from .common import MeanShift, ResBlock, Upsampler, default_conv
from .edsr import EDSR, edsr_baseline, edsr_full
from .espcn import ESPCN
from .fsrcnn import FSRCNN
from .interp import INTERP_METHODS, Interpolation
from .lrfnet import LRFNet
from .rcan import RCAN
from .rdn import RDN, RDN_CONFIGS
from .srcnn import SRCNN
from .srresnet import MSRResNet, SRResNet
from .swinir import SwinIR
from .vdsr import VDSR

__all__ = [
    "default_conv", "MeanShift", "ResBlock", "Upsampler",
    "EDSR", "edsr_baseline", "edsr_full",
    "RDN", "RDN_CONFIGS",
    "SRCNN", "FSRCNN", "ESPCN", "VDSR", "RCAN", "SwinIR", "SRResNet", "MSRResNet", "LRFNet",
    "Interpolation", "INTERP_METHODS",
    "LIIF", "liif_from_spec",
]


def __getattr__(name: str) -> Any:
    if name in ("LIIF", "liif_from_spec"):
        from . import liif

        return getattr(liif, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
