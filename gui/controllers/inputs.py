"""The input side: open a file or a sample, its kind, the HR reference, save a result, and
save / reopen sessions.

A new input goes to the session (``set_source``; topic ``inputs``); the run controller then
prepares the LR / HR for it. Channel files ask for their reading options first
(:class:`ChannelsController`), normal maps are decoded and checked
(:class:`NormalsController`).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from core.app.inputs import detect_kind
from core.app.plan import check_reference
from core.errors import DataLossWarning, SRWError, short_message
from core.io import load, save, set_max_pixels
from core.io.atomic import check_output_path
from core.io.normals import load_normal_map, to_image_data
from core.samples import sample_image
from core.session import Session, SessionState

from ..jobs import Notices
from .channels import ChannelsController
from .models import ModelsController
from .normals import NormalsController
from .run import RunController

__all__ = ["InputsController"]


class InputsController:
    """Open / attach / kind / sample, save result, save and load sessions."""

    def __init__(self, session: Session, notices: Notices, models: ModelsController,
                 channels: ChannelsController, normals: NormalsController,
                 run: RunController, settings: Any = None):
        self.session = session
        self.notices = notices
        self.settings = settings
        self.models = models
        self.channels = channels
        self.normals = normals
        self.run = run

    # -- inputs -------------------------------------------------------------------------------
    def open_input(self, path: str | Path, kind: str | None = None,
                   channel_options: dict | None = None, detect: bool = True) -> bool:
        """Open a file as the input. Channel files ask for the variable / axes / split /
        normalisation first (``channel_options`` skips the question); normal maps are decoded
        with the chosen convention (a photo gets the offer to open it as an image). With no
        ``kind``, an image whose vectors are unit length opens as a normal map (``detect``)."""
        p = Path(path)
        self._apply_budget()
        opts: dict = {}
        lay = self.session.state.layout
        if isinstance(lay.get("normals"), dict) and lay["normals"].get("mask") and \
                str(p.resolve()) != self.session.state.input_path:
            lay["normals"]["mask"] = None     # a mask belongs to its image, not to the next one
        if self.channels.wants_loader(p, kind):
            opts = channel_options if channel_options is not None else \
                self.channels.ask_options(p, self.session.state.layout.get("channel_open"))
            if opts is None:
                self.notices.message.emit(f"{p.name} not opened")
                return False
        try:
            if kind == "normals" and p.suffix.lower() == ".mat":   # e.g. DiLiGenT Normal_gt.mat
                data = to_image_data(load_normal_map(p), bits=None)
            else:
                data = load(path, kind="channels" if opts else kind, **opts)
            found = detect_kind(data, p) if kind is None and not opts and detect else None
            if found is not None and found.kind != data.kind:   # e.g. a 16-bit normal map
                data = load(path, kind=found.kind)
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return False
        except MemoryError:
            self.notices.error.emit(f"{p.name} is too large to open in the free memory")
            return False
        except Exception as exc:  # noqa: BLE001 - issue #19: a dialog, never a dead window
            self.notices.error.emit(f"cannot open {p.name}: {short_message(exc)}")
            return False
        if data.kind == "normals":
            verdict = self.normals.check_source(data, p)
            if verdict == "image":        # the user said it is a picture: not detected again
                return self.open_input(path, None, detect=False)
            if verdict != "ok":
                return False
        self.run.jobs.cancel()
        self.session.state.kind = kind
        if opts or data.kind == "channels":
            self.session.state.layout["channel_open"] = dict(opts)
        self.session.set_source(data, str(p.resolve()))
        if self.settings is not None:
            self.settings.add_recent(path)
        detected = f", detected: {found.reason}" if found is not None and found.reason else ""
        self.notices.message.emit(f"Opened {p.name}: {data.width}x{data.height} "
                                  f"{data.kind} ({data.units.dtype}){detected}")
        if found is not None and found.mask is not None and self.notices.ask(
                "Mask beside the normal map",
                f"{found.mask.name} lies beside {p.name}. Use it as the mask of the normals?"):
            self.normals.set_options(mask=str(found.mask))
        self.run.inputs_changed()
        return True

    def open_sample(self, name: str = "astronaut") -> bool:
        try:
            data = sample_image(name)
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return False
        self.run.jobs.cancel()
        self.session.state.kind = None
        self.session.set_source(data, None, sample=name)
        self.notices.message.emit(f"Opened the sample {name}: {data.width}x{data.height}")
        self.run.inputs_changed()
        return True

    def set_kind(self, kind: str | None) -> bool:
        """Reload the input as another kind (None = detect); a kind that does not fit the
        channel count is refused and the input stays as it was."""
        st = self.session.state
        if st.input_path is None:
            if kind is not None and st.sample:
                self.notices.error.emit("the kind of a bundled sample is fixed; open a file to "
                                        "change it")
            return False
        if not self.open_input(st.input_path, kind):
            self.session.notify("inputs")  # so the kind selector goes back
            return False
        return True

    def reopen_channels(self) -> bool:
        """Choose the variable, axes, complex split and normalisation again."""
        st = self.session.state
        if st.input_path is None:
            return False
        p = Path(st.input_path)
        opts = self.channels.ask_options(p, st.layout.get("channel_open"))
        if opts is None:
            return False
        return self.open_input(p, "channels", channel_options=opts)

    def _apply_budget(self) -> None:
        """The image budget of Preferences (megapixels; 0: core.io's default) for the next
        load."""
        mp = getattr(self.settings, "max_megapixels", 0) if self.settings is not None else 0
        set_max_pixels(int(mp) * 1_000_000 if isinstance(mp, int) and mp > 0 else None)

    def attach_hr(self, path: str | Path) -> bool:
        s = self.session
        self._apply_budget()
        try:
            if self.channels.data_mode():   # the ground truth is read the way the input was
                opts = self.channels.options_for_reference(Path(path))
                if opts is None:
                    return False
                data = load(path, kind="channels", **opts)
            else:
                data = load(path, kind=s.source.kind if self.normals.mode() else None)
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - MemoryError included: a dialog, not a crash
            self.notices.error.emit(f"cannot attach {Path(path).name}: {short_message(exc)}")
            return False
        if s.source is not None and data.channels != s.source.channels:
            self.notices.error.emit(f"{Path(path).name} has {data.channels} channels but the "
                                    f"input has {s.source.channels}; an HR reference must match")
            return False
        note = self._align_reference(Path(path), data)
        if note is None:
            return False
        s.attached_hr = data
        s.state.hr_path = str(Path(path).resolve())
        s.state.reference = "hr"
        self.notices.message.emit(f"HR reference: {Path(path).name} "
                                  f"({data.width}x{data.height}){note}")
        s.notify("params")
        self.run.inputs_changed()
        return True

    def _align_reference(self, path: Path, data) -> str | None:
        """The run plan's rule for a new reference: it must be the input times the scale.
        A clean multiple at another scale sets the scale; another picture is refused unless
        the user asks for it resized. Returns the note for the status bar, or None (refused)."""
        s = self.session
        if s.source is None:
            return ""
        check = check_reference((s.source.height, s.source.width), (data.height, data.width),
                                s.state.scale)
        resize, note = False, ""
        if check.scale is None:
            resize = self.notices.ask(
                "HR reference does not fit",
                f"{path.name}: {check.message}.\n\nUse it resized to the output size with "
                f"bicubic? Its metrics then compare against a resized picture.")
            if not resize:
                self.notices.error.emit(f"{path.name} not attached: {check.message}")
                return None
            note = " (resized to the output size, as asked)"
        elif not check.fits:
            s.state.scale, s.state.size = check.scale, None
            note = f"; {check.message}"
        s.state.resize_reference = resize
        return note

    def set_reference(self, mode: str) -> None:
        s = self.session
        if mode == "hr" and s.attached_hr is None:
            self.notices.error.emit("attach an HR reference file first (File > Attach HR "
                                    "reference)")
            s.notify("params")
            return
        s.state.reference = mode
        s.notify("params")
        self.run.inputs_changed()

    # -- export and sessions ------------------------------------------------------------------
    def save_result(self, key: str, path: str | Path) -> bool:
        s = self.session
        res = s.results.get(key)
        if res is None:
            self.notices.error.emit("nothing to save yet: run a model first")
            return False
        target = Path(path).expanduser().absolute()
        try:  # inputs (same inode or path), folders, devices, FIFOs, unwritable places
            check_output_path(target, [p for p in (s.state.input_path, s.state.hr_path) if p],
                              overwrite=True)
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return False
        done = self.normals.save_result(key, target)   # normal maps keep their encoding
        if done is not None:
            return done
        try:
            with warnings.catch_warnings(record=True) as caught:  # clipped / quantised data
                warnings.simplefilter("always", DataLossWarning)
                save(res.image, target, overwrite=target.exists())
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - a full disk, a vanished folder: a dialog
            self.notices.error.emit(f"cannot save {target.name}: {short_message(exc)}")
            return False
        lost = "; ".join(str(w.message) for w in caught if w.category is DataLossWarning)
        self.notices.message.emit(f"Saved {s.label(key)} to {target}"
                                  + (f". Warning: {lost}" if lost else ""))
        return True

    def save_session(self, path: str | Path) -> bool:
        try:
            self.session.save(path)
        except (OSError, SRWError) as exc:
            self.notices.error.emit(f"cannot save the session: {exc}")
            return False
        self.notices.message.emit(f"Session saved to {path}")
        return True

    def load_session(self, path: str | Path) -> bool:
        """Reopen a saved session: inputs, models, scale, ROI, layout; recompute results."""
        try:
            new = Session.load_state(path)
        except SRWError as exc:
            self.notices.error.emit(str(exc))
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
            self.notices.error.emit("the session names no input")
        if not ok:
            return False
        if new.hr_path and not self.attach_hr(new.hr_path):
            new.reference = "none"
        kept = {"input_path": s.state.input_path, "sample": s.state.sample}
        s.state = SessionState(**{**new.__dict__, **kept})
        self.models.refresh_catalog()
        missing = [m for m in new.models if m not in s.catalog]
        s.notify("all")
        self.run.inputs_changed()
        if new.ran and s.state.models:
            self.run.run()
        if missing:
            self.notices.error.emit("models not found: " + ", ".join(missing))
        self.notices.message.emit(f"Session {Path(path).name} opened")
        return True
