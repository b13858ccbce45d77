"""Draw a :class:`core.app.figure.FigureLayout` with matplotlib's Qt-free canvases.

One renderer for the window and the CLI: PNG at the chosen DPI, PDF (TrueType text, type 42)
and SVG with text kept as ``<text>`` elements (searchable, editable), by the file's extension.
No pyplot (no GUI backend is ever selected): a bare :class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from core.errors import InputError
from core.io.atomic import atomic_path
from core.jobs import Job, Progress

from .figure import REGION_COLOURS, FigureContent, FigureLayout, FigureOptions, \
    figure_content, layout_figure, zoom_nearest

__all__ = ["FIGURE_FORMATS", "draw_figure", "save_figure", "figure_labels", "figure_job"]

FIGURE_FORMATS = (".png", ".pdf", ".svg")
RC = {"svg.fonttype": "none", "pdf.fonttype": 42, "font.family": "DejaVu Sans"}


def figure_labels(layout: FigureLayout) -> list[tuple[str, str]]:
    """The two label lines under each crop, in drawing order (what a reader sees)."""
    return [(crop.label, crop.text()) for crop, _b, _l in layout.crops]


def draw_figure(content: FigureContent, options: FigureOptions) -> Figure:
    """A matplotlib figure of ``content`` laid out by :func:`layout_figure`."""
    lay = layout_figure(content, options)
    W, H = lay.width, lay.height
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(W, H), dpi=options.dpi)
        fig.patch.set_facecolor("white")

        def axes(box):
            ax = fig.add_axes((box.x / W, 1.0 - (box.y + box.h) / H, box.w / W, box.h / H))
            ax.set_axis_off()
            return ax

        ax = axes(lay.base)
        ax.imshow(content.base, interpolation="nearest", aspect="auto")
        sx, sy = content.base_scale
        for i, r in enumerate(content.regions):
            ax.add_patch(Rectangle((r.x * sx - 0.5, r.y * sy - 0.5), r.w * sx, r.h * sy,
                                   fill=False, lw=1.2, ec=REGION_COLOURS[i % 4]))
        ax.text(0.01, 0.99, content.base_name, transform=ax.transAxes, va="top", ha="left",
                color="white", fontsize=options.font_size,
                bbox={"facecolor": "black", "alpha": 0.5, "pad": 1.5, "lw": 0})
        for crop, box, label in lay.crops:
            cax = axes(box)
            cax.imshow(zoom_nearest(crop.pixels), interpolation="nearest", aspect="auto")
            cax.add_patch(Rectangle((0, 0), 1, 1, transform=cax.transAxes, fill=False,
                                    lw=1.5, ec=REGION_COLOURS[crop.region % 4]))
            x = (label.x + label.w / 2) / W
            fig.text(x, 1.0 - (label.y + 0.1 * options.font_size / 72) / H, crop.label,
                     ha="center", va="top", fontsize=options.font_size, fontweight="bold")
            fig.text(x, 1.0 - (label.y + 1.2 * options.font_size / 72) / H, crop.text(),
                     ha="center", va="top", fontsize=options.font_size)
        if lay.caption is not None:
            fig.text(0.0, 1.0 - (lay.caption.y + 0.2 * options.font_size / 72) / H,
                     content.caption, ha="left", va="top",
                     fontsize=max(5.0, options.font_size - 1), color="#444444")
    return fig


def save_figure(content: FigureContent, options: FigureOptions, path: str | Path, *,
                overwrite: bool = True) -> Path:
    """Write the figure as PNG (at ``options.dpi``), PDF or SVG, chosen by ``path``'s
    extension; returns the path. Atomic (:func:`core.io.atomic.atomic_path`): the file is
    complete or not there; a missing folder is refused, not made (as every writer does).
    ``overwrite=False`` never replaces an existing file (callers that asked the user pass
    True, the default)."""
    out = Path(path)
    ext = out.suffix.lower()
    if ext not in FIGURE_FORMATS:
        raise InputError(f"a figure is written as {', '.join(FIGURE_FORMATS)}; got {out.name}")
    fig = draw_figure(content, options)
    with matplotlib.rc_context(RC), atomic_path(out, overwrite=overwrite) as tmp:
        # the temp name's extension differs (.fig.tmp-PID-XXXX.png): the format is explicit
        fig.savefig(tmp, format=ext[1:], dpi=options.dpi, facecolor="white",
                    metadata={"Creator": "SR Workbench"} if ext != ".png" else None)
    return out


def figure_job(content: dict[str, Any], options: FigureOptions, path: str | Path) -> Job[Path]:
    """Measure (:func:`figure_content` with the keyword arguments ``content``), lay out and
    write the figure; returns the path. The window runs it on a worker."""
    yield Progress(0, 2, "figure: measuring the regions")
    made = figure_content(**content)
    yield Progress(1, 2, "figure: drawing")
    out = save_figure(made, options, path)
    yield Progress(2, 2, f"figure written: {Path(out).name}")
    return out
