"""Plots that read right (issue #20 item 4): "no data yet" instead of made-up axes, legends
beside the data, categories as points, plain dB axes, colour bars with units, no jet."""

from __future__ import annotations

import numpy as np

from core.app.profile import line_profile
from core.app.surface import HEIGHT_CMAP
from tests.gui.normal_maps import save_dome
from tests.gui.test_studies import _run, _setup

from .util import degrade_and_run, wait_idle


def _disjoint(a, b) -> bool:
    """No more than a border's width (2 px) in common."""
    common = a.sceneBoundingRect().intersected(b.sceneBoundingRect())
    return common.width() <= 2 or common.height() <= 2


def test_studies_plot_no_data_legend_outside_categories_as_points(qtbot, window, edsr_ckpt,
                                                                 small_png):
    view = window.studies
    assert view.message.shown and "no data yet" in view.message.label.text()
    assert not view.plot.getPlotItem().getAxis("left").isVisible()     # no fake 0-1 axes
    _setup(qtbot, window, edsr_ckpt, small_png)
    window.controllers.metrics.set_roi((32, 32, 32, 32))
    view.margins.setText("0,2,4,8")
    _run(qtbot, window, "crop")
    assert not view.message.shown and view.plot.getPlotItem().getAxis("left").isVisible()
    vb = view.plot.getPlotItem().vb
    assert view.legend.items
    qtbot.waitUntil(lambda: _disjoint(view.legend, vb), timeout=3000)   # layout settled:
    # the legend sits beside the data, so the full-image stars show
    _run(qtbot, window, "mosaic")
    assert view.curves
    for item in view.curves.values():          # plain / tta / mosaic are not a line
        assert item.opts["pen"] is None and item.opts["symbol"] == "o"
    qtbot.waitUntil(lambda: _disjoint(view.legend, vb), timeout=3000)
    notes = " ".join(window.session.study.notes)
    assert "distinct" not in notes and "8 flips/rotations" in notes


def test_zero_shot_plot_says_no_data_before_a_run(window):
    assert window.zeroshot.message.shown
    assert "no data yet" in window.zeroshot.message.label.text()


def test_channel_nmse_axis_is_plain_db(window):
    view = window.channel_browser
    view._ensure_body()
    assert not view.nmse.getAxis("left").autoSIPrefix
    assert view.nmse_message.shown
    assert _disjoint(view.nmse_legend, view.nmse.getPlotItem().vb)


def test_diff_colour_scale_only_with_a_difference_map(qtbot, window):
    c = window.controllers
    assert c.inputs.open_sample("astronaut")
    c.inputs.set_reference("degrade")
    wait_idle(qtbot, c)
    assert not window.grid.legend.isVisibleTo(window)          # no "0 … 1e-06"
    degrade_and_run(qtbot, window, ["bicubic"])
    assert window.grid.legend.isVisibleTo(window)
    assert "1e-06" not in window.grid.legend.text.text()


def test_lam_and_ipf_colour_bars_have_units(window):
    lam = window.lam_view
    assert "share of the largest" in lam.colour_bar.text() and "0" in lam.colour_bar.text()
    assert not lam.colour_bar.isVisibleTo(window)              # nothing to explain yet
    ipf = window.ipf_flow
    assert ipf.conf_bar.text().startswith("confidence c") and "1 (scales the flow" in \
        ipf.conf_bar.text()


def test_height_colouring_is_perceptual_with_units(qtbot, window, tmp_path):
    assert HEIGHT_CMAP == "viridis"
    path = tmp_path / "dome.png"
    save_dome(path, 48)
    c = window.controllers
    assert c.inputs.open_input(path, "normals")
    c.inputs.set_reference("degrade")
    c.run.set_scale(2.0)
    wait_idle(qtbot, c)
    window.tabs.setCurrentWidget(window.surface3d)
    qtbot.waitUntil(lambda: c.surface.surfaces_current() and not c.surface.jobs.busy,
                    timeout=20000)
    c.surface.set_surface_options(color="height")
    pane = window.surface3d
    assert pane.legend_lo.text().startswith("height ") and pane.legend_hi.text().endswith(" px")
    assert "low" not in pane.legend_lo.text() and "Input:" in pane.legend_bar.toolTip()


def test_profile_and_histogram_of_every_result(qtbot, window):
    view = window.profile
    assert view.profile_message.shown and view.hist_message.shown     # nothing open yet
    degrade_and_run(qtbot, window, ["nearest", "bicubic"])
    window.tabs.setCurrentWidget(view)
    s = window.session
    assert [view.image_box.itemText(i) for i in range(view.image_box.count())] == \
        ["HR", "nearest", "bicubic", "LR"]
    view.set_line((100, 200), (300, 260))
    assert view.endpoints() == ((100, 200), (300, 260))
    items = view.profile.getPlotItem().listDataItems()
    assert [it.name() for it in items] == ["HR", "nearest", "bicubic", "LR"]
    _d, want = line_profile(s.results["bicubic"].image.pixels, (100, 200), (300, 260), "Y")
    assert np.allclose(items[2].getData()[1], want)
    assert len(view.profile_legend.items) == 4
    qtbot.waitUntil(lambda: _disjoint(view.profile_legend, view.profile.getPlotItem().vb),
                    timeout=3000)                   # once the plot's layout has settled
    view.channel.setCurrentText("R")
    _d, want = line_profile(s.hr.pixels, (100, 200), (300, 260), "R")
    assert np.allclose(view.profile.getPlotItem().listDataItems()[0].getData()[1], want)
    hist = view.hist.getPlotItem().listDataItems()
    assert [it.name() for it in hist] == ["R", "G", "B"]
    assert sum(hist[0].getData()[1]) == s.hr.width * s.hr.height
    view.hist_mode.setCurrentText("Y")
    assert [it.name() for it in view.hist.getPlotItem().listDataItems()] == ["Y"]
    window.controllers.metrics.set_roi((40, 50, 100, 20))
    assert view.endpoints() == ((40.0, 60.0), (139.0, 60.0))
