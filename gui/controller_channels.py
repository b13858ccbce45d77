"""The controller's channel-data side (a mixin of :class:`gui.controller.Controller`).

Channel files (``.npz`` / ``.mat`` / ``.h5``, complex or 4-D ``.npy``, or any file opened as
"channel data") are read with the options the user picks in the variable dialog (the window
sets :attr:`choose_channel_options`; a saved session reuses its options without asking). The
run goes through :func:`core.channel_sr.super_resolve_channels` (see :func:`core.app.run.run_job`)
with the replicate / groups choice kept in the session layout; the metrics are NMSE and PSNR
against the ground truth (:mod:`core.app.channels`). The channel browser asks for channel
frames and the range table here (``browse`` and ``channel_stats`` channels: a newer request
supersedes an older one, so a fast-moving slider never shows a stale channel).
"Fine-tune on this data" (:meth:`ChannelsMixin.finetune_channels`) trains a copy of a model on
the channels themselves on the run channel and lists it as ``<model> (fine-tuned)``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from core.errors import SRWError

from core.app import channels as ct

__all__ = ["ChannelsMixin", "CHANNEL_FILE_EXTENSIONS"]

#: Files that always hold channel data (``.npy`` does when complex or 4-D).
CHANNEL_FILE_EXTENSIONS = (".npz", ".mat", ".h5", ".hdf5")


def _keep_choice(infos: list, current: dict | None) -> dict:
    """Without a dialog: the current options, or the defaults (the largest usable array)."""
    return dict(current or {})


class ChannelsMixin:
    #: ``(path, variables, current options) -> options or None``; the window shows a dialog.
    choose_channel_options: Callable = staticmethod(lambda path, infos, current: _keep_choice(
        infos, current))
    channel_plans: dict = {}
    _plan_sig: tuple = ()
    finetuned: dict = {}           # checkpoint path -> FinetuneDone of this window's fine-tunes
    _finetune_dir: str | None = None
    _finetune_count: int = 0

    # -- what is open -------------------------------------------------------------------------
    def channel_data_mode(self) -> bool:
        """The input is channel data read by the channel loader (layout and units known)."""
        from core.channels import ChannelMeta

        s = self.session
        return (s.source is not None and s.source.kind == "channels"
                and isinstance(s.source.meta.get("channels"), ChannelMeta))

    def channel_description(self) -> str:
        from core.channels import channel_meta

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
    def wants_channel_loader(path: Path, kind: str | None) -> bool:
        from core.io.channels import npy_is_channel_data

        ext = path.suffix.lower()
        if kind not in (None, "channels"):
            return False
        if ext in CHANNEL_FILE_EXTENSIONS:
            return True
        return ext == ".npy" and (kind == "channels" or npy_is_channel_data(path))

    def ask_channel_options(self, path: Path, current: dict | None = None) -> dict | None:
        """The variables of ``path`` offered to the user; their choice, or None (cancelled or
        unreadable: the reason is emitted)."""
        from core.io.channels import list_variables

        try:
            infos = list_variables(path)
        except SRWError as exc:
            self.error.emit(str(exc))
            return None
        if not any(i.usable for i in infos):
            listing = "; ".join(i.describe() for i in infos) or "nothing"
            self.error.emit(f"{path.name} has no numeric array of 2 to 4 dimensions to open as "
                            f"channel data; it holds: {listing}")
            return None
        opts = self.choose_channel_options(path, infos, current)
        if opts is None:
            return None
        opts = {k: v for k, v in dict(opts).items() if v is not None}
        if path.suffix.lower() == ".npy":
            opts.pop("var", None)
        return opts

    def channel_options_for_reference(self, path: Path) -> dict | None:
        """Read an attached ground truth the way the input was read (same axes, split and
        normalisation; the same variable name when the file has it, else ask)."""
        from core.io.channels import list_variables

        opts = dict(self.session.state.layout.get("channel_open") or {})
        if path.suffix.lower() == ".npy":
            opts.pop("var", None)
            return opts
        try:
            names = [i.name for i in list_variables(path) if i.usable]
        except SRWError as exc:
            self.error.emit(str(exc))
            return None
        if opts.get("var") in names or (opts.get("var") is None and len(names) == 1):
            return opts
        return self.ask_channel_options(path, opts)

    def reopen_channels(self) -> bool:
        """Choose the variable, axes, complex split and normalisation again."""
        st = self.session.state
        if st.input_path is None:
            return False
        p = Path(st.input_path)
        opts = self.ask_channel_options(p, st.layout.get("channel_open"))
        if opts is None:
            return False
        return self.open_input(p, "channels", channel_options=opts)

    # -- SR options ---------------------------------------------------------------------------
    def rgb_mode(self) -> str:
        got = self.session.state.layout.get("channels")
        mode = got.get("rgb_mode") if isinstance(got, dict) else None
        return mode if mode in ("replicate", "groups") else "replicate"

    def set_rgb_mode(self, mode: str) -> None:
        if mode not in ("replicate", "groups"):
            self.error.emit(f"unknown channel mode {mode!r}")
            return
        lay = self.session.state.layout
        lay["channels"] = {**(lay.get("channels") or {}), "rgb_mode": mode}
        self.session.notify("params")
        self.refresh_channel_plans()

    def refresh_channel_plans(self, force: bool = False) -> None:
        """Work out (on the pool) how each ticked model will see the channels."""
        s = self.session
        if not self.channel_data_mode():
            return
        models = tuple(k for k in s.state.models if k in s.catalog)
        sig = (models, s.source.channels, self.rgb_mode())
        if sig == self._plan_sig and not force:
            return
        self._plan_sig = sig

        def done(notes: dict) -> None:
            self.channel_plans = notes
            s.notify("channel_plan")

        self._submit("channel_plan", ct.plan_job(models, s.source.channels, self.rgb_mode()),
                     done=done, failed=lambda m: None)

    # -- fine-tuning on the data -------------------------------------------------------------
    def finetune_candidates(self) -> list[str]:
        """Catalog keys of models that can learn (everything but interpolation)."""
        return [k for k, e in self.session.catalog.items() if getattr(e, "kind", "") != "interp"]

    def finetune_channels(self, key: str, steps: int = 200, learning_rate: float = 1e-4) -> bool:
        """Fine-tune model ``key`` on the loaded channels (LR made by ``degrade`` from them) on
        the run channel: the window's progress bar and Cancel apply. When done the trained copy
        is listed as ``<model> (fine-tuned)`` and ticked, so the next run uses it.

        The data learnt from is the run's input (the LR): in degrade mode the degraded stack,
        never the ground truth, so the scores of the next run stay honest. The weights are
        written to the user's application-data folder (``finetuned/``; Qt's AppDataLocation),
        so a saved session that lists them still finds them after the window closes."""
        import tempfile

        from PySide6.QtCore import QStandardPaths

        from core.channels import FinetuneOptions

        s = self.session
        if not self.channel_data_mode():
            self.error.emit("open channel data first: fine-tuning learns from its channels")
            return False
        if key not in s.catalog or key not in self.finetune_candidates():
            self.error.emit(f"{s.label(key)} cannot be fine-tuned: choose a trained model")
            return False
        if int(steps) < 1 or not float(learning_rate) > 0:
            self.error.emit("fine-tuning needs at least one step and a positive learning rate")
            return False
        if self._finetune_dir is None:
            base = Path(QStandardPaths.writableLocation(
                QStandardPaths.StandardLocation.AppDataLocation) or tempfile.gettempdir())
            (base / "finetuned").mkdir(parents=True, exist_ok=True)
            self._finetune_dir = tempfile.mkdtemp(prefix="run-", dir=base / "finetuned")
        self._finetune_count += 1
        folder = Path(self._finetune_dir) / str(self._finetune_count)
        folder.mkdir(parents=True, exist_ok=True)
        req = self._request([])
        ready = s.lr if (s.lr is not None
                         and self._inputs_signature == req.inputs_signature()) else None
        opts = FinetuneOptions(steps=int(steps), learning_rate=float(learning_rate),
                               rgb_mode=self.rgb_mode())
        self._t0 = time.perf_counter()
        self._last_emit = 0.0
        self._submit("run", ct.finetune_job(key, s.label(key), ready, req, opts, str(folder)),
                     progress=self._run_progress, done=self._finetune_done,
                     failed=self._run_failed)
        self.running.emit(True)
        self.progress.emit(0.0, f"fine-tuning {s.label(key)}")
        return True

    def _finetune_done(self, done: "ct.FinetuneDone") -> None:
        s, st = self.session, self.session.state
        elapsed = time.perf_counter() - self._t0
        if done.path not in st.checkpoints:
            st.checkpoints.append(done.path)
        problems = self.refresh_catalog()
        self.running.emit(False)
        if done.path not in s.catalog:
            self.progress.emit(0.0, "failed")
            self.error.emit("the fine-tuned model could not be listed: " + "; ".join(problems))
            return
        if done.path not in st.models:
            st.models.append(done.path)
        self.finetuned = {**self.finetuned, done.path: done}
        s.notify("models")
        self.refresh_channel_plans()
        self.progress.emit(1.0, f"fine-tuned in {elapsed:.1f} s")
        self.message.emit(f"{s.label(done.path)}: {done.steps} steps, L1 {done.losses[0]:.4f} "
                          f"-> {done.losses[-1]:.4f}; ticked for the next run")

    # -- the browser --------------------------------------------------------------------------
    def browse_sources(self) -> dict:
        """name -> channel data the browser shows: ``LR``, each result, ``GT``."""
        from core.channels import ChannelMeta

        s = self.session
        out = {}
        if s.lr is not None:
            out["LR"] = s.lr
        for key, r in s.results.items():
            out[s.label(key)] = r.image
        if s.hr is not None:
            out["GT"] = s.hr
        return {k: v for k, v in out.items() if isinstance(v.meta.get("channels"), ChannelMeta)}

    def request_channel_frame(self, n: int, part: str, on_frame: Callable) -> int:
        """Channel ``n`` (``part``) of every data set; ``on_frame(BrowseFrame)`` when ready.
        Returns the request's generation (0: nothing to show)."""
        datas = self.browse_sources()
        if not datas:
            return 0
        self.session.state.layout["browse"] = {"channel": int(n), "part": part}
        return self._submit("browse", ct.browse_job(datas, int(n), part), done=on_frame)

    def request_channel_stats(self, on_stats: Callable) -> int:
        """The range table of the opened data; ``on_stats((rows, spread))`` when ready."""
        if not self.channel_data_mode():
            return 0
        return self._submit("channel_stats", ct.stats_job(self.session.source), done=on_stats)

    # -- metrics ------------------------------------------------------------------------------
    def start_channel_metrics(self) -> bool:
        """NMSE / PSNR of channel data against the ground truth; False for other data."""
        from core.channels import ChannelMeta

        s = self.session
        if not self.channel_data_mode():
            return False
        if (s.hr is None or not s.results
                or not isinstance(s.hr.meta.get("channels"), ChannelMeta)):
            self._cancel_channel("metrics")
            s.set_metrics([])
            return True
        images = {k: (s.label(k), r.image) for k, r in s.results.items()}
        job = ct.channel_metrics_job(images, s.hr, s.roi_region(), s.shave(), self._metric_cache)
        self._submit("metrics", job, done=s.set_metrics)
        return True
