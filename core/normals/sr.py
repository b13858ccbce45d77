"""Super-resolution of normal maps: the split method and the naive baseline, as Jobs.

*split* (default): split the LR map into shape and detail (:mod:`.split`), encode each as an
image ``(n + 1) / 2``, super-resolve both with the engine (the same or different models, any
scale), decode, renormalise, recombine. *naive*: super-resolve the encoded map directly and
renormalise. In both, pixels outside the mask are first filled with the nearest valid normal
(so the model never sees the grey "zero" of the background at the silhouette), and the HR mask
is the bicubic-upscaled LR mask thresholded at 0.5.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..data import ImageData, Units
from ..errors import InputError
from ..jobs import Job, Progress, sub_job
from ..resize import imresize
from .codec import NormalMap, encode, normalize
from .split import recombine, split

__all__ = ["NormalSRResult", "super_resolve_normals", "fill_masked", "downsample_normals",
           "resize_mask", "METHODS"]

METHODS: tuple[str, ...] = ("split", "naive")


@dataclass(frozen=True, eq=False)
class NormalSRResult:
    """An SR normal map and how it was made.

    ``shape`` / ``detail`` are the super-resolved parts (split method only, else ``None``);
    ``models`` = (shape model, detail model) names (the same name twice for naive).
    """

    normals: NormalMap
    shape: NormalMap | None
    detail: NormalMap | None
    method: str
    models: tuple[str, str]
    sigma: float
    scale: tuple[float, float]
    seconds: float
    notes: tuple[str, ...] = ()


def fill_masked(nmap: NormalMap) -> np.ndarray:
    """The normals with every masked-out pixel set to its nearest valid normal (float32)."""
    if nmap.mask.all():
        return nmap.normals.copy()
    idx = ndimage.distance_transform_edt(~nmap.mask, return_distances=False, return_indices=True)
    return nmap.normals[idx[0], idx[1]]


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bicubic resize of a bool mask to ``size`` = (H, W), thresholded at 0.5."""
    if mask.shape == tuple(size):
        return mask.copy()
    return imresize(mask.astype(np.float32), size=size, method="bicubic") > 0.5


def downsample_normals(nmap: NormalMap, scale: int) -> NormalMap:
    """A low-resolution version for experiments: antialiased bicubic of the (filled) vectors,
    renormalised, with the mask resized the same way (MATLAB ``imresize(x, 1/scale)``)."""
    s = int(scale)
    if s < 1 or s != scale:
        raise InputError(f"the downsampling factor must be a positive integer, got {scale!r}")
    h, w = nmap.shape
    size = (max(1, h // s), max(1, w // s))
    v = imresize(fill_masked(nmap), size=size, method="bicubic")
    return nmap.with_normals(v, resize_mask(nmap.mask, size))


def _resolve_model(model: object) -> tuple[object, str]:
    # lazy: torch; core.io.normals imports core.normals, which stays numpy-only
    from ..models import default_model_name, load_model

    if model is None:
        model = default_model_name()
    if isinstance(model, str):
        loaded = load_model(model)
        return loaded.module, loaded.name
    return model, str(getattr(model, "arch_name", type(model).__name__))


def _as_image(normals: np.ndarray) -> ImageData:
    return ImageData(encode(normals), kind="normals", units=Units())


def _decode(result_px: np.ndarray, mask: np.ndarray) -> np.ndarray:
    n, _ = normalize(2.0 * result_px.astype(np.float64) - 1.0, mask)
    return n


def super_resolve_normals(nmap: NormalMap, *, scale=None, size=None, sigma: float = 3.0,
                          shape_model: object = None, detail_model: object = None,
                          method: str = "split", options=None) -> Job[NormalSRResult]:
    """Super-resolve a normal map as a Job -> :class:`NormalSRResult`.

    Args:
        nmap: the LR normal map (canonical frame, with its mask).
        scale / size: as in :func:`core.engine.super_resolve` (one of them).
        sigma: shape low-pass in LR pixels (split method).
        shape_model, detail_model: model names, checkpoint paths or loaded modules; ``None``
            = :func:`core.models.default_model_name` (the bundled LIIF when present, else
            bicubic). The naive method uses ``shape_model``.
        method: ``"split"`` or ``"naive"``.
        options: :class:`core.engine.SROptions` (device, precision, tile).
    """
    # lazy: torch; core.io.normals imports core.normals, which stays numpy-only
    from ..engine import SROptions, output_size, super_resolve

    if method not in METHODS:
        raise InputError(f"unknown normal-map SR method {method!r}; expected one of "
                         f"{', '.join(METHODS)}")
    opts = options or SROptions()
    t0 = time.perf_counter()
    h, w = nmap.shape
    oh, ow = output_size(h, w, scale, size)
    hr_mask = resize_mask(nmap.mask, (oh, ow))
    filled = nmap.with_normals(fill_masked(nmap), np.ones((h, w), dtype=bool))
    s_mod, s_name = _resolve_model(shape_model)
    notes: list[str] = []

    if method == "naive":
        yield Progress(0, 1000, "naive SR of the encoded normals")
        res = yield from sub_job(super_resolve(s_mod, _as_image(filled.normals), size=(oh, ow),
                                               options=opts, name=s_name), 0, 1000, 1000)
        notes.extend(res.notes)
        out = nmap.with_normals(_decode(res.image.pixels, hr_mask), hr_mask)
        shape_hr = detail_hr = None
        names = (s_name, s_name)
    else:
        if detail_model is None or detail_model == shape_model:
            d_mod, d_name = s_mod, s_name
        else:
            d_mod, d_name = _resolve_model(detail_model)
        yield Progress(0, 2000, "splitting shape / detail")
        parts = split(filled, sigma)
        r_s = yield from sub_job(super_resolve(s_mod, _as_image(parts.shape.normals),
                                               size=(oh, ow), options=opts, name=s_name),
                                 0, 1000, 2000, "shape: ")
        r_d = yield from sub_job(super_resolve(d_mod, _as_image(parts.detail.normals),
                                               size=(oh, ow), options=opts, name=d_name),
                                 1000, 1000, 2000, "detail: ")
        notes.extend(r_s.notes + r_d.notes)
        shape_hr = nmap.with_normals(_decode(r_s.image.pixels, hr_mask), hr_mask)
        detail_hr = nmap.with_normals(_decode(r_d.image.pixels, hr_mask), hr_mask)
        out = recombine(shape_hr, detail_hr, hr_mask)
        names = (s_name, d_name)
    yield Progress(1, 1, "done")
    return NormalSRResult(normals=out, shape=shape_hr, detail=detail_hr, method=method,
                          models=names, sigma=float(sigma), scale=(oh / h, ow / w),
                          seconds=time.perf_counter() - t0, notes=tuple(dict.fromkeys(notes)))
