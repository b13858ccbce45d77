"""What the user sees of the run plan: resampled results marked, unfit references refused."""

from __future__ import annotations

import json

import numpy as np

from core.io import save
from tests.gui.util import degrade_and_run, wait_idle


def test_resampled_model_is_marked_in_tile_table_and_csv(qtbot, window, dialogs, tmp_path,
                                                        small_png):
    """Seam 1: edsr_baseline_x3 at x4 is resized x1.33 after the model: say so everywhere."""
    degrade_and_run(qtbot, window, ["edsr_baseline_x3", "edsr_baseline_x4"], scale=4,
                    path=small_png)
    c, s = window.controllers, window.session
    x3, x4 = window.grid.panels["edsr_baseline_x3"], window.grid.panels["edsr_baseline_x4"]
    # a badge over the image's corner: it takes no width from the title, which keeps the name
    assert x3.badge.text() == "resampled from x3" and not x3.badge.isHidden()
    assert "RESAMPLED" in x3.badge.toolTip()
    assert x4.badge.isHidden() and "resampled" not in x4.title.text()
    assert x3.title.text().startswith("edsr_baseline_x3 ")
    note3 = window.metrics.text_for("edsr_baseline_x3", "Note")
    note4 = window.metrics.text_for("edsr_baseline_x4", "Note")
    assert "RESAMPLED bicubic 72x72->96x96" in note3 and "native x3" in note3
    assert "RESAMPLED" not in note4 and "native x4" in note4
    assert "edsr_baseline_x4.pth" in note4 and "LR: MATLAB bicubic x4 of the input" in note4
    rows = {m.model: m for m in s.metrics}
    assert rows["edsr_baseline_x3"].resampled and not rows["edsr_baseline_x4"].resampled
    # "best" leaves the resampled result out unless the user ticks it in
    assert window.metrics.best("PSNR image (dB)") == ["edsr_baseline_x4"]
    window.metrics.rank_resampled.setChecked(True)
    best = "edsr_baseline_x3" if rows["edsr_baseline_x3"].psnr > rows["edsr_baseline_x4"].psnr \
        else "edsr_baseline_x4"
    assert window.metrics.best("PSNR image (dB)") == [best]
    assert "x4" in s.results["edsr_baseline_x4"].provenance.native_scale
    # ... and the saved session records how each result was made
    assert window.save_session(tmp_path / "s.json")
    made = json.loads((tmp_path / "s.json").read_text())["results"]
    assert made["edsr_baseline_x3"]["resampled"].startswith("bicubic 72x72->96x96")
    assert made["edsr_baseline_x4"]["resampled"] == ""
    assert made["edsr_baseline_x4"]["weights"] == "edsr_baseline_x4.pth"


def test_unrelated_reference_is_refused_and_a_multiple_sets_the_scale(qtbot, window, dialogs,
                                                                       tmp_path, small_png,
                                                                       astronaut):
    """Seam 2: a reference of another picture/aspect is refused with both sizes (unless the
    user asks for it resized); an HR that is the input x2 sets the scale to 2."""
    c, s = window.controllers, window.session
    said: list[str] = []
    c.notices.message.connect(said.append)
    assert c.inputs.open_input(small_png)              # 96x96
    c.run.set_scale(4.0)
    other = tmp_path / "other.png"
    save(astronaut.with_pixels(np.ascontiguousarray(astronaut.pixels[:240, :250])), other)
    dialogs.answer = type(dialogs.answer).No           # do not resize it
    assert not c.inputs.attach_hr(other)
    assert any("250x240" in w and "96x96" in w for w in dialogs.warnings), dialogs.warnings
    assert s.attached_hr is None and s.state.reference != "hr"
    # asked for explicitly: attached, resized to the planned output, and the plan says so
    dialogs.answer = type(dialogs.answer).Yes
    assert c.inputs.attach_hr(other)
    wait_idle(qtbot, c)
    assert s.hr is not None and s.hr.pixels.shape[:2] == (384, 384)
    assert s.state.resize_reference
    # an HR of exactly twice the input: the scale follows it
    x2 = tmp_path / "x2.png"
    save(astronaut.with_pixels(np.ascontiguousarray(astronaut.pixels[:192, :192])), x2)
    assert c.inputs.attach_hr(x2)
    wait_idle(qtbot, c)
    assert s.state.scale == 2.0 and not s.state.resize_reference
    assert s.hr.pixels.shape[:2] == (192, 192)
    assert any("scale set to x2" in m for m in said), said
