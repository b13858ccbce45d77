"""Views against stand-in controllers (ndv style): a view needs only its own controller's
small surface and the Session, and renders what the controller reports."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from core.session import Session


class FakeJobs(QObject):
    progress = Signal(float, str)
    running = Signal(bool)


class FakeZeroShot(QObject):
    """What ZeroShotView uses of a ZeroShotController, recording the calls."""

    step = Signal(object)

    def __init__(self):
        super().__init__()
        self.jobs = FakeJobs()
        self.calls: list[tuple] = []
        self.reason: str | None = None
        self.window_scale = 3.0

    def scale(self) -> float:
        return self.window_scale

    def unavailable(self, method="ZSSR", kernel="bicubic", weights=None):
        return self.reason if method == "MZSR" else None

    def run_zssr(self, scale, iters, kernel="bicubic"):
        self.calls.append(("zssr", scale, iters, kernel))
        return True

    def run_mzsr(self, scale, steps, kernel="bicubic", weights=None):
        self.calls.append(("mzsr", scale, steps, kernel))
        return True

    def cancel_zssr(self):
        self.calls.append(("cancel",))

    def load_mzsr_weights(self, path=None):
        return None


def test_zeroshot_view_against_a_fake_controller(qtbot):
    from core.zeroshot import ZSSRProgress
    from gui.views.zeroshot import ZeroShotView

    fake, session = FakeZeroShot(), Session()
    view = ZeroShotView(fake, session)
    qtbot.addWidget(view)
    assert view.scale.value() == 3.0                       # the controller's (window's) scale
    chosen: list[float] = []
    view.scale_chosen.connect(chosen.append)
    view.scale.setValue(2.0)
    assert chosen == [2.0]                                 # written back, for the window
    view.iters.setValue(40)
    view.run_button.click()
    assert fake.calls[-1] == ("zssr", 3.0, 40, "bicubic")   # runs at the window's scale
    fake.jobs.running.emit(True)
    assert view.cancel_button.isEnabled()
    fake.step.emit(ZSSRProgress(10, 40, "", loss=0.2, lr=1e-3))
    fake.jobs.progress.emit(0.25, "training")
    assert view.xs == [10] and view.status.text() == "training"
    view.cancel_button.click()
    assert fake.calls[-1] == ("cancel",)
    fake.reason = "MZSR needs an RGB (or gray) image; the input is channel data"
    view.set_method("MZSR")                                # another method: another curve
    assert view.xs == [] and view.notice.text() == fake.reason
    assert not view.run_button.isEnabled()
