"""Preferences that persist between runs (QSettings, an INI file in the user's config folder).

Default device, precision, tile size, theme, checkpoint folders, the checkpoints the user added,
recent files and the window geometry. ``SRW_SETTINGS=/path/file.ini`` (or ``Settings(path)``)
points it elsewhere: the tests use a temporary file so they never touch the user's settings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtCore import QSettings

__all__ = ["Settings", "DEVICES", "PRECISIONS", "THEMES"]

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
THEMES = ("dark", "light")
MAX_RECENT = 10


class Settings:
    """Typed access to the persisted preferences."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        path = path or os.environ.get("SRW_SETTINGS")
        if path:
            self.q = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self.q = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                               "SRWorkbench", "sr-workbench")

    @property
    def path(self) -> str:
        return self.q.fileName()

    # lists are stored as JSON strings: QSettings turns a one-element list into a plain string
    def _list(self, key: str) -> list[str]:
        raw = self.q.value(key, "[]")
        try:
            val = json.loads(raw) if isinstance(raw, str) else list(raw or [])
        except (json.JSONDecodeError, TypeError):
            return []
        return [str(v) for v in val] if isinstance(val, list) else []

    def _set_list(self, key: str, values: list[str]) -> None:
        self.q.setValue(key, json.dumps(list(dict.fromkeys(str(v) for v in values))))

    def _choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        v = str(self.q.value(key, default))
        return v if v in choices else default

    @property
    def device(self) -> str:
        return self._choice("run/device", DEVICES, "auto")

    @device.setter
    def device(self, v: str) -> None:
        self.q.setValue("run/device", v)

    @property
    def precision(self) -> str:
        return self._choice("run/precision", PRECISIONS, "auto")

    @precision.setter
    def precision(self, v: str) -> None:
        self.q.setValue("run/precision", v)

    @property
    def tile(self) -> int | None:
        """LR tile/block size; None (stored as 0) = automatic."""
        try:
            v = int(self.q.value("run/tile", 0))
        except (TypeError, ValueError):
            v = 0
        return v if v > 0 else None

    @tile.setter
    def tile(self, v: int | None) -> None:
        self.q.setValue("run/tile", int(v or 0))

    @property
    def max_megapixels(self) -> int:
        """Image budget in megapixels, checked from file headers before decoding (issue #19);
        0 = the default of core.io (100)."""
        try:
            v = int(self.q.value("io/max_megapixels", 0))
        except (TypeError, ValueError):
            v = 0
        return max(0, v)

    @max_megapixels.setter
    def max_megapixels(self, v: int) -> None:
        self.q.setValue("io/max_megapixels", int(v))

    @property
    def theme(self) -> str:
        return self._choice("ui/theme", THEMES, "dark")

    @theme.setter
    def theme(self, v: str) -> None:
        self.q.setValue("ui/theme", v)

    @property
    def checkpoint_folders(self) -> list[str]:
        return self._list("models/folders")

    @checkpoint_folders.setter
    def checkpoint_folders(self, v: list[str]) -> None:
        self._set_list("models/folders", v)

    @property
    def checkpoints(self) -> list[str]:
        """Checkpoint files added with "Add checkpoint..." (remembered)."""
        return self._list("models/checkpoints")

    def remember_checkpoint(self, path: str) -> None:
        self._set_list("models/checkpoints", self.checkpoints + [str(path)])

    def forget_checkpoint(self, path: str) -> None:
        self._set_list("models/checkpoints", [p for p in self.checkpoints if p != str(path)])

    @property
    def recent(self) -> list[str]:
        return [p for p in self._list("files/recent") if Path(p).exists()]

    def add_recent(self, path: str | os.PathLike[str]) -> None:
        p = str(Path(path).resolve())
        self._set_list("files/recent", ([p] + [r for r in self._list("files/recent") if r != p])
                       [:MAX_RECENT])

    def clear_recent(self) -> None:
        self._set_list("files/recent", [])

    def value(self, key: str, default=None):
        return self.q.value(key, default)

    def set_value(self, key: str, value) -> None:
        self.q.setValue(key, value)

    def sync(self) -> None:
        self.q.sync()
