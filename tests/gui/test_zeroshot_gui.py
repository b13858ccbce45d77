"""The Zero-shot tab: ZSSR on a tiny image with its live loss curve, the result in the window's
result views, and Cancel; MZSR with tiny meta-weights (bundled or picked), its refusals of
inputs it cannot take, and Cancel."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.io import save
from core.samples import sample_image
from core.app.zeroshot import ZSSR_KEY, curve_point, mzsr_key
from tests.gui.util import wait_idle


def _open_tiny(qtbot, window, tmp_path) -> None:
    """A 32x32 crop degraded x2 (16x16 LR), the Zero-shot tab shown."""
    img = sample_image("astronaut")
    path = tmp_path / "tiny.png"
    save(img.with_pixels(np.ascontiguousarray(img.pixels[60:92, 220:252])), path)
    c = window.controllers
    assert c.inputs.open_input(path)
    c.inputs.set_reference("degrade")
    c.run.set_scale(2.0)
    window.tabs.setCurrentWidget(window.zeroshot)
    wait_idle(qtbot, c)
    assert c.session.lr is not None and c.session.lr.width == 16


def _record(window) -> list:
    steps: list = []
    window.controllers.zeroshot.step.connect(steps.append)
    return steps


def test_zssr_curve_live_and_result(qtbot, window, tmp_path):
    c, view = window.controllers, window.zeroshot
    _open_tiny(qtbot, window, tmp_path)
    assert view.scale.value() == 2.0   # follows the window's scale
    view.iters.setValue(30)
    steps = _record(window)
    view.run_button.click()
    assert view.cancel_button.isEnabled()
    wait_idle(qtbot, c, timeout=60000)
    assert window.errors == [], window.errors
    points = [curve_point(p) for p in steps if curve_point(p) is not None]
    assert len(points) == 3                       # iterations 10, 20, 30
    x, y = view.curve.getData()
    assert len(view.xs) == len(points) == len(x)
    assert view.xs == [10, 20, 30] and all(math.isfinite(v) and v > 0 for v in view.losses)
    assert view.plot.getPlotItem().ctrl.logYCheck.isChecked()
    assert view.drops == []                       # no lr drop in 30 iterations
    assert view.progress.value() == 1000 and not view.cancel_button.isEnabled()
    res = c.session.results[ZSSR_KEY]             # in the normal result views
    assert res.image.pixels.shape == (32, 32, 3) and res.diff is not None
    assert ZSSR_KEY in [r.model for r in c.session.metrics]


def test_zssr_lr_drop_line_and_cancel(qtbot, window, tmp_path):
    c, view = window.controllers, window.zeroshot
    _open_tiny(qtbot, window, tmp_path)
    # the curve draws a line where the learning rate changes
    from core.zeroshot import ZSSRProgress

    view.clear_curve()
    for it, lr in ((10, 1e-3), (20, 1e-3), (30, 1e-4)):
        view.add_step(ZSSRProgress(it, 100, "", loss=0.1, lr=lr))
    assert len(view.drops) == 1 and view.drops[0].value() == 30
    # Cancel stops a long run: no result, the buttons and status say so
    view.iters.setValue(100000)
    steps = _record(window)
    view.run_button.click()
    assert view.xs == [] and view.drops == []     # a new run starts a new curve
    qtbot.waitUntil(lambda: len(view.xs) >= 2, timeout=60000)
    view.cancel_button.click()
    assert not view.cancel_button.isEnabled() and view.status.text() == "cancelled"
    wait_idle(qtbot, c)
    n = len(view.xs)
    qtbot.wait(300)
    assert len(view.xs) == n and n < 100          # nothing arrives after Cancel
    assert ZSSR_KEY not in c.session.results and window.errors == []
    qtbot.waitUntil(c.pool.settled, timeout=10000)
    assert len(steps) >= n                        # the worker has stopped


# -- MZSR ---------------------------------------------------------------------------------------
def _tiny_mzsr(path):
    from core.zeroshot import ZSSRNet
    from core.zeroshot.mzsr import MZSRConfig, save_mzsr

    return save_mzsr(ZSSRNet(3, 8, 3), MZSRConfig(width=8, depth=3), path)


@pytest.fixture
def bundled(monkeypatch, tmp_path):
    """Tiny x2 meta-weights standing in for the bundled file."""
    import core.zeroshot.mzsr as mz

    path = _tiny_mzsr(tmp_path / "zeroshot" / "mzsr_x2.pth")
    monkeypatch.setattr(mz, "BUNDLED_MZSR", path)
    return path


def test_mzsr_run_result_and_screenshot(qtbot, window, tmp_path, bundled):
    c, view = window.controllers, window.zeroshot
    _open_tiny(qtbot, window, tmp_path)
    view.set_method("MZSR")
    assert not view.iters.isEnabled() and view.steps.isEnabled()
    assert view.steps.value() == 10 and (view.steps.minimum(), view.steps.maximum()) == (0, 100)
    assert view.weights_label.text() == "mzsr_x2.pth (bundled)"
    assert view.run_button.text() == "Run MZSR"
    view.steps.setValue(3)
    view.kernel.setCurrentText("gauss1.0")        # MZSR adapts with the known kernel
    steps = _record(window)
    view.run_button.click()
    assert view.cancel_button.isEnabled()
    wait_idle(qtbot, c, timeout=60000)
    assert window.errors == [], window.errors
    key = mzsr_key(3)
    assert key == "MZSR(3)"
    res = c.session.results[key]                  # where ZSSR's result goes
    assert res.image.pixels.shape == (32, 32, 3) and res.diff is not None
    assert key in [r.model for r in c.session.metrics]
    assert view.xs == [1, 2, 3]                   # one curve point per adaptation step
    points = [curve_point(p) for p in steps if curve_point(p) is not None]
    assert [q[0] for q in points] == view.xs      # the tab plots what the controller sent
    assert view.plot.getAxis("bottom").labelText == "adaptation step"
    assert all(np.isfinite(v) and v > 0 for v in view.losses)
    assert view.status.text().startswith("MZSR: 3 adaptation steps, done in")
    assert view.progress.value() == 1000 and not view.cancel_button.isEnabled()
    window.resize(1349, 820)                      # the window's minimum width
    qtbot.wait(50)
    assert view.grab().save("/tmp/mzsr_tab.png")
    view.set_method("ZSSR")
    assert view.iters.isEnabled() and not view.steps.isEnabled()
    assert view.run_button.text() == "Run ZSSR"


def test_mzsr_refuses_what_it_cannot_take(qtbot, window, tmp_path, monkeypatch):
    import core.zeroshot.mzsr as mz

    c, view = window.controllers, window.zeroshot
    _open_tiny(qtbot, window, tmp_path)
    monkeypatch.setattr(mz, "BUNDLED_MZSR", tmp_path / "missing" / "mzsr_x2.pth")
    view.set_method("MZSR")
    assert view.weights_label.text() == "none bundled yet"

    def refused(text: str) -> None:
        n = len(window.errors)
        assert not view.run()
        assert len(window.errors) == n + 1 and text in window.errors[-1], window.errors[n:]
        assert c.idle() and not view.cancel_button.isEnabled()
        assert not any(k.startswith("MZSR") for k in c.session.results)

    refused("no MZSR weights")
    assert "configs/mzsr_x2.yaml" in window.errors[-1]
    bad = tmp_path / "not_mzsr.pt"                # a picked file that is not MZSR
    bad.write_bytes(b"not a checkpoint")
    assert not view.set_weights(bad) and "not_mzsr.pt" in window.errors[-1]
    assert view.weights is None and view.weights_label.text() == "none bundled yet"
    assert not c.zeroshot.run_mzsr(2.0, 1, "bicubic", bad)
    assert "MZSR checkpoint" in window.errors[-1]
    picked = _tiny_mzsr(tmp_path / "picked.pt")
    assert view.set_weights(picked) and view.weights_label.text() == "picked.pt"

    def said_in_place(text: str) -> None:          # a notice in the tab, Run off, no dialog
        wait_idle(qtbot, c)
        n = len(window.errors)
        assert view.notice.isVisibleTo(view) and text in view.notice.text(), view.notice.text()
        assert not view.run_button.isEnabled()
        assert not view.run() and len(window.errors) == n and text in view.status.text()
        assert not any(k.startswith("MZSR") for k in c.session.results)

    view.scale.setValue(3.0)                       # the window's scale: degrade x3
    said_in_place("these MZSR weights are x2; set the scale to 2 (it is x3)")
    view.scale.setValue(2.5)
    view.kernel.setCurrentText("gauss1.0")
    said_in_place("whole-number scale")
    view.kernel.setCurrentText("bicubic")
    np.save(tmp_path / "c.npy", np.random.default_rng(0).random((16, 16, 2)).astype(np.float32))
    assert c.inputs.open_input(tmp_path / "c.npy", kind="channels", channel_options={})
    wait_idle(qtbot, c)
    assert c.session.lr.kind == "channels"
    view.scale.setValue(2.0)
    n = len(window.errors)                        # the kind is said in the tab, no dialog
    assert "MZSR needs an RGB (or gray) image; the input is channel data" in view.notice.text()
    assert not view.run_button.isEnabled() and not view.run() and len(window.errors) == n
    assert "use ZSSR" in view.status.text()


def test_mzsr_cancel(qtbot, window, tmp_path, bundled):
    c, view = window.controllers, window.zeroshot
    _open_tiny(qtbot, window, tmp_path)
    view.set_method("MZSR")
    view.steps.setValue(100)
    view.run_button.click()
    assert view.cancel_button.isEnabled()
    view.cancel_button.click()
    assert not view.cancel_button.isEnabled() and view.status.text() == "cancelled"
    wait_idle(qtbot, c)
    qtbot.wait(200)
    assert mzsr_key(100) not in c.session.results and window.errors == []


def test_mzsr_job_on_gray(bundled):
    """Gray images are replicated to RGB for the weights and come back gray."""
    from core.data import ImageData
    from core.jobs import run_sync
    from core.zeroshot.mzsr import load_mzsr
    from core.app.zeroshot import MZSRRequest, mzsr_job, mzsr_problem

    lr = ImageData(np.random.default_rng(0).random((12, 12, 1)).astype(np.float32), kind="gray")
    net, info = load_mzsr(bundled)
    assert mzsr_problem(lr, 2.0, "bicubic", info) is None
    mr = run_sync(mzsr_job(MZSRRequest(lr, None, net, info, bundled, steps=1)))
    assert mr.name == "MZSR(1)" and mr.image.pixels.shape == (24, 24, 1)


def test_zero_shot_takes_the_window_scale_and_measures_against_its_hr(qtbot, window, tmp_path,
                                                                       bundled):
    c, view, s = window.controllers, window.zeroshot, window.session
    _open_tiny(qtbot, window, tmp_path)              # degrade x2
    c.run.set_scale(4.0)                             # Degrade x4 in the side panel
    wait_idle(qtbot, c)
    assert view.scale.value() == 4.0 and c.zeroshot.scale() == 4.0
    view.scale.setValue(2.0)                         # the tab's box is the window's scale
    wait_idle(qtbot, c)
    assert s.state.scale == 2.0 and window.run_box.scale.value() == 2.0
    # MZSR's bundled weights are x2: at x4 the tab says so in place
    view.set_method("MZSR")
    assert not view.notice.isVisibleTo(view)
    c.run.set_scale(4.0)
    wait_idle(qtbot, c)
    assert "weights are x2" in view.notice.text() and "it is x4" in view.notice.text()
    assert not view.run_button.isEnabled() and window.errors == []
    c.run.set_scale(2.0)
    wait_idle(qtbot, c)
    assert not view.notice.isVisibleTo(view) and view.run_button.isEnabled()
    view.steps.setValue(1)
    assert view.run()
    wait_idle(qtbot, c, timeout=60000)
    key = mzsr_key(1)
    assert s.results[key].image.pixels.shape == s.hr.pixels.shape   # the window's HR size
    row = next(r for r in s.metrics if r.model == key)
    assert math.isfinite(row.psnr)                   # measured against the HR


def test_the_loss_curve_belongs_to_its_run(qtbot, window, tmp_path, bundled):
    c, view = window.controllers, window.zeroshot
    _open_tiny(qtbot, window, tmp_path)
    view.iters.setValue(100000)
    assert view.run()
    qtbot.waitUntil(lambda: len(view.xs) >= 2, timeout=60000)
    view.cancel_button.click()
    wait_idle(qtbot, c)
    assert view.xs                                   # the cancelled ZSSR's curve stays ...
    view.set_method("MZSR")                          # ... until another method is chosen
    x, _y = view.curve.getData()
    assert view.xs == [] and (x is None or len(x) == 0) and view.drops == []
    qtbot.wait(300)
    assert view.xs == []                             # nothing late from the ZSSR run
