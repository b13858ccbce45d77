"""Architectures written here, with the parameter names of the official releases.

One module per family. ``LIIF`` / ``liif_from_spec`` are imported lazily from
:mod:`core.models.archs.liif` on first access.
"""

from __future__ import annotations

from typing import Any

from .common import MeanShift, ResBlock, Upsampler, default_conv
from .edsr import EDSR, edsr_baseline, edsr_full
from .interp import INTERP_METHODS, Interpolation
from .rdn import RDN, RDN_CONFIGS

__all__ = [
    "default_conv", "MeanShift", "ResBlock", "Upsampler",
    "EDSR", "edsr_baseline", "edsr_full",
    "RDN", "RDN_CONFIGS",
    "Interpolation", "INTERP_METHODS",
    "LIIF", "liif_from_spec",
]


def __getattr__(name: str) -> Any:
    if name in ("LIIF", "liif_from_spec"):
        from . import liif

        return getattr(liif, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
