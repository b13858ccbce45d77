"""The model catalog: baselines, bundled models, user checkpoints; which models are ticked.

State lives in the session (``catalog``, ``labels``, ``state.models``, ``state.checkpoints``;
topic ``models``); user checkpoints are also remembered in the settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.errors import SRWError, short_message
from core.models import default_model_name, list_models, resolve
from core.models.catalog import CHECKPOINT_SUFFIXES
from core.session import Session

from ..jobs import Notices

__all__ = ["ModelsController"]


class ModelsController:
    """Lists models (``refresh_catalog``), adds checkpoints, sets the ticked models."""

    def __init__(self, session: Session, notices: Notices, settings: Any = None):
        self.session = session
        self.notices = notices
        self.settings = settings
        self.refresh_catalog()
        self._default_models()

    def _default_models(self) -> None:
        """Bicubic, plus the bundled default model (LIIF) once there is one."""
        st, cat = self.session.state, self.session.catalog
        best = default_model_name()
        if st.models == ["bicubic"] and best != "bicubic" and best in cat:
            st.models = ["bicubic", best]

    def refresh_catalog(self) -> list[str]:
        """Baselines + bundled models + user checkpoints + files in the checkpoint folders.
        Returns the messages of files that could not be read."""
        s = self.session
        catalog = {e.name: e for e in list_models()}
        files = list(s.state.checkpoints)
        if self.settings is not None:
            files += self.settings.checkpoints
            for folder in self.settings.checkpoint_folders:
                p = Path(folder)
                if p.is_dir():
                    files += [str(f) for f in sorted(p.iterdir())
                              if f.suffix.lower() in CHECKPOINT_SUFFIXES and f.is_file()]
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
        key = str(Path(path).expanduser().resolve())
        try:
            entry = resolve(Path(key))
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return None
        except Exception as exc:  # noqa: BLE001 - issue #19: a dialog, the list unchanged
            self.notices.error.emit(f"cannot add {Path(key).name}: {short_message(exc)}")
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
        self.notices.message.emit(f"Added {self.session.label(key)}: {entry.arch} "
                                  f"({entry.kind}{scales})")
        return key

    def set_models(self, keys: list[str]) -> None:
        self.session.update("models", models=[k for k in keys if k in self.session.catalog])

    def ticked(self) -> list[str]:
        """The ticked models that are in the catalog, in the user's order."""
        s = self.session
        return [k for k in s.state.models if k in s.catalog]
