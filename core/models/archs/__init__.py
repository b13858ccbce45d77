"""Architectures written here, with the parameter names of the official releases.

One module per family.
"""

from __future__ import annotations

from .common import MeanShift, ResBlock, Upsampler, default_conv
from .edsr import EDSR, edsr_baseline, edsr_full
from .espcn import ESPCN
from .fsrcnn import FSRCNN
from .interp import INTERP_METHODS, Interpolation
from .liif import LIIF, liif_from_spec
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

