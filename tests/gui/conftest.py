"""GUI test fixtures: isolated settings, recorded (never blocking) dialogs, small inputs, a
tiny random LIIF checkpoint, and a window."""

from __future__ import annotations

import gc

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QFileDialog, QMessageBox  # noqa: E402


class Dialogs:
    """What the window would have shown; ``answer`` is what question() returns."""

    def __init__(self):
        self.warnings: list[str] = []
        self.questions: list[str] = []
        self.answer = QMessageBox.StandardButton.Yes
        self.open_file = ""
        self.save_file = ""


@pytest.fixture(autouse=True)
def dialogs(monkeypatch, tmp_path) -> Dialogs:
    d = Dialogs()
    monkeypatch.setenv("SRW_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # fine-tuned weights land here

    def warning(parent, title, text, *a, **k):
        d.warnings.append(text)
        return QMessageBox.StandardButton.Ok

    def question(parent, title, text, *a, **k):
        d.questions.append(text)
        return d.answer

    monkeypatch.setattr(QMessageBox, "warning", warning)
    monkeypatch.setattr(QMessageBox, "critical", warning)
    monkeypatch.setattr(QMessageBox, "information", warning)
    monkeypatch.setattr(QMessageBox, "question", question)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *a, **k: (d.open_file, ""))
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (d.save_file, ""))
    return d


@pytest.fixture(scope="session")
def astronaut():
    from core.samples import sample_image

    return sample_image("astronaut")


@pytest.fixture(scope="session")
def small_png(tmp_path_factory, astronaut):
    """A 96x96 8-bit RGB PNG (a crop of the astronaut sample)."""
    from core.io import save

    path = tmp_path_factory.mktemp("inputs") / "face.png"
    crop = astronaut.with_pixels(np.ascontiguousarray(astronaut.pixels[40:136, 200:296]))
    save(crop, path)
    return path


@pytest.fixture(scope="session")
def liif_ckpt(tmp_path_factory):
    """A tiny random LIIF saved in the official self-describing format."""
    import torch

    from core.models.archs.liif import default_liif_spec, liif_from_spec
    from core.models.checkpoints import save_checkpoint

    torch.manual_seed(0)
    spec = default_liif_spec(hidden=16, depth=2, encoder_args={"n_resblocks": 1, "n_feats": 8})
    model = liif_from_spec(spec).eval()
    path = tmp_path_factory.mktemp("ckpt") / "tiny_liif.pth"
    save_checkpoint(model, path)
    return path


@pytest.fixture
def window(qtbot):
    from gui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1280, 820)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.controllers.shutdown()
    w.close()
    gc.collect()  # the app collects from a UI-thread timer (gui.startup); here, at a safe point


@pytest.fixture(scope="session")
def edsr_ckpt(tmp_path_factory):
    """A tiny random EDSR x2 (1 block, 8 features) saved as a checkpoint."""
    import torch

    from core.models.archs.edsr import EDSR
    from core.models.checkpoints import save_checkpoint

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "tiny_edsr_x2.pth"
    save_checkpoint(EDSR(n_resblocks=1, n_feats=8, scale=2).eval(), path)
    return path
