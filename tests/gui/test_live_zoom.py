"""Continuous zoom: only the visible window is queried, and it equals a full ``sr`` run."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF

from core.engine import super_resolve
from core.engine.run import SROptions
from core.jobs import run_sync
from core.models import load_model
from core.app import zoom
from tests.gui.util import wait_idle


@pytest.fixture
def live(qtbot, window, liif_ckpt, small_png):
    c = window.controllers
    c.run.set_run_options(precision="fp32")
    assert c.inputs.open_input(small_png)
    key = c.models.add_checkpoint(liif_ckpt)
    wait_idle(qtbot, c)
    window.tabs.setCurrentIndex(2)
    view = window.live
    assert view.key() == key
    return view


def _full(liif_ckpt, data, scale):
    model = load_model(str(liif_ckpt)).module
    return run_sync(super_resolve(model, data, scale=scale,
                                  options=SROptions(precision="fp32"))).image.pixels


def test_zoomed_in_window_equals_the_full_run(qtbot, window, live, liif_ckpt, monkeypatch):
    c, s = window.controllers, window.session
    encodes = []
    real = zoom.encode_for_zoom
    monkeypatch.setattr(zoom, "encode_for_zoom", lambda *a: encodes.append(1) or real(*a))
    live.scale.setValue(5.0)                        # virtual 480 x 480
    assert live.virtual_hw() == (480, 480)
    wait_idle(qtbot, c)
    qtbot.waitUntil(lambda: live.tile is not None, timeout=10000)
    live.vb.setRange(QRectF(300, 100, 60, 40), padding=0)   # zoom in: 1 query per output px
    qtbot.waitUntil(lambda: live.tile is not None and live.tile[2] == 1, timeout=10000)
    wait_idle(qtbot, c)
    r0, c0, stride, px = live.tile
    view = live.vb.viewRect()
    assert r0 <= view.top() and c0 <= view.left()
    assert r0 + px.shape[0] >= view.bottom() - 1 and c0 + px.shape[1] >= view.right() - 1
    assert px.shape[0] * px.shape[1] < 480 * 480 / 10       # never the whole image
    full = _full(liif_ckpt, s.lr, 5.0)
    np.testing.assert_allclose(px, full[r0:r0 + px.shape[0], c0:c0 + px.shape[1]], atol=1e-5)
    assert live.tile_item.image.shape == px.shape
    # zoom out: every stride-th pixel of the same full output
    live.fit()
    qtbot.waitUntil(lambda: live.tile is not None and live.tile[0] == 0 and live.tile[1] == 0,
                    timeout=10000)
    wait_idle(qtbot, c)
    r0, c0, stride, px = live.tile
    np.testing.assert_allclose(px, full[::stride, ::stride][:px.shape[0], :px.shape[1]],
                               atol=1e-5)
    assert len(encodes) == 1                                 # encoded once for all requests


def test_huge_virtual_scale_queries_only_the_screen(qtbot, window, live):
    c = window.controllers
    live.scale.setValue(30.0)                                # virtual 2880 x 2880 (8.3 Mpx)
    live.vb.setRange(QRectF(1400, 1400, 80, 80), padding=0)
    qtbot.waitUntil(lambda: live.tile is not None and live.tile[2] == 1, timeout=10000)
    wait_idle(qtbot, c)
    assert live.queried < 50_000
    # panning makes new requests; the superseded ones are dropped
    dropped = c.zoom.jobs.dropped
    for dx in range(5):
        live.vb.setRange(QRectF(1000 + 40 * dx, 1000, 80, 80), padding=0)
        live.request()
    wait_idle(qtbot, c)
    r0, c0, stride, px = live.tile
    assert c0 <= 1160 < c0 + px.shape[1] and c.zoom.jobs.dropped >= dropped


def test_live_zoom_lists_only_arbitrary_scale_models(qtbot, window):
    c = window.controllers
    c.inputs.open_sample("camera")
    wait_idle(qtbot, c)
    window.tabs.setCurrentIndex(2)
    view = window.live
    listed = [view.model.itemData(i) for i in range(view.model.count())]
    assert "bicubic" not in listed
    assert all(c.session.catalog[k].kind == "arbitrary" for k in listed)
    if not listed:  # no bundled LIIF: the pane says what it needs
        assert view.key() is None and "arbitrary-scale" in view.info.text()
