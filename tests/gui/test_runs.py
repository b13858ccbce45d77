"""Runs on the pool: responsiveness, cancel, supersede/stale, memory refusal, errors."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QTimer

from core.app import memory
from core.engine.memory import human_bytes
from core.jobs import Step
from tests.gui.util import wait_idle


def _slow_liif(qtbot, window, liif_ckpt, small_png, scale=8.0) -> str:
    """96x96 input, the tiny LIIF at x8: 768x768 = 9 query chunks (about a second)."""
    c = window.controllers
    assert c.inputs.open_input(small_png)
    key = c.models.add_checkpoint(liif_ckpt)
    window.model_list.set_checked([key])
    c.run.set_scale(scale)
    wait_idle(qtbot, c)
    return key


def test_event_loop_never_blocked_during_a_run(qtbot, window, liif_ckpt, small_png):
    c, s = window.controllers, window.session
    # x16 (1536x1536, 36 query chunks): long enough to measure even on a quiet fast machine
    key = _slow_liif(qtbot, window, liif_ckpt, small_png, scale=16.0)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    progress: list[str] = []
    c.run.jobs.progress.connect(lambda f, m: progress.append(m))
    timer.start()
    t0 = time.perf_counter()
    window.run_box.run_button.click()
    wait_idle(qtbot, c)
    qtbot.wait(30)          # the result is painted too
    timer.stop()
    run_s = time.perf_counter() - t0
    assert key in s.results and s.results[key].image.shape == (1536, 1536, 3)
    gaps = np.diff([t0] + ticks)
    assert run_s > 0.3 and len(ticks) > 20, (run_s, len(ticks))
    print(f"run {run_s:.2f} s, {len(ticks)} ticks, longest gap {gaps.max() * 1000:.1f} ms")
    assert gaps.max() < 0.100, f"event loop blocked for {gaps.max() * 1000:.0f} ms"
    assert window.run_box.progress.value() == 1000
    assert any("left" in m for m in progress) or run_s < 1.0   # an ETA was shown


def test_cancel_mid_run_applies_nothing(qtbot, window, dialogs, liif_ckpt, small_png):
    c, s = window.controllers, window.session
    _slow_liif(qtbot, window, liif_ckpt, small_png)
    seen: list[float] = []
    c.run.jobs.progress.connect(lambda f, m: seen.append(f))
    c.run.run()
    assert window.run_box.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: any(0 < f < 1 for f in seen), timeout=10000)
    window.run_box.cancel_button.click()
    assert not window.run_box.cancel_button.isEnabled()
    assert window.run_box.eta.text() == "cancelled" and window.run_box.progress.value() == 0
    worker_gone = [h for h in c.pool.handles if h.busy]
    assert worker_gone == []
    qtbot.wait(400)            # anything still in flight arrives and is dropped
    assert s.results == {} and dialogs.warnings == [] and window.errors == []
    assert "not run yet" in window.grid.panels[s.state.models[0]].placeholder.text()
    # the window is still usable
    window.model_list.set_checked(["bicubic"])
    c.run.run()
    wait_idle(qtbot, c)
    assert s.results["bicubic"].image.shape == (768, 768, 3)


def test_newer_run_supersedes_and_stale_result_is_dropped(qtbot, window, liif_ckpt, small_png):
    c, s = window.controllers, window.session
    _slow_liif(qtbot, window, liif_ckpt, small_png)
    c.run.run()
    first_gen = c.run.jobs.generation
    qtbot.wait(50)
    # a new request for the same view before the first finishes: other model, other scale
    window.model_list.set_checked(["nearest"])
    c.run.set_scale(2.0)
    c.run.run()
    assert c.run.jobs.generation > first_gen
    wait_idle(qtbot, c)
    qtbot.wait(300)
    assert list(s.results) == ["nearest"]
    assert s.results["nearest"].image.shape == (192, 192, 3)
    assert window.grid.panels["nearest"].array.shape == (192, 192, 3)
    # a result that arrives late from the older request is dropped, not shown
    dropped = c.run.jobs.dropped
    fake = s.results["nearest"]
    c.run.jobs._on_progress(first_gen, Step(1, 1, "late", key="result",
                                                  value=("bicubic", fake)))
    c.run.jobs._on_finished(first_gen, {"errors": {}})
    assert c.run.jobs.dropped == dropped + 2 and "bicubic" not in s.results


def test_refuses_before_start_and_offers_tiles(qtbot, window, dialogs, monkeypatch, small_png):
    c, s = window.controllers, window.session
    assert c.inputs.open_input(small_png)
    window.model_list.set_checked(["bicubic"])
    wait_idle(qtbot, c)
    real = memory.estimate_bytes
    monkeypatch.setattr(memory, "available_bytes", lambda: 100 << 20)

    def estimate(lr_hw, channels, out_hw, models, tile, chunk=65536):
        return (40 << 20) if tile else (500 << 20)   # fits only in tiles
    monkeypatch.setattr(memory, "estimate_bytes", estimate)
    assert "too much" in c.run.memory_text()
    window.update_status()
    assert "next run" in window.memory_label.text()
    dialogs.answer = dialogs.answer.No
    assert not c.run.run() and s.results == {}
    assert "tiles of" in dialogs.questions[-1] and "500.0 MB" in dialogs.questions[-1]
    dialogs.answer = dialogs.answer.Yes
    assert c.run.run()
    assert s.state.tile == 512 and window.run_box.tile.value() == 512
    wait_idle(qtbot, c)
    assert "bicubic" in s.results
    # nothing fits: a readable refusal, no run
    monkeypatch.setattr(memory, "estimate_bytes", lambda *a, **k: 10 << 30)
    assert not c.run.run()
    assert "would not fit" in dialogs.warnings[-1]
    monkeypatch.setattr(memory, "estimate_bytes", real)


def test_memory_estimate_shrinks_with_tiles():
    big = memory.estimate_bytes((1500, 1500), 3, (3000, 3000), [("arbitrary", {})], None)
    tiled = memory.estimate_bytes((1500, 1500), 3, (3000, 3000), [("arbitrary", {})], 128)
    assert tiled < big
    assert human_bytes(big).endswith(("MB", "GB"))


def test_corrupt_file_shows_error_and_window_stays_usable(qtbot, window, dialogs, tmp_path,
                                                           small_png):
    c, s = window.controllers, window.session
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    assert not window.open_file(bad)
    assert len(dialogs.warnings) == 1 and "broken.png" in dialogs.warnings[0]
    assert s.source is None
    assert not window.open_file(tmp_path / "missing.png")
    assert "does not exist" in dialogs.warnings[-1]
    # the same through File > Open
    dialogs.open_file = str(bad)
    window.open_dialog()
    assert len(dialogs.warnings) == 3
    # a bad checkpoint: readable error, the model list unchanged
    ckpt = tmp_path / "bad.pth"
    ckpt.write_bytes(b"not a checkpoint")
    before = list(s.catalog)
    assert not window.open_file(ckpt)
    assert "bad.pth" in dialogs.warnings[-1] and list(s.catalog) == before
    # still usable
    assert window.open_file(small_png)
    c.run.set_scale(2)
    window.model_list.set_checked(["bicubic"])
    c.run.run()
    wait_idle(qtbot, c)
    assert s.results["bicubic"].image.shape == (192, 192, 3)
    # running with nothing ticked, or an invalid degrade scale: messages, no crash
    window.model_list.set_checked([])
    assert not c.run.run() and "tick at least one model" in dialogs.warnings[-1]
    window.model_list.set_checked(["bicubic"])
    c.inputs.set_reference("degrade")
    c.run.set_scale(0.5)
    wait_idle(qtbot, c)
    assert not c.run.run() and "scale" in dialogs.warnings[-1]
    assert window.isVisible()


def test_a_failing_model_does_not_stop_the_others(qtbot, window, dialogs, small_png, tmp_path,
                                                  liif_ckpt):
    import shutil

    c, s = window.controllers, window.session
    copy = tmp_path / "vanishing.pth"
    shutil.copy(liif_ckpt, copy)
    key = c.models.add_checkpoint(copy)
    assert c.inputs.open_input(small_png)
    window.model_list.set_checked(["bicubic", key])
    c.run.set_scale(2)
    copy.write_bytes(b"truncated")          # the file breaks after it was added
    c.run.run()
    wait_idle(qtbot, c)
    assert list(s.results) == ["bicubic"]
    assert "vanishing" in dialogs.warnings[-1]


def test_bad_inputs_of_the_foundation_list(qtbot, window, dialogs, tmp_path, liif_ckpt):
    c, s = window.controllers, window.session
    arr = np.random.default_rng(0).random((20, 20, 3)).astype(np.float32)
    arr[3, 4, 1] = np.nan
    np.save(tmp_path / "nan.npy", arr)
    assert c.inputs.open_input(tmp_path / "nan.npy")
    window.model_list.set_checked(["bicubic"])
    c.run.run()
    wait_idle(qtbot, c)
    assert s.results == {} and "NaN" in dialogs.warnings[-1]
    np.save(tmp_path / "empty.npy", np.zeros((0, 5, 3), np.float32))
    assert not c.inputs.open_input(tmp_path / "empty.npy") and "empty" in dialogs.warnings[-1]
    # an absurd scale is refused before anything starts
    np.save(tmp_path / "ok.npy", arr * 0)
    assert c.inputs.open_input(tmp_path / "ok.npy")
    window.run_box.scale.setValue(1000)
    assert s.state.scale == 1000
    n = len(dialogs.warnings)
    assert not c.run.run() and len(dialogs.warnings) == n + 1 and s.results == {}
    # a checkpoint of an unknown architecture: readable, names what it expected
    import torch

    torch.save({"foo.weight": torch.zeros(3, 3)}, tmp_path / "alien.pth")
    assert c.models.add_checkpoint(tmp_path / "alien.pth") is None
    assert "alien.pth" in dialogs.warnings[-1]
    assert window.isVisible() and window.run_box.run_button.isEnabled()
