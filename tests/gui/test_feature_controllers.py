"""Each feature controller driven against a real Session, without the main window (ndv style:
the controller owns requests and state, the session is what views would see)."""

from __future__ import annotations

import numpy as np
import pytest

from core.data import ImageData, Region
from core.session import Session


@pytest.fixture
def parts(qtbot):
    """A session, notices (errors recorded) and a job pool; shut down afterwards."""
    from gui.jobs import JobPool, Notices

    s, n, p = Session(), Notices(), JobPool()
    errors: list[str] = []
    n.error.connect(errors.append)
    yield s, n, p, errors
    p.shutdown()


def _lr(h=24, w=32, c=3) -> ImageData:
    rng = np.random.default_rng(0)
    return ImageData(rng.random((h, w, c), dtype=np.float32))


def test_models_controller_lists_and_ticks(parts):
    from gui.controllers import ModelsController

    s, n, _p, errors = parts
    topics: list[str] = []
    s.subscribe(topics.append)
    m = ModelsController(s, n)
    assert "bicubic" in s.catalog and "models" in topics
    m.set_models(["nearest", "no-such-model", "bicubic"])
    assert s.state.models == ["nearest", "bicubic"] == m.ticked()
    assert m.add_checkpoint("/no/such/file.pth") is None and errors


def test_lam_window_follows_region_and_is_clamped(parts):
    from gui.controllers import LamController

    s, n, p, errors = parts
    lam = LamController(s, n, p)
    assert lam.lam_window() is None                    # nothing open
    s.update(scale=2.0)
    s.set_inputs(_lr(), None, None, None)              # 48 x 64 output
    assert lam.lam_window() == Region(24, 16, 16, 16)
    s.set_roi((0, 0, 10, 10))
    assert lam.lam_window() == Region(0, 0, 16, 16)    # centred on the region, clamped
    lam.set_lam_window(x=1000, y=1000)
    assert lam.lam_window() == Region(48, 32, 16, 16)
    assert not lam.run_lam() and "tick at least one model" in errors[-1]


def test_study_refuses_without_an_hr(parts):
    from gui.controllers import StudyController
    from gui.controllers.study import NO_HR_TEXT

    s, n, p, errors = parts
    st = StudyController(s, n, p)
    assert not st.run_study("crop") and "open an image first" in errors[-1]
    s.source = _lr()
    assert not st.run_study("crop") and errors[-1] == NO_HR_TEXT
    assert st.study_paper_preset() is None and not st.jobs.busy


def test_zoom_cancels_and_forgets_its_cache_when_the_lr_changes(parts, qtbot):
    from gui.controllers import ZoomController

    s, n, p, _errors = parts
    z = ZoomController(s, n, p)
    assert z.request("bicubic", 2.0, (0, 0, 8, 8), 1, None, lambda t: None) == 0  # no LR
    z.cache["x"] = 1
    s.set_inputs(_lr(), None, None, None)
    assert z.cache == {}


def test_surface_needs_a_normal_map_and_forgets_on_a_new_source(parts):
    from gui.controllers import NormalsController, SurfaceController

    s, n, p, errors = parts
    normals = NormalsController(s, n, p)
    run_jobs = p.handle("run", n)
    surface = SurfaceController(s, n, p, normals, run_jobs)
    said: list[str] = []
    surface.jobs.progress.connect(lambda f, m: said.append(m))
    assert not surface.available() and not surface.build_surfaces()
    assert "needs a normal map" in said[-1] and errors == []        # in place, no dialog
    surface.surfaces = {"Input": object()}
    s.set_source(_lr())
    assert surface.surfaces == {}


def test_ipf_and_zeroshot_need_an_lr(parts):
    from gui.controllers import IpfController, ZeroShotController

    s, n, p, errors = parts
    ipf = IpfController(s, n, p)
    assert ipf.ipf_models() == [] and not ipf.show_ipf_flow("ipf")
    zs = ZeroShotController(s, n, p)
    assert not zs.run_zssr(2.0, 10) and "open an image first" in errors[-1]
    s.set_inputs(_lr(), None, None, None)
    assert not zs.run_zssr(2.0, 0) and "at least 1 iteration" in errors[-1]
    assert not zs.jobs.busy
    # the tab's scale is the window's: the chosen one, or HR / LR with an attached reference
    s.update(scale=3.5)
    assert zs.scale() == 3.5
    s.state.reference = "hr"
    s.set_inputs(_lr(16, 16), _lr(48, 48), None, None)
    assert zs.scale() == 3.0


def test_channels_mode_and_plans_follow_the_session(parts):
    from gui.controllers import ChannelsController

    s, n, p, errors = parts
    ch = ChannelsController(s, n, p)
    assert not ch.data_mode() and ch.rgb_mode() == "replicate"
    ch.set_rgb_mode("groups")
    assert ch.rgb_mode() == "groups" and s.state.layout["channels"]["rgb_mode"] == "groups"
    ch.set_rgb_mode("sideways")
    assert "unknown channel mode" in errors[-1] and ch.rgb_mode() == "groups"
    assert ch.request_stats(lambda r: None) == 0 and ch.request_frame(0, "value", print) == 0


def test_run_and_inputs_prepare_the_lr_and_refuse_clearly(parts, qtbot):
    from gui.controllers import (
        ChannelsController, InputsController, ModelsController, NormalsController,
        RunController,
    )

    s, n, p, errors = parts
    models = ModelsController(s, n)
    normals = NormalsController(s, n, p)
    channels = ChannelsController(s, n, p)
    run = RunController(s, n, p, models, normals, channels)
    inputs = InputsController(s, n, models, channels, normals, run)
    assert not run.run() and "open an image first" in errors[-1]
    assert inputs.open_sample("camera")
    inputs.set_reference("degrade")
    run.set_scale(4.0)
    qtbot.waitUntil(lambda: s.lr is not None and not run.inputs_jobs.busy, timeout=10000)
    assert (s.lr.height, s.lr.width) == (128, 128) and run.prepared_lr() is s.lr
    inputs.set_reference("hr")
    assert "attach an HR reference file first" in errors[-1] and s.state.reference == "degrade"
    models.set_models([])
    assert not run.run() and "tick at least one model" in errors[-1]


def test_finetune_refuses_without_channel_data(parts):
    from gui.controllers import (
        ChannelsController, FinetuneController, ModelsController, NormalsController,
        RunController,
    )

    s, n, p, errors = parts
    models = ModelsController(s, n)
    channels = ChannelsController(s, n, p)
    run = RunController(s, n, p, models, NormalsController(s, n, p), channels)
    ft = FinetuneController(s, n, models, channels, run)
    assert ft.jobs is run.jobs and not ft.available()
    assert not ft.finetune_channels("bicubic") and "open channel data first" in errors[-1]
