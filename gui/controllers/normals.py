"""Normal maps: options, decoding on open, what a run needs, saving, the shape/detail parts.

When the input's kind is ``normals`` the file is decoded with the chosen convention and mask
when it is opened (the loader's warnings are kept and shown; a photo opened as a normal map
gets a question: open it as an image instead?). The run itself is the run controller's (it
asks :meth:`NormalsController.run_request` and reports the LR / GT maps it made with
:meth:`NormalsController.record_io`); the metrics controller asks :meth:`gt`. Options are kept
in the session layout; the convention is also remembered in the settings for next time. A new
convention or mask emits ``redecoded``: the inputs must be prepared again. The shape and
detail parts run with the models picked in the Normal map box, else with the model ticked in
the Models list (:meth:`NormalsController.run_models`, which the box shows).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from core.app import normals as nt
from core.engine.run import SROptions
from core.errors import SRWError
from core.io.normals import save_normal_map
from core.models import default_model_name
from core.session import Session

from ..jobs import JobPool, Notices
from .kinds import needs_kind

__all__ = ["NormalsController"]

_CONVENTION_KEYS = ("y_up", "space")


class NormalsController(QObject):
    """Normal-map options and decoding; the parts split on ``parts_jobs``."""

    redecoded = Signal()          # the input was decoded anew: prepare the inputs again

    def __init__(self, session: Session, notices: Notices, pool: JobPool, settings: Any = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.notices = notices
        self.settings = settings
        self.parts_jobs = pool.handle("parts", notices, parent=self)
        self.normal_parts: nt.NormalParts | None = None   # the split of the opened map
        self.warnings: list[str] = []
        self._source: tuple | None = None    # (ImageData it was decoded from, NormalMap)
        self._io: tuple | None = None        # (inputs signature, lr NormalMap, hr NormalMap)

    # -- options ------------------------------------------------------------------------------
    def mode(self) -> bool:
        """Whether the input is a normal map."""
        s = self.session
        return s.source is not None and s.source.kind == "normals"

    def unavailable(self) -> str | None:
        """Why the Normal parts tab has nothing to split (None: a normal map is open)."""
        if self.mode():
            return None
        return needs_kind("The shape / detail split", "normals", self.session.source,
                          "open one with Input kind 'normal map'")

    def options(self) -> dict:
        lay = self.session.state.layout
        if "normals" not in lay and self.settings is not None:   # the remembered convention
            y_up = self.settings.value("normals/y_up", None)
            space = self.settings.value("normals/space", None)
            if y_up is not None or space is not None:
                lay["normals"] = {"y_up": str(y_up).lower() not in ("false", "0"),
                                  "space": space if space in ("tangent", "camera") else "camera"}
        return nt.options(lay)

    def set_options(self, **changes: Any) -> bool:
        """Change normal-map options; a new convention or mask decodes the input again (and
        is refused, with a message, when the input cannot be decoded that way)."""
        st = self.session.state
        old = self.options()
        new = {**old, **changes}
        if "methods" in changes:
            new["methods"] = [m for m in nt.METHOD_KEYS if m in changes["methods"]]
        st.layout["normals"] = new
        redecode = any(new[k] != old[k] for k in (*_CONVENTION_KEYS, "mask"))
        if redecode and self.mode():
            if self.decode(self.session.source) is None:
                st.layout["normals"] = old
                self.session.notify("normals")
                return False
            self.redecoded.emit()
        if self.settings is not None and any(k in changes for k in _CONVENTION_KEYS):
            self.settings.set_value("normals/y_up", bool(new["y_up"]))
            self.settings.set_value("normals/space", str(new["space"]))
        self.session.notify("normals")
        return True

    # -- decoding -----------------------------------------------------------------------------
    def decode(self, data):
        """Decode ``data`` with the current options; keeps and returns the NormalMap, or None
        after emitting the reason (a wrong-size mask, no usable normal...)."""
        opts = self.options()
        try:
            nmap = nt.decode_source(data, opts["mask"], nt.convention(opts))
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return None
        except MemoryError:
            self.notices.error.emit("the normal map is too large to decode in the free memory")
            return None
        self._source = (data, nmap)
        self._io = None
        self.warnings = list(nmap.warnings)
        return nmap

    def check_source(self, data, path: Path) -> str:
        """After loading a file as normals: ``"ok"``, ``"image"`` (the user chose to open it as
        an image) or ``"failed"`` (the reason was emitted)."""
        nmap = self.decode(data)
        if nmap is None:
            return "failed"
        photo = [w for w in nmap.warnings if nt.NOT_NORMALS_HINT in w]
        if photo and self.notices.ask("Not a normal map?", f"{path.name}: {photo[0]}\n\nOpen it "
                                      "as an ordinary image instead?"):
            return "image"
        if nmap.warnings:
            self.notices.message.emit(f"{path.name}: " + " · ".join(nmap.warnings))
        return "ok"

    def source_warnings(self) -> list[str]:
        """The loader's warnings about the opened normal map (as decoded now)."""
        ns = self._source
        return list(self.warnings) if ns is not None and ns[0] is self.session.source else []

    def source_normals(self):
        """The opened normal map (decoded), or None."""
        s = self.session
        ns = self._source
        if ns is None or s.source is None or ns[0] is not s.source:
            if not self.mode():
                return None
            if self.decode(s.source) is None:
                return None
            ns = self._source
        return ns[1]

    def decoded(self):
        """The opened map as decoded already (None, without decoding or a message, else)."""
        ns = self._source
        ok = self.mode() and ns is not None and ns[0] is self.session.source
        return ns[1] if ok else None

    def ticked_model(self) -> str:
        """The model the Models list gives the parts: the first ticked trained model, else the
        first ticked one (an interpolation), else the default model."""
        s = self.session
        ticked = [k for k in s.state.models if k in s.catalog]
        trained = [k for k in ticked if getattr(s.catalog[k], "kind", "") != "interp"]
        return (trained or ticked or [default_model_name()])[0]

    def run_models(self) -> tuple[str, str]:
        """``(shape, detail)`` model keys of the next run (naive uses the shape's)."""
        opts = self.options()
        shape = opts["shape_model"] or self.ticked_model()
        return shape, opts["detail_model"] or shape

    # -- what a run needs and made ------------------------------------------------------------
    def signature(self) -> tuple:
        s, st = self.session, self.session.state
        return (id(s.source), id(s.attached_hr) if st.reference == "hr" else None,
                st.reference, st.scale if st.reference == "degrade" else None)

    def run_request(self) -> nt.NormalsRequest | None:
        """The split / naive / bicubic run of the opened map, or None (the reason emitted)."""
        s, st = self.session, self.session.state
        src = self.source_normals()
        if src is None:
            self.notices.error.emit("the normal map could not be decoded (see the previous "
                                    "message)")
            return None
        opts = self.options()
        if not opts["methods"]:
            self.notices.error.emit("tick at least one normal-map method (Normal map box)")
            return None
        hr_file = None
        if st.reference == "hr" and s.attached_hr is not None:
            try:
                hr_file = nt.decode_source(s.attached_hr, None, nt.convention(opts))
            except SRWError as exc:
                self.notices.error.emit(f"the HR reference: {exc}")
                return None
        shape, detail = self.run_models()
        return nt.NormalsRequest(src, hr_file, st.reference, st.scale, st.size,
                                 tuple(opts["methods"]), float(opts["sigma"]), shape, detail,
                                 SROptions(device=st.device, precision=st.precision,
                                           tile=st.tile))

    def record_io(self, signature: tuple, lr, hr) -> None:
        """The LR and GT normal maps a run made (of the inputs ``signature`` describes)."""
        self._io = (signature, lr, hr)

    def gt(self):
        """The ground-truth normal map of the results on screen (None without a reference)."""
        io = self._io
        return io[2] if io is not None and io[0] == self.signature() else None

    def lr(self):
        """The LR normal map the results on screen were made from (None before a run)."""
        io = self._io
        return io[1] if io is not None and io[0] == self.signature() else None

    def save_result(self, key: str, path: Path) -> bool | None:
        """Save a normal-map result as a normal map (the input's bit depth); None when ``key``
        is not one."""
        res = self.session.results.get(key)
        if not isinstance(res, nt.NormalsResult):
            return None
        src = self.source_normals()
        nmap = res.normals.normals
        if src is not None:
            nmap = dataclasses.replace(nmap, convention=src.convention,
                                       meta={**src.meta, **nmap.meta})
        try:
            save_normal_map(nmap, path, overwrite=path.exists())
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return False
        self.notices.message.emit(f"Saved {key} to {path}")
        return True

    # -- shape / detail parts of the opened map --------------------------------------------------
    def parts_current(self) -> bool:
        """Whether :attr:`normal_parts` is the split of the opened map at the chosen sigma."""
        p = self.normal_parts
        src = self.decoded()
        return p is not None and src is not None and p.source is src and \
            p.sigma == float(self.options()["sigma"])

    def compute_parts(self) -> bool:
        """Split the opened map at the chosen sigma (supersedes a split in progress)."""
        src = self.decoded()
        if src is None:
            return False
        sigma = float(self.options()["sigma"])
        self.parts_jobs.submit(nt.parts_job(src, sigma), on_done=self._parts_done,
                               start="splitting")
        return True

    def save_parts(self, folder: str | Path, bits: int = 16) -> bool:
        """Write ``STEM_shape.png`` and ``STEM_detail.png`` (8 or 16 bit) into ``folder`` as a
        background job; existing files are replaced only if the user agrees."""
        src = self.source_normals() if self.mode() else None
        if src is None:
            self.notices.error.emit("open a normal map first (Input kind: normal map)")
            return False
        if bits not in (8, 16):
            self.notices.error.emit(f"PNG parts are 8 or 16 bit, not {bits}")
            return False
        stem = Path(self.session.state.input_path or "normals").stem
        paths = nt.parts_paths(folder, stem)
        there = [p.name for p in paths.values() if p.exists()]
        if there and not self.notices.ask("Replace files?", f"{', '.join(there)} already exist "
                                          f"in {folder}. Replace them?"):
            return False
        sigma = float(self.options()["sigma"])
        self.parts_jobs.submit(nt.save_parts_job(src, sigma, self.normal_parts, paths, bits,
                                                 overwrite=bool(there)),
                               on_done=self._parts_saved, start="saving")
        return True

    def _parts_done(self, parts) -> str:
        self.normal_parts = parts
        self.session.notify("normal_parts")
        return f"sigma {parts.sigma:g} px"

    def _parts_saved(self, paths: dict) -> str:
        self.notices.message.emit("Saved " + " and ".join(str(p) for p in paths.values()))
        return "saved"
