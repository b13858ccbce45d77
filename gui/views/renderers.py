"""Frame sources of the 3D pane: Open3D's legacy Visualizer offscreen, or the software fallback.

:class:`Open3DRenderer` draws with ``open3d.visualization.Visualizer``: the window is created
lazily on first use with ``create_window(visible=False)`` (with no display Open3D falls back to
EGL offscreen rendering; under X it is a hidden GLFW window) and reused for every later mesh;
each frame is read back with ``capture_screen_float_buffer`` and shown in a Qt widget. Camera
moves go through its ``ViewControl`` (rotate / translate / scale, in mouse pixels), and a camera
is handed to other views as pinhole parameters, which is how linked views follow. Only the
legacy Visualizer is used: Open3D's ``OffscreenRenderer`` must never be created in the same
process.

:class:`SoftwareRenderer` is the fallback where Open3D is missing or cannot create a window:
:func:`core.surface.render_mesh` (numpy, orthographic, Lambert), with the same interface and a
camera of azimuth / elevation / zoom / pan. Both render on the GUI thread (a GL context belongs
to the thread that made it); both return ``H x W x 3`` uint8 RGB frames.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from core.surface import Mesh, render_mesh, to_open3d

__all__ = ["Open3DRenderer", "SoftwareRenderer", "RendererUnavailable", "open3d_status",
           "BACKGROUND", "FRAME_SIZE"]

BACKGROUND = (0.094, 0.110, 0.129)      # the views' dark grey (24, 28, 33)
FRAME_SIZE = (400, 480)                 # (height, width) of a rendered frame
#: The first view of a surface: from the camera that took the normal map, tilted so that the
#: relief shows (Open3D ``front`` vector: from the centre towards the eye; y up).
DEFAULT_FRONT = (0.3, -0.45, 0.84)
DEFAULT_ZOOM = 0.62


class RendererUnavailable(RuntimeError):
    """Open3D cannot be imported or cannot create its (offscreen) window."""


def open3d_status() -> tuple[bool, str]:
    """``(True, "")`` when Open3D imports, else ``(False, why)``."""
    try:   # imported late: 1.2 s here, and optional (a software renderer stands in)
        import open3d  # noqa: F401
    except Exception as exc:  # ImportError, or a missing system library (OSError)
        return False, f"Open3D is not available ({type(exc).__name__}: {exc})"
    return True, ""


class Open3DRenderer:
    """One lazily created, reused ``open3d.visualization.Visualizer`` (hidden window)."""

    kind = "open3d"

    def __init__(self, size: tuple[int, int] = FRAME_SIZE):
        self.size = (int(size[0]), int(size[1]))
        self.lighting = True
        self._vis: Any = None
        self._geom: Any = None
        self._dead = False

    # -- the window ---------------------------------------------------------------------------
    def _window(self):
        if self._vis is not None:
            return self._vis
        if self._dead:
            raise RendererUnavailable("the Open3D window was closed")
        ok, why = open3d_status()
        if not ok:
            raise RendererUnavailable(why)
        import open3d as o3d   # late and optional: see open3d_status

        o3d.utility.set_verbosity_level(o3d.utility.VerbosityLevel.Error)
        vis = o3d.visualization.Visualizer()
        h, w = self.size
        try:
            created = vis.create_window(window_name="SR Workbench 3D", width=w, height=h,
                                        visible=False)
        except Exception as exc:  # pragma: no cover - depends on the GL stack
            raise RendererUnavailable(f"Open3D could not create a window ({exc})") from exc
        if not created:
            raise RendererUnavailable("Open3D could not create an offscreen window (no OpenGL "
                                      "or EGL context)")
        opt = vis.get_render_option()
        opt.background_color = np.asarray(BACKGROUND, dtype=np.float64)
        opt.mesh_show_back_face = True
        opt.light_on = self.lighting
        self._vis = vis
        return vis

    def start(self) -> None:
        """Create the window now (raises :class:`RendererUnavailable` when it cannot)."""
        self._window()

    # -- content ------------------------------------------------------------------------------
    def set_mesh(self, mesh: Mesh | None, colors: np.ndarray | None = None) -> None:
        import open3d as o3d   # late and optional: see open3d_status

        vis = self._window()
        vis.clear_geometries()
        self._geom = None
        if mesh is None or len(mesh.triangles) == 0:
            return
        plain = dataclasses.replace(mesh, colors=None)
        g = to_open3d(plain)
        g.compute_triangle_normals()      # the legacy shader lights nothing without them
        if colors is not None:
            g.vertex_colors = o3d.utility.Vector3dVector(colors.astype(np.float64))
        vis.add_geometry(g, reset_bounding_box=True)
        self._geom = g
        self._default_view()

    def _default_view(self) -> None:
        h, w = self.size
        ctr = self._vis.get_view_control()
        ctr.set_front(DEFAULT_FRONT)
        ctr.set_up((0.0, 1.0, 0.0))
        ctr.set_zoom(DEFAULT_ZOOM * max(1.0, h / w))   # Open3D fits the height: keep the width

    def set_colors(self, colors: np.ndarray | None) -> None:
        import open3d as o3d   # late and optional: see open3d_status

        if self._geom is None or colors is None:
            return
        self._geom.vertex_colors = o3d.utility.Vector3dVector(colors.astype(np.float64))
        self._vis.update_geometry(self._geom)

    def set_lighting(self, on: bool) -> None:
        self.lighting = bool(on)
        if self._vis is not None:
            self._vis.get_render_option().light_on = self.lighting

    # -- camera (mouse pixels of the frame) ---------------------------------------------------
    def rotate(self, dx: float, dy: float) -> None:
        self._window().get_view_control().rotate(float(dx), float(dy))

    def pan(self, dx: float, dy: float) -> None:
        self._window().get_view_control().translate(float(dx), float(dy))

    def zoom(self, steps: float) -> None:
        """``steps`` > 0 zooms in (Open3D's scale() zooms out for positive values)."""
        self._window().get_view_control().scale(-float(steps))

    def reset(self) -> None:
        self._window().reset_view_point(True)
        if self._geom is not None:
            self._default_view()

    def camera(self):
        return self._window().get_view_control().convert_to_pinhole_camera_parameters()

    def set_camera(self, camera) -> None:
        if camera is not None and self._geom is not None:
            self._window().get_view_control().convert_from_pinhole_camera_parameters(
                camera, allow_arbitrary=True)

    # -- frames -------------------------------------------------------------------------------
    def render(self) -> np.ndarray:
        vis = self._window()
        vis.poll_events()
        vis.update_renderer()
        buf = np.asarray(vis.capture_screen_float_buffer(do_render=True))
        return np.ascontiguousarray(np.clip(buf * 255.0 + 0.5, 0, 255).astype(np.uint8))

    def close(self) -> None:
        if self._vis is not None:
            try:
                self._vis.clear_geometries()
                self._vis.destroy_window()
            except Exception:  # pragma: no cover - closing never raises to the UI
                pass
        self._vis = self._geom = None
        self._dead = True


@dataclasses.dataclass
class SoftCamera:
    azimuth: float = -12.0
    elevation: float = 30.0
    zoom: float = 1.5
    pan: tuple[float, float] = (0.0, 0.0)


class SoftwareRenderer:
    """The numpy fallback (:func:`core.surface.render_mesh`), same interface."""

    kind = "software"
    DEG_PER_PIXEL = 0.4

    def __init__(self, size: tuple[int, int] = FRAME_SIZE):
        self.size = (int(size[0]), int(size[1]))
        self.lighting = True
        self.mesh: Mesh | None = None
        self.cam = SoftCamera()

    def start(self) -> None:
        pass

    def set_mesh(self, mesh: Mesh | None, colors: np.ndarray | None = None) -> None:
        self.mesh = None if mesh is None else dataclasses.replace(mesh, colors=colors)

    def set_colors(self, colors: np.ndarray | None) -> None:
        if self.mesh is not None and colors is not None:
            self.mesh = dataclasses.replace(self.mesh, colors=colors)

    def set_lighting(self, on: bool) -> None:
        self.lighting = bool(on)

    def rotate(self, dx: float, dy: float) -> None:
        c = self.cam
        c.azimuth = (c.azimuth + dx * self.DEG_PER_PIXEL + 180.0) % 360.0 - 180.0
        c.elevation = float(np.clip(c.elevation + dy * self.DEG_PER_PIXEL, -89.0, 89.0))

    def pan(self, dx: float, dy: float) -> None:
        self.cam.pan = (self.cam.pan[0] + dx, self.cam.pan[1] + dy)

    def zoom(self, steps: float) -> None:
        self.cam.zoom = float(np.clip(self.cam.zoom * 1.1 ** steps, 0.05, 50.0))

    def reset(self) -> None:
        self.cam = SoftCamera()

    def camera(self) -> SoftCamera:
        return dataclasses.replace(self.cam)

    def set_camera(self, camera) -> None:
        if isinstance(camera, SoftCamera):
            self.cam = dataclasses.replace(camera)

    def render(self) -> np.ndarray:
        h, w = self.size
        bg = np.asarray(BACKGROUND)
        if self.mesh is None:
            return np.broadcast_to(np.round(bg * 255).astype(np.uint8), (h, w, 3)).copy()
        c = self.cam
        img = render_mesh(self.mesh, size=(h, w), azimuth=c.azimuth, elevation=-c.elevation,
                          zoom=c.zoom, background=tuple(bg), ambient=0.25 if self.lighting else 1.0)
        px = int(np.clip(round(c.pan[0]), 1 - w, w - 1))
        py = int(np.clip(round(c.pan[1]), 1 - h, h - 1))
        if px or py:
            out = np.empty_like(img)
            out[:] = np.round(bg * 255).astype(np.uint8)
            ys, yd = (slice(0, h - py), slice(py, h)) if py >= 0 else (slice(-py, h),
                                                                       slice(0, h + py))
            xs, xd = (slice(0, w - px), slice(px, w)) if px >= 0 else (slice(-px, w),
                                                                       slice(0, w + px))
            out[yd, xd] = img[ys, xs]
            img = out
        return img

    def close(self) -> None:
        self.mesh = None
