"""Opening (kind, HR, drop, recent, command line), export, sessions, preferences, screenshot."""

from __future__ import annotations

import csv

import json

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage

from core.io import load, save
from gui.menus import fill_recent
from gui.settings import Settings
from tests.gui.util import degrade_and_run, wait_idle


def test_session_save_and_reopen_restores_the_state(qtbot, window, tmp_path, liif_ckpt,
                                                    small_png):
    from gui.main_window import MainWindow

    c, s = window.controllers, window.session
    key = c.models.add_checkpoint(liif_ckpt)
    degrade_and_run(qtbot, window, ["bicubic", key], scale=2, sample=None, path=small_png)
    c.metrics.set_roi((10, 12, 40, 30))
    c.metrics.set_options(y_channel=False, shave=3)
    window.tabs.setCurrentIndex(1)
    window.swipe.set_pair("HR", key)
    window.swipe.slider.setValue(300)
    window.grid.panels["HR"].vb.setRange(xRange=(20, 60), yRange=(20, 60), padding=0)
    window.grid.set_tile_shown("diff:bicubic", False)           # Tiles menu choices are kept
    wait_idle(qtbot, c)
    rows = window.metrics.rows()
    path = tmp_path / "sessions" / "study.json"
    path.parent.mkdir()
    assert window.save_session(path)
    saved = json.loads(path.read_text())
    assert saved["format"] == "sr-workbench-session"
    assert not saved["state"]["input_path"].startswith("/")     # relative to the session file

    other = MainWindow(Settings(tmp_path / "other.ini"))        # a fresh app, no checkpoints
    qtbot.addWidget(other)
    other.resize(1280, 820)
    other.show()
    try:
        assert other.open_file(path)                            # File > Open on a .json
        wait_idle(qtbot, other.controllers)
        o = other.session
        assert o.state.to_dict() == {**s.state.to_dict(), "layout": o.state.layout}
        assert o.state.roi == (10, 12, 40, 30) and o.state.shave == 3 and not o.state.y_channel
        assert set(o.results) == {"bicubic", key}
        for k in o.results:
            np.testing.assert_array_equal(o.results[k].image.pixels, s.results[k].image.pixels)
        assert other.metrics.rows() == rows
        assert other.tabs.currentIndex() == 1
        assert other.swipe.pair() == ("HR", key) and other.swipe.slider.value() == 300
        assert other.grid.panels["HR"].roi_rect() == (10, 12, 40, 30)
        target = other.grid.panels["HR"].vb.targetRect()
        assert target.center().x() == pytest.approx(40, abs=1)
        assert other.roi_box.value() == (10, 12, 40, 30)
        assert other.grid.hidden == {"diff:bicubic"} and "diff:bicubic" not in other.grid.panels
    finally:
        other.controllers.shutdown()


def test_bad_session_file_is_an_error(window, dialogs, tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{not json")
    assert not window.open_file(p)
    assert "not a session file" in dialogs.warnings[-1]


def test_export_result_screenshot_and_metrics(qtbot, window, dialogs, tmp_path, small_png):
    c, s = window.controllers, window.session
    degrade_and_run(qtbot, window, ["bicubic", "nearest"], scale=2, sample=None, path=small_png)
    c.metrics.set_roi((0, 0, 48, 48))
    wait_idle(qtbot, c)
    # never over the input
    assert not c.inputs.save_result("bicubic", small_png)
    assert "input" in dialogs.warnings[-1]
    assert load(small_png).shape == (96, 96, 3)
    # the dialog path (pick the model, then the file): same format and units as the input
    out = tmp_path / "sr.png"
    dialogs.save_file = str(out)
    from PySide6.QtWidgets import QInputDialog

    QInputDialog.getItem = staticmethod(lambda *a, **k: ("nearest", True))
    window.save_result_dialog()
    back = load(out)
    assert back.units.dtype == "uint8" and back.shape == (96, 96, 3)
    np.testing.assert_array_equal(back.file_values(), s.results["nearest"].image.file_values())
    assert "sr" in window.default_result_name("bicubic") or "face_bicubic" in \
        window.default_result_name("bicubic")
    # screenshot of the comparison grid
    shot = tmp_path / "grid.png"
    assert window.save_screenshot(shot)
    img = QImage(str(shot))
    assert img.width() == window.grid.width() and img.height() == window.grid.height()
    # metrics CSV = the table
    csv_path = tmp_path / "m.csv"
    dialogs.save_file = str(csv_path)
    window.metrics.export_button.click()
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("# roi,\"0,0,48,48\"")
    table = list(csv.reader(lines[1:]))
    ncol = len(window.metrics.columns)
    assert table[1][:ncol] == window.metrics.rows()[0]
    # ... followed by how the row was made
    prov = dict(zip(table[0][ncol:], table[1][ncol:]))
    assert prov["model"] == "nearest" and prov["native_scale"] == "any"
    assert prov["lr_source"] == "MATLAB bicubic x2 of the input"
    assert prov["color"] == "Y (BT.601)" and prov["shave"] == "2"
    assert prov["precision"] and prov["device"] and prov["resampled"] == ""
    window.metrics.copy()
    from PySide6.QtGui import QGuiApplication

    assert "\t" in QGuiApplication.clipboard().text()


def test_kind_override_and_attached_hr(qtbot, window, dialogs, tmp_path, astronaut):
    c, s = window.controllers, window.session
    arr = np.random.default_rng(0).random((40, 50, 3)).astype(np.float32)
    npy = tmp_path / "field.npy"
    np.save(npy, arr)
    assert c.inputs.open_input(npy)
    assert s.source.kind == "rgb" and window.input_box.kind.currentData() is None
    dialogs.answer = type(dialogs.answer).No   # random values look like a photo: keep as normals
    window.input_box.kind.setCurrentIndex(window.input_box.kind.findData("normals"))
    window.input_box.kind.activated.emit(window.input_box.kind.currentIndex())
    assert s.source.kind == "normals" and s.state.kind == "normals"
    assert not c.inputs.set_kind("gray")                           # 3 channels cannot be gray
    assert "channel" in dialogs.warnings[-1]
    assert s.source.kind == "normals" and window.input_box.kind.currentData() == "normals"
    # an LR image plus an attached HR: output = HR size, metrics against it
    lr_path, hr_path = tmp_path / "lr.png", tmp_path / "hr.png"
    hr = astronaut.with_pixels(np.ascontiguousarray(astronaut.pixels[:120, :90]))
    save(hr, hr_path)
    save(hr.with_pixels(np.ascontiguousarray(hr.pixels[::3, ::3])), lr_path)
    assert window.open_paths([str(lr_path), str(hr_path)])  # like `main.py lr.png hr.png`
    assert s.state.reference == "hr" and window.input_box.reference.currentData() == "hr"
    window.model_list.set_checked(["bicubic"])
    c.run.run()
    wait_idle(qtbot, c)
    assert s.results["bicubic"].image.shape == (120, 90, 3)
    assert window.grid.panels["HR"].array.shape == (120, 90, 3)
    assert window.metrics.rows()[0][0] == "bicubic" and window.metrics.rows()[0][3] != "-"


def test_drop_recent_files_and_command_line(qtbot, window, small_png, liif_ckpt):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(small_png)), QUrl.fromLocalFile(str(liif_ckpt))])
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                    Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(ev)
    s = window.session
    assert s.source is not None and s.state.input_path == str(small_png.resolve())
    assert str(liif_ckpt.resolve()) in s.catalog
    assert window.settings.recent[0] == str(small_png.resolve())
    fill_recent(window)
    first = window.recent_menu.actions()[0]
    assert first.text() == small_png.name
    window.controllers.inputs.open_sample("camera")
    first.trigger()
    assert s.state.input_path == str(small_png.resolve())
    wait_idle(qtbot, window.controllers)


def test_preferences_persist_and_apply(qtbot, window, tmp_path, liif_ckpt):
    import shutil

    from PySide6.QtWidgets import QApplication

    folder = tmp_path / "weights"
    folder.mkdir()
    shutil.copy(liif_ckpt, folder / "folder_liif.pth")
    dlg = window.preferences_dialog()
    dlg.device.setCurrentText("cpu")
    dlg.precision.setCurrentText("fp32")
    dlg.tile.setValue(256)
    dlg.theme.setCurrentText("light")
    dlg.add_folder(str(folder))
    dlg.accept()
    fresh = Settings()
    assert (fresh.device, fresh.precision, fresh.tile, fresh.theme) == ("cpu", "fp32", 256, "light")
    assert fresh.checkpoint_folders == [str(folder)]
    st = window.session.state
    assert (st.device, st.precision, st.tile) == ("cpu", "fp32", 256)
    assert window.run_box.device.currentText() == "cpu"
    assert "cpu · fp32" in window.device_label.text()
    assert str((folder / "folder_liif.pth").resolve()) in window.session.catalog
    assert QApplication.instance().styleSheet() == ""
    from gui.startup import apply_theme

    apply_theme(QApplication.instance(), "dark")


def test_smoke_screenshot_is_not_blank(qtbot, window, tmp_path):
    degrade_and_run(qtbot, window, ["bicubic"], scale=4)
    path = tmp_path / "window.png"
    assert window.grab().save(str(path))
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    arr = np.frombuffer(img.constBits(), np.uint8, img.bytesPerLine() * h)
    arr = arr.reshape(h, img.bytesPerLine())[:, :w * 3].reshape(h, w, 3)
    assert (w, h) == (window.width(), window.height())
    assert arr.std() > 20 and len(np.unique(arr.reshape(-1, 3)[::97], axis=0)) > 200
    # no pane is an empty black rectangle: every visible panel shows an image or a message
    for key, p in window.grid.panels.items():
        assert p.array is not None or p.placeholder.text(), key


def test_command_line_arguments_open_input_and_reference(qtbot, monkeypatch, tmp_path,
                                                         astronaut):
    """``python main.py lr.png hr.png``: the first image is the input, the second the HR."""
    from PySide6.QtWidgets import QApplication

    import main

    hr = astronaut.with_pixels(np.ascontiguousarray(astronaut.pixels[:64, :64]))
    save(hr, tmp_path / "hr.png")
    save(hr.with_pixels(np.ascontiguousarray(hr.pixels[::2, ::2])), tmp_path / "lr.png")
    seen = {}

    def fake_exec(self=None):
        win = [w for w in QApplication.topLevelWidgets()
               if type(w).__name__ == "MainWindow" and w.isVisible()][-1]
        seen["input"] = win.session.state.input_path
        seen["reference"] = win.session.state.reference
        seen["hr"] = win.session.state.hr_path
        win.controllers.shutdown()
        win.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert main.main([str(tmp_path / "lr.png"), str(tmp_path / "hr.png")]) == 0
    assert seen == {"input": str((tmp_path / "lr.png").resolve()), "reference": "hr",
                    "hr": str((tmp_path / "hr.png").resolve())}


def test_channel_data_shows_the_chosen_channel(qtbot, window, tmp_path):
    c, s = window.controllers, window.session
    arr = np.random.default_rng(1).random((30, 40, 5)).astype(np.float32) * 7 - 2
    path = tmp_path / "matrix.npy"
    np.save(path, arr)
    assert c.inputs.open_input(path)
    assert s.source.kind == "channels" and window.input_box.channel.isVisibleTo(window)
    c.run.set_scale(2)
    window.model_list.set_checked(["bicubic"])
    c.run.run()
    wait_idle(qtbot, c)
    assert window.grid.panels["bicubic"].array.shape == (60, 80)
    window.input_box.channel.setValue(3)
    lr = window.grid.panels["LR"].array
    ch3 = s.lr.pixels[..., 3]
    np.testing.assert_array_equal(lr, np.clip(ch3 * 255 + 0.5, 0, 255).astype(np.uint8))
    # the readout speaks the file's units (per-channel min/max undone)
    text = window.grid.panels["LR"].readout(2, 1)
    assert f"{arr[1, 2, 3]:.5g}" in text and "float32" in text


def test_saving_16_bit_as_webp_says_so_in_the_status_bar(qtbot, window, tmp_path):
    import cv2

    src = tmp_path / "in16.png"
    cv2.imwrite(str(src), np.random.default_rng(0).integers(0, 65536, (48, 48, 3),
                                                            dtype=np.uint16))
    degrade_and_run(qtbot, window, ["nearest"], scale=2, sample=None, path=src)
    assert window.controllers.inputs.save_result("nearest", tmp_path / "sr.webp")
    msg = window.statusBar().currentMessage()
    assert "Saved" in msg and "16-bit data quantised to 8 bits" in msg
