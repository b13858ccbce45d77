"""The main window: side panel (input, models, scale/run, region), comparison views, metrics.

It only wires things together: widgets send the user's choices to the feature controllers of
:class:`gui.controllers.AppController`, which run core Jobs on the pool and apply results to the
Qt-free session; the views (grid, swipe, metrics table, side-panel boxes, tabs) subscribe to the
session and redraw. Each view is given its own controller only.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication, QFileDialog, QInputDialog, QLabel, QMainWindow, QScrollArea, QSplitter,
    QTabWidget, QVBoxLayout, QWidget,
)

from core.io import SUPPORTED_EXTENSIONS
from core.models.catalog import CHECKPOINT_SUFFIXES

from .controllers import AppController
from .dialogs import FigureDialog, PreferencesDialog, ask_yes_no, show_error
from .menus import build_menus
from .settings import Settings
from .startup import apply_theme, configure_pyqtgraph, fit_to_screen, leave_a_core_for_the_ui
from .views import CompareGrid, LamView, LiveZoomView, MetricsTable, StudiesView, SwipeView
from .widgets import InputBox, ModelList, RoiBox, RunBox
from .window_extras import install_extras

__all__ = ["MainWindow", "OPEN_FILTER", "CHECKPOINT_EXTENSIONS"]

OPEN_FILTER = ("Images and arrays (" + " ".join(f"*{e}" for e in SUPPORTED_EXTENSIONS)
               + ");;Sessions (*.json);;All files (*)")
CHECKPOINT_EXTENSIONS = CHECKPOINT_SUFFIXES
CHECKPOINT_FILTER = ("Checkpoints (" + " ".join(f"*{e}" for e in CHECKPOINT_EXTENSIONS)
                     + ");;All files (*)")


class MainWindow(QMainWindow):
    """Open, super-resolve with several models, compare, measure, export, save the session."""

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        configure_pyqtgraph()
        leave_a_core_for_the_ui()
        self.setWindowTitle("SR Workbench")
        self.setAcceptDrops(True)
        self.settings = settings or Settings()
        self.controllers = ctl = AppController(settings=self.settings, parent=self)
        self.session = ctl.session
        self.errors: list[str] = []
        self._pending_view: list[float] | None = None

        # side panel
        self.input_box = InputBox(self.session)
        self.model_list = ModelList(self.session)
        self.run_box = RunBox(self.session)
        self.roi_box = RoiBox(self.session)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        for w in (self.input_box, self.model_list, self.run_box, self.roi_box):
            side_layout.addWidget(w)
        side_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(290)
        scroll.setMaximumWidth(360)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        # views
        self.grid = CompareGrid(self.session)
        self.swipe = SwipeView(self.session)
        self.swipe.link_to(self.grid.linker)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.grid, "Compare")
        self.tabs.addTab(self.swipe, "Swipe")
        self.live = LiveZoomView(ctl.zoom, self.session)
        self.tabs.addTab(self.live, "Live zoom")
        self.lam_view = LamView(ctl.lam, self.session)
        self.tabs.addTab(self.lam_view, "LAM")
        self.studies = StudiesView(ctl.study, self.session)
        self.tabs.addTab(self.studies, "Studies")
        self.metrics = MetricsTable(self.session)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.tabs)
        right.addWidget(self.metrics)
        right.setStretchFactor(0, 4)
        right.setStretchFactor(1, 1)
        right.setSizes([620, 170])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(scroll)
        main.addWidget(right)
        main.setStretchFactor(1, 1)
        self.setCentralWidget(main)

        # status bar
        self.readout = QLabel("")
        self.device_label = QLabel("")
        self.memory_label = QLabel("")
        for w in (self.readout, self.device_label, self.memory_label):
            self.statusBar().addPermanentWidget(w)
        build_menus(self)
        install_extras(self)   # normal maps, channel data, IPF flow, zero-shot (window_extras)
        # wide enough for every box of the side panel (no clipped labels; it only scrolls down)
        need = side.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 6
        scroll.setMinimumWidth(max(290, need))
        scroll.setMaximumWidth(max(360, need))
        self._connect()
        ctl.notices.ask = lambda title, text: ask_yes_no(self, title, text)
        self.session.subscribe(self._on_session)
        self.update_status()
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        fit_to_screen(self)        # never larger than the screen it opens on

    def _connect(self) -> None:
        c = self.controllers
        c.notices.error.connect(self.show_error)
        c.notices.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        c.run.jobs.running.connect(self.run_box.set_running)
        c.run.jobs.progress.connect(self.run_box.set_progress)
        self.input_box.open_requested.connect(self.open_dialog)
        self.input_box.attach_requested.connect(self.attach_dialog)
        self.input_box.kind_chosen.connect(c.inputs.set_kind)
        self.input_box.channel_chosen.connect(c.run.set_channel)
        self.input_box.reference_chosen.connect(c.inputs.set_reference)
        self.model_list.models_chosen.connect(c.models.set_models)
        self.model_list.add_requested.connect(self.add_checkpoint_dialog)
        self.run_box.scale_chosen.connect(c.run.set_scale)
        self.run_box.size_chosen.connect(c.run.set_size)
        self.run_box.options_chosen.connect(lambda d, p, t: c.run.set_run_options(d, p, t))
        self.run_box.run_requested.connect(c.run.run)
        self.run_box.cancel_requested.connect(c.run.cancel)
        self.roi_box.roi_chosen.connect(c.metrics.set_roi)
        self.roi_box.draw_toggled.connect(self.set_draw_mode)
        self.grid.roi_changed.connect(self._on_view_roi)
        self.grid.hovered.connect(self.readout.setText)
        self.grid.figure_requested.connect(self.figure_dialog)
        self.metrics.options_changed.connect(lambda y, s: c.metrics.set_options(y, s))
        self.metrics.export_requested.connect(self.export_metrics_dialog)
        self.lam_view.hovered.connect(self.readout.setText)
        self.lam_view.save_requested.connect(self.save_lam_dialog)
        self.studies.export_requested.connect(self.export_study_dialog)
        self.studies.backgrounds_requested.connect(self.study_backgrounds_dialog)
        self.studies.background_requested.connect(self.study_background_dialog)

    # -- errors and status --------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        self.errors.append(message)
        self.statusBar().showMessage(f"Error: {message.splitlines()[0]}", 10000)
        show_error(self, message)

    def update_status(self) -> None:
        self.device_label.setText(f"  device {self.controllers.run.device_text()}  ")
        self.memory_label.setText(f"  {self.controllers.run.memory_text()}  ")

    def _on_session(self, topic: str) -> None:
        if topic in ("params", "models", "inputs", "all"):
            self.update_status()
        if topic == "all":
            lay = self.session.state.layout
            self.tabs.setCurrentIndex(int(lay.get("tab", 0)))
            self.grid.hidden = set(lay.get("hidden_tiles", []))
            self.grid.set_show_diff(bool(lay.get("show_diff", True)))
            self.show_diff_action.setChecked(self.grid.show_diff)
            self._pending_view = lay.get("view")
        if topic == "inputs" and self.session.lr is not None and self._pending_view:
            self.grid.set_view_rect(self._pending_view)
            self._pending_view = None

    def _on_view_roi(self, rect, finished: bool) -> None:
        if finished:
            self.controllers.metrics.set_roi(tuple(rect))
            if self.grid.draw_mode:     # Draw region is one-shot: dragging pans again
                self.set_draw_mode(False)
        else:
            self.roi_box.set_value(rect)

    def set_draw_mode(self, on: bool) -> None:
        self.grid.set_draw_mode(on)
        self.swipe.vb.draw_mode = False
        for w in (self.roi_box.draw_button, self.draw_roi_action):
            w.blockSignals(True)
            w.setChecked(on)
            w.blockSignals(False)

    # -- opening ------------------------------------------------------------------------------
    def open_file(self, path: str | Path) -> bool:
        """Open by extension: a session (.json), a checkpoint, or an image/array as input."""
        p = Path(path)
        ext = p.suffix.lower()
        c = self.controllers
        if ext == ".json":
            return c.inputs.load_session(p)
        if ext in CHECKPOINT_EXTENSIONS:
            return c.models.add_checkpoint(p) is not None
        return c.inputs.open_input(p)

    def open_paths(self, paths: list[str]) -> bool:
        """Command-line arguments and drops: sessions and checkpoints by extension; the first
        image is the input, a second image is attached as the HR reference."""
        images = 0
        ok = False
        for p in paths:
            ext = Path(p).suffix.lower()
            if ext == ".json" or ext in CHECKPOINT_EXTENSIONS or images == 0:
                done = self.open_file(p)
                images += int(done and ext != ".json" and ext not in CHECKPOINT_EXTENSIONS)
            else:
                done = self.controllers.inputs.attach_hr(p)
            ok = ok or done
        return ok

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open", self._last_dir(), OPEN_FILTER)
        if path:
            self.open_file(path)

    def attach_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Attach HR reference", self._last_dir(),
                                              OPEN_FILTER)
        if path:
            self.controllers.inputs.attach_hr(path)

    def add_checkpoint_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add checkpoint", "", CHECKPOINT_FILTER)
        if path:
            self.controllers.models.add_checkpoint(path)

    def _last_dir(self) -> str:
        recent = self.settings.recent
        return str(Path(recent[0]).parent) if recent else ""

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt name
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt name
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    # -- export -------------------------------------------------------------------------------
    def default_result_name(self, key: str) -> str:
        s = self.session
        stem = Path(s.state.input_path).stem if s.state.input_path else (s.state.sample or "sr")
        ext = Path(s.state.input_path).suffix if s.state.input_path else ".png"
        sc = s.effective_scale()
        tag = f"x{sc[1]:.3g}" if sc else ""
        folder = Path(s.state.input_path).parent if s.state.input_path else Path.cwd()
        return str(folder / f"{stem}_{s.label(key)}_{tag}{ext}")

    def save_result_dialog(self) -> None:
        keys = list(self.session.results)
        if not keys:
            self.show_error("nothing to save yet: run a model first")
            return
        key = keys[0]
        if len(keys) > 1:
            labels = [self.session.label(k) for k in keys]
            label, ok = QInputDialog.getItem(self, "Save result", "Model", labels, 0, False)
            if not ok:
                return
            key = keys[labels.index(label)]
        path, _ = QFileDialog.getSaveFileName(self, "Save result", self.default_result_name(key),
                                              OPEN_FILTER)
        if path:
            self.controllers.inputs.save_result(key, path)

    def save_screenshot(self, path: str | Path) -> bool:
        """Save the comparison view (the current tab) as an image."""
        if not self.tabs.currentWidget().grab().save(str(path)):
            self.show_error(f"could not write {path}")
            return False
        self.statusBar().showMessage(f"Screenshot saved to {path}", 8000)
        return True

    def screenshot_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save screenshot", "comparison.png",
                                              "PNG (*.png);;JPEG (*.jpg)")
        if path:
            self.save_screenshot(path)

    def figure_dialog(self) -> FigureDialog | None:
        """Export figure (from the compare grid), or why not yet."""
        why = self.controllers.figure.unavailable()
        if why:
            self.show_error(f"No figure yet: {why}")
            return None
        dlg = FigureDialog(self.controllers.figure, self.session, self)
        dlg.open()
        return dlg

    def export_metrics(self, path: str | Path) -> bool:
        try:
            self.metrics.export(path)
        except OSError as exc:
            self.show_error(f"could not write {path}: {exc}")
            return False
        self.statusBar().showMessage(f"Metrics saved to {path}", 8000)
        return True

    def export_metrics_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export metrics", "metrics.csv", "CSV (*.csv)")
        if path:
            self.export_metrics(path)

    def save_lam_dialog(self, key: str) -> None:
        """The overlay PNG of ``key``'s LAM, and its map as ``.npy`` beside it."""
        path, _ = QFileDialog.getSaveFileName(self, "Save LAM overlay (and map .npy)",
                                              f"lam_{self.session.label(key)}.png",
                                              "PNG (*.png);;All files (*)")
        if path:
            self.controllers.lam.save_lam(key, path, Path(path).with_suffix(".npy"))

    def export_study_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export study CSV", "study.csv",
                                              "CSV (*.csv)")
        if path:
            self.controllers.study.export_study_csv(path)

    def study_backgrounds_dialog(self, folder: bool = False) -> None:
        if folder:
            path = QFileDialog.getExistingDirectory(self, "Folder of background images",
                                                    self._last_dir())
            paths = [path] if path else []
        else:
            paths, _ = QFileDialog.getOpenFileNames(self, "Background images", self._last_dir(),
                                                    OPEN_FILTER)
        if paths:
            self.studies.add_backgrounds(paths)

    def study_background_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Foreign background", self._last_dir(),
                                              OPEN_FILTER)
        if path:
            self.studies.set_background(path)

    # -- sessions -----------------------------------------------------------------------------
    def store_layout(self) -> None:
        lay = self.session.state.layout
        lay["tab"] = self.tabs.currentIndex()
        lay["show_diff"] = self.grid.show_diff
        lay["hidden_tiles"] = sorted(self.grid.hidden)
        lay["view"] = self.grid.view_rect()
        lay["swipe"] = list(self.swipe._want)
        lay["zoom"] = {"model": self.live.key(), "scale": self.live.scale.value()}

    def save_session(self, path: str | Path) -> bool:
        self.store_layout()
        return self.controllers.inputs.save_session(path)

    def save_session_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save session", "session.json",
                                              "Sessions (*.json)")
        if path:
            self.save_session(path)

    def open_session_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open session", "", "Sessions (*.json)")
        if path:
            self.controllers.inputs.load_session(path)

    # -- preferences --------------------------------------------------------------------------
    def preferences_dialog(self) -> PreferencesDialog:
        dlg = PreferencesDialog(self.settings, self)
        dlg.accepted.connect(self.apply_preferences)
        dlg.open()
        return dlg

    def apply_preferences(self) -> None:
        s = self.settings
        self.controllers.run.set_run_options(s.device, s.precision, s.tile)
        problems = self.controllers.models.refresh_catalog()
        app = QApplication.instance()
        if app is not None:
            apply_theme(app, s.theme)
        if problems:
            self.show_error("Some checkpoints could not be read:\n" + "\n".join(problems))

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.controllers.shutdown()
        self.settings.set_value("window/geometry", self.saveGeometry())
        self.settings.sync()
        super().closeEvent(event)
