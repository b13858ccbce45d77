"""The main comparison workflow, checked on what the user sees: panels, zoom, ROI, table."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF

from core.data import Region
from core.metrics import psnr, region_metrics, ssim
from core.app.display import fmt_metric
from gui.views.compare_grid import value_text
from tests.gui.util import degrade_and_run, wait_idle


def test_sample_bicubic_and_liif_views_and_metrics(qtbot, window, dialogs, liif_ckpt):
    c, s = window.controllers, window.session
    # "Add checkpoint..." through the menu's dialog: detected, listed, ticked, remembered
    dialogs.open_file = str(liif_ckpt)
    window.add_checkpoint_dialog()
    key = str(liif_ckpt.resolve())
    assert key in s.catalog and s.catalog[key].arch == "liif"
    assert key in window.model_list.keys() and key in window.model_list.checked()
    assert key in window.settings.checkpoints

    degrade_and_run(qtbot, window, ["bicubic", key], scale=4)
    panels = window.grid.panels
    assert panels["LR"].array.shape == (128, 128, 3)          # degraded x4 from 512x512
    assert panels["LR"].item.transform().m11() == pytest.approx(4.0)  # one unit = one HR px
    for k in ("bicubic", key, "HR"):
        assert panels[k].array.shape == (512, 512, 3)
        assert panels[k].array.dtype == np.uint8
    assert panels[f"diff:{key}"].array.shape == (512, 512)
    # the |diff| maps share one colour scale
    lv = [panels[f"diff:{k}"].item.getLevels() for k in ("bicubic", key)]
    assert np.allclose(lv[0], lv[1]) and lv[0][1] > 0
    assert "tiny_liif" in panels[key].title.text()
    # the displayed SR is the engine's result
    sr = s.results["bicubic"].image
    np.testing.assert_array_equal(panels["bicubic"].array,
                                  np.clip(sr.pixels * 255 + 0.5, 0, 255).astype(np.uint8))

    # type the ROI in exactly; the table must equal core.metrics on that region
    window.roi_box.set_value((130, 150, 100, 90))
    window.roi_box.apply_button.click()
    wait_idle(qtbot, c)
    assert s.state.roi == (130, 150, 100, 90)
    assert all(p.roi_rect() == (130, 150, 100, 90) for p in panels.values()
               if p.array is not None)
    hr = s.hr.pixels
    for k in ("bicubic", key):
        px = s.results[k].image.pixels
        r = region_metrics(px, hr, Region(130, 150, 100, 90), crop_border=4, test_y_channel=True)
        label = s.label(k)
        assert window.metrics.text_for(label, "PSNR ROI (dB)") == fmt_metric(r["psnr"], "psnr")
        assert window.metrics.text_for(label, "SSIM ROI") == fmt_metric(r["ssim"], "ssim")
        full = psnr(px, hr, crop_border=4, test_y_channel=True)
        assert window.metrics.text_for(label, "PSNR image (dB)") == fmt_metric(full, "psnr")
        full_s = ssim(px, hr, crop_border=4, test_y_channel=True)
        assert window.metrics.text_for(label, "SSIM image") == fmt_metric(full_s, "ssim")

    # RGB, shave 0: the table follows
    window.metrics.channel.setCurrentIndex(1)
    window.metrics.shave.setValue(0)
    wait_idle(qtbot, c)
    r = region_metrics(s.results["bicubic"].image.pixels, hr, Region(130, 150, 100, 90))
    assert window.metrics.text_for("bicubic", "PSNR ROI (dB)") == fmt_metric(r["psnr"], "psnr")


def test_linked_zoom_in_hr_coordinates(qtbot, window):
    degrade_and_run(qtbot, window, ["bicubic", "nearest"], scale=4)
    panels = window.grid.panels
    panels["nearest"].vb.setRange(QRectF(100, 120, 64, 64), padding=0)  # zoom one view
    qtbot.wait(50)
    ref = panels["nearest"].vb.viewRect()
    assert ref.width() < 200
    for key, p in panels.items():
        r = p.vb.viewRect()
        assert r.center().x() == pytest.approx(ref.center().x(), abs=1.0), key
        assert r.center().y() == pytest.approx(ref.center().y(), abs=1.0), key
        assert r.width() == pytest.approx(ref.width(), rel=0.05), key
    # the LR view shows the same HR region: its pixel under the centre is HR px / 4
    centre = ref.center()
    col, row = panels["LR"].pixel_at(centre)
    assert (col, row) == (int(centre.x() // 4), int(centre.y() // 4))
    assert window.swipe.vb.viewRect().center().x() == pytest.approx(centre.x(), abs=1.0)
    window.grid.fit()
    qtbot.wait(20)
    assert panels["HR"].vb.viewRect().contains(QRectF(0, 0, 512, 512))


def test_roi_drawn_on_a_view_and_moved(qtbot, window):
    degrade_and_run(qtbot, window, ["bicubic"], scale=2)
    c, s = window.controllers, window.session
    window.roi_box.draw_button.click()              # Draw mode on every view
    assert window.grid.panels["HR"].vb.draw_mode
    window.grid.panels["HR"].vb.roiDrawn.emit(QRectF(QPointF(40.4, 60.2), QPointF(120.7, 99.0)))
    wait_idle(qtbot, c)
    assert s.state.roi == (40, 60, 81, 39)
    assert window.roi_box.value() == (40, 60, 81, 39)
    assert window.grid.panels["LR"].roi_rect() == (40, 60, 81, 39)
    # Draw region is one-shot: after one region, a drag pans again
    assert not any(p.vb.draw_mode for p in window.grid.panels.values())
    assert not window.roi_box.draw_button.isChecked() and not window.draw_roi_action.isChecked()
    assert window.metrics.text_for("bicubic", "PSNR ROI (dB)") not in ("", "-")
    # drag the rectangle on another view: all views and the session follow
    roi = window.grid.panels["bicubic"].roi
    roi.setPos((50, 70), finish=True)
    wait_idle(qtbot, c)
    assert s.state.roi == (50, 70, 81, 39)
    assert window.grid.panels["HR"].roi_rect() == (50, 70, 81, 39)


def test_pixel_readout_in_file_units(qtbot, window):
    degrade_and_run(qtbot, window, ["bicubic"], scale=4)
    s = window.session
    lr_panel = window.grid.panels["LR"]
    lr_panel.vb.setRange(QRectF(0, 0, 512, 512), padding=0)
    qtbot.wait(20)
    scene = lr_panel.vb.mapViewToScene(QPointF(41.0, 83.0))   # HR px (41, 83) = LR px (10, 20)
    with qtbot.waitSignal(window.grid.hovered, timeout=1000) as blocker:
        lr_panel._on_mouse(scene)
    text = blocker.args[0]
    expected = s.lr.units.to_file(s.lr.pixels[20:21, 10:11])[0, 0]
    assert "(10, 20)" in text and " ".join(str(int(v)) for v in expected) in text
    assert "uint8" in text and window.readout.text() == text
    assert value_text(s.hr, 3, 4).startswith("(3, 4) = ")


def test_swipe_between_two_views(qtbot, window):
    degrade_and_run(qtbot, window, ["bicubic", "nearest"], scale=4)
    sw = window.swipe
    window.tabs.setCurrentIndex(1)
    sw.set_pair("LR", "bicubic")
    sw.slider.setValue(250)                   # divider at x = 128 HR px
    assert sw.item_a.image.shape == (128, 128, 3)
    assert sw.item_b.image.shape == (512, 384, 3)
    assert sw.item_b.transform().dx() == pytest.approx(128)
    assert sw.line.value() == pytest.approx(128)
    sw.set_pair("nearest", "HR")
    sw.line.setValue(256)                     # dragging the divider moves the slider
    assert sw.slider.value() == 500 and sw.item_b.image.shape == (512, 256, 3)
    assert window.session.state.layout["swipe"] == ["nearest", "HR"]


def test_no_reference_shows_messages_not_black_panes(qtbot, window, small_png):
    c, s = window.controllers, window.session
    assert c.inputs.open_input(small_png)
    wait_idle(qtbot, c)
    c.run.set_scale(2.5)
    window.model_list.set_checked(["bicubic"])
    assert "not run yet" in window.grid.panels["bicubic"].placeholder.text()
    c.run.run()
    wait_idle(qtbot, c)
    assert s.results["bicubic"].image.shape == (240, 240, 3)   # 96 * 2.5
    assert "HR" not in window.grid.panels
    assert "attach an HR" in window.metrics.rows()[0][0]
    # exact output size instead of a scale
    window.run_box.by_size.setChecked(True)
    window.run_box.width_box.setValue(150)
    window.run_box.height_box.setValue(100)
    assert s.state.size == (100, 150)
    c.run.run()
    wait_idle(qtbot, c)
    assert window.grid.panels["bicubic"].array.shape == (100, 150, 3)
    assert math.isclose(window.grid.panels["LR"].item.transform().m11(), 150 / 96)


def test_bundled_liif_listed_with_its_card_and_ticked_by_default(qtbot, monkeypatch, tmp_path,
                                                                 liif_ckpt):
    """Once resources/weights holds a LIIF (here: a stand-in), it is offered and used."""
    import shutil

    import core.models.catalog as registry
    from gui.main_window import MainWindow

    shutil.copy(liif_ckpt, tmp_path / "liif.pth")
    (tmp_path / "liif.md").write_text("# LIIF\nLIIF, EDSR-baseline encoder, trained here.\n")
    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    w = MainWindow()
    qtbot.addWidget(w)
    try:
        assert w.session.state.models == ["bicubic", "liif"]
        row = w.model_list.keys().index("liif")
        tip = w.model_list.list.item(row).toolTip()
        assert "trained here" in tip and "model card" in tip
        degrade_and_run(qtbot, w, ["bicubic", "liif"], scale=4)
        assert w.grid.panels["liif"].array.shape == (512, 512, 3)
        assert w.metrics.text_for("liif", "PSNR image (dB)") not in ("", "-")
    finally:
        w.controllers.shutdown()


def test_region_belongs_to_its_image(qtbot, window, small_png):
    """A new image keeps the region only if it fits entirely; it is never clipped."""
    c, s = window.controllers, window.session
    degrade_and_run(qtbot, window, ["bicubic"], scale=4)          # 512 x 512
    c.metrics.set_roi((10, 10, 20, 20))
    assert c.inputs.open_input(small_png)                         # 96 x 96, still degrade x4
    wait_idle(qtbot, c)
    assert s.state.roi == (10, 10, 20, 20)                        # fits: kept
    c.inputs.open_sample("astronaut")
    wait_idle(qtbot, c)
    c.metrics.set_roi((50, 10, 60, 30))
    assert c.inputs.open_input(small_png)
    wait_idle(qtbot, c)
    assert s.state.roi is None and s.roi_region() is None         # not clipped to 46 wide
    assert "cleared" in window.statusBar().currentMessage()
    # a typed region that does not fit is refused, not clipped
    window.roi_box.set_value((50, 10, 60, 30))
    window.roi_box.apply_button.click()
    assert s.state.roi is None and "does not fit" in window.statusBar().currentMessage()
