"""Channel SR experiments: a low-resolution version of channel data, and scores against truth.

* :func:`degrade_channels` -- the benchmark LR (MATLAB bicubic ``imresize(x, 1/s)``, see
  :func:`core.resize.degrade`) of the data in its own units: real and imaginary parts of complex
  data are resized (a linear operation on the complex field, whatever the split used for SR),
  then split and normalised again with the same options.
* :func:`channel_scores` -- NMSE in dB in the data's own units (complex where the data is
  complex), per channel and overall, and PSNR in dB on the channels normalised with the ground
  truth's ranges (so 1.0 is each channel's full range), per working channel and overall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import ImageData
from ..errors import ShapeError
from ..resize import degrade
from .arrays import channel_meta, channel_values, channels_from_array, folded_values
from .layout import unfold

__all__ = ["ChannelScores", "channel_scores", "degrade_channels", "format_scores"]


def degrade_channels(data: ImageData, scale: float, method: str = "bicubic") -> ImageData:
    """The LR of channel data at ``scale`` (>= 1) with the same axes, complex split and norm.

    NaN/Inf are set to 0 before resizing (they would spread). The result has no source file;
    ``meta["degraded_from"]`` holds the scale.
    """
    info = channel_meta(data)
    lay = info.layout
    z = folded_values(data)  # H x W x N, own units
    z = np.where(np.isfinite(z), z, 0)
    if np.iscomplexobj(z):
        lr = degrade(np.ascontiguousarray(z.real), scale, method) + 1j * degrade(
            np.ascontiguousarray(z.imag), scale, method)
    else:
        lr = degrade(z, scale, method)
    if np.dtype(lay.dtype).kind in "fc":  # integers stay float: the LR is not on their grid
        lr = lr.astype(lay.dtype)
    arr = unfold(lr, lay)
    mode = lay.complex_mode if lay.complex_mode != "none" else "real_imag"
    out = channels_from_array(arr, axes=lay.axes, complex_mode=mode,
                              norm=info.norm, percentiles=info.percentiles,
                              db_floor=lay.db_floor, name="the degraded data")
    out.meta["degraded_from"] = float(scale)
    return out


@dataclass(frozen=True)
class ChannelScores:
    """Scores of an SR result against the ground truth.

    ``nmse_db``: per channel before the complex split (``layout.folded`` entries), dB, in own
    units; ``nmse_db_all``: over everything. ``psnr``: per working channel, dB, on the
    normalised channels; ``psnr_all``: over all channels. ``-inf`` NMSE / ``inf`` PSNR mean a
    perfect match; ``nan`` an all-zero reference channel with no error.
    """

    nmse_db: np.ndarray
    nmse_db_all: float
    psnr: np.ndarray
    psnr_all: float
    labels: list[str]
    folded_labels: list[str]


def _db(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 10 * np.log10(num / den)


def _check_pair(sr: ImageData, gt: ImageData) -> None:
    a, b = channel_meta(sr).layout, channel_meta(gt).layout
    if sr.shape != gt.shape:
        raise ShapeError(f"the SR result is {sr.width}x{sr.height}x{sr.channels} but the ground "
                         f"truth is {gt.width}x{gt.height}x{gt.channels}")
    if (a.axes, a.c_sizes, a.complex_mode) != (b.axes, b.c_sizes, b.complex_mode):
        raise ShapeError("the SR result and the ground truth have different layouts "
                         f"({a.axes} {a.c_sizes} {a.complex_mode} vs {b.axes} {b.c_sizes} "
                         f"{b.complex_mode}); load them with the same options")


def channel_scores(sr: ImageData, gt: ImageData, *, shave: int = 0) -> ChannelScores:
    """NMSE (dB, own units) and PSNR (dB, normalised) of ``sr`` against ``gt``.

    Both are channel data of the same shape and layout; ``shave`` pixels are ignored at each
    border of H and W. Entries that are NaN/Inf in either are left out.
    """
    _check_pair(sr, gt)
    h, w, c = gt.shape
    if shave < 0 or 2 * shave >= min(h, w):
        raise ShapeError(f"shave {shave} leaves nothing of a {w}x{h} image")
    cut = (slice(shave, h - shave), slice(shave, w - shave))
    zs, zg = folded_values(sr)[cut], folded_values(gt)[cut]
    ok = np.isfinite(zs) & np.isfinite(zg)
    err = np.where(ok, np.abs(zs - zg) ** 2, 0.0).sum(axis=(0, 1))
    ref = np.where(ok, np.abs(zg) ** 2, 0.0).sum(axis=(0, 1))
    nmse = _db(err, ref)
    nmse_all = float(_db(np.array(err.sum()), np.array(ref.sum())))

    lo, hi = np.asarray(gt.units.lo, float), np.asarray(gt.units.hi, float)
    span = np.where(hi > lo, hi - lo, 1.0)
    vs = (channel_values(sr)[cut] - lo) / span
    vg = (channel_values(gt)[cut] - lo) / span
    ok = np.isfinite(vs) & np.isfinite(vg)
    se = np.where(ok, (vs - vg) ** 2, 0.0)
    n = np.maximum(ok.sum(axis=(0, 1)), 1)
    mse = se.sum(axis=(0, 1)) / n
    psnr = -_db(mse, np.ones_like(mse))
    psnr_all = float(-_db(np.array(se.sum() / max(1, ok.sum())), np.array(1.0)))
    lay = channel_meta(gt).layout
    folded = [lay.label(i).split(" ", 1)[-1] if lay.complex_mode != "none" else lay.label(i)
              for i in range(lay.folded)]
    return ChannelScores(nmse, nmse_all, psnr, psnr_all, lay.labels(), folded)


def format_scores(scores: ChannelScores, limit: int | None = 20) -> str:
    """A text table of :func:`channel_scores` (the CLI's ``channels compare``)."""
    lines = [f"overall: NMSE {scores.nmse_db_all:.2f} dB, PSNR {scores.psnr_all:.2f} dB",
             f"{'#':>4}  {'channel':<22} {'NMSE dB':>9}"]
    n = len(scores.nmse_db)
    for i in range(n if limit is None else min(n, limit)):
        lines.append(f"{i:>4}  {scores.folded_labels[i][:22]:<22} {scores.nmse_db[i]:>9.2f}")
    if limit is not None and n > limit:
        lines.append(f"... {n - limit} more channels")
    lines.append(f"{'#':>4}  {'channel':<22} {'PSNR dB':>9}")
    m = len(scores.psnr)
    for i in range(m if limit is None else min(m, limit)):
        lines.append(f"{i:>4}  {scores.labels[i][:22]:<22} {scores.psnr[i]:>9.2f}")
    if limit is not None and m > limit:
        lines.append(f"... {m - limit} more channels")
    return "\n".join(lines)

