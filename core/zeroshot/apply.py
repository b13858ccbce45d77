"""ZSSR / MZSR on loaded data (:class:`~core.data.ImageData`): RGB, gray and channel stacks.

* rgb / gray / normals: one net with the image's channels (3 or 1), trained on the image.
* channels: every channel is a 1-channel image of one stack; one net is trained on fathers
  from all of them, then (``finetune_iters`` > 0) fine-tuned per channel, and each channel is
  super-resolved. Pixels stay the normalised working values; the result keeps the input's
  kind, units and layout, so :func:`core.io.save` writes the file's own units.
"""

from __future__ import annotations

import numpy as np

from ..data import ImageData
from ..errors import InputError
from ..io import resize_alpha
from ..jobs import Job
from .internal import ZSSRConfig, ZSSRResult, zssr_stack

__all__ = ["zssr_data", "finish"]


def finish(data: ImageData, pixels: np.ndarray) -> ImageData:
    """``data`` with SR ``pixels`` (``H' x W' x C``): rgb/gray clipped to [0, 1], alpha resized."""
    if data.kind in ("rgb", "gray"):
        pixels = np.clip(pixels, 0.0, 1.0)
    alpha = None
    if data.alpha is not None:
        alpha = resize_alpha(data.alpha, pixels.shape[0], pixels.shape[1])
    return data.with_pixels(np.ascontiguousarray(pixels, dtype=np.float32), alpha=alpha)


def zssr_data(data: ImageData, cfg: ZSSRConfig, kernel: np.ndarray | None = None,
              finetune_iters: int = 0) -> Job[tuple[ImageData, ZSSRResult]]:
    """ZSSR of loaded data as a Job; returns ``(result data, ZSSRResult)``.

    ``finetune_iters`` (channel data only): per-channel fine-tuning steps of the stack net.
    """
    if not isinstance(data, ImageData):
        raise InputError(f"expected ImageData, got {type(data).__name__}")
    if data.has_nonfinite():
        raise InputError("the data has NaN or infinite values")
    px = data.pixels
    if data.kind == "channels":
        stack = [px[:, :, i:i + 1] for i in range(px.shape[2])]
        res = yield from zssr_stack(stack, cfg, kernel, finetune_iters)
        out = res.image.reshape(res.image.shape[0], res.image.shape[1], -1) if len(stack) > 1 \
            else res.image
    else:
        if finetune_iters:
            raise InputError("per-channel fine-tuning applies to channel data only")
        res = yield from zssr_stack([px], cfg, kernel)
        out = res.image
    return finish(data, out), res
