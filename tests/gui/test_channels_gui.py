"""Channel data in the window: variable picker, channel browser, range table, SR of every
channel (replicate / groups), NMSE against a ground truth, saving in the input's format."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QDialog

from .util import wait_idle


@pytest.fixture
def picker(monkeypatch):
    """The variable dialog accepts at once, with ``picker["var"]`` / ``picker["axes"]`` chosen;
    ``picker["seen"]`` lists the variables it offered."""
    from gui.dialogs.channel_options import ChannelOptionsDialog

    state = {"var": None, "axes": None, "complex": None, "seen": [], "cancel": False}

    def exec_(self):
        state["seen"].append([i.name for i in self.infos])
        if state["var"]:
            self.select(state["var"])
        if state["axes"]:
            self.axes.setText(state["axes"])
        if state["complex"]:
            self.complex_mode.setCurrentIndex(self.complex_mode.findData(state["complex"]))
        return QDialog.DialogCode.Rejected if state["cancel"] else QDialog.DialogCode.Accepted

    monkeypatch.setattr(ChannelOptionsDialog, "exec", exec_)
    return state


@pytest.fixture(scope="module")
def stack_npz(tmp_path_factory):
    """``H`` (20 x 24 x 5 real, channels of very different ranges) and a decoy ``note``."""
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:20, 0:24]
    base = np.sin(x / 3.0)[..., None] * np.cos(y / 4.0)[..., None]
    h = (base + 0.1 * rng.standard_normal((20, 24, 5))) * np.array([1, 10, 100, 1e3, 1e-3])
    path = tmp_path_factory.mktemp("channels") / "stack.npz"
    np.savez(path, H=h.astype(np.float32), note=np.arange(4.0), small=np.ones((30, 30, 2)))
    return path, h.astype(np.float32)


def test_picker_browser_and_range_table(qtbot, window, stack_npz, picker):
    from core.channels import channel_histogram, channel_stats, channel_view
    from core.app.channels import stats_cells

    path, h = stack_npz
    c, s = window.controllers, window.session
    picker["var"] = "H"
    assert c.inputs.open_input(path)
    assert picker["seen"] == [["H", "note", "small"]]
    assert s.source.kind == "channels" and s.source.shape == (20, 24, 5)
    assert s.source.meta["var"] == "H" and s.state.layout["channel_open"]["var"] == "H"
    assert window.channel_box.isVisibleTo(window) and "'H'" in window.channel_box.info.text()

    browser = window.channel_browser
    window.tabs.setCurrentWidget(browser)
    qtbot.waitUntil(lambda: browser.frame is not None and browser.table.rowCount() == 5,
                    timeout=10000)
    browser.set_channel(3)
    qtbot.waitUntil(lambda: browser.frame.channel == 3, timeout=10000)
    lr = browser.images["LR"].image
    np.testing.assert_allclose(lr, channel_view(s.lr, 3, "value"), rtol=1e-5)
    np.testing.assert_allclose(lr, h[..., 3], rtol=1e-4, atol=1e-6)  # the file's own units
    lo, hi = browser.bar_item.levels()
    assert lo == pytest.approx(h[..., 3].min(), rel=1e-4)
    assert hi == pytest.approx(h[..., 3].max(), rel=1e-4)
    counts, _ = channel_histogram(s.lr, 3)
    np.testing.assert_array_equal(browser.hist_curve.yData, counts)
    assert s.state.layout["channel"] == 3                # the compare grid follows

    rows = channel_stats(s.source)
    for r, st in enumerate(rows):
        cells = [browser.table.item(r, col).text() for col in range(browser.table.columnCount())]
        assert cells == stats_cells(st)
    assert "differ by a factor" in browser.spread.text()


def test_sr_of_every_channel_scores_and_save(qtbot, window, stack_npz, picker, tmp_path,
                                             edsr_ckpt):
    from core.channels import channel_scores

    path, h = stack_npz
    c, s = window.controllers, window.session
    picker["var"] = "H"
    assert c.inputs.open_input(path)
    c.inputs.set_reference("degrade")
    c.run.set_scale(2.0)
    key = c.models.add_checkpoint(edsr_ckpt)                       # an RGB model: 3 input channels
    window.model_list.set_checked(["bicubic", key])
    c.channels.set_rgb_mode("groups")
    qtbot.waitUntil(lambda: key in c.channels.plans, timeout=10000)
    assert "groups of 3" in c.channels.plans[key]
    assert "groups of 3" in window.channel_box.plan.text()
    wait_idle(qtbot, c)
    c.run.run()
    wait_idle(qtbot, c)
    assert set(s.results) == {"bicubic", key}, window.errors
    assert s.lr.shape == (10, 12, 5)
    for r in s.results.values():
        assert r.image.shape == (20, 24, 5)
    assert "groups of 3" in " ".join(s.results[key].result.notes)

    scores = channel_scores(s.results["bicubic"].image, s.hr, shave=s.shave())
    t = window.metrics
    assert t.text_for("bicubic", "NMSE image (dB)") == f"{scores.nmse_db_all:.2f}"
    assert t.text_for("bicubic", "PSNR image (dB)") == f"{scores.psnr_all:.2f}"
    window.tabs.setCurrentWidget(window.channel_browser)
    qtbot.waitUntil(lambda: len(window.channel_browser.nmse.listDataItems()) == 2, timeout=5000)

    out = tmp_path / "stack_x2.npz"                          # the input's format and names
    assert c.inputs.save_result("bicubic", out)
    with np.load(out) as z:
        assert set(z.files) == {"H", "note", "small"}
        assert z["H"].shape == (20, 24, 5) and z["H"].dtype == np.float32


def test_attached_ground_truth_and_complex_views(qtbot, window, tmp_path, picker):
    from core.channels import multipath_channel

    c, s = window.controllers, window.session
    hr = multipath_channel(32, 24, 3, seed=2).h
    lr = hr[::2, ::2]
    np.savez(tmp_path / "lr.npz", csi=lr)
    np.savez(tmp_path / "gt.npz", csi=hr)
    picker["complex"] = "mag_phase"
    assert c.inputs.open_input(tmp_path / "lr.npz")
    assert s.source.channels == 6                            # magnitude and phase of 3
    assert c.inputs.attach_hr(tmp_path / "gt.npz")                  # read the same way, no question
    window.model_list.set_checked(["bicubic"])
    wait_idle(qtbot, c)
    assert len(picker["seen"]) == 1 and s.hr.channels == 6
    c.run.run()
    wait_idle(qtbot, c)
    assert s.results["bicubic"].image.shape == (32, 24, 6)
    assert window.metrics.text_for("bicubic", "NMSE image (dB)") not in ("", "-")
    browser = window.channel_browser
    window.tabs.setCurrentWidget(browser)
    assert [browser.part.itemData(i) for i in range(browser.part.count())] == \
        ["mag", "mag_db", "phase", "real", "imag"]
    browser.part.setCurrentIndex(2)
    browser.part.activated.emit(2)
    qtbot.waitUntil(lambda: browser.frame is not None and browser.frame.part == "phase",
                    timeout=5000)
    np.testing.assert_allclose(browser.images["GT"].image, np.angle(hr[..., 0]), atol=1e-5)
    assert browser.cmap.currentData() == "CET-C6"            # a cyclic map for phase


def test_bad_channel_inputs_give_messages(qtbot, window, tmp_path, picker, dialogs):
    from scipy.io import savemat

    c, s = window.controllers, window.session
    savemat(tmp_path / "text.mat", {"name": "no numbers here"})
    assert not c.inputs.open_input(tmp_path / "text.mat")
    assert "no numeric array" in dialogs.warnings[-1]
    np.save(tmp_path / "five.npy", np.zeros((2, 3, 4, 5, 6), np.complex64))
    assert not c.inputs.open_input(tmp_path / "five.npy")
    assert "5 dimensions" in dialogs.warnings[-1] or "2 to 4" in dialogs.warnings[-1]
    np.savez(tmp_path / "flat.npz", v=np.ones((1, 40, 30)))
    picker["axes"] = "HWC"                                   # H would have 1 pixel
    assert not c.inputs.open_input(tmp_path / "flat.npz")
    assert "size 1" in dialogs.warnings[-1]
    picker["axes"], picker["cancel"] = None, True
    assert not c.inputs.open_input(tmp_path / "flat.npz")            # cancelled: nothing opened
    assert s.source is None
    picker["cancel"], picker["axes"] = False, "CHW"           # the default HWC has H = 1
    assert c.inputs.open_input(tmp_path / "flat.npz")        # the window still works
    assert s.source.shape == (40, 30, 1)


def test_session_reopens_channel_data_without_asking(qtbot, window, stack_npz, picker,
                                                     tmp_path):
    from gui.main_window import MainWindow

    path, _ = stack_npz
    picker["var"], picker["axes"] = "small", "HWC"
    assert window.controllers.inputs.open_input(path)
    window.controllers.channels.set_rgb_mode("groups")
    assert window.save_session(tmp_path / "c.json")
    other = MainWindow()
    qtbot.addWidget(other)
    try:
        assert other.controllers.inputs.load_session(tmp_path / "c.json")
        assert len(picker["seen"]) == 1                      # the saved choice, not a dialog
        src = other.session.source
        assert src.meta["var"] == "small" and src.shape == (30, 30, 2)
        assert other.controllers.channels.rgb_mode() == "groups"
    finally:
        other.controllers.shutdown()
