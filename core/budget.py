"""The work budget: how many pixels one image may have, in and out (stdlib only, so the
command line can check values against it before importing anything heavy).

One rule, one place: :func:`max_pixels` is the budget of an input image (checked from file
headers, :mod:`core.io`) *and* of a planned output (:func:`check_output_pixels`, called by
:func:`core.engine.run.output_size`), so ``-s 999`` on a small image is refused at once rather
than run for minutes. ``--max-pixels N`` (CLI), Preferences (GUI) or ``SRW_MAX_PIXELS`` raise
it.
"""

from __future__ import annotations

import os

from .errors import InputError, ResourceError

__all__ = ["DEFAULT_MAX_PIXELS", "MAX_PIXELS_ENV", "MAX_SCALE", "max_pixels", "set_max_pixels",
           "check_output_pixels"]

#: Default pixel budget of one image (width x height): 100 megapixels (e.g. 12000 x 8000).
DEFAULT_MAX_PIXELS: int = 100_000_000
MAX_PIXELS_ENV = "SRW_MAX_PIXELS"

#: Largest scale factor accepted anywhere (per axis).
MAX_SCALE = 1000.0


def max_pixels() -> int:
    """The pixel budget in force: ``SRW_MAX_PIXELS`` when set to a positive integer, else
    :data:`DEFAULT_MAX_PIXELS`."""
    text = os.environ.get(MAX_PIXELS_ENV, "").strip()
    try:
        value = int(float(text)) if text else 0
    except (ValueError, OverflowError):
        value = 0
    return value if value > 0 else DEFAULT_MAX_PIXELS


def set_max_pixels(value: int | None) -> None:
    """Set (``None``: reset to the default) the pixel budget for this process and its
    children."""
    if value is None:
        os.environ.pop(MAX_PIXELS_ENV, None)
        return
    value = int(value)
    if value < 1:
        raise InputError(f"the pixel budget must be a positive number of pixels, got {value}")
    os.environ[MAX_PIXELS_ENV] = str(value)


def check_output_pixels(height: int, width: int, what: str = "the output") -> None:
    """ResourceError when an output of ``height`` x ``width`` is above the pixel budget."""
    pixels, budget = int(height) * int(width), max_pixels()
    if pixels > budget:
        raise ResourceError(
            f"{what} would be {int(width)} x {int(height)} pixels ({pixels / 1e6:.1f} "
            f"megapixels), above the budget of {budget / 1e6:.1f} megapixels; use a smaller "
            f"scale or size, or raise the budget with --max-pixels (or in Preferences)")
