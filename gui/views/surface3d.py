"""The 3D pane: surfaces integrated from the normal maps, side by side, with linked cameras.

Each view (``LR bicubic``, ``SR (split)``, ``SR (naive)``, ``GT``; or the opened map alone) is a
:class:`SurfaceCanvas`: a QLabel showing frames of its own renderer (one Open3D ``Visualizer``
created lazily on first use and reused for every later mesh; see :mod:`.renderers`). Left drag
rotates, the wheel zooms, right (or middle) drag pans; with "Link cameras" on, the other views
take the moved view's camera. Colour by height, by angular error against the ground truth, plain
grey or normal-map colours; lighting on/off; reset view; save the render; export a mesh.

The pane only displays: building the surfaces is the controller's job on the worker pool
(:meth:`gui.controllers.surface.SurfaceController.build_surfaces`, progress and Cancel here).
Where Open3D cannot be imported or cannot open a window the pane falls back to the software
renderer of :func:`core.surface.render_mesh` and says so.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QMenu, QPushButton,
    QToolButton, QVBoxLayout, QWidget,
)

from core.session import Session
from core.surface import METHODS

from core.app.surface import (
    COLOR_MODES, ERROR_MAX_DEG, HEIGHT_CMAP, VIEW_ORDER, error_rgb, height_range,
)
from ..widgets.job_widgets import JobControls
from .renderers import Open3DRenderer, RendererUnavailable, SoftwareRenderer
from .surface_canvas import SurfaceCanvas, SurfacePanel
from ..controllers.surface import SurfaceController

__all__ = ["Surface3DView", "SurfaceCanvas", "FOLLOW_DELAY_MS"]

#: Linked views are redrawn this long after the last move of a drag (and at once on release).
FOLLOW_DELAY_MS = 120

_CMAPS = {"height": (HEIGHT_CMAP, "", ""),         # the range of the shown surface (px)
          "error": ("error", "0°", f"{ERROR_MAX_DEG:g}°")}


def _gradient(cmap: str) -> str:
    if cmap == "error":
        lut = np.round(error_rgb(np.linspace(0, ERROR_MAX_DEG, 8)) * 255).astype(int)
    else:
        lut = cv2.applyColorMap(np.linspace(0, 255, 8).astype(np.uint8)[:, None],
                                getattr(cv2, f"COLORMAP_{cmap.upper()}"))[:, 0, ::-1]
    stops = ", ".join(f"stop:{i / 7:.3f} rgb({r},{g},{b})" for i, (r, g, b) in enumerate(lut))
    return f"background: qlineargradient(x1:0, y1:0, x2:1, y2:0, {stops}); border: 1px solid #555;"


class Surface3DView(QWidget):
    """The 3D tab: options bar, one canvas per surface, progress, export and save."""

    export_requested = Signal(str)        # view name
    save_render_requested = Signal()

    def __init__(self, controller: "SurfaceController", session: Session,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.session = session
        self.backend = "open3d"
        self.backend_note = ""
        self.panels: dict[str, SurfacePanel] = {}
        self._frame_size: tuple[int, int] | None = None
        self._build_ui()
        self._sync_timer = QTimer(self, singleShot=True, interval=0)
        self._sync_timer.timeout.connect(self._render_followers)
        self._followers: list[SurfaceCanvas] = []
        self._auto_timer = QTimer(self, singleShot=True, interval=250)
        self._auto_timer.timeout.connect(self._auto_build)
        c = controller
        c.jobs.progress.connect(self._on_progress)
        c.jobs.running.connect(self._on_running)
        c.run_jobs.running.connect(lambda on: None if on else self._auto_timer.start())
        self._unsubscribe = self.session.subscribe(self._on_session)
        self.refresh_options()
        self.refresh()

    def _build_ui(self) -> None:
        self.method = QComboBox()
        for key, text in METHODS.items():
            self.method.addItem(key, key)
            self.method.setItemData(self.method.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
        self.method.setToolTip("Integration method (height from normals)")
        self.k_button = QPushButton("K…")
        self.k_button.setToolTip("Camera intrinsics (3 x 3 text file, e.g. DiLiGenT K.txt) for "
                                 "a perspective integration; none = orthographic")
        self.k_clear = QToolButton(text="×")
        self.k_clear.setToolTip("Orthographic (forget K)")
        self.k_label = QLabel("orthographic")
        self.color = QComboBox()
        for key, text in COLOR_MODES.items():
            self.color.addItem(text, key)
        self.color.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.color.setMinimumContentsLength(18)
        self.texture_button = QPushButton("Image…")
        self.texture_button.setToolTip("Colour the surfaces with an RGB image (e.g. the photo "
                                       "the normal map belongs to); it is resized to each mesh")
        self.lighting = QCheckBox("Lighting")
        self.link = QCheckBox("Link cameras")
        self.link.setChecked(True)
        self.reset_button = QPushButton("Reset view")
        self.build_button = QPushButton("Build 3D")
        self.build_button.setToolTip("Integrate the normal maps on screen and mesh them")
        self.job = JobControls()
        self.cancel_button, self.progress, self.status = (
            self.job.cancel_button, self.job.progress, self.job.status)
        self.export_button = QToolButton(text="Export mesh…")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_menu = QMenu(self.export_button)
        self.export_button.setMenu(self.export_menu)
        self.save_button = QPushButton("Save render…")
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #e0a040;")
        self.legend_bar = QLabel()
        self.legend_bar.setFixedSize(140, 12)
        self.legend_lo, self.legend_hi = QLabel(""), QLabel("")

        # two rows, so that the pane never forces a window wider than a laptop screen
        bar = QHBoxLayout()
        for w in (QLabel("Method"), self.method, self.k_button, self.k_clear, self.k_label,
                  QLabel("  Colour"), self.color, self.texture_button, self.lighting, self.link):
            bar.addWidget(w)
        bar.addStretch(1)
        row2 = QHBoxLayout()
        for w in (self.build_button, self.cancel_button, self.progress):
            row2.addWidget(w)
        row2.addWidget(self.status, 1)
        for w in (self.legend_lo, self.legend_bar, self.legend_hi, self.reset_button,
                  self.export_button, self.save_button):
            row2.addWidget(w)
        self.views_area = QWidget()
        self.grid = QGridLayout(self.views_area)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self.placeholder = QLabel("")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("color: #8a96a3; font-size: 12pt;")
        self.grid.addWidget(self.placeholder, 0, 0)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(bar)
        lay.addLayout(row2)
        lay.addWidget(self.note)
        lay.addWidget(self.views_area, 1)

        c = self.controller
        self.method.activated.connect(lambda _i: c.set_surface_options(
            method=self.method.currentData()))
        self.k_clear.clicked.connect(lambda: c.set_surface_options(K=None))
        self.color.activated.connect(lambda _i: c.set_surface_options(
            color=self.color.currentData()))
        self.lighting.toggled.connect(lambda on: c.set_surface_options(lighting=bool(on)))
        self.reset_button.clicked.connect(self.reset_view)
        self.build_button.clicked.connect(c.build_surfaces)
        self.cancel_button.clicked.connect(c.cancel_surface)
        self.save_button.clicked.connect(self.save_render_requested)

    # -- renderers ----------------------------------------------------------------------------
    def frame_size(self) -> tuple[int, int]:
        """(height, width) of every view's frames: chosen once, from the space each view has
        when the first one is made (linked cameras need equal sizes)."""
        if self._frame_size is None:
            n = max(1, len(self.controller.surface_names))
            area = self.views_area.size()
            w = (area.width() - 4 * (n - 1)) // n - 6
            h = area.height() - 2 * self.fontMetrics().height() - 20
            w = int(min(max(w, 200), 900))
            h = int(min(max(h, 160), 1.2 * w, 900))
            self._frame_size = (h, w)
        return self._frame_size

    def _renderer(self):
        if self.backend == "open3d":
            r = Open3DRenderer(self.frame_size())
            try:
                r.start()
                return r
            except RendererUnavailable as exc:
                r.close()
                self.backend = "software"
                self.backend_note = (f"{exc}: showing the software renderer instead (slower; "
                                     "install open3d-cpu==0.20.0 for the interactive view)")
                for panel in self.panels.values():   # every view uses the same kind
                    panel.canvas.close_renderer()
                    panel.canvas.renderer = SoftwareRenderer(self.frame_size())
                    panel.canvas.view = None
        return SoftwareRenderer(self.frame_size())

    def _panel(self, name: str) -> SurfacePanel:
        panel = self.panels.get(name)
        if panel is None:
            canvas = SurfaceCanvas(name, self._renderer())
            canvas.camera_moved.connect(self._on_camera_moved)
            panel = SurfacePanel(canvas)
            self.panels[name] = panel
        return panel

    # -- refresh ------------------------------------------------------------------------------
    def refresh_options(self) -> None:
        o = self.controller.surface_options()
        for combo, value in ((self.method, o["method"]), (self.color, o["color"])):
            combo.setCurrentIndex(max(0, combo.findData(value)))
        self.lighting.blockSignals(True)
        self.lighting.setChecked(bool(o["lighting"]))
        self.lighting.blockSignals(False)
        self.k_label.setText(f"K: {o['K'].rsplit('/', 1)[-1]}" if o["K"] else "orthographic")
        self.k_clear.setEnabled(bool(o["K"]))
        cmap = _CMAPS.get(o["color"])
        for w in (self.legend_bar, self.legend_lo, self.legend_hi):
            w.setVisible(cmap is not None)
        if cmap is not None:
            self.legend_bar.setStyleSheet(_gradient(cmap[0]))
            self.legend_lo.setText(cmap[1])
            self.legend_hi.setText(cmap[2])
            if o["color"] == "height":
                self._height_legend()

    def _height_legend(self) -> None:
        """The height colour bar in units: the first view's colour range (each view is
        coloured over its own 1st-99th percentile; all of them in the tooltip)."""
        views = [(n, v) for n, v in self.controller.surfaces.items() if v.surface is not None]
        if not views:
            self.legend_lo.setText("height: build first")
            self.legend_hi.setText("")
            self.legend_bar.setToolTip("")
            return
        ranges = [(n, *height_range(v.surface)) for n, v in views]
        _n, lo, hi, unit = ranges[0]
        self.legend_lo.setText(f"height {lo:.3g}")
        self.legend_hi.setText(f"{hi:.3g} {unit}")
        self.legend_bar.setToolTip("Each view is coloured from its 1st to its 99th height "
                                   "percentile:\n" + "\n".join(
                                       f"{n}: {a:.3g} … {b:.3g} {u}" for n, a, b, u in ranges))

    def refresh(self) -> None:
        """Lay out one panel per built surface and show them with the current options."""
        c = self.controller
        views = c.surfaces
        names = [n for n in VIEW_ORDER if n in views] + [n for n in views if n not in VIEW_ORDER]
        for name in list(self.panels):
            if name not in names:
                panel = self.panels.pop(name)
                panel.canvas.close_renderer()
                panel.setParent(None)
                panel.deleteLater()
        while self.grid.count():
            self.grid.takeAt(0)
        if not names:
            self.placeholder.show()
            self.grid.addWidget(self.placeholder, 0, 0)
            self.placeholder.setText(self._hint())
        else:
            self.placeholder.hide()
        o = c.surface_options()
        for i, name in enumerate(names):
            panel = self._panel(name)
            self.grid.addWidget(panel, 0, i)
            view = views[name]
            panel.info.setText(view.info())
            panel.info.setToolTip("\n".join((view.info(),) + view.notes))
            mode = o["color"] if o["color"] in view.colors else "height"
            panel.canvas.show_view(view, mode, bool(o["lighting"]))
        for i in range(max(len(names), 1) + 4):
            self.grid.setColumnStretch(i, 1 if i < max(len(names), 1) else 0)
        self.export_menu.clear()
        for name in names:
            self.export_menu.addAction(name, lambda n=name: self.export_requested.emit(n))
        self.export_button.setEnabled(bool(names))
        self.save_button.setEnabled(bool(names))
        self.reset_button.setEnabled(bool(names))
        self._refresh_note()

    def _hint(self) -> str:
        c = self.controller
        if not c.available():
            return c.unavailable() or ""
        if c.jobs.busy:
            return "building the surfaces…"
        return "Press Build 3D to integrate the normal maps and show them side by side"

    def _refresh_note(self) -> None:
        notes = [self.backend_note] if self.backend_note else []
        c = self.controller
        if c.surfaces and not c.jobs.busy and not c.surfaces_current():
            notes.append("The normal maps or options changed since these surfaces were built: "
                         "press Build 3D to update them.")
        missing = [n for n, v in c.surfaces.items() if "error" not in v.colors]
        if c.surface_options()["color"] == "error" and missing:
            notes.append("Angular-error colours need a ground truth (attach an HR reference or "
                         "use degrade); shown by height: " + ", ".join(missing))
        self.note.setText("\n".join(notes))
        self.note.setVisible(bool(notes))

    # -- cameras ------------------------------------------------------------------------------
    def canvases(self) -> list[SurfaceCanvas]:
        return [p.canvas for p in self.panels.values()]

    def _on_camera_moved(self, source: SurfaceCanvas) -> None:
        if not self.link.isChecked():
            return
        cam = source.renderer.camera()
        self._followers = [cv for cv in self.canvases() if cv is not source and cv.view]
        for cv in self._followers:
            cv.renderer.set_camera(cam)
        # the moved view is on screen first; the others follow when the drag pauses or ends
        # (each frame is drawn on the CPU where there is no GPU: keep the dragged one fluid)
        self._sync_timer.setInterval(FOLLOW_DELAY_MS if source.dragging() else 0)
        self._sync_timer.start()

    def _render_followers(self) -> None:
        for cv in self._followers:
            cv.render_now()
        self._followers = []

    def reset_view(self) -> None:
        for cv in self.canvases():
            if cv.view is not None:
                cv.renderer.reset()
                cv.render_now()

    # -- output -------------------------------------------------------------------------------
    def save_render(self, path) -> bool:
        """The views as shown (titles and frames) as an image."""
        return bool(self.panels) and self.views_area.grab().save(str(path))

    # -- signals ------------------------------------------------------------------------------
    def _on_progress(self, fraction: float, text: str) -> None:
        self.job.set_progress(fraction, text)

    def _on_running(self, on: bool) -> None:
        self.job.set_running(on)
        self.build_button.setText("Rebuild 3D" if on else "Build 3D")
        if not on:
            self._refresh_note()

    def _auto_build(self) -> None:
        """Build when the pane is on screen, a normal map is open, nothing runs, and the
        surfaces shown are not of the maps on screen."""
        c = self.controller
        if (self.isVisible() and c.available() and not c.run_jobs.busy
                and not c.jobs.busy and not c.surfaces_current()):
            c.build_surfaces()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._auto_timer.start()

    def _on_session(self, topic: str) -> None:
        if topic == "surface":
            self.refresh()
        elif topic == "surface_options":
            self.refresh_options()
            self.refresh()
        elif topic in ("inputs", "results", "all", "normals"):
            if not self.controller.surfaces:
                self.placeholder.setText(self._hint())
            self._refresh_note()
            if topic != "results":
                self._auto_timer.start()

    def release(self) -> None:
        """Close every renderer (the window is closing); views built later get new ones."""
        for name in list(self.panels):
            panel = self.panels.pop(name)
            panel.canvas.close_renderer()
            panel.setParent(None)
            panel.deleteLater()

    def closeEvent(self, event) -> None:  # noqa: N802
        self._unsubscribe()
        self.release()
        super().closeEvent(event)
