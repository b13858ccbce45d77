"""The 3D pane: Open3D frames in the window, mouse camera, linked views, export, fallback."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from .normal_maps import save_dome
from .util import wait_idle

pytest.importorskip("open3d")


@pytest.fixture(scope="module")
def dome_png(tmp_path_factory):
    path = tmp_path_factory.mktemp("normals") / "dome.png"
    save_dome(path, 48)
    return path


def _coverage(frame: np.ndarray) -> float:
    """Share of pixels that differ from the background (the corner colour)."""
    bg = frame[0, 0].astype(int)
    return float((np.abs(frame.astype(int) - bg).sum(axis=2) > 12).mean())


def _built(qtbot, window, path, run: bool = True) -> None:
    c = window.controllers
    assert c.inputs.open_input(path, "normals")
    c.normals.set_options(shape_model="bicubic", detail_model="bicubic")
    c.inputs.set_reference("degrade")
    c.run.set_scale(2.0)
    wait_idle(qtbot, c)
    if run:
        assert c.run.run()
        wait_idle(qtbot, c)
    window.tabs.setCurrentWidget(window.surface3d)     # the pane builds what is on screen
    qtbot.waitUntil(lambda: c.surface.surfaces_current() and not c.surface.jobs.busy, timeout=20000)
    qtbot.wait(20)


def _drag(qtbot, canvas, dx: int, dy: int, button=Qt.MouseButton.LeftButton) -> None:
    before = canvas.frames
    c0 = QPoint(canvas.width() // 2, canvas.height() // 2)
    QTest.mousePress(canvas, button, Qt.KeyboardModifier.NoModifier, c0)
    for i in range(1, 4):
        QTest.mouseMove(canvas, c0 + QPoint(dx * i // 3, dy * i // 3))
    QTest.mouseRelease(canvas, button, Qt.KeyboardModifier.NoModifier, c0 + QPoint(dx, dy))
    qtbot.waitUntil(lambda: canvas.frames > before, timeout=5000)
    qtbot.wait(30)                     # the linked views render right after


def test_views_render_rotate_and_follow_each_other(qtbot, window, dome_png):
    c, pane = window.controllers, window.surface3d
    _built(qtbot, window, dome_png)
    assert list(c.surface.surfaces) == ["LR bicubic", "SR (split)", "SR (naive)", "GT"]
    assert pane.backend == "open3d" and not pane.backend_note
    canvases = pane.canvases()
    assert [cv.name for cv in canvases] == list(c.surface.surfaces)
    for cv in canvases:                  # the surface fills a fair part of each frame
        assert cv.frame is not None and _coverage(cv.frame) > 0.05, cv.name

    # a drag on one view rotates it; the linked views follow
    first, others = canvases[0], canvases[1:]
    before = {cv.name: cv.frame.copy() for cv in canvases}
    _drag(qtbot, first, 80, 30)
    assert np.abs(first.frame.astype(int) - before[first.name]).mean() > 1.0
    for cv in others:
        assert np.abs(cv.frame.astype(int) - before[cv.name]).mean() > 1.0, cv.name
    # the same camera: split and naive (both bicubic here) draw nearly the same picture
    assert np.abs(canvases[1].frame.astype(int) - canvases[2].frame).mean() < 2.0

    # wheel zoom and right-drag pan; unlinked views stay put
    pane.link.setChecked(False)
    still = others[0].frame.copy()
    n0 = first.frames
    _drag(qtbot, first, 40, 0, Qt.MouseButton.RightButton)
    assert first.frames > n0
    np.testing.assert_array_equal(others[0].frame, still)

    # the wheel zooms in: the surface covers more of the frame
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    cover, n0 = _coverage(first.frame), first.frames
    centre = QPointF(first.width() / 2, first.height() / 2)
    QApplication.sendEvent(first, QWheelEvent(
        centre, first.mapToGlobal(centre), QPoint(0, 0), QPoint(0, 3 * 120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
        False))
    qtbot.waitUntil(lambda: first.frames > n0, timeout=5000)
    assert _coverage(first.frame) > cover

    # reset view: every view back to the same (default) camera
    pane.link.setChecked(True)
    pane.reset_view()
    assert _coverage(first.frame) > 0.05

    # frame time of one view (what a drag costs), for the record
    t0 = time.perf_counter()
    for _ in range(5):
        first.render_now()
    per_frame = (time.perf_counter() - t0) / 5
    print(f"3D frame {first.frame.shape[1]}x{first.frame.shape[0]}: {per_frame * 1000:.1f} ms")
    assert per_frame < 2.0


def test_colouring_export_and_input_only(qtbot, window, dome_png, tmp_path):
    from core.surface import load_mesh

    c, pane = window.controllers, window.surface3d
    _built(qtbot, window, dome_png, run=False)      # no SR yet: the opened map alone
    assert list(c.surface.surfaces) == ["Input"]
    cv = pane.canvases()[0]
    height = cv.frame.copy()
    c.surface.set_surface_options(color="normals")
    assert cv.mode == "normals" and np.abs(cv.frame.astype(int) - height).mean() > 1.0
    c.surface.set_surface_options(color="error")     # no ground truth: a note, shown by height
    assert pane.note.isVisibleTo(pane) and "ground truth" in pane.note.text()
    c.surface.set_surface_options(lighting=False)
    assert not cv.renderer.lighting

    for ext in (".ply", ".obj"):
        out = tmp_path / f"input{ext}"
        assert c.surface.export_mesh("Input", out)
        assert len(load_mesh(out).vertices) == len(c.surface.surfaces["Input"].mesh.vertices)
    render = tmp_path / "render.png"
    assert pane.save_render(render) and render.stat().st_size > 1000


def test_software_fallback_when_open3d_cannot_open_a_window(qtbot, window, dome_png,
                                                          monkeypatch):
    from gui.views import renderers

    def refuse(self):
        raise renderers.RendererUnavailable("Open3D could not create an offscreen window")

    monkeypatch.setattr(renderers.Open3DRenderer, "start", refuse)
    pane = window.surface3d
    _built(qtbot, window, dome_png, run=False)
    assert pane.backend == "software"
    assert pane.note.isVisibleTo(pane) and "software renderer" in pane.note.text()
    cv = pane.canvases()[0]
    assert isinstance(cv.renderer, renderers.SoftwareRenderer)
    assert _coverage(cv.frame) > 0.05
    before = cv.frame.copy()
    _drag(qtbot, cv, 60, 20)
    assert np.abs(cv.frame.astype(int) - before).mean() > 1.0


def test_bad_intrinsics_and_non_normals_are_refused(qtbot, window, dome_png, small_png,
                                                   tmp_path, dialogs):
    c = window.controllers
    bad = tmp_path / "K.txt"
    bad.write_text("1 0 0\n0 1 0\n")
    assert not c.surface.set_surface_options(K=str(bad))
    assert "3 x 3" in dialogs.warnings[-1]
    assert c.surface.surface_options()["K"] is None
    assert c.inputs.open_input(small_png)                     # an RGB image: nothing to integrate
    n = len(dialogs.warnings)
    assert not c.surface.build_surfaces()                      # said in the pane, no dialog
    assert "normal map" in window.surface3d.status.text() and len(dialogs.warnings) == n
    assert c.inputs.open_input(dome_png, "normals")           # and the window goes on working
    far = tmp_path / "K_far.txt"
    far.write_text("100 0 900\n0 100 900\n0 0 1\n")    # principal point off this image
    assert c.surface.set_surface_options(K=str(far))
    assert not c.surface.build_surfaces()
    assert "principal point" in dialogs.warnings[-1]
    assert c.surface.set_surface_options(K=None)
    assert c.surface.build_surfaces()                          # a build, cancelled: nothing applied
    c.surface.cancel_surface()
    wait_idle(qtbot, c)
    qtbot.wait(50)
    assert c.surface.surfaces == {} and not c.surface.jobs.busy


def test_colour_from_an_image(qtbot, window, dome_png, tmp_path):
    """Issue 6, 3D pane: optional colour from an RGB image (resized onto the mesh grid)."""
    import cv2

    c, pane = window.controllers, window.surface3d
    _built(qtbot, window, dome_png, run=False)
    grey = pane.canvases()[0].frame.copy()
    photo = tmp_path / "photo.png"
    img = np.zeros((96, 96, 3), np.uint8)
    img[:, :48] = (0, 0, 255)                         # BGR: left half red, right half blue
    img[:, 48:] = (255, 0, 0)
    cv2.imwrite(str(photo), img)
    assert c.surface.set_surface_options(texture=str(photo), color="image")
    assert c.surface.build_surfaces()
    qtbot.waitUntil(lambda: c.surface.surfaces_current() and not c.surface.jobs.busy, timeout=20000)
    view = c.surface.surfaces["Input"]
    cols, xs = view.colors["image"], view.mesh.vertices[:, 0]
    left, right = cols[xs < np.median(xs) - 1e-6], cols[xs > np.median(xs) + 1e-6]
    assert left[:, 0].mean() > 0.9 and left[:, 2].mean() < 0.1     # red on the left
    assert right[:, 2].mean() > 0.9 and right[:, 0].mean() < 0.1   # blue on the right
    qtbot.waitUntil(lambda: pane.canvases()[0].mode == "image", timeout=5000)
    frame = pane.canvases()[0].frame
    assert frame[..., 0].astype(int).sum() != grey[..., 0].astype(int).sum()

    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    errors = []
    c.notices.error.connect(errors.append)
    assert not c.surface.set_surface_options(texture=str(bad))
    assert errors and c.surface.surface_options()["texture"] == str(photo)   # nothing lost
