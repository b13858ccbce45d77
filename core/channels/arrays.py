"""Channel-data matrices as stacks of single-channel images, and the exact way back.

A scientific array (real or complex, 2-D to 4-D, e.g. 256 x 256 x 150 wireless channel data)
becomes :class:`~core.data.ImageData` of kind ``"channels"``:

1. **Axes** -- one letter per array axis: ``H`` and ``W`` (once each) and ``C`` for the rest
   (``"HWC"``, ``"CHW"``, ``"HWCC"`` ...). Several ``C`` axes are folded into one channel axis
   in C order; :meth:`ChannelLayout.labels` says which slice of the array each channel is.
   Default: ``H x W x C...`` (the first two axes are H and W), whatever the sizes.
2. **Complex split** -- ``real_imag`` (exact), ``mag_phase`` (magnitude, phase in radians) or
   ``mag_db_phase`` (``20 log10 |z|`` in dB, phase); component-major: all first components,
   then all second ones. Zero magnitudes are stored at ``db_floor`` (20 dB under the smallest
   non-zero magnitude) and come back as exact zeros.
3. **Normalisation** -- per channel (``imagesc``), global, or percentile ranges
   (:mod:`core.channels.norm`); ``ImageData.units`` holds the per-channel ``lo``/``hi``.

:func:`array_from_channels` reverses all three for the input itself or for any SR output of
another height/width (float64 intermediate values; the array's own dtype at the end, integers
rounded and clipped). Normalise -> denormalise returns the input within float32 precision of the
range each channel is mapped with (about 6e-8 of it: the channel's own range, or the common range
for ``global``). Work is done in blocks of channels, so no full float64 copy of a large array is
made.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..data import ImageData, Units
from ..errors import InputError
from .layout import (
    COMPLEX_MODES, ChannelLayout, blocks, cast, check_array, default_db_floor, fold, merge,
    resolve_axes, split, unfold,
)
from .norm import NORM_MODES, NonFinite, channel_ranges, check_percentiles

__all__ = [
    "COMPLEX_MODES", "NORM_MODES", "ChannelLayout", "ChannelMeta", "resolve_axes", "check_array",
    "channels_from_array", "array_from_channels", "channel_meta", "component_values",
    "renormalise", "channel_values", "folded_values",
]


@dataclass(frozen=True, eq=False)
class ChannelMeta:
    """Stored in ``ImageData.meta["channels"]``: the layout, the normalisation and NaN record."""

    layout: ChannelLayout
    norm: str = "channel"
    percentiles: tuple[float, float] = (1.0, 99.0)
    nonfinite: NonFinite | None = None


Getter = Callable[[int, int], np.ndarray]


def _split_getter(folded: np.ndarray, layout: ChannelLayout) -> Getter:
    """``get(k0, k1)``: channels ``k0:k1`` (inside one component) in own units, float64."""
    n = layout.folded

    def get(k0: int, k1: int) -> np.ndarray:
        ci, n0 = divmod(k0, n)
        return split(folded[:, :, n0:k1 - ci * n], layout)[ci]

    return get


def component_values(folded: np.ndarray, layout: ChannelLayout) -> np.ndarray:
    """All channels in the data's own units (``H x W x C`` float64; split, not normalised)."""
    h, w, _ = folded.shape
    get = _split_getter(folded, layout)
    out = np.empty((h, w, layout.channels), dtype=np.float64)
    for k0, k1 in blocks(layout.channels, h, w, layout.folded):
        out[:, :, k0:k1] = get(k0, k1)
    return out


def channels_from_array(array: np.ndarray, *, axes: str | None = None,
                        complex_mode: str = "real_imag", norm: str = "channel",
                        percentiles: tuple[float, float] = (1.0, 99.0),
                        db_floor: float | None = None, name: str = "the array",
                        source=None, meta: dict | None = None) -> ImageData:
    """Turn a 2-D..4-D real or complex array into normalised channel data.

    Args:
        array: the data in its own units (any real/complex dtype).
        axes: one letter per axis (``H``, ``W``, ``C``), or None for the default.
        complex_mode: for complex arrays: ``real_imag``, ``mag_phase`` or ``mag_db_phase``
            (ignored for real arrays).
        norm: ``channel`` (imagesc), ``global`` or ``percentile`` (see :mod:`core.channels.norm`).
        percentiles: the robust range for ``percentile``, in percent.
        db_floor: the dB level for zero magnitude (``mag_db_phase``); None = automatic.
        name: how messages name the array. source, meta: passed to :class:`ImageData`.

    Returns:
        ImageData(kind="channels"): float32 working pixels (each channel in [0, 1] for
        ``channel``/``global``), ``units`` with per-channel ``lo``/``hi`` (float64 units),
        ``meta["channels"]`` = :class:`ChannelMeta`. NaN/Inf are replaced by the channel's
        mean and recorded, so the pixels are finite.
    """
    a = check_array(array, name)
    check_percentiles(percentiles)  # whatever the norm: a bad value is never silently kept
    ax = resolve_axes(axes, a.shape)
    mode = "none"
    if a.dtype.kind == "c":
        if complex_mode not in COMPLEX_MODES:
            raise InputError(f"unknown complex layout {complex_mode!r}; expected one of "
                             f"{', '.join(COMPLEX_MODES)}")
        mode = complex_mode
    folded = fold(a, ChannelLayout(tuple(a.shape), ax, a.dtype.name))
    if mode == "mag_db_phase" and db_floor is None:
        db_floor = default_db_floor(folded)
    layout = ChannelLayout(tuple(int(s) for s in a.shape), ax, a.dtype.name, mode,
                           None if db_floor is None else float(db_floor))
    if norm not in NORM_MODES:
        raise InputError(f"unknown normalisation {norm!r}; expected one of {', '.join(NORM_MODES)}")
    return _normalised(_split_getter(folded, layout), folded.shape[:2], layout, norm,
                       percentiles, source, meta)


def _normalised(get: Getter, hw: tuple[int, int], layout: ChannelLayout, norm: str,
                percentiles: tuple[float, float], source=None,
                meta: dict | None = None) -> ImageData:
    """Two passes over blocks of channels: ranges, then the float32 working pixels."""
    h, w = hw
    c, n = layout.channels, layout.folded
    todo = blocks(c, h, w, n)
    lo, hi, has = np.zeros(c), np.zeros(c), np.zeros(c, dtype=bool)
    mode = "channel" if norm == "global" else norm
    bad_idx, bad_val = [], []
    for k0, k1 in todo:
        v = get(k0, k1)
        bad = ~np.isfinite(v)
        if bad.any():
            pix, ch = np.nonzero(bad.reshape(h * w, k1 - k0))
            bad_idx.append(pix * c + ch + k0)
            bad_val.append(v.reshape(h * w, k1 - k0)[pix, ch])
            v = np.where(bad, np.nan, v)
        lo[k0:k1], hi[k0:k1] = channel_ranges(v, mode, tuple(percentiles))
        has[k0:k1] = np.isfinite(v).any(axis=(0, 1))
    if norm == "global":  # one range per component over the channels that have values
        comp = layout.component_ids()
        for ci in np.unique(comp):
            sel = (comp == ci) & has
            if sel.any():
                lo[comp == ci], hi[comp == ci] = lo[sel].min(), hi[sel].max()
    span = np.where(hi > lo, hi - lo, 1.0)
    work = np.empty((h, w, c), dtype=np.float32)
    for k0, k1 in todo:
        work[:, :, k0:k1] = (get(k0, k1) - lo[k0:k1]) / span[k0:k1]
    nonfinite = None
    if bad_idx:
        index = np.sort(np.concatenate(bad_idx))
        order = np.argsort(np.concatenate(bad_idx), kind="stable")
        nonfinite = NonFinite(index, np.concatenate(bad_val)[order], (h, w, c))
        mask, _ = nonfinite.dense()
        with warnings.catch_warnings():  # an all-NaN channel has no mean: it is filled with 0
            warnings.simplefilter("ignore", RuntimeWarning)
            fill = np.nan_to_num(np.nanmean(np.where(mask, np.nan, work), axis=(0, 1)), nan=0.0)
        work[mask] = np.broadcast_to(fill.astype(np.float32), work.shape)[mask]
    units = Units(dtype="float64", lo=tuple(float(x) for x in lo),
                  hi=tuple(float(x) for x in hi), complex_layout=layout.complex_mode)
    info = dict(meta or {})
    info["channels"] = ChannelMeta(layout, norm, (float(percentiles[0]), float(percentiles[1])),
                                   nonfinite)
    return ImageData(work, "channels", units, source=source, meta=info)


def channel_meta(data: ImageData) -> ChannelMeta:
    """The :class:`ChannelMeta` of channel data (InputError for other data)."""
    info = data.meta.get("channels") if isinstance(data.meta, dict) else None
    if not isinstance(info, ChannelMeta):
        raise InputError("this is not channel data loaded as a channel matrix; open it with "
                         "kind 'channels'")
    return info


def _file_units(data: ImageData, k0: int, k1: int, info: ChannelMeta) -> np.ndarray:
    """Channels ``k0:k1`` in the data's own units (float64), NaN/Inf restored."""
    lo = np.asarray(data.units.lo, dtype=np.float64)
    hi = np.asarray(data.units.hi, dtype=np.float64)
    span = np.where(hi > lo, hi - lo, 1.0)
    vals = data.pixels[:, :, k0:k1].astype(np.float64) * span[k0:k1] + lo[k0:k1]
    nf = info.nonfinite
    if nf is not None and nf.count:
        ch = nf.index % nf.shape[2]
        sel = (ch >= k0) & (ch < k1)
        if sel.any():
            sub = NonFinite((nf.index[sel] // nf.shape[2]) * (k1 - k0) + ch[sel] - k0,
                            nf.values[sel], (nf.shape[0], nf.shape[1], k1 - k0))
            vals = sub.restore(vals)
    return vals


def channel_values(data: ImageData, k0: int = 0, k1: int | None = None) -> np.ndarray:
    """Working channels ``k0:k1`` in the data's own units (float64 ``H x W x n``, NaN/Inf back
    where the input had them; for complex data: the split components, e.g. dB)."""
    info = channel_meta(data)
    k1 = data.channels if k1 is None else k1
    return _file_units(data, k0, k1, info)


def folded_values(data: ImageData, n0: int = 0, n1: int | None = None) -> np.ndarray:
    """Channels ``n0:n1`` before the complex split, in own units (``H x W x n`` float64 or
    complex128): complex channel data comes back complex whatever the split."""
    info = channel_meta(data)
    lay = info.layout
    if data.channels != lay.channels:
        raise InputError(f"the data has {data.channels} channels but its layout describes "
                         f"{lay.channels}")
    n = lay.folded
    n1 = n if n1 is None else n1
    parts = [_file_units(data, ci * n + n0, ci * n + n1, info)
             for ci in range(len(lay.components))]
    return merge(parts, lay)


def array_from_channels(data: ImageData) -> np.ndarray:
    """The array in the file's own units, axis order, complex type and dtype.

    Works for the loaded data and for any result made from it (e.g. SR of another height and
    width: the H and W axes take the new size). Negative SR magnitudes become 0; to keep SR
    overshoot inside each channel's input range use ``clip=True`` of the channel SR.
    """
    lay = channel_meta(data).layout
    h, w, n = data.height, data.width, lay.folded
    dtype = np.dtype(lay.dtype)
    out = np.empty((h, w, n), dtype=dtype)
    for n0, n1 in blocks(n, h, w):
        out[:, :, n0:n1] = cast(folded_values(data, n0, n1), dtype)
    return unfold(out, lay)


def renormalise(data: ImageData, norm: str = "channel",
                percentiles: tuple[float, float] = (1.0, 99.0)) -> ImageData:
    """The same channels under another normalisation (exactly the same file values)."""
    info = channel_meta(data)
    if norm not in NORM_MODES:
        raise InputError(f"unknown normalisation {norm!r}; expected one of {', '.join(NORM_MODES)}")
    check_percentiles(percentiles)
    meta = {k: v for k, v in data.meta.items() if k != "channels"}
    return _normalised(lambda k0, k1: _file_units(data, k0, k1, info), (data.height, data.width),
                       info.layout, norm, percentiles, data.source, meta)
