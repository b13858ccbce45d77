"""Per-channel value ranges (MATLAB ``imagesc`` style), non-finite masking and statistics.

Pure numpy on ``H x W x C`` real arrays in the data's own units (for complex data: the split
components, e.g. real and imaginary parts). :mod:`core.channels` builds the working-range
:class:`~core.data.ImageData` on top of these functions.

Normalisation modes (the affine map ``working = (value - lo) / (hi - lo)``, inverted exactly):

* ``channel`` -- each channel's own finite min/max (``imagesc``): every channel spans [0, 1].
* ``global`` -- one min/max over all channels of the same component (for complex data the
  magnitudes share one range and the phases another), so relative levels are kept.
* ``percentile`` -- each channel's robust ``[p_lo, p_hi]`` percentiles (default 1 and 99):
  outliers map outside [0, 1] and come back exactly.

A constant (or all-zero) channel has ``lo == hi``: it maps to 0 and back to its value.
NaN and +-Inf are left out of the ranges, reported, and replaced by the channel's finite mean
before SR; :class:`NonFinite` remembers them so they are written back where they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

__all__ = [
    "NORM_MODES", "NonFinite", "ChannelStats", "channel_ranges", "mask_nonfinite",
    "array_stats", "histogram", "format_stats_table", "nearest_index", "check_percentiles",
]

NORM_MODES: tuple[str, ...] = ("channel", "global", "percentile")


@dataclass(frozen=True, eq=False)
class NonFinite:
    """Where an ``H x W x C`` array held NaN/Inf and what they were.

    ``index``: flat indices into the ``(H, W, C)`` array; ``values``: the original values
    (NaN, +inf, -inf) at those indices; ``shape``: ``(H, W, C)``.
    """

    index: np.ndarray
    values: np.ndarray
    shape: tuple[int, int, int]

    @property
    def count(self) -> int:
        return int(self.index.size)

    def per_channel(self) -> np.ndarray:
        """Number of non-finite values in each channel (length C)."""
        return np.bincount(self.index % self.shape[2], minlength=self.shape[2])

    def dense(self, out_hw: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(mask, values)`` as ``H x W x C`` arrays, resized (nearest) to ``out_hw`` if given."""
        h, w, c = self.shape
        mask = np.zeros(self.shape, dtype=bool)
        vals = np.zeros(self.shape, dtype=np.float64)
        mask.reshape(-1)[self.index] = True
        vals.reshape(-1)[self.index] = self.values
        if out_hw is not None and tuple(out_hw) != (h, w):
            rows, cols = nearest_index(h, out_hw[0]), nearest_index(w, out_hw[1])
            mask = mask[rows][:, cols]
            vals = vals[rows][:, cols]
        return mask, vals

    def restore(self, values: np.ndarray) -> np.ndarray:
        """Put the original NaN/Inf back into ``values`` (``h x W x C``, any size: nearest)."""
        mask, vals = self.dense(values.shape[:2])
        out = np.array(values, dtype=np.float64, copy=True)
        out[mask] = vals[mask]
        return out


def nearest_index(n_in: int, n_out: int) -> np.ndarray:
    """Source index of each of ``n_out`` samples under nearest-neighbour resizing of ``n_in``."""
    idx = np.floor((np.arange(n_out) + 0.5) * n_in / n_out).astype(np.int64)
    return np.clip(idx, 0, n_in - 1)


def mask_nonfinite(values: np.ndarray) -> tuple[np.ndarray, NonFinite | None]:
    """Split off NaN/Inf: ``(finite_values, record)``; masked entries become NaN in the copy.

    The returned array is float64; the caller fills the NaNs after the ranges are known.
    """
    v = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(v)
    if not bad.any():
        return v, None
    flat = np.flatnonzero(bad)
    record = NonFinite(flat, v.reshape(-1)[flat].copy(), tuple(v.shape))  # type: ignore[arg-type]
    v = v.copy()
    v[bad] = np.nan
    return v, record


def check_percentiles(percentiles: tuple[float, float]) -> tuple[float, float]:
    """``(low, high)`` as floats; InputError unless ``0 <= low < high <= 100`` (NaN refused)."""
    try:
        p0, p1 = float(percentiles[0]), float(percentiles[1])
    except (TypeError, ValueError, IndexError):
        raise InputError(f"percentiles must be two numbers, got {percentiles!r}") from None
    if not (0.0 <= p0 < p1 <= 100.0):
        raise InputError(f"percentiles must satisfy 0 <= low < high <= 100, got {p0:g}, {p1:g}")
    return p0, p1


def channel_ranges(values: np.ndarray, mode: str = "channel",
                   percentiles: tuple[float, float] = (1.0, 99.0),
                   groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel ``(lo, hi)`` (float64, length C) of ``values`` (``H x W x C``, NaN ignored).

    ``groups`` (length C, ints) says which channels share a range in ``global`` mode (by
    default all of them). A channel with no finite value gets ``lo = hi = 0``.
    """
    if mode not in NORM_MODES:
        raise InputError(f"unknown normalisation {mode!r}; expected one of {', '.join(NORM_MODES)}")
    v = np.asarray(values, dtype=np.float64)
    c = v.shape[2]
    flat = v.reshape(-1, c)
    finite = np.isfinite(flat)
    any_finite = finite.any(axis=0)
    big = np.where(finite, flat, np.inf)
    lo = np.where(any_finite, big.min(axis=0), 0.0)
    big = np.where(finite, flat, -np.inf)
    hi = np.where(any_finite, big.max(axis=0), 0.0)
    if mode == "global":
        g = np.zeros(c, dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
        for gid in np.unique(g):
            sel = (g == gid) & any_finite
            if sel.any():
                lo[g == gid] = lo[sel].min()
                hi[g == gid] = hi[sel].max()
    elif mode == "percentile":
        p0, p1 = check_percentiles(percentiles)
        for k in np.flatnonzero(any_finite):
            col = flat[:, k]
            q0, q1 = np.percentile(col[finite[:, k]], [p0, p1])
            if q1 > q0:  # a flat robust range (sparse channel) keeps min/max
                lo[k], hi[k] = q0, q1
    return lo.astype(np.float64), hi.astype(np.float64)


@dataclass(frozen=True)
class ChannelStats:
    """One row of the per-channel range table (values in the data's own units).

    ``lo``/``hi``: the normalisation range in use; ``minimum``/``maximum``/``mean``/``std``:
    over finite values; ``zeros``: share of exact zeros in [0, 1]; ``nonfinite``: NaN/Inf count;
    ``constant``: all finite values equal (the channel maps to 0).
    """

    index: int
    label: str
    minimum: float
    maximum: float
    mean: float
    std: float
    lo: float
    hi: float
    zeros: float
    nonfinite: int
    constant: bool


def array_stats(values: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                labels: list[str] | None = None,
                nonfinite: np.ndarray | None = None) -> list[ChannelStats]:
    """Statistics of every channel of ``values`` (``H x W x C``, own units, NaN ignored)."""
    v = np.asarray(values, dtype=np.float64)
    c = v.shape[2]
    flat = v.reshape(-1, c)
    rows = []
    for k in range(c):
        col = flat[:, k]
        fin = col[np.isfinite(col)]
        bad = int(nonfinite[k]) if nonfinite is not None else int(col.size - fin.size)
        if fin.size:
            mn, mx = float(fin.min()), float(fin.max())
            mean, std = float(fin.mean()), float(fin.std())
            zeros = float(np.count_nonzero(fin == 0)) / col.size
        else:
            mn = mx = mean = std = zeros = float("nan")
        rows.append(ChannelStats(
            index=k, label=labels[k] if labels else str(k), minimum=mn, maximum=mx, mean=mean,
            std=std, lo=float(lo[k]), hi=float(hi[k]), zeros=zeros, nonfinite=bad,
            constant=bool(fin.size and mn == mx)))
    return rows


def histogram(values: np.ndarray, bins: int = 64,
              value_range: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, edges)`` of the finite entries of one channel (``H x W``); ``bins + 1`` edges."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    v = v[np.isfinite(v)]
    if bins < 1:
        raise InputError(f"a histogram needs at least one bin, got {bins}")
    if value_range is None:
        value_range = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
    a, b = value_range
    if not b > a:
        a, b = a - 0.5, a + 0.5
    counts, edges = np.histogram(v, bins=bins, range=(a, b))
    return counts, edges


def format_stats_table(stats: list[ChannelStats], limit: int | None = None) -> str:
    """A fixed-width text table of :func:`array_stats` rows (the CLI's ``channels info``)."""
    head = (f"{'#':>4}  {'channel':<22} {'min':>11} {'max':>11} {'mean':>11} {'std':>10} "
            f"{'zeros':>6} {'NaN/Inf':>7}  note")
    lines = [head]
    shown = stats if limit is None or len(stats) <= limit else stats[:limit]
    for s in shown:
        note = "constant" if s.constant else ("all zero" if s.zeros == 1.0 else "")
        if np.isnan(s.minimum):
            note = "no finite value"
        lines.append(f"{s.index:>4}  {s.label[:22]:<22} {s.minimum:>11.4g} {s.maximum:>11.4g} "
                     f"{s.mean:>11.4g} {s.std:>10.3g} {s.zeros:>6.1%} {s.nonfinite:>7d}  {note}")
    if len(shown) < len(stats):
        lines.append(f"... {len(stats) - len(shown)} more channels")
    finite = [s for s in stats if not np.isnan(s.minimum)]
    if finite:
        spans = [s.maximum - s.minimum for s in finite if s.maximum > s.minimum]
        if spans:
            ratio = max(spans) / min(spans)
            lines.append(f"channel ranges differ by a factor of {ratio:.3g} "
                         f"({20 * np.log10(ratio):.1f} dB)")
    return "\n".join(lines)
