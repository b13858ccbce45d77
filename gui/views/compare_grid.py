"""The comparison grid: LR, each model's SR, HR, and |difference| maps, zoomed and panned together.

Tiles in order: LR (drawn with nearest-neighbour blocks), one per model, HR, then (when there is
a reference) ``|SR - HR|`` of each model, all with one shared colour scale (0 to the largest
99.5th percentile) whose legend sits in the bar above the tiles. The tiles are all the same
size and wrap into as many rows as make the images largest in the space the window gives
(:func:`grid_columns`); the grid never asks the window for more room. The bar's *Tiles* menu
hides or shows each tile. All panels live in HR pixel coordinates and are linked, so zooming or
panning any of them moves all of them; the ROI is one rectangle shown on every panel.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout, QHBoxLayout, QLabel, QMenu, QSizePolicy, QToolButton, QVBoxLayout, QWidget,
)

from core.app.normals import normal_keys, options
from core.data import ImageData
from core.session import Session

from .image_panel import ImagePanel
from .linker import ViewLinker

__all__ = ["CompareGrid", "ViewLinker", "value_text", "DIFF_CMAP", "grid_columns"]

DIFF_CMAP = "inferno"
TITLE_H = 22        # a tile's title row (px)
MIN_TILE = (96, 80)


def grid_columns(n: int, width: float, height: float, aspect: float = 1.0,
                 title_h: float = TITLE_H) -> int:
    """How many columns make ``n`` equal tiles of images ``aspect`` (w / h) wide show their
    images largest in ``width`` x ``height`` px (each tile loses ``title_h`` px to its title).
    Ties go to fewer columns."""
    if n <= 1:
        return 1
    best, best_side = 1, -1.0
    for ncol in range(1, n + 1):
        nrow = math.ceil(n / ncol)
        tw, th = width / ncol, height / nrow - title_h
        side = min(tw, th * aspect)   # the displayed image width
        if side > best_side + 1e-9:
            best, best_side = ncol, side
    return best


def value_text(data: ImageData, col: int, row: int) -> str:
    """The pixel's values in the file's own units (``units.to_file``), e.g.
    ``(12, 40): 81 97 3``."""
    raw = data.units.to_file(data.pixels[row:row + 1, col:col + 1])[0, 0]
    if np.issubdtype(raw.dtype, np.integer) or raw.dtype == bool:
        vals = " ".join(str(int(v)) for v in raw)
    else:
        vals = " ".join(f"{float(v):.5g}" for v in raw)
    return f"({col}, {row}) = {vals}  [{data.units.dtype}]"


class DiffLegend(QWidget):
    """The shared colour scale of the difference maps."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        cmap = pg.colormap.get(DIFF_CMAP)
        stops = ", ".join(
            f"stop:{p:.3f} rgb({c.red()},{c.green()},{c.blue()})"
            for p, c in zip(np.linspace(0, 1, 8), cmap.map(np.linspace(0, 1, 8), mode="qcolor")))
        self.bar = QLabel()
        self.bar.setFixedSize(140, 14)
        self.bar.setStyleSheet(f"background: qlineargradient(x1:0, y1:0, x2:1, y2:0, {stops});"
                               "border: 1px solid #555;")
        self.text = QLabel("")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("|SR − HR| colour scale")
        lay.addWidget(self.title)
        lay.addWidget(self.bar)
        lay.addWidget(self.text)

    def set_range(self, hi: float, data: ImageData | None) -> None:
        extra = ""
        normals = data is not None and data.kind == "normals"
        self.title.setText("angular error (°) colour scale" if normals
                           else "|SR − HR| colour scale")
        if normals:
            self.text.setText(f"0°  …  {hi:.3g}°")
            return
        if data is not None:
            span = float(np.max(np.asarray(data.units.hi) - np.asarray(data.units.lo)))
            if span != 1.0:
                extra = f"  (0 – {hi * span:.4g} in file units)"
        self.text.setText(f"0  …  {hi:.4g}{extra}")


class CompareGrid(QWidget):
    """Panels keyed ``LR``, model keys, ``HR`` and ``diff:<key>``."""

    hovered = Signal(str)
    roi_changed = Signal(object, bool)
    figure_requested = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.panels: dict[str, ImagePanel] = {}
        self.hidden: set[str] = set()      # tiles the user switched off (Tiles menu)
        self.show_diff = True
        self.draw_mode = False
        self.ncol = 1
        self.legend = DiffLegend()
        self.linker = ViewLinker()
        self._geometry: tuple | None = None
        self._keys: list[str] = []
        self.tiles_button = QToolButton()
        self.tiles_button.setText("Tiles ▾")
        self.tiles_button.setStyleSheet("QToolButton::menu-indicator { image: none; }")
        self.tiles_button.setToolTip("Choose which tiles the grid shows")
        self.tiles_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.tiles_menu = QMenu(self.tiles_button)
        self.tiles_menu.aboutToShow.connect(self._fill_tiles_menu)
        self.tiles_button.setMenu(self.tiles_menu)
        self.bar = QHBoxLayout()
        self.bar.setContentsMargins(2, 0, 2, 0)
        self.figure_button = QToolButton()
        self.figure_button.setText("Export figure…")
        self.figure_button.setToolTip("The paper figure: the HR with the region, a zoomed crop "
                                      "per result with its region PSNR/SSIM (PNG, PDF, SVG)")
        self.figure_button.clicked.connect(self.figure_requested)
        self.bar.addWidget(self.tiles_button)
        self.bar.addWidget(self.figure_button)
        self.bar.addStretch(1)
        self.bar.addWidget(self.legend)
        self.area = QWidget()
        self.area.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self._layout = QGridLayout(self.area)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addLayout(self.bar)
        outer.addWidget(self.area, 1)
        self.master = self._panel("LR")
        self._unsubscribe = session.subscribe(self._on_session)
        self.rebuild()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt name
        """Never more than one small tile: the tiles wrap to the space they are given."""
        return QSize(MIN_TILE[0] * 2, MIN_TILE[1] * 2 + 30)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return QSize(800, 500)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        if self._columns() != self.ncol:
            self._arrange()

    # -- panels -------------------------------------------------------------------------------
    def _panel(self, key: str) -> ImagePanel:
        panel = self.panels.get(key)
        if panel is None:
            panel = ImagePanel(key)
            panel.setMinimumSize(*MIN_TILE)   # equal tiles share the area; none asks for more
            panel.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
            panel.vb.draw_mode = self.draw_mode
            panel.hovered.connect(self.hovered)
            panel.roi_changed.connect(self._panel_roi_changed)
            panel.roi_drawn.connect(lambda r: self.roi_changed.emit(r, True))
            self.linker.add(panel.vb)  # one zoom/pan for all
            self.panels[key] = panel
        return panel

    def keys(self) -> list[str]:
        """Panel keys in display order for the current session."""
        s = self.session
        if s.source is not None and s.source.kind == "normals":   # the normal-map methods
            models = normal_keys(options(s.state.layout))
        else:
            models = [k for k in s.state.models if k in s.catalog]
        models += [k for k in s.results if k not in models]
        keys = ["LR"] + models
        if s.hr is not None or s.state.reference != "none":
            keys.append("HR")
            if self.show_diff:
                keys += [f"diff:{k}" for k in models]
        return keys

    def shown_keys(self) -> list[str]:
        """The tiles shown: :meth:`keys` less the ones hidden in the Tiles menu."""
        return [k for k in self.keys() if k not in self.hidden]

    def set_tile_shown(self, key: str, on: bool) -> None:
        (self.hidden.discard if on else self.hidden.add)(key)
        self.rebuild()

    def _fill_tiles_menu(self) -> None:
        self.tiles_menu.clear()
        for key in self.keys():
            text = key if key in ("LR", "HR") else (
                f"|{self.session.label(key[5:])} − HR|" if key.startswith("diff:")
                else self.session.label(key))
            act = self.tiles_menu.addAction(text)
            act.setCheckable(True)
            act.setChecked(key not in self.hidden)
            act.toggled.connect(lambda on, k=key: self.set_tile_shown(k, on))
        if self.hidden:
            self.tiles_menu.addSeparator()
            self.tiles_menu.addAction("Show all", lambda: (self.hidden.clear(), self.rebuild()))

    def _aspect(self) -> float:
        out = self.session.output_hw()
        return out[1] / out[0] if out else 1.0

    def _columns(self) -> int:
        n = len(self._keys)
        size = self.area.size()
        return grid_columns(n, max(1, size.width()), max(1, size.height()), self._aspect())

    def _arrange(self) -> None:
        """Equal tiles, row-major, in :meth:`_columns` columns."""
        while self._layout.count():
            self._layout.takeAt(0)
        self.ncol = ncol = self._columns()
        nrow = max(1, math.ceil(len(self._keys) / ncol))
        for c in range(max(self._layout.columnCount(), ncol)):
            self._layout.setColumnStretch(c, 1 if c < ncol else 0)
        for r in range(max(self._layout.rowCount(), nrow)):
            self._layout.setRowStretch(r, 1 if r < nrow else 0)
        for i, key in enumerate(self._keys):
            self._layout.addWidget(self.panels[key], i // ncol, i % ncol)
            self.panels[key].show()

    def rebuild(self) -> None:
        """Lay the panels out for the current session and fill them."""
        keys = self.shown_keys()
        for key, panel in list(self.panels.items()):
            if key not in keys and key != "LR":
                self.linker.remove(panel.vb)
                panel.setParent(None)
                panel.deleteLater()
                del self.panels[key]
        self.panels["LR"].setVisible("LR" in keys)
        self._keys = keys
        for key in keys:
            self._panel(key)
        self._arrange()
        self.refresh()

    def refresh(self) -> None:
        """Fill every panel from the session."""
        s = self.session
        out = s.output_hw()
        lr_size = (1.0, 1.0)
        if s.lr is not None and out is not None:
            lr_size = (out[1] / s.lr.width, out[0] / s.lr.height)
        lr_panel = self.panels["LR"]
        if s.lr is not None and s.lr_display is not None:
            sy, sx = lr_size[1], lr_size[0]
            lr_panel.set_title(f"LR {s.lr.width}×{s.lr.height} (nearest, ×{max(sx, sy):.3g})")
            lr_panel.set_image(s.lr_display, lr_size,
                               readout=lambda c, r, d=s.lr: value_text(d, c, r))
        else:
            lr_panel.set_title("LR")
            lr_panel.show_message("File > Open or drop an image here" if s.source is None
                                  else "preparing…")
        hi = max([r.diff_hi for r in s.results.values() if r.diff is not None] + [1e-6])
        lut = pg.colormap.get(DIFF_CMAP).getLookupTable(nPts=256)
        for key, panel in self.panels.items():
            if key == "LR":
                continue
            if key == "HR":
                if s.hr is not None and s.hr_display is not None:
                    panel.set_title(f"HR {s.hr.width}×{s.hr.height}")
                    panel.set_image(s.hr_display, readout=lambda c, r, d=s.hr: value_text(d, c, r))
                else:
                    panel.set_title("HR")
                    panel.show_message("no reference: attach an HR file or use degrade")
                continue
            diff = key.startswith("diff:")
            mkey = key[5:] if diff else key
            label = s.label(mkey)
            res = s.results.get(mkey)
            prov = res.provenance if res is not None else None
            panel.set_badge(f"resampled from {prov.native_scale}"
                            if prov is not None and prov.resampled else "",
                            prov.note() if prov is not None else "")
            if res is None:
                panel.set_title(f"|{label} − HR|" if diff else label)
                panel.show_message("" if diff else "not run yet: press Super-resolve")
            elif diff:
                panel.set_title(f"|{label} − HR|")
                if res.diff is None:
                    panel.show_message("sizes differ: no difference map")
                else:
                    what = "angle" if s.source is not None and s.source.kind == "normals" \
                        else "|Δ|"
                    panel.set_image(res.diff, levels=(0.0, hi), lut=lut,
                                    readout=lambda c, r, d=res.diff, w=what:
                                    f"({c}, {r}) {w} = {float(d[r, c]):.4g}")
            else:
                img = res.image
                r0 = res.result
                panel.set_title(f"{label} {img.width}×{img.height}",
                                f"{label}: {img.width}×{img.height}, ×{r0.scale[1]:.4g}, "
                                f"{r0.seconds:.2f} s on {r0.device} {r0.precision}"
                                + (f"\n{prov.note()}" if prov is not None else "")
                                + ("\n" + "\n".join(r0.notes) if r0.notes else ""))
                panel.set_image(res.display, readout=lambda c, r, d=img: value_text(d, c, r))
        self.legend.set_range(hi, s.hr)
        # no made-up "0 … 1e-06" scale before a difference map exists
        self.legend.setVisible(any(k.startswith("diff:") for k in self._keys)
                               and any(r.diff is not None for r in s.results.values()))
        self.sync_roi()
        geometry = (out, s.lr.shape if s.lr is not None else None)
        if geometry != self._geometry and s.lr is not None:
            self._geometry = geometry
            if self._columns() != self.ncol:     # another aspect ratio may wrap otherwise
                self._arrange()
            self.fit()

    def fit(self) -> None:
        """Show the whole image in every view."""
        rect = self.bounds()
        if not rect.isEmpty():
            self.master.vb.setRange(rect=rect, padding=0.02)

    def bounds(self) -> QRectF:
        out = self.session.output_hw()
        return QRectF(0, 0, out[1], out[0]) if out else QRectF()

    # -- ROI ----------------------------------------------------------------------------------
    def sync_roi(self) -> None:
        roi = self.session.state.roi
        bounds = self.bounds()
        for panel in self.panels.values():
            panel.set_roi(roi if panel.array is not None else None, bounds)

    def _panel_roi_changed(self, rect, finished: bool) -> None:
        sender = self.sender()
        for panel in self.panels.values():  # move the other panels' rectangles along
            if panel is not sender and panel.array is not None:
                panel.set_roi(rect, self.bounds())
        self.roi_changed.emit(rect, finished)

    def set_draw_mode(self, on: bool) -> None:
        self.draw_mode = bool(on)
        for panel in self.panels.values():
            panel.vb.draw_mode = self.draw_mode

    def set_show_diff(self, on: bool) -> None:
        self.show_diff = bool(on)
        self.rebuild()

    # -- layout state (saved in sessions) -----------------------------------------------------
    def view_rect(self) -> list[float]:
        (x0, x1), (y0, y1) = self.master.vb.viewRange()
        return [x0, y0, x1, y1]

    def set_view_rect(self, rect: list[float]) -> None:
        x0, y0, x1, y1 = rect
        self.master.vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def _on_session(self, topic: str) -> None:
        if topic in ("inputs", "models", "all", "params", "normals"):
            if topic in ("params", "normals") and self.shown_keys() == self._current_keys():
                return
            self.rebuild()
        elif topic == "results":
            if self.shown_keys() != self._current_keys():
                self.rebuild()
            else:
                self.refresh()
        elif topic == "roi":
            self.sync_roi()

    def _current_keys(self) -> list[str]:
        return list(self._keys)

    def closeEvent(self, event) -> None:  # noqa: N802
        self._unsubscribe()
        super().closeEvent(event)
