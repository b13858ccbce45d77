"""One explicit list of architectures and detection dispatch.

Spandrel style: every architecture module (``archs/<family>.py``) exports one
:class:`~core.models.spec.ArchSpec` called ``SPEC``, which says how to recognise its state dict
(``detect`` reads hyperparameters from key names and tensor shapes) and how to build the module
(``build``). :data:`ARCHITECTURES` lists them in detection order; :func:`detect_architecture`
tries them in that order, and a state dict that matches nothing gets a
:class:`~core.errors.CheckpointError` naming the closest architecture and the keys that differ.

The catalog of named models (what users type after ``-m``) is :mod:`core.models.catalog`.
"""

from __future__ import annotations

from typing import Any

from ..errors import CheckpointError
from .archs import (edsr, espcn, fsrcnn, interp, liif, lrfnet, rcan, rdn, srcnn, srresnet, swinir,
                    vdsr)
from .archs import ipf as ipf_arch
from .archs.edsr import detect_edsr
from .archs.liif import detect_liif
from .archs.rdn import detect_rdn
from .spec import ArchSpec, StateDict, count_seq, has_key, shape_of

__all__ = [
    "ArchSpec",
    "ARCHITECTURES",
    "get_arch",
    "detect_architecture",
    "closest_architecture",
    "detect_edsr",
    "detect_rdn",
    "detect_liif",
    "preview_keys",
]

# The per-family specs and shape helpers under their historical names.
EDSR_SPEC, RDN_SPEC, LIIF_SPEC, INTERP_SPEC = edsr.SPEC, rdn.SPEC, liif.SPEC, interp.SPEC
_has_key, _shape, _count = has_key, shape_of, count_seq

#: Every architecture, in detection order. LRFNet precedes EDSR: its atrous variant has EDSR's
#: key names plus a ``dilations`` buffer, which EDSR's detector would ignore.
ARCHITECTURES: list[ArchSpec] = [
    ipf_arch.SPEC,  # IPF holds a LIIF under ``liif.*``: tried first
    liif.SPEC,
    lrfnet.SPEC,
    edsr.SPEC,
    rdn.SPEC,
    rcan.SPEC,
    swinir.SPEC,
    srresnet.SPEC,
    srresnet.MSRRESNET_SPEC,
    srcnn.SPEC,
    fsrcnn.SPEC,
    espcn.SPEC,
    vdsr.SPEC,
    interp.SPEC,
]


def get_arch(name: str) -> ArchSpec:
    """The :class:`ArchSpec` called ``name`` (case-insensitive)."""
    for arch in ARCHITECTURES:
        if arch.name == str(name).lower():
            return arch
    known = ", ".join(a.name for a in ARCHITECTURES)
    raise CheckpointError(f"unknown architecture {name!r}; known: {known}")


def closest_architecture(state_dict: StateDict) -> tuple[ArchSpec, float]:
    """The architecture whose required keys are most present, and that share."""
    scored = [(a.share_present(state_dict), a) for a in ARCHITECTURES if a.required_keys]
    share, arch = max(scored, key=lambda t: t[0])
    return arch, share


def preview_keys(keys: list[str], n: int = 5) -> str:
    """The first ``n`` keys, comma-separated, and how many more (for error messages)."""
    more = f" (+{len(keys) - n} more)" if len(keys) > n else ""
    return ", ".join(keys[:n]) + more


def detect_architecture(state_dict: StateDict) -> tuple[ArchSpec, dict[str, Any]]:
    """``(arch, hparams)`` of the first architecture whose ``detect`` accepts ``state_dict``.

    Raises:
        CheckpointError: nothing matches; the message names the closest architecture (by the
            share of its required keys present) with up to 5 missing and 5 unexpected keys.
    """
    for arch in ARCHITECTURES:
        if not arch.required_keys:
            continue
        try:
            hp = arch.detect(state_dict)
        except Exception:  # a malformed tensor layout is "not this architecture"
            hp = None
        if hp is not None:
            return arch, hp
    known = ", ".join(a.name for a in ARCHITECTURES if a.required_keys)
    arch, share = closest_architecture(state_dict)
    if share == 0:
        raise CheckpointError(
            f"the state dict matches no known architecture ({known}) and has none of their "
            f"expected keys; its first keys are {preview_keys(list(state_dict))}")
    missing = arch.missing_keys(state_dict)
    unexpected = arch.unexpected_keys(state_dict)
    detail = []
    if missing:
        detail.append(f"missing {preview_keys(missing)}")
    if unexpected:
        detail.append(f"unexpected {preview_keys(unexpected)}")
    if not detail:
        detail.append("the key names match but the tensor shapes do not form a valid model")
    n_req = len(arch.required_keys)
    raise CheckpointError(
        f"the state dict matches no known architecture ({known}); closest is {arch.name} "
        f"({n_req - len(missing)} of {n_req} expected keys present): {'; '.join(detail)}")
