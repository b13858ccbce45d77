"""The workbench session: what the window shows, as plain Qt-free state that views subscribe to.

A :class:`Session` holds two things:

* :class:`SessionState`, the user's choices, small and JSON-serialisable (:meth:`Session.save`,
  :meth:`Session.load`): the input file (or bundled sample) and its kind, the HR reference or
  "degrade" mode, the selected models and user checkpoints, the scale or exact output size,
  device/precision/tile, the ROI (in HR pixels), the metric options and the view layout;
* the data derived from it (the opened image, the LR the models run on, the HR reference, the
  SR results and the metrics rows). These are recomputed, never saved.

Nothing here computes or knows about Qt: the GUI controller freezes inputs from a session,
computes on a worker, and applies the results back with the ``set_*`` methods, which notify
the subscribers with a topic name (:data:`TOPICS`). Views redraw what the topic concerns.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .data import ImageData, Region
from .engine.run import output_size
from .errors import InputError, ResourceError
from .provenance import Provenance

__all__ = ["SessionState", "Session", "ModelResult", "MetricRow", "TOPICS", "SESSION_VERSION",
           "REFERENCE_MODES"]

SESSION_VERSION = 1
#: What a subscriber is told changed.
TOPICS = ("inputs", "models", "params", "results", "roi", "metrics", "layout", "lam",
          "lam_window", "lam_alpha", "study", "normals", "surface", "surface_options",
          "channel_plan", "all")
#: ``none``: no reference; ``hr``: an attached HR file; ``degrade``: the input *is* the HR and
#: the LR is made from it with :func:`core.resize.degrade` at the chosen scale.
REFERENCE_MODES = ("none", "hr", "degrade")


@dataclass
class SessionState:
    """The user's choices; everything :meth:`Session.save` writes (paths as given)."""

    input_path: str | None = None
    sample: str | None = None            # a bundled sample name instead of a file
    kind: str | None = None              # forced data kind; None = detected
    reference: str = "none"              # one of REFERENCE_MODES
    hr_path: str | None = None
    resize_reference: bool = False       # the user asked to resize a reference that does not fit
    models: list[str] = field(default_factory=lambda: ["bicubic"])  # names or checkpoint paths
    checkpoints: list[str] = field(default_factory=list)            # user checkpoint files
    scale: float = 4.0
    size: tuple[int, int] | None = None  # exact output (height, width); None = use scale
    device: str = "auto"
    precision: str = "auto"
    tile: int | None = None
    roi: tuple[int, int, int, int] | None = None  # x, y, w, h in HR (output) pixels
    y_channel: bool = True
    shave: int | None = None             # None = the scale rounded (benchmark convention)
    ran: bool = False                    # results existed: recompute them on reopen
    layout: dict[str, Any] = field(default_factory=dict)  # tab, swipe pair, split, view rect

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["size"] = list(self.size) if self.size else None
        d["roi"] = list(self.roi) if self.roi else None
        return d

    @staticmethod
    def from_dict(d: dict[str, Any]) -> "SessionState":
        if not isinstance(d, dict):
            raise InputError("a session file must hold a JSON object")
        known = {f.name for f in fields(SessionState)}
        kw = {k: v for k, v in d.items() if k in known}
        st = SessionState(**kw)
        try:
            st.size = tuple(int(v) for v in st.size) if st.size else None  # type: ignore
            st.roi = tuple(int(v) for v in st.roi) if st.roi else None  # type: ignore
            st.scale = float(st.scale)
            st.tile = int(st.tile) if st.tile else None
            st.shave = int(st.shave) if st.shave is not None else None
        except (TypeError, ValueError) as exc:
            raise InputError(f"the session file has an invalid value: {exc}") from None
        if st.reference not in REFERENCE_MODES:
            raise InputError(f"unknown reference mode {st.reference!r} in the session file")
        if st.size is not None and len(st.size) != 2 or st.roi is not None and len(st.roi) != 4:
            raise InputError("the session file has a malformed size or ROI")
        st.models = [str(m) for m in st.models or []]
        st.checkpoints = [str(c) for c in st.checkpoints or []]
        st.layout = dict(st.layout or {})
        return st


@dataclass(frozen=True)
class ModelResult:
    """One model's output, ready to show: the SR image, its display array (uint8) and the
    ``|SR - HR|`` map (channel mean, working units) with its 99.5th percentile."""

    name: str
    result: Any                   # core.engine.SRResult
    display: np.ndarray
    diff: np.ndarray | None = None
    diff_hi: float = 0.0

    @property
    def image(self) -> ImageData:
        return self.result.image

    @property
    def provenance(self) -> Provenance | None:
        """How the result was made (model, weights, native scale, resampling, ...)."""
        return getattr(self.result, "provenance", None)


@dataclass(frozen=True)
class MetricRow:
    """PSNR (dB) / SSIM of one model in the ROI and on the whole image (nan: not available)."""

    model: str
    roi_psnr: float = math.nan
    roi_ssim: float = math.nan
    psnr: float = math.nan
    ssim: float = math.nan
    note: str = ""
    provenance: Provenance | None = None   # how the result was made and measured

    @property
    def resampled(self) -> bool:
        """The output was resized after the model: left out of a "best"."""
        return self.provenance is not None and self.provenance.resampled


class Session:
    """State + derived data + subscribers. All methods run on one thread (the GUI's)."""

    def __init__(self, state: SessionState | None = None):
        self.state = state or SessionState()
        self.source: ImageData | None = None   # the opened image
        self.attached_hr: ImageData | None = None
        self.lr: ImageData | None = None       # what the models run on
        self.hr: ImageData | None = None       # the reference (None: no reference)
        self.lr_display: np.ndarray | None = None
        self.hr_display: np.ndarray | None = None
        self.results: dict[str, ModelResult] = {}
        self.metrics: list[MetricRow] = []
        self.lam: dict[str, Any] = {}          # model key -> LAM result (of ``lam_lr``)
        self.lam_lr: ImageData | None = None   # the LR the LAM maps were computed on
        self.study: Any = None                 # the last core.studies.StudyResult
        self.catalog: dict[str, Any] = {}      # model key -> core.models.ModelEntry
        self.labels: dict[str, str] = {}       # model key -> display name
        self._subscribers: list[Callable[[str], None]] = []

    # -- observers -----------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(topic)`` after every change; returns a function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def notify(self, topic: str) -> None:
        for cb in list(self._subscribers):
            cb(topic)

    # -- derived geometry ---------------------------------------------------------------------
    def label(self, key: str) -> str:
        """The name a model is shown under (a checkpoint's file stem)."""
        if key in self.labels:
            return self.labels[key]
        return Path(key).stem if ("/" in key or os.sep in key) else key

    def output_hw(self) -> tuple[int, int] | None:
        """``(H, W)`` the next run produces: the reference's size when there is one, else the
        exact size, else the LR size times the scale. None when nothing is open or the scale
        is invalid."""
        if self.hr is not None:
            return self.hr.height, self.hr.width
        if self.lr is None:
            return None
        try:
            if self.state.size is not None:
                return output_size(self.lr.height, self.lr.width, size=self.state.size)
            return output_size(self.lr.height, self.lr.width, scale=self.state.scale)
        except (InputError, ResourceError):  # an invalid or over-budget scale or size: nothing
            return None                      # to plan (run() says why)

    def effective_scale(self) -> tuple[float, float] | None:
        """Output / LR size per axis (y, x)."""
        out = self.output_hw()
        if out is None or self.lr is None:
            return None
        return out[0] / self.lr.height, out[1] / self.lr.width

    def shave(self) -> int:
        """Border shaved for the metrics: the user's value, or the scale rounded."""
        if self.state.shave is not None:
            return max(0, int(self.state.shave))
        sc = self.effective_scale()
        return int(round(max(sc))) if sc else 0

    def roi_region(self) -> Region | None:
        """The ROI clipped to the output, or None (no ROI / nothing open)."""
        out = self.output_hw()
        if self.state.roi is None or out is None:
            return None
        x, y, w, h = self.state.roi
        x0, y0 = max(0, min(x, out[1] - 1)), max(0, min(y, out[0] - 1))
        x1, y1 = max(x0 + 1, min(x + w, out[1])), max(y0 + 1, min(y + h, out[0]))
        return Region(x0, y0, x1 - x0, y1 - y0)

    # -- mutations (called by the controller on the GUI thread) --------------------------------
    def set_source(self, data: ImageData | None, path: str | None = None,
                   sample: str | None = None) -> None:
        self.source = data
        self.state.input_path = path
        self.state.sample = sample
        self.lr = self.hr = None
        self.lr_display = self.hr_display = None
        self.clear_results(notify=False)
        self.clear_lam(notify=False)
        self.study = None
        self.notify("inputs")

    def set_inputs(self, lr: ImageData | None, hr: ImageData | None,
                   lr_display: np.ndarray | None, hr_display: np.ndarray | None) -> None:
        self.lr, self.hr = lr, hr
        self.lr_display, self.hr_display = lr_display, hr_display
        if lr is not self.lam_lr:               # the maps on screen are of the LR on screen
            self.clear_lam(notify=False)
        out = self.output_hw()
        if self.state.roi is not None and out is not None:
            x, y, w, h = self.state.roi
            if x >= out[1] or y >= out[0]:
                self.state.roi = None
        self.notify("inputs")

    def clear_results(self, notify: bool = True) -> None:
        self.results = {}
        self.metrics = []
        self.state.ran = False
        if notify:
            self.notify("results")
            self.notify("metrics")

    def add_result(self, key: str, res: ModelResult) -> None:
        self.results[key] = res
        self.state.ran = True
        self.notify("results")

    def clear_lam(self, notify: bool = True) -> None:
        self.lam = {}
        self.lam_lr = None
        if notify:
            self.notify("lam")

    def add_lam(self, key: str, result: Any, lr: ImageData) -> None:
        """One model's LAM result, computed on ``lr`` (results of another LR are dropped)."""
        if lr is not self.lam_lr:
            self.lam = {}
        self.lam_lr = lr
        self.lam[key] = result
        self.notify("lam")

    def set_study(self, result: Any) -> None:
        self.study = result
        self.notify("study")

    def set_metrics(self, rows: list[MetricRow]) -> None:
        self.metrics = list(rows)
        self.notify("metrics")

    def set_roi(self, roi: tuple[int, int, int, int] | None) -> None:
        self.state.roi = tuple(int(v) for v in roi) if roi is not None else None  # type: ignore
        self.notify("roi")

    def update(self, topic: str = "params", **changes: Any) -> None:
        """Set state fields by name and notify ``topic``."""
        for k, v in changes.items():
            if not hasattr(self.state, k):
                raise AttributeError(f"SessionState has no field {k!r}")
            setattr(self.state, k, v)
        self.notify(topic)

    # -- JSON ---------------------------------------------------------------------------------
    def to_json(self, base: Path | None = None) -> str:
        """The state as JSON; paths under ``base`` are written relative to it."""
        d = self.state.to_dict()

        def rel(p: str | None) -> str | None:
            if not p or base is None:
                return p
            try:
                return os.path.relpath(Path(p).resolve(), base.resolve())
            except ValueError:  # another drive on Windows
                return p
        d["input_path"] = rel(d["input_path"])
        d["hr_path"] = rel(d["hr_path"])
        d["checkpoints"] = [rel(c) for c in d["checkpoints"]]
        d["models"] = [rel(m) if m in self.state.checkpoints else m for m in d["models"]]
        # how the results on screen were made (read by people and scripts; reopening a session
        # recomputes the results, and their provenance with them)
        made = {k: r.provenance.row() for k, r in self.results.items()
                if getattr(r, "provenance", None) is not None}
        return json.dumps({"format": "sr-workbench-session", "version": SESSION_VERSION,
                           "state": d, "results": made}, indent=2)

    @staticmethod
    def state_from_json(text: str, base: Path | None = None) -> SessionState:
        """Parse :meth:`to_json` output; relative paths are resolved against ``base``."""
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not a session file (invalid JSON: {exc.msg}, "
                             f"line {exc.lineno})") from None
        if not isinstance(obj, dict) or obj.get("format") != "sr-workbench-session":
            raise InputError("not an SR Workbench session file (no 'sr-workbench-session' format)")
        if int(obj.get("version", 0)) > SESSION_VERSION:
            raise InputError(f"the session was written by a newer version ({obj.get('version')})")
        st = SessionState.from_dict(obj.get("state", {}))

        def absolute(p: str | None) -> str | None:
            if not p or base is None or os.path.isabs(p):
                return p
            return str((base / p).resolve())
        rel_ckpts = list(st.checkpoints)
        st.input_path = absolute(st.input_path)
        st.hr_path = absolute(st.hr_path)
        st.checkpoints = [absolute(c) or c for c in st.checkpoints]
        st.models = [absolute(m) if m in rel_ckpts else m for m in st.models]  # type: ignore
        return st

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the state to ``path`` (JSON, atomically); returns the path."""
        p = Path(path)
        text = self.to_json(p.parent)
        tmp = p.with_name(f".{p.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, p)
        return p

    @staticmethod
    def load_state(path: str | os.PathLike[str]) -> SessionState:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{p} does not exist or is not a file")
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the session file {p.name}: {exc}") from None
        return Session.state_from_json(text, p.parent)
