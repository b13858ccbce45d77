"""Normal maps in the window: conventions, split / naive SR in the grid, angular-error metrics,
loader warnings and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from .normal_maps import save_dome
from .util import wait_idle


@pytest.fixture(scope="module")
def dome_png(tmp_path_factory):
    path = tmp_path_factory.mktemp("normals") / "dome.png"
    save_dome(path, 48)
    return path


def test_split_sr_in_the_grid_and_angular_metrics(qtbot, window, dome_png, tmp_path):
    from core.io.normals import load_normal_map
    from core.models import default_model_name
    from core.normals import angular_error_stats

    c, s = window.controllers, window.session
    assert c.inputs.open_input(dome_png, "normals")
    box = window.normals_box
    assert box.isVisibleTo(window) and not window.channel_box.isVisibleTo(window)
    # the model pickers start on the default model
    assert box.shape_model.currentData() is None and default_model_name() in \
        box.shape_model.currentText()
    box.sigma.setValue(2.0)
    c.normals.set_options(shape_model="bicubic", detail_model="bicubic")
    assert c.normals.options()["sigma"] == 2.0
    c.inputs.set_reference("degrade")
    c.run.set_scale(2.0)
    c.metrics.set_roi((8, 10, 20, 16))
    wait_idle(qtbot, c)
    window.run_box.run_button.click()
    wait_idle(qtbot, c)
    assert list(s.results) == ["LR bicubic", "SR (split)", "SR (naive)"], window.errors
    assert set(window.grid.panels) >= {"LR", "SR (split)", "SR (naive)", "HR",
                                       "diff:SR (split)"}
    split = s.results["SR (split)"].normals
    assert split.method == "split" and split.sigma == 2.0
    assert split.normals.shape == (48, 48)

    gt = c.normals.gt()
    table = window.metrics
    whole = angular_error_stats(split.normals, gt)
    roi = angular_error_stats(split.normals, gt, region=s.roi_region())
    for region, st in (("image", whole), ("ROI", roi)):
        assert table.text_for("SR (split)", "Mean (°)", region) == f"{st.mean:.3f}"
        assert table.text_for("SR (split)", "Median (°)", region) == f"{st.median:.3f}"
        assert table.text_for("SR (split)", "< 11.25° (%)", region) == f"{st.under_11_25:.2f}"
        assert table.text_for("SR (split)", "Pixels", region) == str(st.pixels)
    assert not table.channel.isVisibleTo(window)       # Y / RGB means nothing here

    out = tmp_path / "dome_split.png"                  # saved as a 16-bit normal map
    assert c.inputs.save_result("SR (split)", out)
    back = load_normal_map(out)
    assert back.meta["bit_depth"] == 16
    assert angular_error_stats(back, split.normals).mean < 0.05   # 16-bit rounding


def test_convention_and_mask_options(qtbot, window, dome_png, tmp_path, dialogs):
    from core.io import save
    from core.data import ImageData, Units

    c = window.controllers
    assert c.inputs.open_input(dome_png, "normals")
    up = c.normals.source_normals().normals.copy()
    window.normals_box.y_up.setCurrentIndex(1)          # DirectX: green is down
    window.normals_box.y_up.activated.emit(1)
    assert not c.normals.options()["y_up"]
    np.testing.assert_allclose(c.normals.source_normals().normals[..., 1], -up[..., 1], atol=1e-6)
    # remembered for the next normal map (settings)
    assert str(c.settings.value("normals/y_up")).lower() in ("false", "0")

    small = tmp_path / "mask_small.png"                  # a mask of the wrong size
    save(ImageData(np.ones((20, 30, 1), np.float32), "gray", Units.for_dtype("uint8")), small)
    assert not c.normals.set_options(mask=str(small))
    assert "mask" in dialogs.warnings[-1] and "30 x 20" in dialogs.warnings[-1]
    assert c.normals.options()["mask"] is None           # refused: as it was
    half = np.zeros((48, 48, 1), np.float32)
    half[:, :24] = 1.0
    good = tmp_path / "mask_half.png"
    save(ImageData(half, "gray", Units.for_dtype("uint8")), good)
    assert c.normals.set_options(mask=str(good))
    assert not c.normals.source_normals().mask[:, 24:].any()
    assert "mask_half.png" in window.normals_box.mask_label.text()


def test_photo_opened_as_normals_offers_an_image(qtbot, window, small_png, dialogs):
    c, s = window.controllers, window.session
    dialogs.answer = QMessageBox.StandardButton.Yes
    assert c.inputs.open_input(small_png, "normals")
    assert "Open it as an ordinary image" in dialogs.questions[-1]
    assert s.source.kind == "rgb" and s.state.kind is None
    dialogs.answer = QMessageBox.StandardButton.No     # keep it as normals: warned
    assert c.inputs.open_input(small_png, "normals")
    assert s.source.kind == "normals"
    assert "ordinary image" in window.normals_box.warnings.text()
    assert window.normals_box.warnings.isVisibleTo(window)


def test_bad_normal_maps_give_messages(qtbot, window, dome_png, tmp_path, dialogs):
    from core.data import ImageData, Units
    from core.io import save

    c, s = window.controllers, window.session
    zero = tmp_path / "zero.png"
    save(ImageData(np.full((16, 16, 3), 0.5, np.float32), "rgb", Units.for_dtype("uint8")), zero)
    assert not c.inputs.open_input(zero, "normals")
    assert "no usable normal" in dialogs.warnings[-1]
    assert s.source is None
    nan = tmp_path / "nan.npy"
    a = np.zeros((16, 16, 3), np.float32)
    a[..., 2] = 1.0
    a[3, 4] = np.nan
    np.save(nan, a)
    assert c.inputs.open_input(nan, "normals")                  # opens, with a warning
    assert any("NaN" in w for w in c.normals.source_warnings())
    assert c.inputs.open_input(dome_png, "normals")             # and the window keeps working
    assert c.run.run()
    wait_idle(qtbot, c)
    assert s.results


def test_session_keeps_the_normal_map_options(qtbot, window, dome_png, tmp_path):
    from gui.main_window import MainWindow

    c = window.controllers
    assert c.inputs.open_input(dome_png, "normals")
    c.normals.set_options(y_up=False, sigma=5.0, methods=["split"])
    c.surface.set_surface_options(method="dct", color="normals")
    assert window.save_session(tmp_path / "n.json")
    other = MainWindow()
    qtbot.addWidget(other)
    try:
        oc = other.controllers
        assert oc.inputs.load_session(tmp_path / "n.json")
        o = oc.normals.options()
        assert (o["y_up"], o["sigma"], o["methods"]) == (False, 5.0, ["split"])
        assert oc.surface.surface_options()["method"] == "dct"
        np.testing.assert_allclose(oc.normals.source_normals().normals,
                                   c.normals.source_normals().normals)
        assert list(other.grid.keys()) == ["LR", "SR (split)"]
    finally:
        other.controllers.shutdown()


def test_normal_map_box_says_and_uses_the_ticked_models(qtbot, window, dome_png, edsr_ckpt):
    """With a normal map open, the box says which models run for the shape and the detail
    part; ticking a model in the Models list makes the parts run with it (not LIIF)."""
    c, s = window.controllers, window.session
    assert c.inputs.open_input(dome_png, "normals")
    c.inputs.set_reference("degrade")
    c.run.set_scale(2.0)
    key = c.models.add_checkpoint(edsr_ckpt)
    window.model_list.set_checked(["bicubic", key])          # the user picks the EDSR
    wait_idle(qtbot, c)
    box, label = window.normals_box, s.label(key)
    assert f"shape with {label}" in box.plan.text() and f"detail with {label}" in box.plan.text()
    assert label in box.shape_model.currentText()
    c.normals.set_options(methods=["split"])
    window.run_box.run_button.click()
    wait_idle(qtbot, c)
    assert s.results["SR (split)"].normals.models == (label, label), window.errors
    # a model picked in the box wins over the ticks, and the box says so
    c.normals.set_options(detail_model="bicubic")
    assert "detail with bicubic" in box.plan.text() and f"shape with {label}" in box.plan.text()
