"""What the channel browser shows: the per-channel range table, histograms, complex views.

All values are in the data's own units (e.g. volts, or dB for ``mag_db_phase``) unless a
function says "working" (the normalised [0, 1] range). Works on channel data made by
:mod:`core.channels` / :func:`core.io.load`, including SR results of it.
"""

from __future__ import annotations

import numpy as np

from ..data import ImageData
from ..errors import InputError
from .arrays import channel_meta, channel_values, folded_values
from .layout import blocks
from .norm import ChannelStats, array_stats, format_stats_table, histogram

__all__ = [
    "ChannelStats", "channel_stats", "channel_histogram", "channel_view", "VIEW_PARTS",
    "format_stats_table", "channel_labels", "folded_labels",
]

#: What :func:`channel_view` can show of a (complex) channel.
VIEW_PARTS: tuple[str, ...] = ("value", "real", "imag", "mag", "mag_db", "phase")


def channel_labels(data: ImageData) -> list[str]:
    """One label per working channel, e.g. ``"imag [:, :, 4]"``."""
    return channel_meta(data).layout.labels()


def folded_labels(data: ImageData) -> list[str]:
    """One label per channel before the complex split, e.g. ``"[:, :, 4]"``."""
    lay = channel_meta(data).layout
    return [lay.label(n).split(" ", 1)[-1] if lay.complex_mode != "none" else lay.label(n)
            for n in range(lay.folded)]


def channel_stats(data: ImageData) -> list[ChannelStats]:
    """The per-channel range table: one :class:`ChannelStats` per working channel.

    ``lo``/``hi`` are the normalisation range in use; min/max/mean/std are over finite values;
    ``nonfinite`` counts the NaN/Inf the file had there (for SR results: after resizing).
    """
    info = channel_meta(data)
    h, w, c = data.shape
    labels = info.layout.labels()
    counts = None
    nf = info.nonfinite
    if nf is not None and nf.count and nf.shape[:2] == (h, w):
        counts = nf.per_channel()
    rows: list[ChannelStats] = []
    lo, hi = np.asarray(data.units.lo, float), np.asarray(data.units.hi, float)
    if lo.size == 1:
        lo, hi = np.repeat(lo, c), np.repeat(hi, c)
    for k0, k1 in blocks(c, h, w):
        part = array_stats(channel_values(data, k0, k1), lo[k0:k1], hi[k0:k1], labels[k0:k1],
                           None if counts is None else counts[k0:k1])
        rows.extend(ChannelStats(**{**r.__dict__, "index": r.index + k0}) for r in part)
    return rows


def channel_histogram(data: ImageData, k: int, bins: int = 64, *, working: bool = False,
                      value_range: tuple[float, float] | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, edges)`` of channel ``k``'s finite values (own units, or ``working``)."""
    if not 0 <= k < data.channels:
        raise InputError(f"channel {k} does not exist (0..{data.channels - 1})")
    values = data.pixels[:, :, k] if working else channel_values(data, k, k + 1)[:, :, 0]
    return histogram(values, bins, value_range)


def channel_view(data: ImageData, n: int, part: str = "mag") -> np.ndarray:
    """One channel before the complex split as an ``H x W`` float64 image, in own units.

    ``n`` indexes the channels before the split (``0 .. layout.folded - 1``); ``part`` is one of
    :data:`VIEW_PARTS`: ``mag``, ``mag_db`` (``20 log10``, -inf at 0), ``phase`` (radians),
    ``real``, ``imag`` for complex data; ``value`` (or ``real``/``mag``) for real data.
    """
    if part not in VIEW_PARTS:
        raise InputError(f"unknown view {part!r}; expected one of {', '.join(VIEW_PARTS)}")
    lay = channel_meta(data).layout
    if not 0 <= n < lay.folded:
        raise InputError(f"channel {n} does not exist (0..{lay.folded - 1})")
    z = folded_values(data, n, n + 1)[:, :, 0]
    if part in ("value", "real"):
        return np.real(z).astype(np.float64)
    if part == "imag":
        return np.imag(z).astype(np.float64)
    if part == "phase":
        return np.angle(z)
    mag = np.abs(z)
    if part == "mag":
        return mag
    with np.errstate(divide="ignore"):
        return 20 * np.log10(mag)
