"""Models: the two contracts, the architecture registry (:mod:`.registry`), checkpoint files
(:mod:`.checkpoints`) and the catalog of named models (:mod:`.catalog`).

``load_model("bicubic")``, ``load_model("path/to/edsr_x4.pt")`` -> :class:`LoadedModel`;
``load_model("fsrcnn.pth", scale=3)`` for checkpoints whose tensors do not tell their scale.
Architectures (``archs/``): EDSR, RDN, LIIF, RCAN, SwinIR, SRResNet / MSRResNet, SRCNN, FSRCNN,
ESPCN, VDSR, LRFNet; each module exports its registry entry ``SPEC``.
"""

from __future__ import annotations

from .catalog import WEIGHTS_DIR, ModelEntry, default_model_name, list_models, load_model, resolve
from .checkpoints import (
    LoadedModel,
    describe_checkpoint,
    load_checkpoint,
    load_state_dict_file,
    save_checkpoint,
    scale_from_name,
)
from .contracts import ArbitraryScaleSR, FixedScaleSR, make_cell, make_coord
from .registry import ARCHITECTURES, ArchSpec, detect_architecture, get_arch

__all__ = [
    "FixedScaleSR", "ArbitraryScaleSR", "make_coord", "make_cell",
    "ArchSpec", "ARCHITECTURES", "get_arch", "detect_architecture",
    "WEIGHTS_DIR", "ModelEntry", "list_models", "resolve", "default_model_name", "load_model",
    "LoadedModel", "load_checkpoint", "load_state_dict_file", "save_checkpoint",
    "describe_checkpoint",
    "scale_from_name",
]
