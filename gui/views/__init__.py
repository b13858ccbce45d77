"""Views: image panels with linked zoom, the comparison grid, the swipe view, the metrics table,
the LAM and background-study tabs."""

from .attribution import LamView
from .compare_grid import CompareGrid, value_text
from .image_panel import ImagePanel, RoiViewBox
from .live_zoom import LiveZoomView
from .metrics_table import MetricsTable
from .studies import StudiesView
from .swipe import SwipeView

__all__ = ["CompareGrid", "ImagePanel", "RoiViewBox", "MetricsTable", "SwipeView", "LiveZoomView",
           "LamView", "StudiesView", "value_text"]
