"""The Zero-shot tab: ZSSR on a tiny image with its live loss curve, the result in the window's
result views, and Cancel."""

from __future__ import annotations

import math

import numpy as np

from core.io import save
from core.samples import sample_image
from gui.zeroshot_tasks import ZSSR_KEY, curve_point
from tests.gui.util import wait_idle


def _open_tiny(qtbot, window, tmp_path) -> None:
    """A 32x32 crop degraded x2 (16x16 LR), the Zero-shot tab shown."""
    img = sample_image("astronaut")
    path = tmp_path / "tiny.png"
    save(img.with_pixels(np.ascontiguousarray(img.pixels[60:92, 220:252])), path)
    c = window.controller
    assert c.open_input(path)
    c.set_reference("degrade")
    c.set_scale(2.0)
    window.tabs.setCurrentWidget(window.zeroshot)
    wait_idle(qtbot, c)
    assert c.session.lr is not None and c.session.lr.width == 16


def _record(window) -> list:
    steps: list = []
    window.controller.zssr_step.connect(steps.append)
    return steps


def test_zssr_curve_live_and_result(qtbot, window, tmp_path):
    c, view = window.controller, window.zeroshot
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
    c, view = window.controller, window.zeroshot
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
    qtbot.waitUntil(lambda: all(w.done.is_set() for w in c._live), timeout=10000)
    assert len(steps) >= n                        # the worker has stopped
