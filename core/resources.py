"""Where the bundled files are: weights and model cards, training configs.

From a checkout they are the repository's ``resources/`` and ``configs/``. From an installed
wheel they are package data of the ``srw`` package (``srw/resources``, ``srw/configs``; see
``setup.py``), found with :mod:`importlib.resources`, so ``srw models`` and ``srw sr`` see the
same bundled models wherever the code runs from. One rule, one place: nothing else in core
builds these paths from ``__file__``.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

__all__ = ["checkout_root", "bundled_path", "RESOURCES_DIR", "CONFIGS_DIR"]


def checkout_root() -> Path | None:
    """The repository root when this code runs from a checkout (``pyproject.toml`` beside
    ``core/``), else None (an installed wheel)."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "resources").is_dir() else None


def _installed(name: str) -> Path | None:
    try:
        found = importlib.resources.files("srw") / name
    except (ModuleNotFoundError, TypeError):
        return None
    # wheels install unzipped: the Traversable is a real folder (torch.load needs a path)
    path = Path(str(found))
    return path if path.is_dir() else None


def bundled_path(name: str) -> Path:
    """``resources`` or ``configs``: the checkout's folder, or the installed package data.
    A path that does not exist (nothing bundled) when neither is there."""
    root = checkout_root()
    if root is not None:
        return root / name
    return _installed(name) or Path(__file__).resolve().parents[1] / name


#: Bundled weights (``weights/NAME.pth``) and their model cards (``NAME.md``).
RESOURCES_DIR = bundled_path("resources")
#: Bundled training configs (``configs/NAME.yaml``).
CONFIGS_DIR = bundled_path("configs")
