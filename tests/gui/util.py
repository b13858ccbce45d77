"""Helpers shared by the GUI tests."""

from __future__ import annotations


def wait_idle(qtbot, controller, timeout: int = 20000) -> None:
    """Until no job is running and the metrics debounce has fired."""
    qtbot.waitUntil(controller.idle, timeout=timeout)


def degrade_and_run(qtbot, window, models: list[str], scale: float = 4.0,
                    sample: str | None = "astronaut", path=None) -> None:
    """Open (a sample or a file), choose degrade at ``scale``, tick ``models``, run, wait."""
    c = window.controllers
    assert c.inputs.open_sample(sample) if path is None else c.inputs.open_input(path)
    c.inputs.set_reference("degrade")
    c.run.set_scale(scale)
    window.model_list.set_checked(models)   # ticking the boxes is what the user does
    assert c.session.state.models == [k for k in c.session.catalog if k in models]
    wait_idle(qtbot, c)
    window.run_box.run_button.click()
    wait_idle(qtbot, c)
    assert set(c.session.results) == set(models), window.errors


def open_with_edsr(qtbot, window, edsr_ckpt, small_png, tab) -> str:
    """96x96 HR degraded x2 (48x48 LR), bicubic and the tiny EDSR x2 ticked, ``tab`` shown;
    the EDSR's catalog key."""
    c = window.controllers
    assert c.inputs.open_input(small_png)
    c.inputs.set_reference("degrade")
    c.run.set_scale(2.0)
    key = c.models.add_checkpoint(edsr_ckpt)
    window.model_list.set_checked(["bicubic", key])
    window.tabs.setCurrentWidget(tab)
    wait_idle(qtbot, c)
    return key
