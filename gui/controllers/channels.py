"""Channel data: how a channel file is read, how models see the channels, the browser's frames.

Channel files (``.npz`` / ``.mat`` / ``.h5``, complex or 4-D ``.npy``, or any file opened as
"channel data") are read with the options the user picks in the variable dialog (the window
sets :attr:`ChannelsController.choose_options`; a saved session reuses its options without
asking). The replicate / groups choice is kept in the session layout; how each ticked model
will see the channels is worked out on the pool (``plan_jobs``; topic ``channel_plan``) when
the input, the ticked models or the mode change. The channel browser asks for channel frames
and the range table (``browse_jobs`` / ``stats_jobs``: a newer request supersedes an older one,
so a fast-moving slider never shows a stale channel).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from core.app import channels as ct
from core.channels import ChannelMeta, channel_meta
from core.errors import SRWError
from core.io.channels import list_variables, npy_is_channel_data
from core.session import Session

from ..jobs import JobPool, Notices
from .kinds import needs_kind

__all__ = ["ChannelsController", "CHANNEL_FILE_EXTENSIONS", "is_channel_data"]

#: Files that always hold channel data (``.npy`` does when complex or 4-D).
CHANNEL_FILE_EXTENSIONS = (".npz", ".mat", ".h5", ".hdf5")


def is_channel_data(data) -> bool:
    """Whether ``data`` was read by the channel loader (its layout and units known)."""
    return (data is not None and data.kind == "channels"
            and isinstance(data.meta.get("channels"), ChannelMeta))


def _keep_choice(path: Path, infos: list, current: dict | None) -> dict:
    """Without a dialog: the current options, or the defaults (the largest usable array)."""
    return dict(current or {})


class ChannelsController:
    """Channel-file options, the replicate / groups mode, model plans, browser frames."""

    def __init__(self, session: Session, notices: Notices, pool: JobPool):
        self.session = session
        self.notices = notices
        #: ``(path, variables, current options) -> options or None``; the window's dialog.
        self.choose_options: Callable[[Path, list, dict | None], dict | None] = _keep_choice
        self.plans: dict[str, str] = {}
        self.plan_jobs = pool.handle("channel_plan", notices)
        self.browse_jobs = pool.handle("browse", notices)
        self.stats_jobs = pool.handle("channel_stats", notices)
        self._plan_sig: tuple = ()
        self._source = None
        session.subscribe(self._on_session)

    def _on_session(self, topic: str) -> None:
        if topic in ("inputs", "all") and self.session.source is not self._source:
            self._source = self.session.source
            self.refresh_plans(force=True)
        elif topic == "models":
            self.refresh_plans()

    # -- what is open -------------------------------------------------------------------------
    def data_mode(self) -> bool:
        """The input is channel data read by the channel loader (layout and units known)."""
        return is_channel_data(self.session.source)

    def unavailable(self) -> str | None:
        """Why the channel browser has nothing to browse (None: channel data is open)."""
        if self.data_mode():
            return None
        return needs_kind("The channel browser", "channels", self.session.source,
                          "open a .npy .npz .mat .h5 file, or File > Open with kind "
                          "'channel data'")

    def description(self) -> str:
        s = self.session
        info = channel_meta(s.source)
        lay = info.layout
        var = s.source.meta.get("var")
        shape = " x ".join(map(str, lay.shape))
        parts = [f"{var!r}: " if var else "", f"{shape} {lay.dtype}, axes {lay.axes}",
                 f" → {s.source.height} x {s.source.width} x {s.source.channels} channels"]
        if lay.complex_mode != "none":
            parts.append(f", complex as {lay.complex_mode.replace('_', ' / ')}")
        parts.append(f"; normalised per {info.norm}" if info.norm != "percentile" else
                     f"; normalised by percentiles {info.percentiles[0]:g}-{info.percentiles[1]:g}")
        nf = info.nonfinite
        if nf is not None and nf.count:
            parts.append(f"; {nf.count} NaN/Inf masked")
        return "".join(parts)

    # -- opening ------------------------------------------------------------------------------
    @staticmethod
    def wants_loader(path: Path, kind: str | None) -> bool:
        """Whether ``path`` opened as ``kind`` goes through the channel loader."""
        ext = path.suffix.lower()
        if kind not in (None, "channels"):
            return False
        if ext in CHANNEL_FILE_EXTENSIONS:
            return True
        return ext == ".npy" and (kind == "channels" or npy_is_channel_data(path))

    def ask_options(self, path: Path, current: dict | None = None) -> dict | None:
        """The variables of ``path`` offered to the user; their choice, or None (cancelled or
        unreadable: the reason is emitted)."""
        try:
            infos = list_variables(path)
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return None
        if not any(i.usable for i in infos):
            listing = "; ".join(i.describe() for i in infos) or "nothing"
            self.notices.error.emit(f"{path.name} has no numeric array of 2 to 4 dimensions to "
                                    f"open as channel data; it holds: {listing}")
            return None
        opts = self.choose_options(path, infos, current)
        if opts is None:
            return None
        opts = {k: v for k, v in dict(opts).items() if v is not None}
        if path.suffix.lower() == ".npy":
            opts.pop("var", None)
        return opts

    def options_for_reference(self, path: Path) -> dict | None:
        """Read an attached ground truth the way the input was read (same axes, split and
        normalisation; the same variable name when the file has it, else ask)."""
        opts = dict(self.session.state.layout.get("channel_open") or {})
        if path.suffix.lower() == ".npy":
            opts.pop("var", None)
            return opts
        try:
            names = [i.name for i in list_variables(path) if i.usable]
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return None
        if opts.get("var") in names or (opts.get("var") is None and len(names) == 1):
            return opts
        return self.ask_options(path, opts)

    # -- SR options ---------------------------------------------------------------------------
    def rgb_mode(self) -> str:
        got = self.session.state.layout.get("channels")
        mode = got.get("rgb_mode") if isinstance(got, dict) else None
        return mode if mode in ("replicate", "groups") else "replicate"

    def set_rgb_mode(self, mode: str) -> None:
        if mode not in ("replicate", "groups"):
            self.notices.error.emit(f"unknown channel mode {mode!r}")
            return
        lay = self.session.state.layout
        lay["channels"] = {**(lay.get("channels") or {}), "rgb_mode": mode}
        self.session.notify("params")
        self.refresh_plans()

    def refresh_plans(self, force: bool = False) -> None:
        """Work out (on the pool) how each ticked model will see the channels."""
        s = self.session
        if not self.data_mode():
            return
        models = tuple(k for k in s.state.models if k in s.catalog)
        sig = (models, s.source.channels, self.rgb_mode())
        if sig == self._plan_sig and not force:
            return
        self._plan_sig = sig
        self.plan_jobs.submit(ct.plan_job(models, s.source.channels, self.rgb_mode()),
                              on_done=self._plans_done, on_failed=lambda m: None)

    def _plans_done(self, notes: dict) -> None:
        self.plans = notes
        self.session.notify("channel_plan")

    # -- the browser --------------------------------------------------------------------------
    def browse_sources(self) -> dict:
        """name -> channel data the browser shows: ``LR``, each result, ``GT``."""
        s = self.session
        out = {}
        if s.lr is not None:
            out["LR"] = s.lr
        for key, r in s.results.items():
            out[s.label(key)] = r.image
        if s.hr is not None:
            out["GT"] = s.hr
        return {k: v for k, v in out.items() if isinstance(v.meta.get("channels"), ChannelMeta)}

    def request_frame(self, n: int, part: str, on_frame: Callable) -> int:
        """Channel ``n`` (``part``) of every data set; ``on_frame(BrowseFrame)`` when ready.
        Returns the request's generation (0: nothing to show)."""
        datas = self.browse_sources()
        if not datas:
            return 0
        self.session.state.layout["browse"] = {"channel": int(n), "part": part}
        return self.browse_jobs.submit(ct.browse_job(datas, int(n), part), on_done=on_frame)

    def request_stats(self, on_stats: Callable) -> int:
        """The range table of the opened data; ``on_stats((rows, spread))`` when ready."""
        if not self.data_mode():
            return 0
        return self.stats_jobs.submit(ct.stats_job(self.session.source), on_done=on_stats)
