"""TIFF through ``tifffile``: the layouts OpenCV mis-reads or cannot write.

OpenCV reads most one-page TIFFs; :mod:`core.io.images` comes here for the rest: a page with
gray + alpha, more than 4 samples or float16 samples (:func:`read_tiff_page`), a multi-page
series read as one ``H x W x C`` channel stack (:func:`read_tiff_stack`, axes by
:func:`stack_order`), and every TIFF it writes (:func:`write_tiff`: deflate with Python's zlib,
so readers without imagecodecs open it). :func:`tiff_header` says which case a file is
without decoding its pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from ..errors import FileFormatError
from . import _codecs
from ._common import check_not_empty, check_working_size

__all__ = ["tiff_header", "stack_order", "read_tiff_stack", "read_tiff_page", "write_tiff"]


def tiff_header(path: Path) -> dict | None:
    """Samples per pixel, bits and size of the first TIFF page (``None`` if unknown)."""
    try:
        with _codecs.quiet_decoders(), tifffile.TiffFile(path) as tf:
            page = tf.pages[0]
            head = {
                "spp": int(page.samplesperpixel),
                "bits": int(np.max(page.bitspersample)),
                "height": int(page.imagelength),
                "width": int(page.imagewidth),
                "pages": 1,
            }
            series = tf.series[0] if tf.series else None
            if series is not None and len(series.pages) > 1:
                head["pages"] = len(series.pages)
                head["series_shape"] = tuple(int(v) for v in series.shape)
                head["series_axes"] = str(series.axes)
            return head
    except Exception:
        return None


def stack_order(shape: tuple[int, ...], axes: str) -> tuple[tuple[int, ...], str] | None:
    """How a multi-page TIFF series becomes ``H x W x C``: the axis order (a permutation of
    ``shape``) and a word on the rule; None when it has no such reading.

    Axes the file names (ImageJ ``CYX``/``ZYX``, OME ``ZCYX``...): Y and X are H and W, every
    other axis (pages, samples) becomes channels, in file order. Axes it does not name
    (tifffile's own ``Q``: ``tifffile.imwrite(array)``): the rule of ``.npy`` channel stacks,
    H x W first and the rest channels, so what ``tifffile.imread`` gives back is read as is."""
    if len(shape) != 3 and "Q" in axes:
        return None
    if "Q" in axes or not ("Y" in axes and "X" in axes):
        return (0, 1, 2), "H x W first, the rest channels (as .npy)"
    y, x = axes.index("Y"), axes.index("X")
    rest = tuple(i for i in range(len(shape)) if i not in (y, x))
    return (y, x) + rest, f"axes {axes}: Y x X, then {''.join(axes[i] for i in rest)} as channels"


def read_tiff_stack(path: Path, tiff: dict) -> np.ndarray:
    """The whole first series of a multi-page TIFF as ``H x W x C`` (see :func:`stack_order`),
    its size checked against the budget before it is read."""
    shape, axes = tiff["series_shape"], tiff["series_axes"]
    order = stack_order(shape, axes)
    if order is None:
        raise FileFormatError(
            f"{path.name} is a TIFF of {tiff['pages']} pages, series {'x'.join(map(str, shape))} "
            f"(axes {axes}), with no H x W x C reading; save the stack as .npy (H x W x C)")
    perm, _ = order
    h, w = shape[perm[0]], shape[perm[1]]
    c = int(np.prod([shape[i] for i in perm[2:]], dtype=np.int64))
    check_not_empty(path, (h, w, c))
    check_working_size(path, h, w, c)
    try:
        with _codecs.quiet_decoders(), tifffile.TiffFile(path) as tf:
            arr = tf.series[0].asarray()
    except Exception as exc:
        raise FileFormatError(f"{path.name} could not be decoded as TIFF: {exc}") from exc
    return np.ascontiguousarray(np.transpose(arr, perm).reshape(h, w, c))


def read_tiff_page(path: Path) -> np.ndarray:
    """The TIFF page of a one-page TIFF with tifffile, samples last, in RGB(A) order
    (multi-page stacks: :func:`read_tiff_stack`)."""
    try:
        with _codecs.quiet_decoders(), tifffile.TiffFile(path) as tf:
            page = tf.pages[0]
            arr = page.asarray()
            axes = page.axes
    except Exception as exc:
        raise FileFormatError(f"{path.name} could not be decoded as TIFF: {exc}") from exc
    if arr.ndim == 3 and axes.startswith("S"):
        arr = np.moveaxis(arr, 0, -1)
    if arr.ndim not in (2, 3):
        raise FileFormatError(f"{path.name} has an unsupported TIFF layout {axes} {arr.shape}")
    return arr


def write_tiff(values: np.ndarray, alpha: np.ndarray | None, tmp: Path) -> None:
    """TIFF through tifffile, deflate-compressed with Python's zlib: tifffile, scikit-image
    and imageio read it without imagecodecs (OpenCV's default LZW needs imagecodecs there)."""
    arr = values if alpha is None else np.concatenate([values, alpha], axis=2)
    gray = values.shape[2] == 1
    if gray and alpha is None:
        arr = arr[:, :, 0]
    # gray + alpha: unassociated alpha (read back by tifffile); RGB + alpha: "unspecified", as
    # OpenCV's own TIFFs, because OpenCV's reader premultiplies an "unassalpha" sample
    extras = None if alpha is None else ["unassalpha" if gray else "unspecified"]
    tifffile.imwrite(tmp, np.ascontiguousarray(arr), photometric="minisblack" if gray else "rgb",
                     extrasamples=extras, compression="zlib", planarconfig="contig")
