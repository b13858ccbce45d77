"""What the background studies share: options, result containers, restoring and measuring.

Protocol (as :mod:`core.evaluate`): the HR image is cropped to a multiple of the scale, the LR
is MATLAB bicubic (:func:`core.resize.degrade`) quantised to 8 bit, SR outputs are clipped to
[0, 1] and quantised to 8 bit, PSNR is measured on Y (BT.601) by default, on the foreground
region only, without a shaved border. Regions are in HR pixels and snapped outwards to the LR
grid, so that every region is a whole block of LR pixels. Gray images are treated as RGB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from torch import nn

from ..attribution.render import to_rgb8
from ..data import ImageData, Region, Units
from ..engine import SROptions, super_resolve
from ..provenance import Provenance
from ..errors import InputError, ScaleError
from ..jobs import Job, sub_job
from ..metrics import psnr
from ..resize import degrade, degrade_pair, imresize

__all__ = [
    "StudyOptions", "StudyRow", "StudyResult", "NamedModel", "named_models", "prepare_pair",
    "snap_region", "centre_region", "restore", "region_psnr", "quantise", "fit_background",
    "gallery",
]

NamedModel = tuple[str, nn.Module]
_UNITS8 = Units.for_dtype("uint8")


@dataclass(frozen=True)
class StudyOptions:
    """``scale``: integer SR factor; ``y_channel``: PSNR on Y (else RGB); ``device`` /
    ``precision``: as :class:`core.engine.SROptions`; ``keep_regions``: keep the restored
    regions (arrays) in the result for side-by-side viewing."""

    scale: int = 4
    y_channel: bool = True
    device: str = "auto"
    precision: str = "auto"
    keep_regions: bool = True

    def __post_init__(self) -> None:
        s = self.scale
        if isinstance(s, bool) or not float(s).is_integer() or int(s) < 1:
            raise ScaleError(f"the studies need a whole-number scale >= 1, got {s!r}")
        object.__setattr__(self, "scale", int(s))


@dataclass(frozen=True)
class StudyRow:
    """One measurement: ``model`` restored the foreground under ``setting`` (a short stable
    key, e.g. ``m=4``, ``full``, ``hflip``, ``w=32``, ``mosaic``) of curve ``group``; ``x``
    places it on the plot axis (margin or ring width in pixels, or an index); ``psnr`` in dB."""

    model: str
    group: str
    setting: str
    x: float
    psnr: float


@dataclass(frozen=True)
class StudyResult:
    """A study on one image.

    Attributes:
        study: ``crop``, ``swap``, ``size`` or ``mosaic``. image: a name for the image.
        region: the foreground in HR pixels (snapped to the LR grid). scale: the SR factor.
        rows: the measurements. regions: ``(model, group, setting) -> h x w x C`` float32
            SR of the foreground in [0, 1] (empty unless ``keep_regions``).
        hr_region: the HR foreground (ground truth), ``h x w x C`` in [0, 1].
        inputs: LR inputs worth showing (composites, the mosaic), by setting.
    """

    study: str
    image: str
    region: Region
    scale: int
    rows: tuple[StudyRow, ...]
    regions: dict[tuple[str, str, str], np.ndarray]
    hr_region: np.ndarray
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    provenance: dict[str, Provenance] = field(default_factory=dict)   # model -> how it ran

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(r.model for r in self.rows))

    def psnr(self, model: str, setting: str, group: str | None = None) -> float:
        """The PSNR of ``model`` under ``setting`` (KeyError if not measured)."""
        for r in self.rows:
            if r.model == model and r.setting == setting and group in (None, r.group):
                return r.psnr
        raise KeyError(f"no row for {model!r} / {setting!r}")

    def curve(self, model: str, group: str) -> tuple[list[float], list[float], list[str]]:
        """``(x, psnr, settings)`` of one curve, in measurement order."""
        rows = [r for r in self.rows if r.model == model and r.group == group]
        return [r.x for r in rows], [r.psnr for r in rows], [r.setting for r in rows]


def named_models(models: Sequence[Any] | Any) -> list[NamedModel]:
    """``[(name, module)]`` from LoadedModels, ``(name, module)`` pairs or bare modules."""
    if isinstance(models, (nn.Module, tuple)) or hasattr(models, "module"):
        models = [models]
    out: list[NamedModel] = []
    for m in models:
        if hasattr(m, "module") and hasattr(m, "name"):
            out.append((str(m.name), m.module))
        elif isinstance(m, tuple) and len(m) == 2:
            out.append((str(m[0]), m[1]))
        elif isinstance(m, nn.Module):
            out.append((type(m).__name__, m))
        else:
            raise InputError(f"not a model: {m!r}")
    if not out:
        raise InputError("a study needs at least one model")
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise InputError(f"model names must differ: {', '.join(names)}")
    return out


def quantise(px: np.ndarray) -> np.ndarray:
    """Clip to [0, 1] and round to 8-bit levels (float32)."""
    return (np.round(np.clip(px, 0.0, 1.0) * 255.0) / 255.0).astype(np.float32)


def _rgb(px: np.ndarray) -> np.ndarray:
    px = np.asarray(px, dtype=np.float32)
    if px.ndim == 2:
        px = px[:, :, None]
    if px.shape[2] == 1:
        px = np.repeat(px, 3, axis=2)
    if px.shape[2] != 3:
        raise InputError(f"the studies need RGB or gray images, got {px.shape[2]} channels")
    return px


def prepare_pair(hr: ImageData | np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """``(hr, lr)``: HR as RGB cropped to a multiple of ``scale``, its 8-bit bicubic LR."""
    px = hr.pixels if isinstance(hr, ImageData) else hr
    hr_px, lr_px = degrade_pair(_rgb(px), scale)
    return hr_px, quantise(lr_px)


def snap_region(region: Region, scale: int, hr_hw: tuple[int, int]) -> Region:
    """``region`` (HR pixels) grown outwards to the LR grid; InputError if it leaves the image."""
    s = int(scale)
    x0, y0 = (region.x // s) * s, (region.y // s) * s
    x1, y1 = -(-(region.x + region.w) // s) * s, -(-(region.y + region.h) // s) * s
    H, W = hr_hw
    if x1 > W or y1 > H:
        raise InputError(f"the region (x={region.x}, y={region.y}, {region.w}x{region.h}) does "
                         f"not fit in the {W}x{H} image (cropped to a multiple of x{s})")
    return Region(x0, y0, x1 - x0, y1 - y0)


def centre_region(hr_hw: tuple[int, int], size: int, scale: int) -> Region:
    """A centred square of ``size`` HR pixels (snapped to the LR grid)."""
    H, W = hr_hw
    if size > H or size > W:
        raise InputError(f"a {size}x{size} region does not fit in the {W}x{H} image")
    s = int(scale)
    n = -(-size // s)           # LR pixels
    y0 = ((H // s) - n) // 2
    x0 = ((W // s) - n) // 2
    return Region(x0 * s, y0 * s, n * s, n * s)


def restore(model: nn.Module, lr: np.ndarray, scale: int, options: StudyOptions,
            name: str = "", made: dict[str, Provenance] | None = None) -> Job[np.ndarray]:
    """SR of ``lr`` (``h x w x 3`` in [0, 1]) at ``scale``: 8-bit quantised float32. How the
    model ran (native scale, a resize after it, precision, device) goes into ``made[name]``."""
    data = ImageData(np.ascontiguousarray(lr, dtype=np.float32), kind="rgb", units=_UNITS8)
    job = super_resolve(model, data, size=(lr.shape[0] * scale, lr.shape[1] * scale), name=name,
                        options=SROptions(device=options.device, precision=options.precision))
    res = yield from sub_job(job, 0, 1, 1)
    if made is not None and res.provenance is not None:
        made.setdefault(name, res.provenance.with_(
            lr_source=f"MATLAB bicubic x{scale} of the HR", reference="HR region",
            color="Y (BT.601)" if options.y_channel else "RGB", shave=0))
    return quantise(res.image.pixels)


def region_psnr(sr_region: np.ndarray, hr_region: np.ndarray, y_channel: bool) -> float:
    """PSNR (dB) of a restored region against the HR region (Y or RGB, no shave)."""
    return float(psnr(sr_region, hr_region, data_range=1.0, crop_border=0,
                      test_y_channel=y_channel))


def fit_background(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """An RGB image brought to ``hw``: centre-cropped if large enough, else resized (bicubic)."""
    px = _rgb(img)
    H, W = hw
    if px.shape[0] >= H and px.shape[1] >= W:
        y0, x0 = (px.shape[0] - H) // 2, (px.shape[1] - W) // 2
        return np.ascontiguousarray(px[y0:y0 + H, x0:x0 + W])
    return np.clip(imresize(px, size=(H, W), method="bicubic"), 0, 1).astype(np.float32)


def gallery(result: StudyResult, model: str | None = None, gap: int = 4) -> np.ndarray:
    """The HR foreground then every kept restored region (of ``model``, or all), side by side,
    as uint8 RGB on a white background (for the CLI's ``--gallery`` and quick looks)."""
    tiles = [to_rgb8(result.hr_region)]
    for (m, _group, _setting), px in result.regions.items():
        if model is None or m == model:
            tiles.append(to_rgb8(px))
    h = max(t.shape[0] for t in tiles)
    parts = []
    for t in tiles:
        pad = np.full((h, t.shape[1] + gap, 3), 255, np.uint8)
        pad[:t.shape[0], :t.shape[1]] = t
        parts.append(pad)
    return np.concatenate(parts, axis=1)
