"""Named mappings of a trained checkpoint onto another architecture (``model.init_map``).

``model.init_from`` loads a checkpoint's tensors by name; a mapping first turns the file's
tensors into the names (and, where the two compute differently, the values) of the model being
trained. One is defined:

``edsr_body_to_liif_encoder``
    A trained EDSR (e.g. ``edsr_baseline_x4``) as the encoder of a LIIF with the same
    ``n_resblocks`` / ``n_feats``. EDSR feeds its head ``h = sub_mean(rgb_range * v)`` (for the
    bundled models ``255 (v - m)``, ``m`` the DIV2K mean) of an image ``v`` in [0, 1]; LIIF
    feeds its encoder ``u = (v - 0.5) / 0.5``. With ``v = (u + 1) / 2`` that is per input
    channel ``h_i = a_i u_i + c_i``, ``a_i = s_i rgb_range / 2``, ``c_i = a_i + t_i`` (``s``,
    ``t``: the mean shift's scale and offset), an affine change the head conv absorbs:
    ``W'[o, i] = a_i W[o, i]`` and ``b'[o] = b[o] + sum_{i, k} c_i W[o, i, k]``.

    The features are then brought to LIIF's units: EDSR's live on the 0..255 scale of its
    input (std ~30 for the bundled x4), so a fresh MLP decoder would see 576 inputs two orders
    of magnitude above its 4 coordinate / cell inputs and barely learn to use the position (a
    run on the unscaled features reached Set5 x4 28.9 dB after 4000 steps). The head and the
    body are convolutions, ReLUs and residual sums, positively homogeneous once their biases
    scale too, so multiplying the head's weight and bias and every body bias by
    ``k = 2 / rgb_range`` makes features ``k`` times EDSR's, exactly: what the same network
    computes on an input in LIIF's [-1, 1] units. The body's weights are copied as they are.
    The encoder's features equal ``k`` times the EDSR's head + body output, except within the
    receptive field of the border: zero padding is ``v = m`` in EDSR and ``v = 0.5`` in LIIF,
    and the constant ``c`` is missing where the kernel hangs over the edge. The EDSR tail has
    no counterpart: the MLP decoder (``imnet``) stays freshly initialised, so this mapping
    needs ``model.init_partial: true``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import torch
from torch import Tensor

from ..errors import ConfigError
from ..models.archs.common import MeanShift

__all__ = ["FEATURE_SCALE_NUMERATOR", "InitMap", "INIT_MAPS", "apply_init_map",
           "edsr_body_to_liif_encoder"]


#: the mapped encoder's features are ``FEATURE_SCALE_NUMERATOR / rgb_range`` times EDSR's
FEATURE_SCALE_NUMERATOR = 2.0


@dataclass(frozen=True)
class InitMap:
    """A mapping: from which architecture to which, and whether it leaves tensors fresh."""

    name: str
    source_arch: str
    target_arch: str
    partial: bool                 # the target keeps freshly initialised tensors
    fn: Callable[[Mapping[str, Tensor], Mapping[str, Any]], dict[str, Tensor]]


def edsr_body_to_liif_encoder(sd: Mapping[str, Tensor],
                              hparams: Mapping[str, Any]) -> dict[str, Tensor]:
    """The ``encoder.*`` tensors of a LIIF from an EDSR state dict (see the module text)."""
    w = sd["head.0.weight"].detach().float()
    b = sd["head.0.bias"].detach().float()
    n = w.shape[1]
    rgb_range = float(hparams.get("rgb_range", 255.0))
    if hparams.get("mean_shift", True) and "sub_mean.weight" in sd:
        s = sd["sub_mean.weight"].detach().float().reshape(n, n).diagonal()
        t = sd["sub_mean.bias"].detach().float()
    else:
        s, t = torch.ones(n), torch.zeros(n)
    a = s * rgb_range / 2
    c = a + t
    k = FEATURE_SCALE_NUMERATOR / rgb_range
    out = {"encoder.head.0.weight": k * w * a.view(1, n, 1, 1),
           "encoder.head.0.bias": k * (b + (w.sum(dim=(2, 3)) * c.view(1, n)).sum(dim=1))}
    out.update({f"encoder.{name}": (k * v.detach().float()).to(v.dtype)
                if name.endswith(".bias") else v.detach().clone()
                for name, v in sd.items() if name.startswith("body.")})
    # LIIF's encoder keeps EDSR's (unused) mean-shift constants at rgb_range 1
    for key, shift in (("sub_mean", MeanShift(1.0, n_colors=n)),
                       ("add_mean", MeanShift(1.0, sign=1, n_colors=n))):
        out.update({f"encoder.{key}.{k}": v.detach().clone()
                    for k, v in shift.state_dict().items()})
    return out


INIT_MAPS: dict[str, InitMap] = {
    m.name: m for m in (
        InitMap("edsr_body_to_liif_encoder", "edsr", "liif", True, edsr_body_to_liif_encoder),
    )
}


def apply_init_map(name: str, sd: Mapping[str, Tensor], source_arch: str,
                   hparams: Mapping[str, Any], target_arch: str) -> dict[str, Tensor]:
    """``sd`` (a ``source_arch`` checkpoint) mapped by :data:`INIT_MAPS` ``[name]``; a
    :class:`ConfigError` when the mapping does not go from that architecture to the config's."""
    m = INIT_MAPS.get(name)
    if m is None:
        raise ConfigError(f"unknown 'model.init_map' {name!r}; known: {', '.join(INIT_MAPS)}")
    if source_arch != m.source_arch or target_arch != m.target_arch:
        raise ConfigError(f"'model.init_map' {name} maps {m.source_arch} weights onto a "
                          f"{m.target_arch}, but 'model.init_from' is a {source_arch} and the "
                          f"config trains a {target_arch}")
    return m.fn(sd, hparams)
