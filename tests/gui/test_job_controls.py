"""The job controls every tab shares: Cancel only while running, a bar that never leaves 0..1,
and a status line whose tooltip keeps the whole message."""

from __future__ import annotations

import pytest

from gui.widgets.job_widgets import JobControls


def test_cancel_is_enabled_only_while_the_job_runs(qtbot):
    job = JobControls()
    assert job.cancel_button.text() == "Cancel" and not job.cancel_button.isEnabled()
    job.set_running(True)
    assert job.cancel_button.isEnabled()
    job.set_running(False)
    assert not job.cancel_button.isEnabled()


@pytest.mark.parametrize("fraction, shown", [(0.25, 250), (1.0, 1000), (1.7, 1000),
                                             (-0.3, 0), (float("nan"), 0)])
def test_progress_is_clamped_and_the_message_kept_whole(qtbot, fraction, shown):
    job = JobControls()
    text = "tile 3 / 12 · " + "a long message " * 20
    job.set_progress(fraction, text)
    assert job.progress.value() == shown
    assert job.status.text() == text and job.status.toolTip() == text


def test_a_job_without_cancel_has_no_button(qtbot):
    job = JobControls(cancellable=False)
    assert job.cancel_button is None
    job.set_running(True)           # nothing to enable, and no error
    job.set_progress(0.5, "half")
    assert job.progress.value() == 500
