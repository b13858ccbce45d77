"""Attribution: Local Attribution Maps (LAM, Gu & Dong 2021) for every model of the workbench,
the Gini and diffusion indices, and the overlay rendering (pure numpy, RGB uint8) that the CLI
and the window share.

``run_sync(lam(model, lr_image, Region(x, y, 16, 16), scale=4))`` -> :class:`LAMResult`.
"""

from .lam import CPU_MAX_BATCH, LAMOptions, LAMResult, lam, lam_models, lam_window
from .path import FOLD, KERNEL_SIZE, SIGMA, WINDOW, diffusion_index, gini_index
from .render import colorize, draw_window, heatmap, lam_overlay, lam_panel, to_rgb8

__all__ = [
    "LAMOptions", "LAMResult", "lam", "lam_models", "lam_window", "CPU_MAX_BATCH",
    "gini_index", "diffusion_index", "SIGMA", "FOLD", "KERNEL_SIZE", "WINDOW",
    "colorize", "heatmap", "lam_overlay", "draw_window", "lam_panel", "to_rgb8",
]
