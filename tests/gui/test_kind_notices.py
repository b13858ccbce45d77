"""Tabs that cannot handle the kind of input that is open say so in place: a notice in the
tab, no dialog, and never a "computing…" that stays."""

from __future__ import annotations

import numpy as np

from tests.gui.util import wait_idle


def _open_channels(qtbot, window, tmp_path):
    c = window.controllers
    np.save(tmp_path / "c.npy", np.random.default_rng(0).random((32, 32, 4)).astype(np.float32))
    assert c.inputs.open_input(tmp_path / "c.npy", kind="channels", channel_options={})
    c.inputs.set_reference("degrade")
    c.run.set_scale(2.0)
    wait_idle(qtbot, c)
    assert c.session.lr.kind == "channels"
    return c


def test_image_tabs_say_in_place_that_channel_data_is_not_theirs(qtbot, window, dialogs,
                                                                  tmp_path):
    c = _open_channels(qtbot, window, tmp_path)
    # IPF flow: a notice, the panels say why, nothing computes, no dialog
    window.tabs.setCurrentWidget(window.ipf_flow)
    qtbot.wait(300)
    wait_idle(qtbot, c)
    view = window.ipf_flow
    assert view.notice.isVisibleTo(view) and "IPF flow needs an RGB" in view.notice.text()
    for panel in view.panels.values():
        assert "computing" not in panel.placeholder.text()
    assert not view.show_button.isEnabled()
    # LAM and the studies: a notice, Run disabled; the menu's Ctrl+L says it in the tab
    window.tabs.setCurrentWidget(window.lam_view)
    assert window.lam_view.notice.isVisibleTo(window.lam_view)
    assert "LAM needs an RGB" in window.lam_view.notice.text()
    assert not window.lam_view.run_button.isEnabled()
    assert not c.lam.run_lam() and "LAM needs an RGB" in window.lam_view.status.text()
    window.tabs.setCurrentWidget(window.studies)
    assert "background study needs an RGB" in window.studies.notice.text()
    assert not window.studies.run_button.isEnabled() and not c.study.run_study("crop")
    # Zero-shot: ZSSR learns from any data, MZSR says why not
    window.tabs.setCurrentWidget(window.zeroshot)
    zs = window.zeroshot
    assert not zs.notice.isVisibleTo(zs) and zs.run_button.isEnabled()
    zs.set_method("MZSR")
    assert "MZSR needs an RGB" in zs.notice.text() and not zs.run_button.isEnabled()
    # 3D: the reason in the pane, and Build from the menu says it there too
    window.tabs.setCurrentWidget(window.surface3d)
    assert not c.surface.build_surfaces()
    assert "needs a normal map" in window.surface3d.status.text()
    # Normal parts: the panels say why
    window.tabs.setCurrentWidget(window.normal_parts)
    qtbot.wait(200)
    assert "needs a normal map (the input is channel data)" in \
        window.normal_parts.panels["shape"].placeholder.text()
    assert dialogs.warnings == [] and window.errors == []


def test_channel_browser_says_an_image_is_not_channel_data(qtbot, window, dialogs):
    c = window.controllers
    assert c.inputs.open_sample("astronaut")
    wait_idle(qtbot, c)
    window.tabs.setCurrentWidget(window.channel_browser)
    assert "needs channel data (the input is an RGB image)" in window.channel_browser.note.text()
    assert not window.channel_browser.spin.isEnabled() and dialogs.warnings == []


def test_ipf_failure_is_said_in_place_not_left_computing(qtbot, window, dialogs, monkeypatch):
    """A flow that fails (here: a model that is not an IPF) ends with the reason in the
    panels, not "computing…"."""
    c = window.controllers
    assert c.inputs.open_sample("astronaut")
    c.inputs.set_reference("degrade")
    c.run.set_scale(4.0)
    wait_idle(qtbot, c)
    monkeypatch.setattr(c.ipf, "ipf_models", lambda: ["bicubic"])
    window.tabs.setCurrentWidget(window.ipf_flow)
    view = window.ipf_flow
    view.refresh()
    qtbot.waitUntil(lambda: c.ipf.failure_for("bicubic") is not None, timeout=20000)
    wait_idle(qtbot, c)
    text = view.panels["flow"].placeholder.text()
    assert "could not be computed" in text and "computing" not in text
    assert dialogs.warnings == []
