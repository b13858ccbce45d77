"""The 3D pane: integrate and mesh the normal maps on screen, options, mesh export.

``build_surfaces`` integrates the normal maps the 3D pane shows side by side (``LR bicubic``,
``SR (split)``, ``SR (naive)`` and ``GT`` once a normal-map run has made them; else the opened
map alone, ``Input``) on ``jobs``: progress per solver iteration, Cancel, and a new request
makes an older build's views stale, so they are dropped. A new input forgets the surfaces of
the previous one. Options (integration method, camera intrinsics file, colouring, lighting)
live in the session layout. Meshes are exported with :func:`core.surface.save_mesh`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject

from core.app import normals as nt
from core.app import surface as sft
from core.errors import InputError, SRWError
from core.io import load
from core.io.normals import load_intrinsics
from core.session import Session
from core.surface import save_mesh, scale_intrinsics

from ..jobs import JobHandle, JobPool, Notices
from .kinds import needs_kind
from .normals import NormalsController

__all__ = ["SurfaceController", "SURFACE_DEFAULTS"]

SURFACE_DEFAULTS = {"method": "lsq", "K": None, "color": "height", "lighting": True,
                    "texture": None}


def _texture(path) -> np.ndarray:
    """The image at ``path`` as H x W x 3 float32 in [0, 1] (gray replicated, alpha dropped)."""
    data = load(Path(path))
    if data.kind not in ("rgb", "gray"):
        raise InputError(f"{Path(path).name} is not an image (it loads as {data.kind}); "
                         f"the 3D colours need an RGB or gray image")
    px = np.clip(data.pixels[..., :3], 0.0, 1.0)
    return np.repeat(px, 3, axis=2) if px.shape[2] == 1 else px


class SurfaceController(QObject):
    """``run_jobs``: the run's handle (the pane rebuilds once a run has finished)."""

    def __init__(self, session: Session, notices: Notices, pool: JobPool,
                 normals: NormalsController, run_jobs: JobHandle,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.notices = notices
        self.normals = normals
        self.run_jobs = run_jobs
        self.jobs = pool.handle("surface", notices, parent=self)
        self.surfaces: dict = {}             # view name -> SurfaceView of the last build
        self.surface_signature: tuple = ()   # what those views were built from
        self.surface_names: tuple = ()       # the views of the build in progress (or the last)
        self._source = None
        session.subscribe(self._on_session)

    def _on_session(self, topic: str) -> None:
        if topic in ("inputs", "all") and self.session.source is not self._source:
            self._source = self.session.source
            self.forget_surfaces()

    def available(self) -> bool:
        """Whether the input is a normal map (the pane has something to show)."""
        return self.normals.mode()

    def unavailable(self) -> str | None:
        """Why the pane has nothing to build for the input that is open (None: it has)."""
        if self.available():
            return None
        return needs_kind("The 3D view", "normals", self.session.source,
                          "open one with Input kind 'normal map'")

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
                load_intrinsics(Path(changes["K"]))
            if changes.get("texture"):
                _texture(changes["texture"])
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            self.session.notify("surface_options")
            return False
        self.session.state.layout["surface"] = {**self.surface_options(), **changes}
        self.session.notify("surface_options")
        return True

    # -- what to show -------------------------------------------------------------------------
    def surface_request(self) -> sft.SurfaceRequest:
        """The maps on screen (or the input alone) and K for their grid. Raises InputError."""
        s = self.session
        if not self.normals.mode():
            raise InputError("the 3D view needs a normal map: open one with kind 'normal map'")
        maps = [(k, r.normals.normals) for k, r in s.results.items()
                if isinstance(r, nt.NormalsResult)]
        gt = self.normals.gt()
        if maps and gt is not None:
            maps.append(("GT", gt))
        if not maps:
            src = self.normals.source_normals()
            if src is None:
                raise InputError("the normal map could not be decoded")
            maps = [("Input", src)]
        order = {name: i for i, name in enumerate(sft.VIEW_ORDER)}
        maps.sort(key=lambda m: order.get(m[0], len(order)))
        opts = self.surface_options()
        K = None
        if opts["K"]:
            K = load_intrinsics(Path(opts["K"]))
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
        texture = _texture(opts["texture"]) if opts["texture"] else None
        return sft.SurfaceRequest(tuple(maps), opts["method"], K,
                                  gt if gt is not None and maps[0][0] != "Input" else None,
                                  signature=sig, texture=texture)

    # -- building -----------------------------------------------------------------------------
    def build_surfaces(self) -> bool:
        """Integrate and mesh the maps on screen; supersedes a build in progress."""
        reason = self.unavailable()
        if reason:
            return self.jobs.refuse(reason)
        try:
            req = self.surface_request()
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return False
        self.surfaces = {}
        self.surface_signature = req.signature
        self.surface_names = tuple(name for name, _ in req.maps)
        self.jobs.submit(sft.surface_job(req), on_step=self._step, on_done=self._done)
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
        self.jobs.cancel("3D build cancelled")

    def forget_surfaces(self) -> None:
        """Another input is open: the surfaces of the previous one go (and their build)."""
        self.cancel_surface()
        if self.surfaces:
            self.surfaces = {}
            self.surface_signature = ()
            self.session.notify("surface")

    def _step(self, p) -> None:
        if p.key == "surface":
            view = p.value
            self.surfaces = {**self.surfaces, view.name: view}
            self.session.notify("surface")

    def _done(self, _views) -> str:
        elapsed = self.jobs.elapsed()
        self.notices.message.emit(f"{len(self.surfaces)} surface(s) built in {elapsed:.1f} s")
        return f"built in {elapsed:.1f} s"

    # -- export -------------------------------------------------------------------------------
    def export_mesh(self, name: str, path: str | Path, color: str | None = None) -> bool:
        """Write view ``name``'s mesh (with the colouring ``color``, default the pane's)."""
        view = self.surfaces.get(name)
        if view is None:
            self.notices.error.emit(f"no 3D surface {name!r}: build the surfaces first")
            return False
        mode = color or self.surface_options()["color"]
        mesh = dataclasses.replace(view.mesh, colors=view.colors.get(mode))
        target = Path(path)
        try:
            save_mesh(mesh, target, overwrite=target.exists())
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return False
        except OSError as exc:
            self.notices.error.emit(f"could not write {target}: {exc}")
            return False
        self.notices.message.emit(f"Saved the {name} mesh to {target} "
                                  f"({len(mesh.vertices):,} vertices)")
        return True
