"""The layout of channel data: axes, folding of channel axes, and the complex split.

Pure numpy helpers for :mod:`core.channels`: :class:`ChannelLayout` says how the ``H x W x C``
channels sit in the file's array (which axes are H, W and channels; complex components) and
:func:`fold` / :func:`unfold` / :func:`split` / :func:`merge` move between the two exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from ..errors import InputError

__all__ = [
    "COMPLEX_MODES", "RGB_MODES", "ChannelLayout", "check_array", "default_axes", "resolve_axes",
    "fold", "unfold", "split", "merge", "cast", "blocks", "default_db_floor",
]

COMPLEX_MODES: tuple[str, ...] = ("real_imag", "mag_phase", "mag_db_phase")
#: How channels are laid onto a model's ``k`` input channels (see
#: :func:`core.channels.sr.plan_channels`): each channel replicated ``k`` times, or ``k``
#: consecutive channels per run.
RGB_MODES: tuple[str, ...] = ("replicate", "groups")
_COMPONENTS = {"none": ("",), "real_imag": ("real", "imag"), "mag_phase": ("mag", "phase"),
               "mag_db_phase": ("mag_dB", "phase")}
_BLOCK_VALUES = 8 * 2**20  # float64 values per processing block (64 MiB)
_DB_MARGIN = 20.0  # the zero level lies this many dB under the smallest non-zero magnitude


@dataclass(frozen=True)
class ChannelLayout:
    """How the ``H x W x C`` channels map to the array in the file.

    ``shape``: the array's shape as read; ``axes``: one letter per axis (H, W, C);
    ``dtype``: the array's numpy dtype name; ``complex_mode``: ``none`` for real data, else one
    of :data:`COMPLEX_MODES`; ``db_floor``: the dB level that stands for magnitude 0.
    """

    shape: tuple[int, ...]
    axes: str
    dtype: str
    complex_mode: str = "none"
    db_floor: float | None = None

    @property
    def h_axis(self) -> int:
        return self.axes.index("H")

    @property
    def w_axis(self) -> int:
        return self.axes.index("W")

    @property
    def c_axes(self) -> tuple[int, ...]:
        return tuple(i for i, a in enumerate(self.axes) if a == "C")

    @property
    def c_sizes(self) -> tuple[int, ...]:
        return tuple(self.shape[i] for i in self.c_axes)

    @property
    def folded(self) -> int:
        """Channels before the complex split (product of the C axes' sizes)."""
        return prod(self.c_sizes) if self.c_sizes else 1

    @property
    def components(self) -> tuple[str, ...]:
        return _COMPONENTS[self.complex_mode]

    @property
    def channels(self) -> int:
        return self.folded * len(self.components)

    def component_ids(self) -> np.ndarray:
        """Component number (0, or 0/1 for complex) of every channel (length C)."""
        return np.repeat(np.arange(len(self.components)), self.folded)

    def source_index(self, k: int) -> tuple[str, tuple[int | slice, ...]]:
        """``(component, index)`` of channel ``k``: ``array[index]`` is that channel's slice."""
        if not 0 <= k < self.channels:
            raise InputError(f"channel {k} does not exist (0..{self.channels - 1})")
        comp, n = divmod(k, self.folded)
        sub = np.unravel_index(n, self.c_sizes) if self.c_sizes else ()
        idx: list[int | slice] = [slice(None)] * len(self.shape)
        for ax, i in zip(self.c_axes, sub):
            idx[ax] = int(i)
        return self.components[comp], tuple(idx)

    def label(self, k: int) -> str:
        """E.g. ``"real [:, :, 2, 1]"`` (0-based numpy indices into the file's array)."""
        comp, idx = self.source_index(k)
        text = ", ".join(":" if isinstance(i, slice) else str(i) for i in idx)
        return f"{comp} [{text}]".strip()

    def labels(self) -> list[str]:
        return [self.label(k) for k in range(self.channels)]

    def out_shape(self, h: int, w: int) -> tuple[int, ...]:
        """The array shape for channels of size ``h x w`` (SR output) in the file's axis order."""
        shape = list(self.shape)
        shape[self.h_axis], shape[self.w_axis] = int(h), int(w)
        return tuple(shape)


def check_array(a: np.ndarray, name: str = "the array") -> np.ndarray:
    """Refuse what cannot be channel data: non-numeric, < 2-D, > 4-D, empty."""
    a = np.asarray(a)
    if a.dtype.names is not None or a.dtype.kind not in "biufc":
        raise InputError(f"{name} holds {a.dtype} values; expected real or complex numbers")
    if a.ndim < 2:
        raise InputError(f"{name} has shape {a.shape}: channel data needs at least 2 "
                         "dimensions (H x W)")
    if a.ndim > 4:
        raise InputError(f"{name} has {a.ndim} dimensions {a.shape}: at most 4 are supported "
                         "(H x W and up to two channel axes); slice it first")
    if a.size == 0:
        raise InputError(f"{name} is empty (shape {a.shape})")
    return a


def default_axes(ndim: int) -> str:
    """The axes assumed when none are given: ``"HW"`` then ``"C"`` for every further axis."""
    return "HW" + "C" * max(0, int(ndim) - 2)


def resolve_axes(axes: str | None, shape: tuple[int, ...]) -> str:
    """Validate ``axes`` for ``shape``, or give the default ``H x W x C...``: the first two axes
    are H and W and the rest channels, whatever the sizes (MATLAB and numpy image order; HDF5 /
    v7.3 ``.mat`` arrays arrive in that order once their transposition is undone). A
    ``64 x 64 x 150`` stack is 150 channels of 64 x 64; other layouts are asked for explicitly
    (``--axes CHW``, the channel-options dialog)."""
    nd = len(shape)
    if axes is None or str(axes).strip().lower() in ("", "auto"):
        axes = default_axes(nd)
    ax = str(axes).strip().upper()
    if len(ax) != nd or set(ax) - set("HWC") or ax.count("H") != 1 or ax.count("W") != 1:
        raise InputError(f"axes {axes!r} do not fit an array of shape {tuple(shape)}: give one "
                         f"letter per axis ({nd}), H and W once each and C for the others, "
                         f"e.g. {'HW' + 'C' * (nd - 2)!r}")
    for letter in "HW":
        size = shape[ax.index(letter)]
        if size < 2:
            raise InputError(f"axis {ax.index(letter)} (chosen as {letter}) has size {size}: "
                             "an image needs at least 2 pixels along H and W; choose other axes")
    return ax


def fold(a: np.ndarray, layout: ChannelLayout) -> np.ndarray:
    """The array as ``H x W x N`` (a view when the channel axes already trail)."""
    moved = np.moveaxis(a, (layout.h_axis, layout.w_axis), (0, 1))
    return moved.reshape(moved.shape[0], moved.shape[1], layout.folded)


def unfold(folded: np.ndarray, layout: ChannelLayout) -> np.ndarray:
    h, w = folded.shape[:2]
    arr = folded.reshape((h, w) + layout.c_sizes)
    return np.moveaxis(arr, (0, 1), (layout.h_axis, layout.w_axis))


def default_db_floor(folded: np.ndarray) -> float:
    mags = np.abs(folded)
    nz = mags[np.isfinite(mags) & (mags > 0)]
    return float(20 * np.log10(nz.min()) - _DB_MARGIN) if nz.size else 0.0


def split(block: np.ndarray, layout: ChannelLayout) -> list[np.ndarray]:
    """Folded values (``h x w x b``) -> one float64 array per component."""
    mode = layout.complex_mode
    if mode == "none":
        return [block.astype(np.float64)]
    z = block.astype(np.complex128)
    if mode == "real_imag":
        return [z.real.copy(), z.imag.copy()]
    mag = np.abs(z)
    phase = np.angle(z)
    if mode == "mag_db_phase":
        floor = float(layout.db_floor or 0.0)
        with np.errstate(divide="ignore"):
            db = 20 * np.log10(mag)
        mag = np.where(mag > 0, np.maximum(db, floor), floor)
        mag[np.isnan(db)] = np.nan
        mag[np.isposinf(db)] = np.inf
    return [mag, phase]


def merge(parts: list[np.ndarray], layout: ChannelLayout) -> np.ndarray:
    mode = layout.complex_mode
    if mode == "none":
        return parts[0]
    if mode == "real_imag":
        return parts[0] + 1j * parts[1]
    mag, phase = parts
    if mode == "mag_db_phase":
        floor = float(layout.db_floor or 0.0)
        with np.errstate(over="ignore"):
            mag = np.where(mag <= floor + _DB_MARGIN / 2, 0.0, 10.0 ** (mag / 20.0))
    mag = np.where(mag < 0, 0.0, mag)  # SR overshoot below zero magnitude
    c, s = np.cos(phase), np.sin(phase)
    with np.errstate(invalid="ignore"):  # an infinite magnitude keeps a zero part zero
        return np.where(c == 0, 0.0, mag * c) + 1j * np.where(s == 0, 0.0, mag * s)


def cast(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if dtype.kind == "b":
        return np.real(values) >= 0.5
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        v = np.nan_to_num(np.real(values), nan=0.0)
        return np.clip(np.rint(v), info.min, info.max).astype(dtype)
    return values.astype(dtype)


def blocks(n: int, h: int, w: int, group: int | None = None) -> list[tuple[int, int]]:
    """Channel blocks ``[k0, k1)`` of at most :data:`_BLOCK_VALUES` values that never cross a
    multiple of ``group`` (so a block lies inside one complex component)."""
    step = max(1, _BLOCK_VALUES // max(1, h * w))
    group = group or n
    return [(g + i, min(g + group, g + i + step)) for g in range(0, n, group)
            for i in range(0, group, step)]
