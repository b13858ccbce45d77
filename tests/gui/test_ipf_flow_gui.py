"""The "IPF flow" tab: an IPF model's flow (colour wheel, white = no offset) and confidence."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.core.test_ipf_flow import tiny_ipf

from .util import wait_idle


def _save(model, folder, name):
    from core.models.checkpoints import save_checkpoint

    path = folder / name
    save_checkpoint(model, path)
    return path


@pytest.fixture(scope="module")
def ipf_ckpts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ipf")
    return (_save(tiny_ipf(random_flow=True), folder, "tiny_ipf.pth"),
            _save(tiny_ipf(random_flow=False), folder, "fresh_ipf.pth"))


def _show(qtbot, window, key):
    view, c = window.ipf_flow, window.controllers
    view.model.setCurrentIndex(view.model.findData(key))
    view.model.activated.emit(view.model.currentIndex())
    qtbot.waitUntil(lambda: c.ipf.ipf_current(key) and view._shown is c.ipf.ipf_flow, timeout=30000)
    wait_idle(qtbot, c)
    return c.ipf.ipf_flow


def test_flow_view_for_an_ipf_model(qtbot, window, small_png, liif_ckpt, ipf_ckpts,
                                    monkeypatch):
    from core.models import load_model
    from core.models.ipf_flow import confidence_to_image, flow_to_color, ipf_flow_maps
    from core.models import WEIGHTS_DIR

    c, view = window.controllers, window.ipf_flow
    bundled = c.ipf.ipf_models()                     # the bundled IPF is listed, the LIIF is not
    assert bundled == (["ipf"] if (WEIGHTS_DIR / "ipf.pth").is_file() else [])
    every = c.ipf.ipf_models                         # the rest runs as if none were bundled
    monkeypatch.setattr(c.ipf, "ipf_models", lambda: [k for k in every() if k not in bundled])
    assert c.inputs.open_input(small_png)
    c.run.set_scale(2.0)
    c.run.set_run_options("cpu", "fp32")
    c.models.add_checkpoint(liif_ckpt)                  # a LIIF has no flow: not listed
    window.tabs.setCurrentWidget(view)
    wait_idle(qtbot, c)
    assert view.model.count() == 0 and view.image("flow") is None
    assert "IPF" in view.panels["flow"].placeholder.text()

    key = c.models.add_checkpoint(ipf_ckpts[0])
    fresh = c.models.add_checkpoint(ipf_ckpts[1])
    assert {view.model.itemData(i) for i in range(view.model.count())} == {key, fresh}
    f = _show(qtbot, window, key)
    assert f.flow.shape == (192, 192, 2) and f.conf.shape == (192, 192)
    x = torch.from_numpy(c.session.lr.pixels).permute(2, 0, 1)[None].float()
    flow, conf = ipf_flow_maps(load_model(key).module, x, (192, 192))
    np.testing.assert_allclose(f.flow, flow, atol=1e-4)
    np.testing.assert_allclose(view.image("flow"), flow_to_color(flow), atol=1e-3)
    np.testing.assert_allclose(view.image("confidence"), confidence_to_image(conf), atol=1e-5)
    img = view.image("flow")
    mag = np.linalg.norm(f.flow, axis=2)
    assert (img[mag > 0.5 * mag.max()].min(axis=1) < 0.9).all()     # offsets are coloured
    assert "LR px" in view.panels["flow"].title.text()

    f0 = _show(qtbot, window, fresh)                  # a fresh IPF: zero flow, all white
    assert np.all(f0.flow == 0) and np.all(view.image("flow") == 1.0)

    c.run.set_scale(3.0)                                  # a new output size: recomputed
    qtbot.waitUntil(lambda: c.ipf.ipf_current(fresh) and view._shown is c.ipf.ipf_flow,
                    timeout=30000)
    assert view.image("flow").shape == (288, 288, 3)
    wait_idle(qtbot, c)
