"""Names of a package that load on first access (PEP 562), so that importing the package stays
light: ``core.zeroshot`` and ``core.channels`` keep torch and scipy off the CLI's start-up.

    __getattr__, __dir__ = lazy_names(__name__, {"zssr": "internal", ...}, __all__)

A name in ``homes`` is imported from ``package.<home>`` the first time it is read, then kept
in the package like any other name.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any, Callable, Mapping, Sequence

__all__ = ["lazy_names"]


def lazy_names(package: str, homes: Mapping[str, str], public: Sequence[str]
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of ``package`` for ``homes``
    (name -> submodule)."""

    def __getattr__(name: str) -> Any:
        if name in homes:
            value = getattr(import_module(f".{homes[name]}", package), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(public))

    return __getattr__, __dir__
