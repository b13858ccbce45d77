"""The Qt-free session and the controller, tested against a mock view (no window)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from core.errors import InputError
from core.jobs import Progress
from core.session import Session, SessionState
from tests.helpers import ROOT


def test_session_json_round_trip_with_relative_paths(tmp_path):
    (tmp_path / "data").mkdir()
    img, ck = tmp_path / "data" / "a.png", tmp_path / "data" / "m.pth"
    s = Session(SessionState(input_path=str(img), reference="degrade", scale=3.5,
                             models=["bicubic", str(ck)], checkpoints=[str(ck)],
                             roi=(1, 2, 30, 40), y_channel=False, shave=2, ran=True,
                             layout={"tab": 1, "swipe": ["LR", "bicubic"]}))
    (tmp_path / "sess").mkdir()
    path = s.save(tmp_path / "sess" / "x.json")
    raw = json.loads(path.read_text())["state"]
    assert raw["input_path"] == "../data/a.png" and raw["models"][1] == "../data/m.pth"
    back = Session.load_state(path)
    assert back == s.state


@pytest.mark.parametrize("text, msg", [
    ("[1, 2", "invalid JSON"), ("{}", "not an SR Workbench session"),
    ('{"format": "sr-workbench-session", "version": 1, "state": {"reference": "x"}}',
     "unknown reference"),
    ('{"format": "sr-workbench-session", "version": 1, "state": {"scale": "big"}}', "invalid"),
    ('{"format": "sr-workbench-session", "version": 99, "state": {}}', "newer version"),
])
def test_bad_session_files_give_readable_errors(text, msg):
    with pytest.raises(InputError, match=msg):
        Session.state_from_json(text)


def test_session_geometry_and_subscribers():
    from core.data import ImageData

    s = Session()
    seen: list[str] = []
    unsubscribe = s.subscribe(seen.append)
    lr = ImageData(np.zeros((10, 20, 3), np.float32))
    s.set_inputs(lr, None, None, None)
    s.update(scale=2.5)
    assert s.output_hw() == (25, 50) and s.shave() == 2          # shave: scale rounded
    s.update(size=(7, 9))
    assert s.output_hw() == (7, 9)
    s.set_roi((40, 5, 30, 30))                                    # clipped to the output
    assert s.roi_region() is None or s.roi_region().fits(7, 9)
    unsubscribe()
    s.notify("x")
    assert seen == ["inputs", "params", "params", "roi"]


def test_session_module_is_qt_free():
    code = ("import sys, core.session; "
            "sys.exit(any(m.split('.')[0] in ('PySide6', 'pyqtgraph') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


class MockView:
    """Stands in for the views: records what the session told it."""

    def __init__(self, session: Session):
        self.topics: list[str] = []
        self.shapes: dict[str, tuple] = {}
        self.session = session
        session.subscribe(self.update)

    def update(self, topic: str) -> None:
        self.topics.append(topic)
        if topic == "results":
            self.shapes = {k: r.display.shape for k, r in self.session.results.items()}


def test_controllers_drive_the_session(qtbot):
    from gui.controllers import AppController

    c = AppController()
    view = MockView(c.session)
    errors: list[str] = []
    c.notices.error.connect(errors.append)
    assert c.inputs.open_sample("camera")                # gray 512x512
    c.inputs.set_reference("degrade")
    c.run.set_scale(4)
    c.models.set_models(["bicubic", "lanczos"])
    assert c.run.run()
    qtbot.waitUntil(c.idle, timeout=15000)
    assert errors == []
    assert view.shapes == {"bicubic": (512, 512), "lanczos": (512, 512)}
    assert c.session.lr_display.shape == (128, 128)
    assert {"inputs", "results", "metrics"} <= set(view.topics)
    assert [m.model for m in c.session.metrics] == ["bicubic", "lanczos"]
    c.shutdown()


def _job(n: int, delay: float, value):
    for i in range(n):
        time.sleep(delay)
        yield Progress(i + 1, n)
    return value


def test_job_handle_drops_stale_results(qtbot):
    from gui.jobs import JobPool, Notices

    pool = JobPool()
    notices = Notices()
    h = pool.handle("x", notices)
    done: list = []
    running: list[bool] = []
    h.running.connect(running.append)
    h.submit(_job(20, 0.01, "old"), on_done=done.append)
    h.submit(_job(2, 0.01, "new"), on_done=done.append)       # supersedes the first
    qtbot.waitUntil(lambda: not h.busy, timeout=5000)
    qtbot.waitUntil(pool.settled, timeout=5000)
    assert done == ["new"] and running[-1] is False
    # a job that finishes anyway after being cancelled is dropped and counted
    gen = h.submit(_job(30, 0.01, "a"), on_done=done.append)
    qtbot.wait(30)
    assert h.cancel() and not h.busy and h.generation > gen
    qtbot.waitUntil(pool.settled, timeout=5000)
    qtbot.wait(100)
    assert done == ["new"] and h.dropped >= 1 and running[-1] is False


def test_job_handle_routes_failures(qtbot):
    from core.errors import InputError
    from gui.jobs import JobPool, Notices

    def failing():
        yield Progress(0, 1)
        raise InputError("bad input")

    pool = JobPool()
    notices = Notices()
    errors: list[str] = []
    notices.error.connect(errors.append)
    h = pool.handle("x", notices)
    progress: list[tuple] = []
    h.progress.connect(lambda f, m: progress.append((f, m)))
    h.submit(failing())
    qtbot.waitUntil(lambda: not h.busy, timeout=5000)
    assert errors == ["bad input"] and progress[-1] == (0.0, "failed")
    own: list[str] = []
    h.submit(failing(), on_failed=own.append)                  # the feature's own handler
    qtbot.waitUntil(lambda: not h.busy, timeout=5000)
    assert own == ["bad input"] and errors == ["bad input"]
    pool.shutdown()
