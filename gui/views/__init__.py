"""Views: image panels with linked zoom, the comparison grid, the swipe view, the metrics table."""

from .compare_grid import CompareGrid, value_text
from .image_panel import ImagePanel, RoiViewBox
from .live_zoom import LiveZoomView
from .metrics_table import MetricsTable
from .swipe import SwipeView

__all__ = ["CompareGrid", "ImagePanel", "RoiViewBox", "MetricsTable", "SwipeView", "LiveZoomView",
           "value_text"]
