"""Errors the user can read.

Every failure caused by user input (a bad file, a wrong checkpoint, an invalid scale) is raised
as a subclass of :class:`SRWError`. Its message is one plain sentence that says what went wrong
and why; the CLI prints it on one line and exits non-zero, the GUI shows it in a dialog.
"""

from __future__ import annotations

__all__ = [
    "DataLossWarning",
    "short_message",
    "SRWError",
    "InputError",
    "FileFormatError",
    "ScaleError",
    "ShapeError",
    "CheckpointError",
    "ResourceError",
    "ConfigError",
    "Cancelled",
]


class SRWError(Exception):
    """Base class of all user-facing errors."""


class InputError(SRWError):
    """An input value or file is missing or unusable."""


class FileFormatError(InputError):
    """A file exists but cannot be decoded (corrupt, truncated, unsupported)."""


class ScaleError(InputError):
    """A scale factor or output size is invalid (0, negative, NaN, absurdly large)."""


class ShapeError(InputError):
    """Arrays have incompatible shapes (e.g. metrics on images of different size)."""


class CheckpointError(SRWError):
    """A checkpoint cannot be loaded or matches no known architecture."""


class ResourceError(SRWError):
    """The request would need more memory than is available."""


class ConfigError(InputError):
    """A training configuration is invalid (unknown model, missing folder, bad value)."""


class Cancelled(SRWError):
    """A job was stopped by the user before it finished."""


def short_message(exc: BaseException, limit: int = 120) -> str:
    """``exc`` as one line of at most ``limit`` characters (its type name when it says nothing),
    for quoting a library's error inside one of ours."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


class DataLossWarning(UserWarning):
    """A save that could not keep the data as it is: values clipped to the format's range
    (HDR to 8 bits) or quantised (16 bits to an 8-bit format). Not an error: the file is
    written; the CLI prints the message on stderr, the window in its status bar."""
