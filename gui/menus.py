"""The main window's menus (File, Run, Analysis, View, Help) and the recent-files submenu."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox

from core.app.analysis import STUDIES

from .dialogs import ShortcutsDialog

__all__ = ["build_menus", "fill_recent", "make_action", "shortcut_rows", "show_shortcuts"]

#: Keys that are not menu actions.
OTHER_KEYS = [("Views", "Shift + drag: draw a region on any image", "Shift+drag"),
              ("Views", "Wheel: zoom all linked views; drag: pan", "Wheel / drag"),
              ("Folder tab", "Left / Right: open the previous / next image of the folder",
               "Left / Right")]


def shortcut_rows(w: QMainWindow) -> list[tuple[str, str, str]]:
    """(menu, action, keys) of every menu action with a shortcut, then :data:`OTHER_KEYS`."""
    rows: list[tuple[str, str, str]] = []

    def walk(menu: QMenu, where: str) -> None:
        for a in menu.actions():
            if a.menu() is not None:
                walk(a.menu(), f"{where} > {a.text().replace('&', '')}")
            elif not a.shortcut().isEmpty():
                rows.append((where, a.text().replace("&", ""),
                             a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)))

    for top in w.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu(), top.text().replace("&", ""))
    return rows + OTHER_KEYS


def show_shortcuts(w: QMainWindow) -> ShortcutsDialog:
    dlg = ShortcutsDialog(shortcut_rows(w), w)
    dlg.open()
    return dlg


def make_action(w: QMainWindow, text: str, slot, shortcut=None,
                checkable: bool = False) -> QAction:
    a = QAction(text, w)
    if shortcut is not None:
        a.setShortcut(QKeySequence(shortcut))
    a.setCheckable(checkable)
    a.triggered.connect(slot)
    return a


def fill_recent(w: QMainWindow) -> None:
    """The recent files of ``w.settings`` in ``w.recent_menu`` (``w``: the main window)."""
    menu = w.recent_menu
    menu.clear()
    recent = w.settings.recent
    for path in recent:
        menu.addAction(make_action(w, Path(path).name, lambda _=False, p=path: w.open_file(p)))
        menu.actions()[-1].setToolTip(path)
    if not recent:
        menu.addAction("(none)").setEnabled(False)
    else:
        menu.addSeparator()
        menu.addAction(make_action(w, "Clear", lambda: w.settings.clear_recent()))


def build_menus(w: QMainWindow) -> None:
    """File, Run, Analysis, View and Help of the main window ``w`` (its views, dialogs and
    ``w.controllers``)."""
    c = w.controllers
    bar = w.menuBar()
    f = bar.addMenu("&File")
    w.open_action = make_action(w, "&Open…", w.open_dialog, QKeySequence.StandardKey.Open)
    f.addAction(w.open_action)
    w.recent_menu = f.addMenu("Open &recent")
    w.recent_menu.aboutToShow.connect(lambda: fill_recent(w))
    fill_recent(w)
    f.addAction(make_action(w, "Open &sample image", lambda: c.inputs.open_sample("astronaut")))
    f.addAction(make_action(w, "&Attach HR reference…", w.attach_dialog))
    f.addSeparator()
    f.addAction(make_action(w, "Open sess&ion…", w.open_session_dialog))
    f.addAction(make_action(w, "Sa&ve session…", w.save_session_dialog, "Ctrl+Shift+S"))
    f.addSeparator()
    w.save_action = make_action(w, "&Save result…", w.save_result_dialog,
                                QKeySequence.StandardKey.Save)
    f.addAction(w.save_action)
    f.addAction(make_action(w, "Save &screenshot of the view…", w.screenshot_dialog))
    f.addAction(make_action(w, "&Export metrics CSV…", w.export_metrics_dialog))
    f.addAction(make_action(w, "Export &figure…", w.figure_dialog, "Ctrl+Shift+F"))
    f.addSeparator()
    f.addAction(make_action(w, "&Preferences…", w.preferences_dialog,
                        QKeySequence.StandardKey.Preferences))
    f.addAction(make_action(w, "&Quit", w.close, QKeySequence.StandardKey.Quit))

    r = bar.addMenu("&Run")
    r.addAction(make_action(w, "&Super-resolve", c.run.run, "Ctrl+R"))
    r.addAction(make_action(w, "&Cancel", c.run.cancel, "Esc"))
    r.addAction(make_action(w, "&Add checkpoint…", w.add_checkpoint_dialog))

    a = bar.addMenu("&Analysis")
    a.addAction(make_action(w, "Local &attribution map (LAM)", lambda: (
        w.tabs.setCurrentWidget(w.lam_view), c.lam.run_lam()), "Ctrl+L"))
    a.addAction(make_action(w, "Cancel LA&M", c.lam.cancel_lam))
    a.addSeparator()
    for key, text in STUDIES.items():
        a.addAction(make_action(w, f"Study: {text}", lambda _=False, k=key: (
            w.tabs.setCurrentWidget(w.studies), w.studies.set_study(k), w.studies.run())))
    a.addAction(make_action(w, "Crop study: paper &preset", lambda: (
        w.tabs.setCurrentWidget(w.studies), w.studies.paper_preset())))
    a.addAction(make_action(w, "Cancel s&tudy", c.study.cancel_study))
    a.addAction(make_action(w, "&Export study CSV…", w.export_study_dialog))

    v = bar.addMenu("&View")
    v.addAction(make_action(w, "&Fit to window", w.grid.fit, "Ctrl+0"))
    w.draw_roi_action = make_action(w, "&Draw region", w.set_draw_mode, "R", checkable=True)
    v.addAction(w.draw_roi_action)
    v.addAction(make_action(w, "Clear re&gion", lambda: c.metrics.set_roi(None)))
    w.show_diff_action = make_action(w, "Show |difference| maps", w.grid.set_show_diff,
                                 checkable=True)
    w.show_diff_action.setChecked(True)
    v.addAction(w.show_diff_action)
    v.addAction(make_action(w, "Compare &grid", lambda: w.tabs.setCurrentIndex(0), "Ctrl+1"))
    v.addAction(make_action(w, "S&wipe", lambda: w.tabs.setCurrentIndex(1), "Ctrl+2"))
    v.addAction(make_action(w, "&Live zoom", lambda: w.tabs.setCurrentIndex(2), "Ctrl+3"))
    v.addAction(make_action(w, "LA&M", lambda: w.tabs.setCurrentWidget(w.lam_view), "Ctrl+4"))
    v.addAction(make_action(w, "S&tudies", lambda: w.tabs.setCurrentWidget(w.studies), "Ctrl+5"))

    h = bar.addMenu("&Help")
    w.shortcuts_dialog = lambda: show_shortcuts(w)
    h.addAction(make_action(w, "&Keyboard shortcuts", lambda: w.shortcuts_dialog(), "F1"))
    h.addAction(make_action(w, "&About", lambda: QMessageBox.about(
        w, "SR Workbench",
        "SR Workbench: super-resolve at any scale, compare models side by side with linked "
        "zoom, and measure region PSNR/SSIM.\n\nDrag on a view with Shift (or View > Draw "
        "region) to measure a region; scroll to zoom, drag to pan.")))
