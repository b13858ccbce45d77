"""Angular error between normal maps (degrees), the standard photometric-stereo statistics.

The angle is computed as ``atan2(|a x b|, a . b)`` in float64 (accurate for tiny angles, where
``acos`` of a dot product loses precision). Statistics are over the pixels valid in both maps
(and inside ``mask`` and ``region`` when given): mean, median, RMS, and the share (percent) of
pixels with an error below 5, 11.25, 22.5 and 30 degrees.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..data import Region
from ..errors import InputError, ShapeError
from .codec import NormalMap, check_mask, normalize

__all__ = ["angular_error_map", "AngularErrorStats", "angular_error_stats", "THRESHOLDS"]

#: Thresholds (degrees) for the "share of pixels under" statistics.
THRESHOLDS: tuple[float, ...] = (5.0, 11.25, 22.5, 30.0)


def _vectors(x: NormalMap | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(x, NormalMap):
        return x.normals.astype(np.float64), x.mask
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 3 or a.shape[2] != 3:
        raise InputError(f"normals must be H x W x 3, got shape {a.shape}")
    n, ok = normalize(a)
    return n.astype(np.float64), ok


def angular_error_map(a: NormalMap | np.ndarray, b: NormalMap | np.ndarray) -> np.ndarray:
    """Per-pixel angle between ``a`` and ``b`` in degrees (float64 ``H x W``).

    NaN where either map has no valid normal.
    """
    na, ma = _vectors(a)
    nb, mb = _vectors(b)
    if na.shape != nb.shape:
        raise ShapeError(f"normal maps differ in size: {na.shape[1]}x{na.shape[0]} vs "
                         f"{nb.shape[1]}x{nb.shape[0]} (width x height)")
    cross = np.linalg.norm(np.cross(na, nb), axis=2)
    dot = (na * nb).sum(axis=2)
    ang = np.degrees(np.arctan2(cross, dot))
    return np.where(ma & mb, ang, np.nan)


@dataclass(frozen=True)
class AngularErrorStats:
    """Angular error statistics in degrees; ``under_*`` in percent of the counted pixels."""

    mean: float
    median: float
    rms: float
    under_5: float
    under_11_25: float
    under_22_5: float
    under_30: float
    pixels: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def table(self) -> str:
        """A two-line plain-text table (header + values)."""
        head = ("mean", "median", "rms", "<5", "<11.25", "<22.5", "<30", "pixels")
        vals = (f"{self.mean:.4f}", f"{self.median:.4f}", f"{self.rms:.4f}",
                f"{self.under_5:.2f}", f"{self.under_11_25:.2f}", f"{self.under_22_5:.2f}",
                f"{self.under_30:.2f}", str(self.pixels))
        w = [max(len(h), len(v)) for h, v in zip(head, vals)]
        return ("  ".join(h.rjust(n) for h, n in zip(head, w)) + "\n"
                + "  ".join(v.rjust(n) for v, n in zip(vals, w)))


def angular_error_stats(a: NormalMap | np.ndarray, b: NormalMap | np.ndarray, *,
                        mask: np.ndarray | None = None,
                        region: Region | None = None) -> AngularErrorStats:
    """Mean/median/RMS angular error (degrees) and shares under 5/11.25/22.5/30 degrees.

    Args:
        a, b: normal maps of the same size (``b`` is usually the ground truth).
        mask: optional ``H x W`` mask restricting the pixels counted.
        region: optional rectangle (pixels of these maps) restricting them further.

    Raises:
        ShapeError: sizes differ (maps, mask). InputError: the region does not fit, or no
        pixel is valid in both maps inside the mask/region.
    """
    err = angular_error_map(a, b)
    h, w = err.shape
    valid = np.isfinite(err) & check_mask(mask, (h, w))
    if region is not None:
        if not region.fits(h, w):
            raise InputError(f"region (x={region.x}, y={region.y}, w={region.w}, h={region.h}) "
                             f"does not fit in a {w} x {h} normal map")
        keep = np.zeros_like(valid)
        keep[region.slices()] = True
        valid &= keep
    e = err[valid]
    if e.size == 0:
        raise InputError("no pixel holds a valid normal in both maps (inside the mask/region)")
    under = [float(100.0 * np.mean(e < t)) for t in THRESHOLDS]
    return AngularErrorStats(float(e.mean()), float(np.median(e)), float(np.sqrt(np.mean(e * e))),
                             *under, pixels=int(e.size))
