"""The window survives the hostile inputs of issue #19: open, add checkpoint, attach HR and
save each end in a dialog, with the input, the model list and the files as they were. The
files come from tests/hostile_build.py (small on disk; the hostility is in what they claim)."""

from __future__ import annotations

import os
import resource

import pytest

from tests import hostile_build as hb
from tests.gui.util import degrade_and_run, wait_idle


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile_gui")
    return {
        "jpeg_bomb": hb.jpeg_bomb(d / "bomb.jpg"), "png_bomb": hb.png_bomb(d / "bomb.png"),
        "bmp_bomb": hb.bmp_bomb(d / "bomb.bmp"), "webp_bomb": hb.webp_bomb(d / "bomb.webp"),
        "npy_bomb": hb.npy_claiming(d / "bomb.npy", (100000, 100000, 3)),
        "tiff_bomb": hb.tiff_bomb(d / "bomb.tif"), "pgm_bomb": hb.pgm_bomb(d / "pgm.png"),
        "truncated": hb.truncated_png(d / "trunc.png"), "bad_zlib": hb.bad_zlib_png(d / "z.png"),
        "big_hparams": hb.edsr_checkpoint(d / "big.pt", n_feats=2048, n_resblocks=64),
        "neg_hparams": hb.edsr_checkpoint(d / "neg.pt", n_feats=-4),
        "huge_nfeats": hb.edsr_checkpoint(d / "wide.pt", n_feats=200000),
        "expand": hb.expanded_tensor(d / "exp.pt", 48000),
        "liif_hidden": hb.liif_wide(d / "liifw.pth"),
        "payload": hb.pickle_payload(d / "evil.pt", d / "MARKER", zip_format=True),
        "folder": d, "device": "/dev/zero",
    }


IMAGES = ["jpeg_bomb", "png_bomb", "bmp_bomb", "webp_bomb", "npy_bomb", "tiff_bomb", "pgm_bomb",
          "truncated", "bad_zlib"]
CHECKPOINTS = ["big_hparams", "neg_hparams", "huge_nfeats", "expand", "liif_hidden", "payload",
               "folder", "device"]


def test_open_and_attach_hostile_images_show_a_dialog(window, dialogs, bad, small_png):
    c, s = window.controllers, window.session
    assert c.inputs.open_input(small_png)
    before = (s.state.input_path, s.source.shape)
    for key in IMAGES:
        n = len(dialogs.warnings)
        assert not c.inputs.open_input(bad[key]), key
        assert len(dialogs.warnings) == n + 1, key
        assert not c.inputs.attach_hr(bad[key]), key
        assert len(dialogs.warnings) == n + 2, key
    assert (s.state.input_path, s.source.shape) == before
    assert any("30000 x 30000" in w for w in dialogs.warnings)
    assert _rss_kb() < 3 * 2**20  # the whole test process, Qt and torch included


def test_add_hostile_checkpoints_leaves_the_model_list(window, dialogs, bad):
    c, s = window.controllers, window.session
    models, checkpoints = list(s.state.models), list(s.state.checkpoints)
    for key in CHECKPOINTS:
        n = len(dialogs.warnings)
        assert c.models.add_checkpoint(bad[key]) is None, key
        assert len(dialogs.warnings) == n + 1, key
        assert "\n" not in dialogs.warnings[-1].strip(), key
    assert s.state.models == models and s.state.checkpoints == checkpoints
    assert not (bad["folder"] / "MARKER").exists()
    assert _rss_kb() < 3 * 2**20


def test_save_refuses_inputs_devices_and_folders(qtbot, window, dialogs, small_png, tmp_path):
    c = window.controllers
    degrade_and_run(qtbot, window, ["bicubic"], scale=2, sample=None, path=small_png)
    wait_idle(qtbot, c)
    before = small_png.read_bytes()
    link = tmp_path / "link.png"
    os.link(small_png, link)
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    for target in (small_png, link, tmp_path, fifo, "/dev/null", "/proc/x/y.png"):
        n = len(dialogs.warnings)
        assert not c.inputs.save_result("bicubic", target), target
        assert len(dialogs.warnings) == n + 1, target
    assert small_png.read_bytes() == before
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
