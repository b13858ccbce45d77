"""Benchmark evaluation: PSNR/SSIM of a model over a folder of HR images, per scale.

Protocol of the EDSR/LIIF/SwinIR papers: HR cropped to a multiple of the scale, LR made with
MATLAB bicubic (:func:`core.resize.degrade`) or read from a given LR folder, SR output clipped
to [0, 1] and quantised to 8 bit, metrics on Y (BT.601) or RGB with a border of ``shave``
pixels (default: the scale) removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from .data import ImageData
from .errors import InputError
from .jobs import Job, Progress, sub_job
from .engine.run import SROptions, SRResult, super_resolve
from .provenance import FIELDS as PROVENANCE_FIELDS
from .provenance import Provenance

__all__ = ["EvalRow", "ImageScore", "evaluate", "find_images", "find_lr", "pil_pair",
           "quantise", "DEGRADATIONS", "score_image", "score_row", "CSV_FIELDS", "EvalSpec",
           "eval_unit", "sr_name", "mean_psnr"]

_IMAGE_EXTS = {".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"}


@dataclass(frozen=True)
class ImageScore:
    name: str
    scale: int
    psnr: float
    ssim: float
    provenance: Provenance | None = None   # how the SR was made and measured


@dataclass(frozen=True)
class EvalRow:
    """Mean scores of one scale over ``n`` images."""

    scale: int
    psnr: float
    ssim: float
    n: int
    provenance: Provenance | None = None   # of the last image (model, resampling, protocol)


def find_images(folder: str | Path) -> list[Path]:
    """Image files of ``folder``, sorted by name; InputError if none or missing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"data folder {folder} does not exist or is not a folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_EXTS)
    if not files:
        raise InputError(f"no images ({', '.join(sorted(_IMAGE_EXTS))}) found in {folder}")
    return files


def find_lr(lr_root: Path, hr: Path, scale: int) -> Path:
    """The LR file for ``hr`` under ``lr_root``: ``X{s}/{stem}x{s}.ext`` (EDSR layout),
    ``X{s}/{name}`` or ``{stem}x{s}.ext`` directly in the folder."""
    candidates = []
    for d in (lr_root / f"X{scale}", lr_root / f"x{scale}", lr_root):
        candidates += [d / f"{hr.stem}x{scale}{hr.suffix}", d / hr.name]
    for c in candidates:
        if c.is_file():
            return c
    raise InputError(f"no LR image for {hr.name} at x{scale} under {lr_root}")


def sr_name(hr: Path, scale: int) -> str:
    """The file name of ``hr``'s SR image at ``scale`` in a ``save_sr`` folder."""
    return f"{Path(hr).stem}_x{scale}.png"


def mean_psnr(values: list[float]) -> tuple[float, int]:
    """The mean PSNR of ``values`` over the finite ones, and how many were infinite (an SR
    identical to its HR: a perfect score, which would make any mean ``inf``). All infinite:
    ``(inf, n)``; none: ``(nan, 0)``."""
    finite = [v for v in values if np.isfinite(v)]
    n_inf = sum(1 for v in values if np.isinf(v) and v > 0)
    if finite:
        return float(np.mean(finite)), n_inf
    return (float("inf"), n_inf) if n_inf else (float("nan"), 0)


def quantise(px: np.ndarray) -> np.ndarray:
    """``px`` clipped to [0, 1] and rounded to 8-bit levels, as a stored image would be."""
    return np.round(np.clip(px, 0.0, 1.0) * 255.0) / 255.0


#: How ``evaluate`` makes LR images when no LR folder is given.
DEGRADATIONS = ("matlab", "pil")


def pil_pair(hr_px: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray]:
    """``(hr, lr)`` as yjn870's SRCNN/FSRCNN/ESPCN ports make them (``prepare.py``), in [0, 1].

    The 8-bit RGB HR is *resized* (PIL bicubic), not cropped, to the multiple of ``s`` below
    its size (a no-op when it already is one), and the LR is its PIL bicubic downscale by
    ``s``. Both stay 8-bit, as PIL images.
    """
    from PIL import Image

    img = Image.fromarray(np.round(np.clip(hr_px[..., :3], 0, 1) * 255).astype(np.uint8), "RGB")
    w, h = (img.width // s) * s, (img.height // s) * s
    if w == 0 or h == 0:
        raise InputError(f"a {img.width}x{img.height} image is smaller than the scale {s}")
    hr = img.resize((w, h), resample=Image.BICUBIC)
    lr = hr.resize((w // s, h // s), resample=Image.BICUBIC)
    return (np.asarray(hr, dtype=np.float32) / 255.0, np.asarray(lr, dtype=np.float32) / 255.0)


def evaluate(model: nn.Module, hr_files: list[Path], scales: list[int], *, y_channel: bool = True,
             shave: int | None = None, lr_root: Path | None = None,
             options: SROptions = SROptions(), name: str = "",
             scores: list[ImageScore] | None = None,
             degradation: str = "matlab",
             provenance: Provenance | None = None,
             save_sr: Path | None = None) -> Job[list[EvalRow]]:
    """Evaluate ``model`` on ``hr_files`` at each scale; returns one row per scale.

    Without ``lr_root`` the LR is made from the HR: ``degradation='matlab'`` (the benchmark
    protocol: HR cropped to a multiple of the scale, MATLAB bicubic, 8-bit) or ``'pil'``
    (yjn870's ports: :func:`pil_pair`). Per-image scores are appended to ``scores`` when a list
    is given. Every score carries its :class:`Provenance`: ``provenance`` (the model's name and
    weights) completed with the engine's facts (native scale, resampling, precision, device)
    and the protocol (LR source, colour space, shave). ``save_sr``: a folder that receives
    each SR image as measured (8-bit PNG, ``NAME_x{scale}.png``; existing files kept).
    """
    if degradation not in DEGRADATIONS:
        raise InputError(f"unknown degradation {degradation!r}; use one of "
                         f"{', '.join(DEGRADATIONS)}")
    if degradation != "matlab" and lr_root is not None:
        raise InputError("an LR folder was given, so there is no degradation to choose: "
                         "drop --lr or --degrade")
    total = len(hr_files) * len(scales)
    rows: list[EvalRow] = []
    k = 0
    for s in scales:
        if int(s) != s or s < 1:
            raise InputError(f"evaluation scales must be positive integers, got {s}")
        s = int(s)
        p_list, s_list = [], []
        for f in hr_files:
            sc = yield from sub_job(
                score_image(model, f, s, y_channel=y_channel, shave=shave, lr_root=lr_root,
                            options=options, name=name, degradation=degradation,
                            provenance=provenance, save_sr=save_sr), k, 1, total, f"x{s} ")
            p_list.append(sc.psnr)
            s_list.append(sc.ssim)
            if scores is not None:
                scores.append(sc)
            k += 1
            yield Progress(k, total, f"x{s} {f.name}: {sc.psnr:.2f} dB")
        rows.append(EvalRow(s, float(np.mean(p_list)), float(np.mean(s_list)), len(p_list),
                            sc.provenance))
    return rows


def score_image(model: nn.Module, f: Path, s: int, *, y_channel: bool = True,
                shave: int | None = None, lr_root: Path | None = None,
                options: SROptions = SROptions(), name: str = "", degradation: str = "matlab",
                provenance: Provenance | None = None,
                save_sr: Path | None = None, overwrite: bool = False) -> Job[ImageScore]:
    """The score of one HR file at one scale (the protocol of :func:`evaluate`, which calls
    it for every file and scale; a batch unit calls it for one). ``overwrite``: replace an
    SR image already in ``save_sr`` (else refused)."""
    # lazy: cv2 and scipy, as core.evaluate imported by the training loop always was
    from .io import load, save
    from .metrics import psnr, ssim
    from .resize import degrade_pair, modcrop

    hr = load(f)
    if hr.kind == "gray":
        hr = hr.with_pixels(np.repeat(hr.pixels, 3, axis=2))
    if degradation == "pil":
        hr_px, lr_px = pil_pair(hr.pixels, s)
    elif lr_root is not None:
        hr_px = modcrop(hr.pixels[..., :3], s)
        lr_px = load(find_lr(Path(lr_root), f, s)).pixels[..., :3]
        if lr_px.shape[0] * s != hr_px.shape[0] or lr_px.shape[1] * s != hr_px.shape[1]:
            raise InputError(
                f"LR {lr_px.shape[1]}x{lr_px.shape[0]} of {f.name} does not match HR "
                f"{hr_px.shape[1]}x{hr_px.shape[0]} at x{s}")
    else:
        hr_px, lr_px = degrade_pair(hr.pixels[..., :3], s)
        lr_px = quantise(lr_px)
    lr = ImageData(lr_px.astype(np.float32), kind="rgb", units=hr.units)
    job = super_resolve(model, lr, size=hr_px.shape[:2], options=options, name=name)
    res = yield from sub_job(job, 0, 1, 1, f"{f.name}: ")
    sr = quantise(res.image.pixels)
    if save_sr is not None:
        save(ImageData(sr.astype(np.float32), kind="rgb"), Path(save_sr) / sr_name(f, s),
             bit_depth=8, overwrite=overwrite)
    border = s if shave is None else shave
    prov = _provenance(provenance, res, name, s, lr_root, degradation, y_channel, border)
    p = psnr(sr, hr_px, crop_border=border, test_y_channel=y_channel)
    q = ssim(sr, hr_px, crop_border=border, test_y_channel=y_channel)
    return ImageScore(f.name, s, p, q, prov)


#: The columns of ``eval --csv``: the first four are the promised format, then how each score
#: was made (:data:`core.provenance.FIELDS`).
CSV_FIELDS = ("image", "scale", "psnr", "ssim", *PROVENANCE_FIELDS)


def score_row(sc: ImageScore) -> dict[str, str]:
    """One ``eval --csv`` row (psnr to 4 decimals, ssim to 6)."""
    row = sc.provenance.row() if sc.provenance else {}
    return {"image": sc.name, "scale": str(sc.scale), "psnr": f"{sc.psnr:.4f}",
            "ssim": f"{sc.ssim:.6f}", **{f: str(row.get(f, "")) for f in PROVENANCE_FIELDS}}


@dataclass(frozen=True)
class EvalSpec:
    """How every unit of a batch ``eval`` runs: the model (``model`` as given, its
    ``scale_hint``, the ``digest`` of its weights, as the driver loaded them) and the protocol
    (the keyword arguments of :func:`score_image`)."""

    model: str
    scale_hint: int | None
    digest: str
    name: str
    provenance: Provenance
    y_channel: bool = True
    shave: int | None = None
    lr_root: Path | None = None
    options: SROptions = SROptions()
    degradation: str = "matlab"
    save_sr: Path | None = None
    overwrite: bool = False   # replace SR images already in save_sr


def eval_unit(spec: EvalSpec, f: Path, s: int) -> ImageScore:
    """One unit of a batch ``eval``: the score of file ``f`` at scale ``s`` with the spec's
    model, loaded once per worker process (:func:`core.scale.cached_model`)."""
    from .jobs import run_sync  # lazy: keeps the worker entry point self-contained
    from .scale.worker import cached_model  # lazy: core.scale is only needed by batch units

    loaded = cached_model(spec.model, spec.scale_hint, spec.digest)
    return run_sync(score_image(loaded.module, Path(f), int(s), y_channel=spec.y_channel,
                                shave=spec.shave, lr_root=spec.lr_root, options=spec.options,
                                name=spec.name, degradation=spec.degradation,
                                provenance=spec.provenance, save_sr=spec.save_sr,
                                overwrite=spec.overwrite))


def _provenance(base: Provenance | None, res: SRResult, name: str, scale: int,
                lr_root: Path | None, degradation: str, y_channel: bool,
                shave: int) -> Provenance:
    """One score's provenance: the model (``base``), the engine's facts, the protocol."""
    ran = res.provenance or Provenance(name)
    if lr_root is not None:
        lr_source = f"LR files under {lr_root}"
    else:
        lr_source = f"{'MATLAB' if degradation == 'matlab' else 'PIL'} bicubic x{scale} of the HR"
    return (base or Provenance(name)).with_(
        native_scale=ran.native_scale, resample=ran.resample, precision=res.precision,
        device=res.device, lr_source=lr_source,
        reference=f"HR {'PIL-resized' if degradation == 'pil' else 'cropped'} to a multiple of "
                  f"x{scale}, SR quantised to 8 bit",
        color="Y (BT.601)" if y_channel else "RGB", shave=shave)
