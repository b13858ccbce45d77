"""Channel browser: "Fine-tune on this data" trains a copy of a model on the loaded channels as
a background job (progress bar, Cancel), lists it as "<model> (fine-tuned)", ticks it, and the
next run of the stack uses it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QDialog

from .util import wait_idle


@pytest.fixture
def accept_picker(monkeypatch):
    from gui.dialogs.channel_options import ChannelOptionsDialog

    monkeypatch.setattr(ChannelOptionsDialog, "exec", lambda self: QDialog.DialogCode.Accepted)


@pytest.fixture(scope="module")
def stack_npz(tmp_path_factory):
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:24, 0:24]
    base = np.sin(x / 3.0)[..., None] * np.cos(y / 4.0)[..., None]
    h = (base + 0.1 * rng.standard_normal((24, 24, 4))) * np.array([1, 10, 100, 1e-3])
    path = tmp_path_factory.mktemp("ft") / "stack.npz"
    np.savez(path, H=h.astype(np.float32))
    return path


@pytest.fixture(scope="module")
def tiny_fsrcnn(tmp_path_factory):
    from core.models import get_arch
    from core.models.checkpoints import save_checkpoint

    torch.manual_seed(0)
    m = get_arch("fsrcnn").build(scale=2, d=8, s=4, m=1)
    return save_checkpoint(m, tmp_path_factory.mktemp("ft_ckpt") / "tiny_fsrcnn_x2.pth")


def _open(qtbot, window, stack_npz, tiny_fsrcnn) -> str:
    c = window.controllers
    assert c.inputs.open_input(stack_npz)
    c.inputs.set_reference("degrade")
    c.run.set_scale(2.0)
    key = c.models.add_checkpoint(tiny_fsrcnn)
    window.model_list.set_checked(["bicubic", key])
    window.tabs.setCurrentWidget(window.channel_browser)
    wait_idle(qtbot, c)
    return key


def test_finetune_lists_and_uses_the_tuned_model(qtbot, window, stack_npz, tiny_fsrcnn,
                                                 accept_picker):
    from core.models import load_model

    c, s = window.controllers, window.session
    key = _open(qtbot, window, stack_npz, tiny_fsrcnn)
    bar = window.channel_browser.finetune
    assert bar.isEnabled() and bar.button.isEnabled()
    labels = [bar.model.itemText(i) for i in range(bar.model.count())]
    assert "bicubic" not in labels and s.label(key) in labels
    assert bar.model.currentData() == key                      # the ticked trained model
    bar.steps.setValue(3)
    bar.learning_rate.setValue(0.01)
    progress: list[float] = []
    c.run.jobs.progress.connect(lambda f, _t: progress.append(f))
    bar.button.click()
    assert not bar.button.isEnabled()                          # one job at a time
    assert window.run_box.cancel_button.isEnabled()
    wait_idle(qtbot, c)
    assert not window.errors, window.errors
    assert window.run_box.progress.value() == 1000              # the window's progress bar
    assert bar.button.isEnabled() and not window.run_box.cancel_button.isEnabled()
    assert progress and progress[-1] == 1.0

    tuned = [k for k in s.catalog if s.label(k).endswith("(fine-tuned)")]
    assert len(tuned) == 1
    new = tuned[0]
    assert s.label(new) == "tiny_fsrcnn_x2 (fine-tuned)"
    weights = Path(s.catalog[new].weights)   # kept in the app-data folder (sessions find it)
    assert weights.is_file() and weights.is_relative_to(Path(os.environ["XDG_DATA_HOME"]))
    assert new in s.state.models and key in s.state.models     # ticked beside the original
    assert s.label(new) in [bar.model.itemText(i) for i in range(bar.model.count())]
    assert "fine-tuned" in bar.result.text() and "L1" in bar.result.text()
    done = c.finetune.finetuned[new]
    assert done.steps == 3 and len(done.losses) == 3

    before, after = load_model(key).module, load_model(new).module
    assert after.scale == 2
    diffs = [float((a - b).abs().max()) for a, b in zip(before.state_dict().values(),
                                                        after.state_dict().values())]
    assert max(diffs) > 1e-4                                   # the weights changed

    c.run.run()                                                    # the next SR uses it
    wait_idle(qtbot, c)
    assert set(s.results) == {"bicubic", key, new}
    a, b = s.results[key].image.pixels, s.results[new].image.pixels
    assert a.shape == b.shape == (24, 24, 4) and not np.allclose(a, b)


def test_finetune_cancel(qtbot, window, stack_npz, tiny_fsrcnn, accept_picker):
    c, s = window.controllers, window.session
    _open(qtbot, window, stack_npz, tiny_fsrcnn)
    bar = window.channel_browser.finetune
    bar.steps.setValue(100000)
    bar.button.click()
    qtbot.waitUntil(lambda: window.run_box.cancel_button.isEnabled(), timeout=5000)
    window.run_box.cancel_button.click()
    wait_idle(qtbot, c)
    assert bar.button.isEnabled() and not window.run_box.cancel_button.isEnabled()
    assert not [k for k in s.catalog if s.label(k).endswith("(fine-tuned)")]


def test_finetune_needs_channel_data_and_a_trained_model(qtbot, window, stack_npz, tiny_fsrcnn,
                                                         accept_picker):
    c = window.controllers
    errors: list[str] = []
    c.notices.error.connect(errors.append)
    assert not c.finetune.finetune_channels("bicubic", 3)               # nothing open yet
    _open(qtbot, window, stack_npz, tiny_fsrcnn)
    assert not c.finetune.finetune_channels("bicubic", 3)               # interpolation cannot learn
    assert len(errors) == 2 and "trained model" in errors[-1]
