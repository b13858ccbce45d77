"""The controller's 3D side (a mixin of :class:`gui.controller.Controller`).

``build_surfaces`` integrates the normal maps the 3D pane shows side by side (``LR bicubic``,
``SR (split)``, ``SR (naive)`` and ``GT`` once a normal-map run has made them; else the opened
map alone, ``Input``) on the ``surface`` channel: progress per solver iteration, Cancel, and a
new request (or new results) makes an older build's views stale, so they are dropped. Options
(integration method, camera intrinsics file, colouring, lighting) live in the session layout.
Meshes are exported with :func:`core.surface.save_mesh` (PLY / OBJ / STL).
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Signal

from core.errors import InputError, SRWError

from core.app import normals as nt
from core.app import surface as sft

__all__ = ["SurfaceMixin", "SURFACE_DEFAULTS"]

SURFACE_DEFAULTS = {"method": "lsq", "K": None, "color": "height", "lighting": True,
                    "texture": None}


class SurfaceMixin:
    surface_progress = Signal(float, str)
    surface_running = Signal(bool)

    surfaces: dict = {}              # view name -> SurfaceView of the last build
    surface_signature: tuple = ()    # what those views were built from
    surface_names: tuple = ()        # the views of the build in progress (or the last one)

    # -- options ------------------------------------------------------------------------------
    def surface_options(self) -> dict:
        got = self.session.state.layout.get("surface")
        got = got if isinstance(got, dict) else {}
        return {**SURFACE_DEFAULTS, **{k: v for k, v in got.items() if k in SURFACE_DEFAULTS}}

    def set_surface_options(self, **changes) -> bool:
        """Method / K / texture change what is built (the next build); colour / lighting are
        display. ``texture``: an RGB image whose colours the "image" colouring shows."""
        try:
            if changes.get("K"):
                self._intrinsics(changes["K"])
            if changes.get("texture"):
                self._texture(changes["texture"])
        except SRWError as exc:
            self.error.emit(str(exc))
            self.session.notify("surface_options")
            return False
        self.session.state.layout["surface"] = {**self.surface_options(), **changes}
        self.session.notify("surface_options")
        return True

    @staticmethod
    def _intrinsics(path):
        from core.io.normals import load_intrinsics

        return load_intrinsics(Path(path))

    @staticmethod
    def _texture(path):
        """The image at ``path`` as H x W x 3 float32 in [0, 1] (gray replicated, alpha dropped)."""
        import numpy as np

        from core.io import load

        data = load(Path(path))
        if data.kind not in ("rgb", "gray"):
            raise InputError(f"{Path(path).name} is not an image (it loads as {data.kind}); "
                             f"the 3D colours need an RGB or gray image")
        px = np.clip(data.pixels[..., :3], 0.0, 1.0)
        return np.repeat(px, 3, axis=2) if px.shape[2] == 1 else px

    # -- what to show -------------------------------------------------------------------------
    def surface_request(self) -> sft.SurfaceRequest:
        """The maps on screen (or the input alone) and K for their grid. Raises InputError."""
        from core.surface import scale_intrinsics

        s = self.session
        if not self.normals_mode():
            raise InputError("the 3D view needs a normal map: open one with kind 'normal map'")
        maps = [(k, r.normals.normals) for k, r in s.results.items()
                if isinstance(r, nt.NormalsResult)]
        gt = self.normals_gt()
        if maps and gt is not None:
            maps.append(("GT", gt))
        if not maps:
            src = self.source_normals()
            if src is None:
                raise InputError("the normal map could not be decoded")
            maps = [("Input", src)]
        order = {name: i for i, name in enumerate(sft.VIEW_ORDER)}
        maps.sort(key=lambda m: order.get(m[0], len(order)))
        opts = self.surface_options()
        K = None
        if opts["K"]:
            K = self._intrinsics(opts["K"])
            h0, w0 = s.source.height, s.source.width
            if maps[0][0] != "Input" and s.state.reference != "degrade":   # K is of the LR
                h, w = maps[0][1].shape
                K = scale_intrinsics(K, (h / h0, w / w0))
            h, w = maps[0][1].shape
            if not (0 <= K[0, 2] <= w and 0 <= K[1, 2] <= h):
                raise InputError(f"K's principal point ({K[0, 2]:g}, {K[1, 2]:g}) lies outside "
                                 f"the {w}x{h} normal map; is K for this image size?")
        sig = tuple((name, id(n)) for name, n in maps) + (opts["method"], opts["K"],
                                                           opts["texture"])
        texture = self._texture(opts["texture"]) if opts["texture"] else None
        return sft.SurfaceRequest(tuple(maps), opts["method"], K,
                                  gt if gt is not None and maps[0][0] != "Input" else None,
                                  signature=sig, texture=texture)

    # -- building -----------------------------------------------------------------------------
    def build_surfaces(self) -> bool:
        """Integrate and mesh the maps on screen; supersedes a build in progress."""
        try:
            req = self.surface_request()
        except SRWError as exc:
            self.error.emit(str(exc))
            return False
        self.surfaces = {}
        self.surface_signature = req.signature
        self.surface_names = tuple(name for name, _ in req.maps)
        self._surface_t0 = time.perf_counter()
        self._submit("surface", sft.surface_job(req), step=self._surface_step,
                     progress=self._surface_progress, done=self._surface_done,
                     failed=self._surface_failed)
        self.surface_running.emit(True)
        self.surface_progress.emit(0.0, "starting")
        self.session.notify("surface")
        return True

    def surfaces_current(self) -> bool:
        """Whether the built views are of the maps now on screen."""
        try:
            return bool(self.surfaces) and self.surface_request().signature == \
                self.surface_signature
        except SRWError:
            return False

    def cancel_surface(self) -> None:
        if self._cancel_channel("surface"):
            self.surface_running.emit(False)
            self.surface_progress.emit(0.0, "cancelled")
            self.message.emit("3D build cancelled")

    def forget_surfaces(self) -> None:
        """Another input is open: the surfaces of the previous one go (and their build)."""
        self.cancel_surface()
        if self.surfaces:
            self.surfaces = {}
            self.surface_signature = ()
            self.session.notify("surface")

    def _surface_step(self, p) -> None:
        if p.key == "surface":
            view = p.value
            self.surfaces = {**self.surfaces, view.name: view}
            self.session.notify("surface")

    def _surface_progress(self, p) -> None:
        self.surface_progress.emit(p.fraction, p.message)

    def _surface_done(self, _views) -> None:
        elapsed = time.perf_counter() - self._surface_t0
        self.surface_running.emit(False)
        self.surface_progress.emit(1.0, f"built in {elapsed:.1f} s")
        self.message.emit(f"{len(self.surfaces)} surface(s) built in {elapsed:.1f} s")

    def _surface_failed(self, message: str) -> None:
        self.surface_running.emit(False)
        self.surface_progress.emit(0.0, "failed")
        self.error.emit(message)

    # -- export -------------------------------------------------------------------------------
    def export_mesh(self, name: str, path: str | Path, color: str | None = None) -> bool:
        """Write view ``name``'s mesh (with the colouring ``color``, default the pane's)."""
        import dataclasses

        from core.surface import save_mesh

        view = self.surfaces.get(name)
        if view is None:
            self.error.emit(f"no 3D surface {name!r}: build the surfaces first")
            return False
        mode = color or self.surface_options()["color"]
        mesh = dataclasses.replace(view.mesh, colors=view.colors.get(mode))
        target = Path(path)
        try:
            save_mesh(mesh, target, overwrite=target.exists())
        except SRWError as exc:
            self.error.emit(str(exc))
            return False
        except OSError as exc:
            self.error.emit(f"could not write {target}: {exc}")
            return False
        self.message.emit(f"Saved the {name} mesh to {target} ({len(mesh.vertices):,} vertices)")
        return True
