"""The "Normal parts" tab: the opened normal map's shape and detail parts on screen (for the
chosen sigma) and saved as 8- or 16-bit PNGs."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from .normal_maps import save_dome
from .util import wait_idle


@pytest.fixture(scope="module")
def dome_png(tmp_path_factory):
    path = tmp_path_factory.mktemp("parts") / "dome.png"
    save_dome(path, 40)
    return path


def _open_parts(qtbot, window, dome_png):
    c = window.controllers
    assert c.inputs.open_input(dome_png, "normals")
    window.tabs.setCurrentWidget(window.normal_parts)
    qtbot.waitUntil(c.normals.parts_current, timeout=20000)
    wait_idle(qtbot, c)
    return c


def _expected(c, sigma: float) -> dict:
    from core.normals import encode, split

    src = c.normals.source_normals()
    parts = split(src, sigma)
    return {"input": encode(src), "shape": encode(parts.shape), "detail": encode(parts.detail)}


def test_parts_follow_the_chosen_sigma(qtbot, window, dome_png):
    view = window.normal_parts
    assert view.image("shape") is None                 # nothing open: a message, no image
    c = _open_parts(qtbot, window, dome_png)
    want = _expected(c, 3.0)
    for name in ("input", "shape", "detail"):
        np.testing.assert_array_equal(view.image(name), want[name])
    assert "3" in view.panels["shape"].title.text()
    assert not np.array_equal(view.image("shape"), view.image("input"))

    view.sigma.setValue(1.5)                           # this tab's sigma is the option
    assert c.normals.options()["sigma"] == 1.5
    qtbot.waitUntil(lambda: c.normals.parts_current() and view._shown is c.normals.normal_parts,
                    timeout=20000)
    want = _expected(c, 1.5)
    np.testing.assert_array_equal(view.image("shape"), want["shape"])
    np.testing.assert_array_equal(view.image("detail"), want["detail"])

    window.normals_box.sigma.setValue(5.0)             # ... and the side panel's
    qtbot.waitUntil(lambda: c.normals.parts_current() and view._shown is c.normals.normal_parts,
                    timeout=20000)
    assert view.sigma.value() == 5.0
    np.testing.assert_array_equal(view.image("shape"), _expected(c, 5.0)["shape"])


@pytest.mark.parametrize("bits", [8, 16])
def test_save_parts(qtbot, window, dome_png, tmp_path, monkeypatch, dialogs, bits):
    from core.io import load
    from core.io.normals import load_normal_map

    c = _open_parts(qtbot, window, dome_png)
    view = window.normal_parts
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path))
    view.bits.setCurrentIndex(view.bits.findData(bits))
    view.save_button.click()
    wait_idle(qtbot, c)
    assert not dialogs.warnings, dialogs.warnings
    paths = {k: tmp_path / f"dome_{k}.png" for k in ("shape", "detail")}
    step = 1.0 / (2 ** bits - 1)
    for name, path in paths.items():
        back = load_normal_map(path)
        assert back.meta["bit_depth"] == bits
        px = load(path, kind="normals").pixels
        np.testing.assert_allclose(px, view.image(name), atol=0.5 * step + 1e-6)
        np.testing.assert_array_equal(back.mask, c.normals.source_normals().mask)

    # existing files: replaced only when the user says yes
    before = {k: p.read_bytes() for k, p in paths.items()}
    dialogs.answer = QMessageBox.StandardButton.No
    view.sigma.setValue(1.0)
    qtbot.waitUntil(c.normals.parts_current, timeout=20000)
    view.save_button.click()
    wait_idle(qtbot, c)
    assert dialogs.questions and "dome_shape.png" in dialogs.questions[-1]
    assert all(p.read_bytes() == before[k] for k, p in paths.items())
    dialogs.answer = QMessageBox.StandardButton.Yes
    view.save_button.click()
    wait_idle(qtbot, c)
    assert paths["shape"].read_bytes() != before["shape"]


def test_parts_tab_without_a_normal_map(qtbot, window, small_png):
    c = window.controllers
    assert c.inputs.open_input(small_png)
    window.tabs.setCurrentWidget(window.normal_parts)
    wait_idle(qtbot, c)
    view = window.normal_parts
    assert view.image("shape") is None and not view.save_button.isEnabled()
    assert "normal map" in view.panels["shape"].placeholder.text()


def test_view_menu_reaches_the_new_tabs(window):
    view = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "View")
    by_text = {a.text().replace("&", ""): a for a in view.actions()}
    for text, widget in (("Normal parts", window.normal_parts), ("IPF flow", window.ipf_flow),
                         ("Zero-shot (ZSSR / MZSR)", window.zeroshot)):
        by_text[text].trigger()
        assert window.tabs.currentWidget() is widget
