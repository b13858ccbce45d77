"""The LAM tab: place the window, attribute it for two models, what the user sees, Cancel."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt

from core.attribution import LAMOptions, lam
from core.attribution.render import lam_overlay
from core.data import Region
from core.jobs import run_sync
from core.models import load_model
from gui.views.attribution import PICK
from tests.gui.util import open_with_edsr, wait_idle


def _two_models(qtbot, window, edsr_ckpt, small_png) -> str:
    """96x96 HR degraded x2 (48x48 LR), bicubic and the tiny EDSR x2 ticked."""
    return open_with_edsr(qtbot, window, edsr_ckpt, small_png, window.lam_view)


def _click(qtbot, panel, x: float, y: float) -> None:
    """A left click at view (SR pixel) coordinates ``(x, y)`` of an image panel."""
    scene = panel.vb.mapViewToScene(QPointF(x, y))
    pos = panel.graphics.mapFromScene(scene)
    qtbot.mouseClick(panel.graphics.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_lam_of_two_models_side_by_side(qtbot, window, dialogs, edsr_ckpt, small_png, tmp_path):
    c, s, view = window.controllers, window.session, window.lam_view
    key = _two_models(qtbot, window, edsr_ckpt, small_png)
    # the window: typed in (SR pixels)
    view.boxes["x"].setValue(40)
    view.boxes["y"].setValue(28)
    assert c.lam.lam_window() == Region(40, 28, 16, 16)
    view.run_button.click()
    assert view.cancel_button.isEnabled()
    wait_idle(qtbot, c)
    assert window.errors == [] and dialogs.warnings == []
    assert list(view.columns) == ["bicubic", key] and set(s.lam) == {"bicubic", key}
    assert view.progress.value() == 1000 and not view.cancel_button.isEnabled()
    out = s.output_hw()
    assert out == (96, 96)
    lr = s.lr.pixels
    for k in ("bicubic", key):
        res, col = s.lam[k].result, view.columns[k]
        # what the user sees: the overlay at the SR size, the core's rendering at 50 %
        assert col.overlay.array.shape == (96, 96, 3) and col.sr.array.shape == (96, 96, 3)
        np.testing.assert_array_equal(col.overlay.array, lam_overlay(res.map, lr, out, 0.5))
        for item in col.done_items:                   # the window outlined on both
            assert item.isVisible() and item.rect() == QRectF(40, 28, 16, 16)
        # the same numbers as the core computes directly
        direct = run_sync(lam(load_model(k).module, s.lr, Region(40, 28, 16, 16), size=out,
                              options=LAMOptions(with_sr=False)))
        np.testing.assert_allclose(res.map, direct.map, atol=1e-5)
        assert col.caption.text() == (f"DI {direct.diffusion_index:.2f}   "
                                      f"Gini {direct.gini:.4f}   · riemann 50 steps")
    assert "interpolation baseline" in view.columns["bicubic"].notes.text()
    # opacity: the pixels change, nothing is recomputed
    gen, col = c.lam.jobs.generation, view.columns[key]
    before = col.overlay.array.copy()
    view.alpha.setValue(80)
    assert view.alpha_label.text() == "80%" and c.lam.jobs.generation == gen and c.idle()
    res = s.lam[key].result
    assert not np.array_equal(before, col.overlay.array)
    np.testing.assert_array_equal(col.overlay.array, lam_overlay(res.map, lr, out, 0.8))
    # save: the overlay as shown with the window drawn in (as the CLI writes it), and the map
    dialogs.save_file = str(tmp_path / "edsr_lam.png")
    col.save_button.click()
    from core.io import load

    saved = load(tmp_path / "edsr_lam.png")
    assert saved.pixels.shape == (96, 96, 3)
    np.testing.assert_array_equal(np.rint(saved.pixels * 255).astype(np.uint8),
                                  lam_overlay(res.map, lr, out, 0.8, res.window))
    np.testing.assert_array_equal(np.load(tmp_path / "edsr_lam.npy"), res.map)
    # moving the window shows where the next run looks (dashed), the maps stay
    c.lam.set_lam_window(x=10)
    assert col.next_items[0].isVisible() and col.next_items[0].rect() == QRectF(10, 28, 16, 16)
    assert set(s.lam) == {"bicubic", key}
    # new inputs: the maps of the old LR are gone; another output size (95x95): the window
    # is back to the default
    c.run.set_scale(5.0)
    wait_idle(qtbot, c)
    assert s.lam == {} and list(view.columns) == [PICK] and s.output_hw() == (95, 95)
    assert c.lam.lam_window() == Region(40, 40, 16, 16)


def test_window_default_and_click_to_place(qtbot, window, edsr_ckpt, small_png):
    c, view = window.controllers, window.lam_view
    _two_models(qtbot, window, edsr_ckpt, small_png)
    assert c.lam.lam_window() == Region(40, 40, 16, 16)           # the image's centre
    c.metrics.set_roi((10, 20, 40, 30))
    assert c.lam.lam_window() == Region(22, 27, 16, 16)           # the region's centre
    assert (view.boxes["x"].value(), view.boxes["y"].value()) == (22, 27)
    panel = view.columns[PICK].sr
    assert panel.array is not None and panel.array.shape[:2] == (96, 96)
    _click(qtbot, panel, 70.5, 20.5)
    win = c.lam.lam_window()
    assert abs(win.x + 8 - 70.5) <= 1 and abs(win.y + 8 - 20.5) <= 1, win
    assert (view.boxes["x"].value(), view.boxes["y"].value()) == (win.x, win.y)
    _click(qtbot, panel, 95, 95)                             # clamped into the image
    assert c.lam.lam_window() == Region(80, 80, 16, 16)
    view.centre_button.click()
    assert c.lam.lam_window() == Region(22, 27, 16, 16)


def test_the_path_rule_reaches_the_computation_and_the_caption(qtbot, window, dialogs,
                                                              edsr_ckpt, small_png):
    c, s, view = window.controllers, window.session, window.lam_view
    key = _two_models(qtbot, window, edsr_ckpt, small_png)
    window.model_list.set_checked([key])
    wait_idle(qtbot, c)
    assert view.rule.currentData() == "riemann" and view.steps.value() == 0   # the defaults
    view.rule.setCurrentIndex(view.rule.findData("gauss"))
    view.steps.setValue(6)
    assert c.lam.lam_rule() == ("gauss", 6)
    view.run_button.click()
    wait_idle(qtbot, c)
    assert window.errors == [] and list(s.lam) == [key]
    res, col = s.lam[key].result, view.columns[key]
    assert (res.rule, res.steps) == ("gauss", 6)
    assert res.provenance is not None and "LAM gauss 6 steps" in res.provenance.note()
    assert col.caption.text().endswith("· gauss 6 steps")
    assert "gauss 6 path steps" in col.sr.title.toolTip()
    direct = run_sync(lam(load_model(key).module, s.lr, res.window, size=s.output_hw(),
                          options=LAMOptions(with_sr=False, rule="gauss", steps=6)))
    np.testing.assert_allclose(res.map, direct.map, atol=1e-5)
    # the controller's choice shows in the boxes; a choice the core refuses is one clear line
    c.lam.set_lam_rule("adaptive", 7)
    assert view.rule.currentData() == "adaptive" and view.steps.value() == 7
    assert not c.lam.run_lam() and ">= 15" in window.errors[-1]
    c.lam.set_lam_rule("adaptive", None)
    assert view.steps.value() == 0 and c.lam.lam_rule() == ("adaptive", None)


def test_cancel_mid_run_leaves_no_result(qtbot, window, dialogs):
    c, s, view = window.controllers, window.session, window.lam_view
    assert c.inputs.open_sample("astronaut")
    c.inputs.set_reference("degrade")
    c.run.set_scale(4.0)
    window.model_list.set_checked(["nearest"])     # 128x128 LR: about a second of LAM
    wait_idle(qtbot, c)
    seen: list[float] = []
    c.lam.jobs.progress.connect(lambda f, m: seen.append(f))
    assert c.lam.run_lam()
    qtbot.waitUntil(lambda: any(0 < f < 1 for f in seen), timeout=10000)
    view.cancel_button.click()
    assert not view.cancel_button.isEnabled() and view.status.text() == "cancelled"
    qtbot.wait(300)                                # anything in flight arrives and is dropped
    wait_idle(qtbot, c)
    assert s.lam == {} and list(view.columns) == [PICK]
    assert dialogs.warnings == [] and window.errors == []


def test_lam_needs_an_image_and_a_model(qtbot, window, dialogs):
    c = window.controllers
    assert not c.lam.run_lam()
    assert "open an image" in window.errors[-1]
    assert c.inputs.open_sample("astronaut")
    window.model_list.set_checked([])
    wait_idle(qtbot, c)
    assert not c.lam.run_lam() and "tick at least one model" in window.errors[-1]
