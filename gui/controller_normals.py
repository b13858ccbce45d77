"""The controller's normal-map side (a mixin of :class:`gui.controller.Controller`).

When the input's kind is ``normals``: the file is decoded with the chosen convention and mask
when it is opened (the loader's warnings are kept and shown; a photo opened as a normal map
gets a question: open it as an image instead?), ``run`` super-resolves it with the split and
naive methods and the bicubic baseline (:mod:`core.app.normals`, on the ``run`` channel: one
progress bar, Cancel, stale results dropped) and the metrics are angular errors. Options are
kept in the session layout; the convention is also remembered in the settings for next time.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal

from core.errors import SRWError

from core.app import normals as nt

__all__ = ["NormalsMixin"]

_CONVENTION_KEYS = ("y_up", "space")


class NormalsMixin:
    """Normal-map options, decoding on open, split/naive runs, angular-error metrics."""

    parts_progress = Signal(float, str)
    parts_running = Signal(bool)

    normal_parts = None          # nt.NormalParts of the opened map (the "Normal parts" tab)
    normals_warnings: list[str] = []
    _normal_source = None        # (ImageData it was decoded from, options key, NormalMap)
    _normal_io = None            # (inputs signature, lr NormalMap, hr NormalMap | None)

    # -- options ------------------------------------------------------------------------------
    def normals_mode(self) -> bool:
        s = self.session
        return s.source is not None and s.source.kind == "normals"

    def normals_options(self) -> dict:
        lay = self.session.state.layout
        if "normals" not in lay and self.settings is not None:   # the remembered convention
            y_up = self.settings.value("normals/y_up", None)
            space = self.settings.value("normals/space", None)
            if y_up is not None or space is not None:
                lay["normals"] = {"y_up": str(y_up).lower() not in ("false", "0"),
                                  "space": space if space in ("tangent", "camera") else "camera"}
        return nt.options(lay)

    def set_normals_options(self, **changes) -> bool:
        """Change normal-map options; a new convention or mask decodes the input again (and
        is refused, with a message, when the input cannot be decoded that way)."""
        st = self.session.state
        old = self.normals_options()
        new = {**old, **changes}
        if "methods" in changes:
            new["methods"] = [m for m in nt.METHOD_KEYS if m in changes["methods"]]
        st.layout["normals"] = new
        redecode = any(new[k] != old[k] for k in (*_CONVENTION_KEYS, "mask"))
        if redecode and self.normals_mode():
            if self.decode_normals(self.session.source) is None:
                st.layout["normals"] = old
                self.session.notify("normals")
                return False
            self._inputs_changed()
        if self.settings is not None and any(k in changes for k in _CONVENTION_KEYS):
            self.settings.set_value("normals/y_up", bool(new["y_up"]))
            self.settings.set_value("normals/space", str(new["space"]))
        self.session.notify("normals")
        return True

    # -- decoding -----------------------------------------------------------------------------
    def decode_normals(self, data):
        """Decode ``data`` with the current options; keeps and returns the NormalMap, or None
        after emitting the reason (a wrong-size mask, no usable normal...)."""
        opts = self.normals_options()
        try:
            nmap = nt.decode_source(data, opts["mask"], nt.convention(opts))
        except SRWError as exc:
            self.error.emit(str(exc))
            return None
        except MemoryError:
            self.error.emit("the normal map is too large to decode in the free memory")
            return None
        self._normal_source = (data, nmap)
        self._normal_io = None
        self.normals_warnings = list(nmap.warnings)
        return nmap

    def check_normals_source(self, data, path: Path) -> str:
        """After loading a file as normals: ``"ok"``, ``"image"`` (the user chose to open it as
        an image) or ``"failed"`` (the reason was emitted)."""
        nmap = self.decode_normals(data)
        if nmap is None:
            return "failed"
        photo = [w for w in nmap.warnings if nt.NOT_NORMALS_HINT in w]
        if photo and self.ask("Not a normal map?", f"{path.name}: {photo[0]}\n\nOpen it as an "
                              "ordinary image instead?"):
            return "image"
        if nmap.warnings:
            self.message.emit(f"{path.name}: " + " · ".join(nmap.warnings))
        return "ok"

    def normal_source_warnings(self) -> list[str]:
        """The loader's warnings about the opened normal map (as decoded now)."""
        ns = self._normal_source
        return list(self.normals_warnings) if ns is not None and ns[0] is self.session.source \
            else []

    def source_normals(self):
        """The opened normal map (decoded), or None."""
        s = self.session
        ns = self._normal_source
        if ns is None or s.source is None or ns[0] is not s.source:
            if not self.normals_mode():
                return None
            if self.decode_normals(s.source) is None:
                return None
            ns = self._normal_source
        return ns[1]

    def _normals_signature(self) -> tuple:
        s, st = self.session, self.session.state
        return (id(s.source), id(s.attached_hr) if st.reference == "hr" else None,
                st.reference, st.scale if st.reference == "degrade" else None)

    def normals_gt(self):
        """The ground-truth normal map of the results on screen (None without a reference)."""
        io = self._normal_io
        return io[2] if io is not None and io[0] == self._normals_signature() else None

    def normals_lr(self):
        """The LR normal map the results on screen were made from (None before a run)."""
        io = self._normal_io
        return io[1] if io is not None and io[0] == self._normals_signature() else None

    # -- running ------------------------------------------------------------------------------
    def run_normals(self) -> bool:
        s, st = self.session, self.session.state
        src = self.source_normals()
        if src is None:
            self.error.emit("the normal map could not be decoded (see the previous message)")
            return False
        opts = self.normals_options()
        if not opts["methods"]:
            self.error.emit("tick at least one normal-map method (Normal map box)")
            return False
        hr_file = None
        if st.reference == "hr" and s.attached_hr is not None:
            try:
                hr_file = nt.decode_source(s.attached_hr, None, nt.convention(opts))
            except SRWError as exc:
                self.error.emit(f"the HR reference: {exc}")
                return False
        from core.engine.run import SROptions

        req = nt.NormalsRequest(src, hr_file, st.reference, st.scale, st.size,
                                tuple(opts["methods"]), float(opts["sigma"]),
                                opts["shape_model"] or None, opts["detail_model"] or None,
                                SROptions(device=st.device, precision=st.precision,
                                          tile=st.tile))
        self._begin_run()
        self._normals_sig = self._normals_signature()
        return self._submit_run(nt.normals_run_job(req), self._normals_step)

    def _normals_step(self, p) -> None:
        if p.key == "io":
            lr, hr = p.value
            self._normal_io = (self._normals_sig, lr, hr)
        elif p.key == "result":
            key, mr = p.value
            self.session.add_result(key, mr)
            self.schedule_metrics()
        elif p.key == "error":
            key, msg = p.value
            self._run_errors.append(f"{key}: {msg}")

    # -- metrics ------------------------------------------------------------------------------
    def start_special_metrics(self) -> bool:
        """Metrics of normal maps (angular error) and channel data (NMSE); False otherwise."""
        s = self.session
        if self.normals_mode():
            gt = self.normals_gt()
            maps = {k: (k, r.normals.normals) for k, r in s.results.items()
                    if isinstance(r, nt.NormalsResult)}
            if gt is None or not maps:
                self._cancel_channel("metrics")
                s.set_metrics([])
                return True
            self._submit("metrics", nt.angular_metrics_job(maps, gt, s.roi_region(),
                                                           self._metric_cache),
                         done=s.set_metrics)
            return True
        return self.start_channel_metrics()

    # -- saving -------------------------------------------------------------------------------
    def save_normals_result(self, key: str, path: Path) -> bool | None:
        """Save a normal-map result as a normal map (the input's bit depth); None when ``key``
        is not one."""
        from core.io.normals import save_normal_map

        res = self.session.results.get(key)
        if not isinstance(res, nt.NormalsResult):
            return None
        src = self.source_normals()
        nmap = res.normals.normals
        if src is not None:
            import dataclasses

            nmap = dataclasses.replace(nmap, convention=src.convention,
                                       meta={**src.meta, **nmap.meta})
        try:
            save_normal_map(nmap, path, overwrite=path.exists())
        except SRWError as exc:
            self.error.emit(str(exc))
            return False
        self.message.emit(f"Saved {key} to {path}")
        return True

    # -- shape / detail parts of the opened map --------------------------------------------------
    def decoded_normals(self):
        """The opened map as decoded already (None, without decoding or a message, else)."""
        ns = self._normal_source
        ok = self.normals_mode() and ns is not None and ns[0] is self.session.source
        return ns[1] if ok else None

    def parts_current(self) -> bool:
        """Whether :attr:`normal_parts` is the split of the opened map at the chosen sigma."""
        p = self.normal_parts
        src = self.decoded_normals()
        return p is not None and src is not None and p.source is src and \
            p.sigma == float(self.normals_options()["sigma"])

    def compute_normal_parts(self) -> bool:
        """Split the opened map at the chosen sigma on the ``parts`` channel (supersedes)."""
        src = self.decoded_normals()
        if src is None:
            return False
        sigma = float(self.normals_options()["sigma"])
        self._submit("parts", nt.parts_job(src, sigma), progress=self._parts_progress,
                     done=self._parts_done, failed=self._parts_failed)
        self.parts_running.emit(True)
        self.parts_progress.emit(0.0, "splitting")
        return True

    def save_normal_parts(self, folder: str | Path, bits: int = 16) -> bool:
        """Write ``STEM_shape.png`` and ``STEM_detail.png`` (8 or 16 bit) into ``folder`` as a
        background job; existing files are replaced only if the user agrees."""
        src = self.source_normals() if self.normals_mode() else None
        if src is None:
            self.error.emit("open a normal map first (Input kind: normal map)")
            return False
        if bits not in (8, 16):
            self.error.emit(f"PNG parts are 8 or 16 bit, not {bits}")
            return False
        stem = Path(self.session.state.input_path or "normals").stem
        paths = nt.parts_paths(folder, stem)
        there = [p.name for p in paths.values() if p.exists()]
        if there and not self.ask("Replace files?", f"{', '.join(there)} already exist in "
                                  f"{folder}. Replace them?"):
            return False
        sigma = float(self.normals_options()["sigma"])
        self._submit("parts_save", nt.save_parts_job(src, sigma, self.normal_parts, paths, bits,
                                                     overwrite=bool(there)),
                     progress=self._parts_progress, done=self._parts_saved,
                     failed=self._parts_failed)
        self.parts_running.emit(True)
        return True

    def _parts_progress(self, p) -> None:
        self.parts_progress.emit(p.fraction, p.message)

    def _parts_done(self, parts) -> None:
        self.normal_parts = parts
        self.parts_running.emit(False)
        self.parts_progress.emit(1.0, f"sigma {parts.sigma:g} px")
        self.session.notify("normal_parts")

    def _parts_saved(self, paths: dict) -> None:
        self.parts_running.emit(False)
        self.parts_progress.emit(1.0, "saved")
        self.message.emit("Saved " + " and ".join(str(p) for p in paths.values()))

    def _parts_failed(self, message: str) -> None:
        self.parts_running.emit(False)
        self.parts_progress.emit(0.0, "failed")
        self.error.emit(message)
