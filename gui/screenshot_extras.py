"""Screenshots of the 3D surface pane and the channel browser for the README.

``python -m gui.screenshot_extras docs/surface3d.png --surface``: DiLiGenT's bear (from
``../shared/datasets/normals/diligent``, with its mask and K; a synthetic dome when absent)
degraded x4 and super-resolved with the split and naive methods, integrated with masked least
squares (perspective) and shown side by side, coloured by angular error against the ground
truth, after a drag on one view (the linked views follow).

``python -m gui.screenshot_extras docs/channels.png --channels``: the seeded multipath channel
of :mod:`core.channels.multipath` (128 subcarriers x 96 snapshots x 8 antennas, complex) in an
``.npz`` beside a decoy array, opened through the variable dialog as magnitude / phase, degraded
x2 and super-resolved with bicubic and bilinear, with the range table, the histogram and the
NMSE per channel. (Measured CSI of ``../shared/datasets/channels`` opens the same way, but its
phase is not coherent from packet to packet, so a complex x2 degradation along time is not a
meaningful experiment to show.)

Runs offscreen when there is no display; uses throw-away settings.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from core.channels import multipath_channel

from .dialogs.channel_options import ChannelOptionsDialog
from .screenshot import open_window, save_window

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
BEAR = SHARED / "normals" / "diligent" / "bear"


def make_surface_screenshot(path, size: tuple[int, int] = (1600, 980)) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        app, window, c, errors, settle = open_window(tmp, size, timeout=300.0, tail=(30, 0.01))
        if (BEAR / "normal_map.png").is_file():
            src, mask, k = BEAR / "normal_map.png", BEAR / "mask.png", BEAR / "K.txt"
        else:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            from tests.gui.normal_maps import save_dome   # importable only after the line above

            src, mask, k = Path(tmp) / "dome.png", None, None
            save_dome(src, 256)
        c.inputs.open_input(src, "normals")
        if mask is not None:
            c.normals.set_options(mask=str(mask))
        c.inputs.set_reference("degrade")
        c.run.set_scale(4.0)
        settle()
        c.run.run()
        settle()
        if k is not None:
            c.surface.set_surface_options(K=str(k))
        c.surface.set_surface_options(method="lsq", color="error", lighting=True)
        window.tabs.setCurrentWidget(window.surface3d)
        window.tabs.parentWidget().setSizes([720, 200])
        settle()
        time.sleep(0.4)
        settle()
        canvases = window.surface3d.canvases()
        if canvases:
            canvases[0].renderer.rotate(-60, 40)
            canvases[0].render_now()
            canvases[0].camera_moved.emit(canvases[0])
        settle()
        return save_window(window, errors, path)


def make_channels_screenshot(path, size: tuple[int, int] = (1600, 980)) -> Path:
    def accept(self):   # the variable dialog, answered: magnitude and phase
        self.complex_mode.setCurrentIndex(self.complex_mode.findData("mag_phase"))
        return 1

    ChannelOptionsDialog.exec = accept
    with tempfile.TemporaryDirectory() as tmp:
        app, window, c, errors, settle = open_window(tmp, size, timeout=300.0, tail=(30, 0.01))
        src = Path(tmp) / "multipath.npz"
        np.savez(src, H=multipath_channel(128, 96, 8, seed=0, delay_spread=300e-9).h,
                 positions=np.arange(8.0))
        c.inputs.open_input(src)
        c.inputs.set_reference("degrade")
        c.run.set_scale(2.0)
        window.model_list.set_checked(["bicubic", "bilinear"])
        settle()
        c.run.run()
        settle()
        window.tabs.setCurrentWidget(window.channel_browser)
        window.tabs.parentWidget().setSizes([760, 160])
        settle()
        window.channel_browser.set_channel(min(3, window.channel_browser.spin.maximum()))
        settle()
        return save_window(window, errors, path)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m gui.screenshot_extras", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output", nargs="?", default=None,
                    help="PNG to write (default: docs/surface3d.png or docs/channels.png)")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--surface", action="store_true", help="the 3D surface pane (default)")
    which.add_argument("--channels", action="store_true", help="the channel browser")
    a = ap.parse_args(argv)
    if a.channels:
        print(make_channels_screenshot(a.output or "docs/channels.png"))
    else:
        print(make_surface_screenshot(a.output or "docs/surface3d.png"))


if __name__ == "__main__":  # pragma: no cover
    main()
