"""The main window's normal-map, channel-data, IPF and zero-shot parts (:func:`install_extras`).

Adds to the main window: the side-panel boxes (normal-map options, channel-data options; each
shown only for its kind of input), the "3D surface", "Channels", "Normal parts", "IPF flow"
and "Zero-shot" tabs, their menu entries, the file dialogs they need (mask, intrinsics, mesh
export, render, normal parts folder, channel variables) and the release of the 3D renderers
when the window closes. Each view gets its own controller of ``w.controllers``. Kept apart
from ``main_window.py`` so that the window's own module stays small; it imports nothing of
the window (the window imports it).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QFileDialog, QMainWindow

from core.surface import MESH_EXTENSIONS

from .dialogs.channel_options import ChannelOptionsDialog
from .menus import make_action
from .views.channel_browser import ChannelBrowser
from .views.folder import FolderView
from .views.ipf_flow import IpfFlowView
from .views.normal_parts import NormalPartsView
from .views.profile import ProfileView
from .views.surface3d import Surface3DView
from .views.zeroshot import ZeroShotView
from .widgets.kind_boxes import ChannelBox, NormalsBox

__all__ = ["install_extras", "MESH_FILTER", "IMAGE_FILTER"]

MESH_FILTER = "Meshes (" + " ".join(f"*{e}" for e in MESH_EXTENSIONS) + ");;All files (*)"
IMAGE_FILTER = "Images (*.png *.jpg *.tif);;All files (*)"
MASK_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.exr *.npy);;All files (*)"
K_FILTER = "Intrinsics (*.txt *.csv);;All files (*)"


class _CloseWatcher(QObject):
    """Releases the 3D renderers (their GL contexts) when the window closes."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt name
        if obj is self.window and event.type() == QEvent.Type.Close:
            self.window.surface3d.release()
        return False


def _dialogs(w: QMainWindow) -> None:
    c = w.controllers

    def mask() -> None:
        path, _ = QFileDialog.getOpenFileName(w, "Mask of the normal map", w._last_dir(),
                                              MASK_FILTER)
        if path:
            c.normals.set_options(mask=path)

    def intrinsics() -> None:
        path, _ = QFileDialog.getOpenFileName(w, "Camera intrinsics K (3 x 3)", w._last_dir(),
                                              K_FILTER)
        if path:
            c.surface.set_surface_options(K=path)

    def texture() -> None:
        path, _ = QFileDialog.getOpenFileName(w, "Colour image for the 3D surfaces",
                                              w._last_dir(), IMAGE_FILTER)
        if path and c.surface.set_surface_options(texture=path, color="image"):
            c.surface.build_surfaces()

    def export_mesh(name: str) -> None:
        stem = Path(c.session.state.input_path or "surface").stem
        tag = name.replace(" ", "_").replace("(", "").replace(")", "").lower()
        path, _ = QFileDialog.getSaveFileName(w, f"Export the {name} mesh",
                                              f"{stem}_{tag}.ply", MESH_FILTER)
        if path:
            c.surface.export_mesh(name, path)

    def save_parts(bits: int) -> None:
        folder = QFileDialog.getExistingDirectory(w, f"Folder for the shape and detail parts "
                                                  f"({bits}-bit PNG)", w._last_dir())
        if folder:
            c.normals.save_parts(folder, bits)

    def save_render() -> None:
        path, _ = QFileDialog.getSaveFileName(w, "Save the 3D render", "surfaces.png",
                                              IMAGE_FILTER)
        if path and not w.surface3d.save_render(path):
            w.show_error(f"could not write {path}")

    w.normals_box.mask_requested.connect(mask)
    w.normal_parts.save_requested.connect(save_parts)
    w.surface3d.k_button.clicked.connect(intrinsics)
    w.surface3d.texture_button.clicked.connect(texture)
    w.surface3d.color.activated.connect(
        lambda _i: texture() if (w.surface3d.color.currentData() == "image"
                                 and not c.surface.surface_options()["texture"]) else None)
    w.surface3d.export_requested.connect(export_mesh)
    w.surface3d.save_render_requested.connect(save_render)
    w.channel_browser.save_requested.connect(w.save_result_dialog)
    c.channels.choose_options = lambda path, infos, current: ChannelOptionsDialog.ask(
        w, path, infos, current)


def _menus(w: QMainWindow) -> None:
    c = w.controllers
    menus = {a.text().replace("&", ""): a.menu() for a in w.menuBar().actions()}

    def action(text, slot, shortcut=None):
        return make_action(w, text, slot, shortcut)

    run = menus.get("Run")
    if run is not None:
        run.addSeparator()
        run.addAction(action("Build &3D surfaces", lambda: (
            w.tabs.setCurrentWidget(w.surface3d), c.surface.build_surfaces()), "Ctrl+B"))
        run.addAction(action("Cancel 3D build", c.surface.cancel_surface))
    view = menus.get("View")
    if view is not None:
        view.addAction(action("3D &surface", lambda: w.tabs.setCurrentWidget(w.surface3d),
                              "Ctrl+6"))
        view.addAction(action("C&hannels", lambda: w.tabs.setCurrentWidget(w.channel_browser),
                              "Ctrl+7"))
        view.addAction(action("&Normal parts", lambda: w.tabs.setCurrentWidget(w.normal_parts),
                              "Ctrl+9"))
        view.addAction(action("&IPF flow", lambda: w.tabs.setCurrentWidget(w.ipf_flow),
                              "Ctrl+Shift+9"))
        view.addAction(action("&Zero-shot (ZSSR / MZSR)",
                              lambda: w.tabs.setCurrentWidget(w.zeroshot), "Ctrl+8"))
    f = menus.get("File")
    if f is not None:
        f.insertAction(w.save_action, action("Open channel data &options…",
                                             c.inputs.reopen_channels))


def _folder(w: QMainWindow) -> None:
    """The Folder tab, its folder dialogs and File > Open folder…."""
    c = w.controllers
    w.folder_view = FolderView(c.folder, w.session)
    w.tabs.addTab(w.folder_view, "Folder")

    def open_folder() -> None:
        path = QFileDialog.getExistingDirectory(w, "Folder of images", w._last_dir())
        if path:
            w.tabs.setCurrentWidget(w.folder_view)
            c.folder.set_folder(path, c.folder.hr_folder)

    def hr_folder() -> None:
        path = QFileDialog.getExistingDirectory(w, "HR folder (matched by name)", w._last_dir())
        if path and c.folder.folder is not None:
            c.folder.set_folder(c.folder.folder, path)
        elif path:
            w.show_error("open the folder of LR images first, then its HR folder")

    def export() -> None:
        path, _ = QFileDialog.getSaveFileName(w, "Export folder table", "folder.csv",
                                              "CSV (*.csv);;JSON (*.json)")
        if path:
            c.folder.export(path)

    w.folder_view.folder_requested.connect(open_folder)
    w.folder_view.hr_folder_requested.connect(hr_folder)
    w.folder_view.export_requested.connect(export)
    w.open_folder_action = make_action(w, "Open &folder…", open_folder, "Ctrl+Shift+O")
    for a in w.menuBar().actions():
        if a.text().replace("&", "") == "File":
            a.menu().insertAction(w.recent_menu.menuAction(), w.open_folder_action)


def install_extras(w: QMainWindow) -> None:
    """Add the normal-map and channel-data boxes, the extra tabs, menus and dialogs to ``w``."""
    c, s = w.controllers, w.session
    w.normals_box = NormalsBox(c.normals, s)
    w.channel_box = ChannelBox(c.channels, s)
    side = w.input_box.parentWidget().layout()
    at = side.indexOf(w.input_box) + 1
    side.insertWidget(at, w.channel_box)
    side.insertWidget(at, w.normals_box)
    w.surface3d = Surface3DView(c.surface, s)
    w.channel_browser = ChannelBrowser(c.channels, c.finetune, s)
    w.tabs.addTab(w.surface3d, "3D surface")
    w.tabs.addTab(w.channel_browser, "Channels")
    w.normal_parts = NormalPartsView(c.normals, s)
    w.ipf_flow = IpfFlowView(c.ipf, s)
    w.tabs.addTab(w.normal_parts, "Normal parts")
    w.tabs.addTab(w.ipf_flow, "IPF flow")
    w.zeroshot = ZeroShotView(c.zeroshot, s)
    w.tabs.addTab(w.zeroshot, "Zero-shot")
    w.profile = ProfileView(s)
    w.tabs.addTab(w.profile, "Profile")
    _folder(w)
    w.normal_parts.hovered.connect(w.readout.setText)
    w.ipf_flow.hovered.connect(w.readout.setText)
    w.normals_box.options_chosen.connect(lambda changes: c.normals.set_options(**changes))
    w.channel_box.reopen_requested.connect(c.inputs.reopen_channels)
    w.channel_box.rgb_mode_chosen.connect(c.channels.set_rgb_mode)
    w.channel_browser.hovered.connect(w.readout.setText)
    w.channel_browser.channel_chosen.connect(c.run.set_channel)
    w.zeroshot.scale_chosen.connect(c.run.set_scale)
    _dialogs(w)
    _menus(w)
    w.installEventFilter(_CloseWatcher(w))
