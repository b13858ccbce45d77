"""The paper figure: the HR (or LR) image with region boxes, then a zoomed crop per result,
labelled with the model name and that region's PSNR/SSIM.

Qt-free and shared by the window (compare grid > Export figure) and ``main.py figure``:
:func:`figure_content` measures each region with :func:`core.app.run.metrics_job`, the very
job the metrics table runs, so the numbers under the crops are the table's ROI values
(formatted by :func:`core.app.display.fmt_metric`); :func:`layout_figure` places everything in
inches; :mod:`core.app.figure_render` draws it (PNG at a DPI, PDF, SVG with text as text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from core.data import ImageData, Region
from core.engine.run import SROptions
from core.errors import InputError
from core.jobs import Job, Step, run_sync
from core.provenance import Provenance
from core.session import ModelResult

from .display import display_array, fmt_metric
from .run import RunRequest, metrics_job, run_job

__all__ = ["LAYOUTS", "REGION_COLOURS", "FigureOptions", "FigureCrop", "FigureContent",
           "Box", "FigureLayout", "figure_content", "layout_figure", "caption_text",
           "parse_roi", "zoom_nearest", "degrade_and_run_job"]

LAYOUTS = ("row", "two rows", "column")
REGION_COLOURS = ("#ffc828", "#28c8ff", "#ff5aa0", "#78e678")   # box and crop frame per region
GAP = 0.04            # inches between panels


#: What FigureOptions accepts (points, inches, dots per inch) and the widest PNG in pixels.
FONT_SIZE_RANGE = (1.0, 72.0)
WIDTH_RANGE = (1.0, 50.0)
DPI_RANGE = (10, 2400)
MAX_FIGURE_PIXELS = 30000


@dataclass(frozen=True)
class FigureOptions:
    """How the figure looks: ``layout`` (row: crops in one row per region right of the image;
    two rows: in two rows; column: the image on top, crops below), ``font_size`` in points,
    ``width`` of the whole figure in inches (a paper's text width is about 7 in), ``dpi`` of
    a PNG, ``base`` the big image (HR or LR)."""

    layout: str = "row"
    font_size: float = 7.0
    width: float = 7.0
    dpi: int = 300
    base: str = "HR"

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise InputError(f"layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if self.base not in ("HR", "LR"):
            raise InputError(f"the big image is HR or LR, got {self.base!r}")
        for name, value, (low, high) in (("font size", self.font_size, FONT_SIZE_RANGE),
                                          ("width", self.width, WIDTH_RANGE),
                                          ("dpi", self.dpi, DPI_RANGE)):
            if not (isinstance(value, (int, float)) and math.isfinite(value)
                    and low <= value <= high):
                raise InputError(f"the figure's {name} must be between {low:g} and {high:g}, "
                                 f"got {value!r}")
        if self.width * self.dpi > MAX_FIGURE_PIXELS:
            raise InputError(f"a {self.width:g} in figure at {self.dpi:g} dpi is "
                             f"{self.width * self.dpi:.0f} pixels wide; at most "
                             f"{MAX_FIGURE_PIXELS} (lower the width or the dpi)")


@dataclass(frozen=True)
class FigureCrop:
    """One result's crop of one region (uint8 H x W x 3) and its metrics there."""

    label: str
    region: int
    pixels: np.ndarray
    psnr: float = math.nan
    ssim: float = math.nan
    reference: bool = False          # the HR crop (no metrics)

    def text(self) -> str:
        """The second label line: ``28.412 dB / 0.8123`` (the table's format)."""
        if self.reference:
            return "PSNR / SSIM"
        return f"{fmt_metric(self.psnr, 'psnr')} dB / {fmt_metric(self.ssim, 'ssim')}"


@dataclass
class FigureContent:
    """What the figure shows: the big image, the regions (HR pixels), the crops, the caption."""

    base_name: str
    base: np.ndarray                 # uint8 H x W x 3
    base_scale: tuple[float, float]  # base pixels per HR pixel (x, y)
    regions: list[Region]
    crops: list[FigureCrop]
    caption: str = ""

    def crops_of(self, region: int) -> list[FigureCrop]:
        return [c for c in self.crops if c.region == region]


def parse_roi(text: str) -> Region:
    """``X,Y,W,H`` (HR pixels) -> :class:`Region`."""
    try:
        x, y, w, h = (int(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        raise InputError(f"a region is X,Y,W,H in HR pixels, e.g. 120,80,64,64; got {text!r}")
    return Region(x, y, w, h)


def zoom_nearest(pixels: np.ndarray, min_side: int = 192) -> np.ndarray:
    """``pixels`` repeated by a whole factor (nearest neighbour) to at least ``min_side`` px on
    its short side, so that PDF/SVG viewers show sharp pixels instead of smoothing them."""
    f = max(1, math.ceil(min_side / max(1, min(pixels.shape[:2]))))
    return np.repeat(np.repeat(pixels, f, axis=0), f, axis=1) if f > 1 else pixels


def _rgb(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.dtype != np.uint8:
        a = np.clip(np.round(a * 255.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a[:, :, :3])


def caption_text(provenance: Provenance | None, scale: tuple[float, float] | None,
                 y_channel: bool, shave: int) -> str:
    """One line: ``×4 · PSNR/SSIM on Y (BT.601), shave 4 · LR: MATLAB bicubic x4 of the input``."""
    parts = []
    if scale:
        sy, sx = scale
        parts.append(f"×{sx:.3g}" if abs(sx - sy) < 1e-9 else f"×{sy:.3g}×{sx:.3g}")
    parts.append(f"PSNR/SSIM on {'Y (BT.601)' if y_channel else 'RGB'}, shave {shave}")
    if provenance is not None and provenance.lr_source:
        parts.append(f"LR: {provenance.lr_source}")
    return " · ".join(parts)


def degrade_and_run_job(hr: ImageData, models: list[str], scale: float,
                        options: SROptions = SROptions()
                        ) -> Job[tuple[ImageData, ImageData, dict[str, ModelResult]]]:
    """The window's run with Degrade: the benchmark ``degrade()`` of ``hr`` at ``scale``, then
    each model (:func:`core.app.run.run_job`); returns ``(lr, hr, {name: ModelResult})``.
    A model that fails stops it with its message."""
    req = RunRequest(source=hr, attached_hr=None, reference="degrade", scale=float(scale),
                     size=None, models=tuple((m, m) for m in models), options=options)
    got: dict[str, object] = {}
    job = run_job(req)
    try:
        while True:
            p = next(job)
            if isinstance(p, Step) and p.key == "inputs":
                got["inputs"] = p.value
            elif isinstance(p, Step) and p.key == "result":
                got.setdefault("results", {})[p.value[0]] = p.value[1]
            elif isinstance(p, Step) and p.key == "error":
                raise InputError(f"{p.value[0]}: {p.value[1]}")
            yield p
    except StopIteration:
        pass
    lr, hr_aligned = got["inputs"][0], got["inputs"][1]
    return lr, hr_aligned, dict(got.get("results", {}))


def figure_content(hr: ImageData, results: Mapping[str, tuple[str, ImageData]],
                   regions: list[Region], *, y_channel: bool, shave: int,
                   provenance: Mapping[str, Provenance | None] | None = None,
                   lr: ImageData | None = None, base: str = "HR",
                   hr_display: np.ndarray | None = None,
                   lr_display: np.ndarray | None = None,
                   displays: Mapping[str, np.ndarray] | None = None,
                   include_hr: bool = True, cache: dict | None = None) -> FigureContent:
    """Measure each region of each result (``key -> (label, SR image)``) against ``hr`` as the
    metrics table does, and cut the crops. Display arrays (uint8) may be passed in (the
    window's), else they are made with :func:`core.app.display.display_array`; ``cache`` is
    :func:`core.app.run.metrics_job`'s whole-image cache (the window passes its own)."""
    if not regions:
        raise InputError("the figure needs at least one region (X,Y,W,H in HR pixels)")
    if not results:
        raise InputError("the figure needs at least one result")
    for i, r in enumerate(regions):
        if r.x + r.w > hr.width or r.y + r.h > hr.height:
            raise InputError(f"region {i + 1} ({r.x},{r.y},{r.w},{r.h}) does not fit in the "
                             f"{hr.width}x{hr.height} HR image")
    displays = dict(displays or {})
    crops: list[FigureCrop] = []
    hr_px = _rgb(hr_display if hr_display is not None else display_array(hr))
    for i, region in enumerate(regions):
        rows = run_sync(metrics_job(dict(results), hr, region, y_channel, shave,
                                    cache if cache is not None else {}, provenance))
        for (key, (label, img)), row in zip(results.items(), rows):
            shown = displays.get(key)
            px = _rgb(shown if shown is not None else display_array(img))
            ys, xs = region.slices()
            crops.append(FigureCrop(label, i, px[ys, xs], row.roi_psnr, row.roi_ssim))
        if include_hr:
            ys, xs = region.slices()
            crops.append(FigureCrop("HR", i, hr_px[ys, xs], reference=True))
    if base == "LR":
        if lr is None:
            raise InputError("an LR big image needs the LR")
        big = _rgb(lr_display if lr_display is not None else display_array(lr))
        base_scale = (lr.width / hr.width, lr.height / hr.height)
    else:
        big, base_scale = hr_px, (1.0, 1.0)
    first = next(iter(results))
    made = (provenance or {}).get(first)
    scale = (hr.height / lr.height, hr.width / lr.width) if lr is not None else None
    return FigureContent(base, big, base_scale, list(regions), crops,
                         caption_text(made, scale, y_channel, shave))


@dataclass(frozen=True)
class Box:
    """A rectangle in inches from the figure's top-left corner."""

    x: float
    y: float
    w: float
    h: float


@dataclass
class FigureLayout:
    """Where everything goes (inches): the big image, each crop and its two label lines (the
    label box's top-centre is the text anchor), the caption line."""

    width: float
    height: float
    base: Box
    crops: list[tuple[FigureCrop, Box, Box]] = field(default_factory=list)
    caption: Box | None = None
    font_size: float = 7.0


def layout_figure(content: FigureContent, options: FigureOptions) -> FigureLayout:
    """Place the big image and the crops. Crops of one region share a row (or two rows, or
    are stacked below the image in a near-square grid for ``column``); all crop cells of the
    figure have one width, and the big image is as tall as the crop block beside it."""
    n_reg = len(content.regions)
    per = max(len(content.crops_of(i)) for i in range(n_reg))
    if options.layout == "row":
        ncol, rows_per = per, 1
    elif options.layout == "two rows":
        ncol, rows_per = math.ceil(per / 2), min(2, per)
    else:
        ncol = min(3, math.ceil(math.sqrt(per)))
        rows_per = math.ceil(per / ncol)
    aspects = []                       # crop h / w, one per grid row
    for r in content.regions:
        aspects += [r.h / r.w] * rows_per
    nrow = len(aspects)
    label_h = 2.7 * options.font_size / 72.0
    cap_h = 1.8 * options.font_size / 72.0 if content.caption else 0.0
    bh_, bw_ = content.base.shape[:2]
    base_ar = bw_ / bh_                # w / h
    W, g = options.width, GAP
    if options.layout == "column":
        # the image on top at full width; the crop grid below at full width
        cw = (W - (ncol - 1) * g) / ncol
        base = Box(0.0, 0.0, W, W / base_ar)
        top = base.h + g
        left = 0.0
    else:
        # W = bw + g + ncol*cw + (ncol-1)*g, bw = base_ar * block_h(cw)
        fixed = nrow * label_h + (nrow - 1) * g
        cw = (W - g - (ncol - 1) * g - base_ar * fixed) / (base_ar * sum(aspects) + ncol)
        if cw <= 0:
            raise InputError("the figure is too narrow for its labels: a larger width or a "
                             "smaller font")
        block_h = cw * sum(aspects) + fixed
        base = Box(0.0, 0.0, base_ar * block_h, block_h)
        top, left = 0.0, base.w + g
    out = FigureLayout(W, 0.0, base, font_size=options.font_size)
    y = top
    row = 0
    for i in range(n_reg):
        crops = content.crops_of(i)
        for k, crop in enumerate(crops):
            rr, cc = divmod(k, ncol)
            ch = cw * aspects[row + rr]
            yy = y + sum(cw * aspects[row + j] + label_h + g for j in range(rr))
            box = Box(left + cc * (cw + g), yy, cw, ch)
            out.crops.append((crop, box, Box(box.x, yy + ch, cw, label_h)))
        y += sum(cw * aspects[row + j] + label_h + g for j in range(rows_per))
        row += rows_per
    body = max(base.y + base.h, y - g)
    if content.caption:
        out.caption = Box(0.0, body + g, W, cap_h)
    out.height = body + g + cap_h
    return out
