"""The controller's file side: the model catalog, opening inputs, export and sessions.

A mixin of :class:`gui.controller.Controller` (it uses the controller's session, settings,
signals and job channels); split off to keep each module small.
"""

from __future__ import annotations

from pathlib import Path

from core.app.inputs import detect_kind
from core.app.plan import check_reference
from core.errors import SRWError
from core.session import Session, SessionState

__all__ = ["FilesMixin"]


class FilesMixin:
    """Open / attach / kind / sample, checkpoints, save result, save and load sessions."""

    # -- models -------------------------------------------------------------------------------
    def refresh_catalog(self) -> list[str]:
        """Baselines + bundled models + user checkpoints + files in the checkpoint folders.
        Returns the messages of files that could not be read."""
        from core.models import list_models, resolve
        from core.models.registry import _CHECKPOINT_SUFFIXES

        s = self.session
        catalog = {e.name: e for e in list_models()}
        files = list(s.state.checkpoints)
        if self.settings is not None:
            files += self.settings.checkpoints
            for folder in self.settings.checkpoint_folders:
                p = Path(folder)
                if p.is_dir():
                    files += [str(f) for f in sorted(p.iterdir())
                              if f.suffix.lower() in _CHECKPOINT_SUFFIXES and f.is_file()]
        problems = []
        for f in dict.fromkeys(files):
            key = str(Path(f).expanduser().resolve())
            if key in catalog or not Path(key).is_file():
                continue
            try:
                catalog[key] = resolve(Path(key))
            except SRWError as exc:
                problems.append(str(exc))
        s.catalog = catalog
        labels: dict[str, str] = {}
        for key, entry in catalog.items():
            label, n = entry.name, 2
            while label in labels.values():
                label, n = f"{entry.name} ({n})", n + 1
            labels[key] = label
        s.labels = labels
        s.state.models = [m for m in s.state.models if m in catalog]
        s.notify("models")
        return problems

    def add_checkpoint(self, path: str | Path) -> str | None:
        """Detect a checkpoint's architecture, list it, select it and remember it."""
        from core.models import resolve

        key = str(Path(path).expanduser().resolve())
        try:
            entry = resolve(Path(key))
        except SRWError as exc:
            self.error.emit(str(exc))
            return None
        st = self.session.state
        if key not in st.checkpoints:
            st.checkpoints.append(key)
        if self.settings is not None:
            self.settings.remember_checkpoint(key)
        self.refresh_catalog()
        if key not in st.models:
            st.models.append(key)
        self.session.notify("models")
        scales = f", x{entry.scales[0]}" if entry.scales else ""
        self.message.emit(f"Added {self.session.label(key)}: {entry.arch} ({entry.kind}{scales})")
        return key

    def set_models(self, keys: list[str]) -> None:
        self.session.update("models", models=[k for k in keys if k in self.session.catalog])

    # -- inputs -------------------------------------------------------------------------------
    def open_input(self, path: str | Path, kind: str | None = None,
                   channel_options: dict | None = None) -> bool:
        """Open a file as the input. Channel files ask for the variable / axes / split /
        normalisation first (``channel_options`` skips the question); normal maps are decoded
        with the chosen convention (a photo gets the offer to open it as an image)."""
        from core.io import load

        p = Path(path)
        opts: dict = {}
        lay = self.session.state.layout
        if isinstance(lay.get("normals"), dict) and lay["normals"].get("mask") and \
                str(p.resolve()) != self.session.state.input_path:
            lay["normals"]["mask"] = None     # a mask belongs to its image, not to the next one
        if self.wants_channel_loader(p, kind):
            opts = channel_options if channel_options is not None else \
                self.ask_channel_options(p, self.session.state.layout.get("channel_open"))
            if opts is None:
                self.message.emit(f"{p.name} not opened")
                return False
        try:
            if kind == "normals" and p.suffix.lower() == ".mat":   # e.g. DiLiGenT Normal_gt.mat
                from core.io.normals import load_normal_map, to_image_data

                data = to_image_data(load_normal_map(p), bits=None)
            else:
                data = load(path, kind="channels" if opts else kind, **opts)
            found = detect_kind(data, p) if kind is None and not opts else None
            if found is not None and found.kind != data.kind:   # e.g. a 16-bit normal map
                data = load(path, kind=found.kind)
        except SRWError as exc:
            self.error.emit(str(exc))
            return False
        except MemoryError:
            self.error.emit(f"{Path(path).name} is too large to open in the free memory")
            return False
        if data.kind == "normals":
            verdict = self.check_normals_source(data, p)
            if verdict == "image":
                return self.open_input(path, None)
            if verdict != "ok":
                return False
        self._cancel_channel("run")
        self.session.state.kind = kind
        if opts or data.kind == "channels":
            self.session.state.layout["channel_open"] = dict(opts)
        self.session.set_source(data, str(Path(path).resolve()))
        self.forget_surfaces()
        if self.settings is not None:
            self.settings.add_recent(path)
        detected = f", detected: {found.reason}" if found is not None and found.reason else ""
        self.message.emit(f"Opened {Path(path).name}: {data.width}x{data.height} "
                          f"{data.kind} ({data.units.dtype}){detected}")
        if found is not None and found.mask is not None and self.ask(
                "Mask beside the normal map",
                f"{found.mask.name} lies beside {p.name}. Use it as the mask of the normals?"):
            self.set_normals_options(mask=str(found.mask))
        self._inputs_changed()
        self.refresh_channel_plans(force=True)
        return True

    def open_sample(self, name: str = "astronaut") -> bool:
        from core.samples import sample_image

        try:
            data = sample_image(name)
        except SRWError as exc:
            self.error.emit(str(exc))
            return False
        self._cancel_channel("run")
        self.session.state.kind = None
        self.session.set_source(data, None, sample=name)
        self.forget_surfaces()
        self.message.emit(f"Opened the sample {name}: {data.width}x{data.height}")
        self._inputs_changed()
        return True

    def set_kind(self, kind: str | None) -> bool:
        """Reload the input as another kind (None = detect); a kind that does not fit the
        channel count is refused and the input stays as it was."""
        st = self.session.state
        if st.input_path is None:
            if kind is not None and st.sample:
                self.error.emit("the kind of a bundled sample is fixed; open a file to change it")
            return False
        if not self.open_input(st.input_path, kind):
            self.session.notify("inputs")  # so the kind selector goes back
            return False
        return True

    def attach_hr(self, path: str | Path) -> bool:
        from core.io import load

        try:
            if self.channel_data_mode():   # the ground truth is read the way the input was
                opts = self.channel_options_for_reference(Path(path))
                if opts is None:
                    return False
                data = load(path, kind="channels", **opts)
            else:
                data = load(path, kind=self.session.source.kind if self.normals_mode() else None)
        except SRWError as exc:
            self.error.emit(str(exc))
            return False
        s = self.session
        if s.source is not None and data.channels != s.source.channels:
            self.error.emit(f"{Path(path).name} has {data.channels} channels but the input has "
                            f"{s.source.channels}; an HR reference must match")
            return False
        note = ""
        if s.source is not None:     # the run plan's rule: the reference is input x scale
            check = check_reference((s.source.height, s.source.width),
                                    (data.height, data.width), s.state.scale)
            resize = False
            if check.scale is None:
                resize = self.ask("HR reference does not fit",
                                  f"{Path(path).name}: {check.message}.\n\nUse it resized to "
                                  f"the output size with bicubic? Its metrics then compare "
                                  f"against a resized picture.")
                if not resize:
                    self.error.emit(f"{Path(path).name} not attached: {check.message}")
                    return False
                note = " (resized to the output size, as asked)"
            elif not check.fits:
                s.state.scale, s.state.size = check.scale, None
                note = f"; {check.message}"
            s.state.resize_reference = resize
        s.attached_hr = data
        s.state.hr_path = str(Path(path).resolve())
        s.state.reference = "hr"
        self.message.emit(f"HR reference: {Path(path).name} ({data.width}x{data.height}){note}")
        s.notify("params")
        self._inputs_changed()
        return True

    def set_reference(self, mode: str) -> None:
        s = self.session
        if mode == "hr" and s.attached_hr is None:
            self.error.emit("attach an HR reference file first (File > Attach HR reference)")
            s.notify("params")
            return
        s.state.reference = mode
        s.notify("params")
        self._inputs_changed()

    # -- export and sessions ------------------------------------------------------------------
    def save_result(self, key: str, path: str | Path) -> bool:
        from core.io import save

        s = self.session
        res = s.results.get(key)
        if res is None:
            self.error.emit("nothing to save yet: run a model first")
            return False
        target = Path(path).resolve()
        for p in (s.state.input_path, s.state.hr_path):
            if p and Path(p).resolve() == target:
                self.error.emit(f"{target.name} is an input of this session; choose another name")
                return False
        done = self.save_normals_result(key, target)   # normal maps keep their encoding
        if done is not None:
            return done
        try:
            save(res.image, target, overwrite=target.exists())
        except SRWError as exc:
            self.error.emit(str(exc))
            return False
        self.message.emit(f"Saved {s.label(key)} to {target}")
        return True

    def save_session(self, path: str | Path) -> bool:
        try:
            self.session.save(path)
        except (OSError, SRWError) as exc:
            self.error.emit(f"cannot save the session: {exc}")
            return False
        self.message.emit(f"Session saved to {path}")
        return True

    def load_session(self, path: str | Path) -> bool:
        """Reopen a saved session: inputs, models, scale, ROI, layout; recompute results."""
        try:
            new = Session.load_state(path)
        except SRWError as exc:
            self.error.emit(str(exc))
            return False
        s = self.session
        for key in ("normals", "surface", "channels"):   # read the input as it was read
            if isinstance(new.layout.get(key), dict):
                s.state.layout[key] = dict(new.layout[key])
        if new.input_path:
            ok = self.open_input(new.input_path, new.kind,
                                 channel_options=new.layout.get("channel_open"))
        elif new.sample:
            ok = self.open_sample(new.sample)
        else:
            ok = False
            self.error.emit("the session names no input")
        if not ok:
            return False
        if new.hr_path and not self.attach_hr(new.hr_path):
            new.reference = "none"
        kept = {"input_path": s.state.input_path, "sample": s.state.sample}
        s.state = SessionState(**{**new.__dict__, **kept})
        self.refresh_catalog()
        missing = [m for m in new.models if m not in s.catalog]
        s.notify("all")
        self._inputs_changed()
        if new.ran and s.state.models:
            self.run()
        if missing:
            self.error.emit("models not found: " + ", ".join(missing))
        self.message.emit(f"Session {Path(path).name} opened")
        return True
