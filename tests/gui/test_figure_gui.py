"""Export figure from the compare grid: the crop labels are the metrics table's ROI values."""

from __future__ import annotations

import re

from PIL import Image

from gui.dialogs import FigureDialog

from .util import wait_idle


def _svg_texts(path) -> list[str]:
    return [re.sub(r"\s+", " ", t).strip()
            for t in re.findall(r"<text[^>]*>(.*?)</text>", path.read_text(), re.S)]


def test_figure_labels_equal_the_metrics_table(qtbot, window, small_png, dialogs, tmp_path):
    c = window.controllers
    assert window.figure_dialog() is None            # nothing open: it says why
    assert "open an image first" in window.errors[-1]
    assert c.inputs.open_input(small_png)
    c.inputs.set_reference("degrade")
    c.run.set_scale(2.0)
    window.model_list.set_checked(["nearest", "bicubic"])
    wait_idle(qtbot, c)
    window.run_box.run_button.click()
    wait_idle(qtbot, c)
    assert window.figure_dialog() is None
    assert "draw a region" in window.errors[-1]
    assert c.metrics.set_roi((20, 24, 40, 32))
    wait_idle(qtbot, c)

    with qtbot.waitSignal(window.grid.figure_requested):
        window.grid.figure_button.click()
    dlg = window.findChildren(FigureDialog)[0]
    assert dlg.keys() == ["nearest", "bicubic"]
    dlg.second.setText("50,50,30,30")
    dlg.layout_box.setCurrentText("two rows")
    out = tmp_path / "fig.svg"
    dialogs.save_file = str(out)
    dlg.accept()
    wait_idle(qtbot, c)                                  # written on a worker
    assert out.exists(), window.errors
    texts = _svg_texts(out)
    for model in ("nearest", "bicubic"):
        psnr = window.metrics.text_for(model, "PSNR ROI (dB)")
        ssim = window.metrics.text_for(model, "SSIM ROI")
        assert psnr not in ("", "-") and ssim not in ("", "-")
        assert f"{psnr} dB / {ssim}" in texts, (texts, psnr, ssim)
    assert any("PSNR/SSIM on Y (BT.601), shave 2" in t for t in texts)
    assert any("LR: MATLAB bicubic x2" in t for t in texts)

    png = tmp_path / "fig.png"                         # the same as PNG at 120 dpi
    dlg2 = window.figure_dialog()
    dlg2.dpi.setValue(120)
    dialogs.save_file = str(png)
    dlg2.accept()
    wait_idle(qtbot, c)
    with Image.open(png) as im:
        assert round(im.info["dpi"][0]) == 120 and im.width == round(7 * 120)
