"""The checks every config file's values go through: one rule per kind of value.

A YAML config (a training run, an MZSR meta-training) is untrusted input: each value is
checked for its kind and range before any work starts, and each problem is a
:class:`~core.errors.ConfigError` of one sentence naming the key. A number is never a bool
(YAML's ``yes``), never NaN or infinite (YAML's ``.nan`` / ``.inf``), and a whole number may be
written ``48.0``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from .errors import ConfigError

__all__ = ["read_yaml", "number", "flag", "text", "section", "build_section", "prefixes"]


def read_yaml(path: Path) -> Any:
    """The parsed YAML of the file ``path`` (None when it is empty); a file that cannot be read,
    is not UTF-8 text or is not valid YAML is a ConfigError naming it (and the line)."""
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path.name} is not a text file; a config is UTF-8 YAML") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path.name} is not valid YAML{where}: "
                          f"{getattr(exc, 'problem', None) or exc}") from None


def number(value: Any, key: str, *, integer: bool = False, minimum: float | None = None,
           maximum: float | None = None, positive: bool = False) -> Any:
    """``value`` as an int (``integer``) or a float, finite and within the bounds given."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"'{key}' must be a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise ConfigError(f"'{key}' must be finite, got {value!r}")
    if integer and int(value) != value:
        raise ConfigError(f"'{key}' must be a whole number, got {value!r}")
    if positive and value <= 0:
        raise ConfigError(f"'{key}' must be > 0, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"'{key}' must be >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"'{key}' must be <= {maximum}, got {value!r}")
    return int(value) if integer else float(value)


def flag(value: Any, key: str) -> bool:
    """A yes/no value (YAML ``true`` / ``false``), not a number or a word that looks like one."""
    if not isinstance(value, bool):
        raise ConfigError(f"'{key}' must be true or false, got {value!r}")
    return value


def text(value: Any, key: str, choices: Iterable[str] | None = None) -> str:
    """A non-empty string, one of ``choices`` when given."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"'{key}' must be a non-empty string, got {value!r}")
    options = tuple(choices or ())
    if options and value not in options:
        raise ConfigError(f"'{key}' must be one of {', '.join(options)}, got {value!r}")
    return value


def section(raw: Mapping[str, Any], key: str, required: bool = False) -> dict[str, Any]:
    """The mapping under ``key`` (``{}`` when absent and not ``required``)."""
    value = raw.get(key)
    if value is None:
        if required:
            raise ConfigError(f"the config has no '{key}' section")
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"'{key}' must be a mapping of keys to values, got {value!r}")
    return dict(value)


def build_section(cls: type, values: dict[str, Any], where: str) -> Any:
    """The dataclass ``cls`` of a section's ``values``, refusing keys it does not have and
    anything but true / false for its ``bool`` fields."""
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown key(s) in '{where}': {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(known))})")
    for name, value in values.items():  # a yes/no key takes only true or false ('no' is truthy)
        if cls.__dataclass_fields__[name].type in (bool, "bool"):
            flag(value, f"{where}.{name}")
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"'{where}' is incomplete: {exc}") from None


def prefixes(value: Any, key: str, example: str) -> list[str]:
    """A list of parameter-name prefixes (``model.freeze``, ``model.init_fresh``), stripped."""
    if not isinstance(value, list) or not all(isinstance(f, str) and f.strip() for f in value):
        raise ConfigError(f"'{key}' must be a list of parameter-name prefixes such as "
                          f"[{example}], got {value!r}")
    return [f.strip() for f in value]
