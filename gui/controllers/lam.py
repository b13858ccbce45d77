"""LAM: the attribution window, the path rule, the overlay opacity, and LAM runs for every
ticked model.

The window (SR pixels) is the user's: typed, clicked on an SR image, or by default centred on
the region (or the image). ``run_lam`` computes the same window's map for every ticked model
on ``jobs`` (progress per path-step batch, Cancel, stale results dropped); each model's result
goes to the session as soon as it is ready. The path rule and its steps
(:mod:`core.attribution.quadrature`) apply to the next run. A new LR on screen cancels a LAM run of the old
one. The heat map's opacity is display state only: it re-renders the overlays, never
recomputes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject

from core.app import analysis as at
from core.attribution import LAMOptions, lam_window
from core.attribution.quadrature import DEFAULT_RULE, check_rule
from core.data import ImageData, Region, Units
from core.errors import SRWError
from core.io import save
from core.io.atomic import atomic_path
from core.session import Session

from ..jobs import JobPool, Notices
from .kinds import needs_image

__all__ = ["LamController", "LAM_SIZE"]

#: The window side of the LAM paper (SR pixels).
LAM_SIZE = 16


class LamController(QObject):
    def __init__(self, session: Session, notices: Notices, pool: JobPool,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.notices = notices
        self.jobs = pool.handle("lam", notices, eta=True, parent=self)
        self._lr: ImageData | None = None      # the LR of the run in flight
        self._errors: list[str] = []
        session.subscribe(self._on_session)

    def _on_session(self, topic: str) -> None:
        if topic in ("inputs", "all") and self.jobs.busy and self.session.lr is not self._lr:
            self.cancel_lam()

    def unavailable(self) -> str | None:
        """Why the tab cannot attribute the input that is open (None: it can)."""
        return needs_image("LAM", self.session.source)

    # -- the window ---------------------------------------------------------------------------
    def lam_window(self) -> Region | None:
        """The window to attribute, clamped into the SR output; None when nothing is open."""
        s = self.session
        out = s.output_hw()
        if s.lr is None or out is None:
            return None
        lay = s.state.layout
        size = max(2, min(int(lay.get("lam_size", LAM_SIZE)), out[0], out[1]))
        placed = lay.get("lam_window")
        if placed is not None and list(placed[2:4]) == list(out):  # placed on this output
            x, y = int(placed[0]), int(placed[1])
        else:  # the region's centre, or the image's
            roi = s.roi_region()
            cx, cy = ((roi.x + roi.w / 2, roi.y + roi.h / 2) if roi is not None
                      else (out[1] / 2, out[0] / 2))
            x, y = int(round(cx - size / 2)), int(round(cy - size / 2))
        x = max(0, min(x, out[1] - size))
        y = max(0, min(y, out[0] - size))
        return Region(x, y, size, size)

    def set_lam_window(self, x: int | None = None, y: int | None = None,
                       size: int | None = None) -> None:
        """Place the window's top-left corner (SR pixels) and/or set its side. The place is
        kept with the output size it was chosen on (another size: back to the default)."""
        lay = self.session.state.layout
        if size is not None:
            lay["lam_size"] = max(2, int(size))
        out = self.session.output_hw()
        if x is not None or y is not None:
            cur = self.lam_window()
            if cur is None or out is None:
                return
            lay["lam_window"] = [int(x if x is not None else cur.x),
                                 int(y if y is not None else cur.y), *out]
        win = self.lam_window()
        if win is not None and lay.get("lam_window") is not None and out is not None:
            lay["lam_window"] = [win.x, win.y, *out]     # clamped, and the output it is on
        self.session.notify("lam_window")

    def place_lam_window(self, cx: float, cy: float) -> None:
        """Centre the window on a clicked point (SR pixels)."""
        win = self.lam_window()
        if win is None:
            return
        self.set_lam_window(int(round(cx - win.w / 2)), int(round(cy - win.h / 2)))

    def centre_lam_window(self) -> None:
        """Back to the default: centred on the region (or the image)."""
        self.session.state.layout.pop("lam_window", None)
        self.session.notify("lam_window")

    # -- opacity (display only) ----------------------------------------------------------------
    def lam_alpha(self) -> float:
        return float(self.session.state.layout.get("lam_alpha", 0.5))

    def set_lam_alpha(self, alpha: float) -> None:
        self.session.state.layout["lam_alpha"] = float(np.clip(alpha, 0.0, 1.0))
        self.session.notify("lam_alpha")

    def lam_overlay_image(self, key: str, window: bool = True) -> np.ndarray | None:
        """The overlay of ``key``'s map at the current opacity (uint8 RGB, SR size), with the
        window drawn in (as the CLI writes it) or not (the view draws it as an outline)."""
        s = self.session
        entry = s.lam.get(key)
        if entry is None or s.lam_lr is None:
            return None
        return at.lam_overlay_rgb(entry.result, s.lam_lr, self.lam_alpha(), window)

    # -- the path rule ------------------------------------------------------------------------
    def lam_rule(self) -> tuple[str, int | None]:
        """``(rule, steps)`` of the next run (steps None: the rule's default)."""
        lay = self.session.state.layout
        steps = lay.get("lam_steps")
        return str(lay.get("lam_rule", DEFAULT_RULE)), (int(steps) if steps else None)

    def set_lam_rule(self, rule: str | None = None, steps: int | None | bool = False) -> None:
        """Choose how the path integral is evaluated (``steps`` None or 0: the rule's default;
        False: unchanged). Takes effect at the next Run LAM."""
        lay = self.session.state.layout
        if rule is not None:
            lay["lam_rule"] = str(rule)
        if steps is not False:
            lay["lam_steps"] = int(steps) if steps else None
        self.session.notify("layout")

    # -- running ------------------------------------------------------------------------------
    def run_lam(self) -> bool:
        """LAM of the window for every ticked model; supersedes a LAM run in progress."""
        s, st = self.session, self.session.state
        if s.lr is None:
            self.notices.error.emit("open an image first (File > Open)")
            return False
        reason = self.unavailable()
        if reason:
            return self.jobs.refuse(reason)
        models = [k for k in st.models if k in s.catalog]
        if not models:
            self.notices.error.emit("tick at least one model in the Models list")
            return False
        out = s.output_hw()
        win = self.lam_window()
        try:
            if out is None or win is None:
                raise SRWError("the output size is not valid: check the scale")
            if int(st.layout.get("lam_size", LAM_SIZE)) > min(out):
                raise SRWError(f"the LAM window ({st.layout['lam_size']} px) is larger than "
                               f"the {out[1]}x{out[0]} SR output")
            lam_window(win.x, win.y, win.w, out)
            rule, steps = self.lam_rule()
            check_rule(rule, steps)
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return False
        s.clear_lam()
        self._lr = s.lr
        self._errors = []
        req = at.LamRequest(s.lr, win, out, tuple((k, s.label(k)) for k in models),
                            LAMOptions(device=st.device, precision=st.precision, rule=rule,
                                       steps=steps))
        self.jobs.submit(at.lam_job(req), on_step=self._step, on_done=self._done)
        return True

    def cancel_lam(self) -> None:
        self.jobs.cancel("LAM cancelled")

    def _step(self, p) -> None:
        if p.key == "lam":
            key, entry = p.value
            self.session.add_lam(key, entry, self._lr)
        elif p.key == "error":
            key, msg = p.value
            self._errors.append(f"{self.session.label(key)}: {msg}")

    def _done(self, _summary) -> None:
        elapsed = self.jobs.elapsed()
        n = len(self.session.lam)
        self.notices.message.emit(f"LAM of {n} model{'s' if n != 1 else ''} in {elapsed:.1f} s")
        if self._errors:
            self.notices.error.emit("LAM failed for some models:\n" + "\n".join(self._errors))

    # -- saving -------------------------------------------------------------------------------
    def save_lam(self, key: str, png: str | Path, npy: str | Path | None = None) -> bool:
        """The overlay (current opacity, window drawn) as an image and the map as ``.npy``."""
        rgb = self.lam_overlay_image(key)
        if rgb is None:
            self.notices.error.emit("no LAM map for this model yet: run LAM first")
            return False
        try:
            img = ImageData(rgb.astype(np.float32) / 255.0, kind="rgb",
                            units=Units.for_dtype("uint8"))
            path = save(img, Path(png), overwrite=True)
            if npy is not None:
                with atomic_path(Path(npy)) as tmp, open(tmp, "wb") as fh:
                    np.save(fh, self.session.lam[key].result.map)
        except (SRWError, OSError) as exc:
            self.notices.error.emit(f"could not save the LAM of {self.session.label(key)}: "
                                    f"{exc}")
            return False
        self.notices.message.emit(f"Saved the LAM of {self.session.label(key)} to {path}"
                                  + (f" and {npy}" if npy is not None else ""))
        return True
