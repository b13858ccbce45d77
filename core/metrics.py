"""Benchmark-true image metrics: PSNR, SSIM (RGB or Y, border shaved), region metrics, NMSE,
and two sharpness measures against the HR (gradient ratio, gradient-histogram distance).

Small pure functions with explicit keywords, in the style of BasicSR's ``calculate_psnr`` /
``calculate_ssim``: ``crop_border`` shaves that many pixels from every side, ``test_y_channel``
compares the BT.601 luma (MATLAB ``rgb2ycbcr``) instead of the RGB channels. Inputs are float
arrays ``H x W x C`` or ``H x W`` in ``[0, data_range]`` (``data_range = 1`` for the working
range of :class:`core.data.ImageData`); everything is computed in float64.

Colour conversion follows MATLAB's ``rgb2ycbcr`` for double RGB in [0, 1]: Y in [16/255, 235/255],
Cb/Cr in [16/255, 240/255]. :func:`rgb_to_y` uses the EDSR/benchmark form of the luma row
``16/255 + (65.738 R + 129.057 G + 25.064 B) / 256``; :func:`rgb_to_ycbcr` uses MATLAB's exact
matrix ``[65.481 128.553 24.966; ...] / 255``. The two luma rows differ by < 1.5e-6
(0.0004 grey levels: no effect on reported PSNR).
"""

from __future__ import annotations

import math
from typing import Protocol

import cv2
import numpy as np

from .errors import InputError, ShapeError

__all__ = [
    "rgb_to_y",
    "rgb_to_ycbcr",
    "ycbcr_to_rgb",
    "psnr",
    "ssim",
    "region_metrics",
    "nmse",
    "gradient_magnitude",
    "gradient_ratio",
    "gradient_hist_distance",
    "SSIM_WINDOW",
    "Y_ROW",
]

#: Side of the SSIM Gaussian window (pixels); images smaller than this get SSIM = nan.
SSIM_WINDOW = 11
_SSIM_SIGMA = 1.5
_K1, _K2 = 0.01, 0.03

# MATLAB rgb2ycbcr for double input: T = origT / 255, offset = [16; 128; 128] / 255.
_YCBCR_T = np.array(
    [[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]]
) / 255.0
_YCBCR_OFFSET = np.array([16.0, 128.0, 128.0]) / 255.0
_YCBCR_T_INV = np.linalg.inv(_YCBCR_T)
#: BT.601 luma weights of R, G, B in [0, 1] units (Y = rgb @ Y_ROW + 16/255).
Y_ROW = np.array([65.738, 129.057, 25.064]) / 256.0


class _RegionLike(Protocol):
    x: int
    y: int
    w: int
    h: int


# --- colour ------------------------------------------------------------------------------

def _rgb(img: np.ndarray, what: str = "image") -> np.ndarray:
    a = np.asarray(img, dtype=np.float64)
    if a.ndim != 3 or a.shape[2] != 3:
        raise InputError(f"{what} must be RGB (H x W x 3), got shape {a.shape}")
    return a


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """BT.601 luma of RGB in [0, 1] (``H x W x 3``): ``H x W`` float64 in [16/255, 235/255].

    ``Y = 16/255 + (65.738 R + 129.057 G + 25.064 B) / 256`` (MATLAB ``rgb2ycbcr``, the form
    the EDSR / SwinIR benchmark code uses).
    """
    return _rgb(img) @ Y_ROW + 16.0 / 255.0


def rgb_to_ycbcr(img: np.ndarray) -> np.ndarray:
    """MATLAB ``rgb2ycbcr`` for RGB in [0, 1] (``H x W x 3``) -> YCbCr float64 in [0, 1] units.

    Y in [16/255, 235/255], Cb and Cr in [16/255, 240/255] for RGB in [0, 1].
    """
    return _rgb(img) @ _YCBCR_T.T + _YCBCR_OFFSET


def ycbcr_to_rgb(img: np.ndarray) -> np.ndarray:
    """MATLAB ``ycbcr2rgb``: exact inverse of :func:`rgb_to_ycbcr`, float64, not clipped."""
    return (_rgb(img, "YCbCr image") - _YCBCR_OFFSET) @ _YCBCR_T_INV.T


# --- shared checks -----------------------------------------------------------------------

def _prepare(
    a: np.ndarray, b: np.ndarray, data_range: float, crop_border: int, test_y_channel: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Check, shave and (optionally) convert to Y; returns float64 ``H x W x C`` arrays."""
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        raise ShapeError(f"images have different shapes: {x.shape} vs {y.shape}")
    if x.ndim not in (2, 3) or x.size == 0:
        raise InputError(f"images must be non-empty H x W or H x W x C, got shape {x.shape}")
    if not (math.isfinite(data_range) and data_range > 0):
        raise InputError(f"data_range must be a finite number > 0, got {data_range}")
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError("images contain NaN or infinite values; metrics are undefined")
    if x.ndim == 2:
        x, y = x[:, :, None], y[:, :, None]
    cb = int(crop_border)
    if cb < 0:
        raise InputError(f"crop_border must be >= 0, got {crop_border}")
    if cb:
        if 2 * cb >= min(x.shape[:2]):
            raise InputError(
                f"crop_border {cb} leaves nothing of a {x.shape[0]} x {x.shape[1]} image"
            )
        x, y = x[cb:-cb, cb:-cb], y[cb:-cb, cb:-cb]
    if test_y_channel:
        if x.shape[2] == 3:
            x = rgb_to_y(x / data_range)[:, :, None] * data_range
            y = rgb_to_y(y / data_range)[:, :, None] * data_range
        elif x.shape[2] != 1:  # one channel is taken as luma already (as BasicSR does)
            raise InputError(f"test_y_channel needs RGB or one channel, got {x.shape[2]} channels")
    return x, y


# --- metrics -----------------------------------------------------------------------------

def psnr(
    a: np.ndarray,
    b: np.ndarray,
    *,
    data_range: float = 1.0,
    crop_border: int = 0,
    test_y_channel: bool = False,
) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(data_range**2 / MSE)``.

    Args:
        a, b: ``H x W x C`` or ``H x W`` arrays in ``[0, data_range]`` (same shape).
        data_range: peak value (1 for [0, 1] images, 255 for 8-bit values).
        crop_border: pixels shaved from each side before comparing (benchmarks: the scale).
        test_y_channel: compare the BT.601 luma (RGB input; one channel is used as is).

    Returns:
        PSNR in dB over all remaining pixels and channels; ``inf`` when identical.

    Raises:
        ShapeError: shapes differ. InputError: NaN/inf values, bad crop or channels.
    """
    x, y = _prepare(a, b, data_range, crop_border, test_y_channel)
    mse = float(np.mean((x - y) ** 2))
    if mse == 0:
        return float("inf")
    return float(10.0 * np.log10(data_range**2 / mse))


def _gaussian_window() -> np.ndarray:
    k = cv2.getGaussianKernel(SSIM_WINDOW, _SSIM_SIGMA)
    return np.outer(k, k.T)


def _ssim_channel(x: np.ndarray, y: np.ndarray, data_range: float) -> float:
    """BasicSR ``_ssim`` on one float64 channel: Gaussian 11 / 1.5, 'valid' region only."""
    c1 = (_K1 * data_range) ** 2
    c2 = (_K2 * data_range) ** 2
    win = _gaussian_window()
    r = SSIM_WINDOW // 2

    def filt(img: np.ndarray) -> np.ndarray:
        return cv2.filter2D(img, -1, win)[r:-r, r:-r]  # 'valid': drop the padded border

    mu1, mu2 = filt(x), filt(y)
    mu1_sq, mu2_sq, mu1_mu2 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    sigma1_sq = filt(x * x) - mu1_sq
    sigma2_sq = filt(y * y) - mu2_sq
    sigma12 = filt(x * y) - mu1_mu2
    ssim_map = ((2 * mu1_mu2 + c1) * (2 * sigma12 + c2)) / (
        (mu1_sq + mu2_sq + c1) * (sigma1_sq + sigma2_sq + c2)
    )
    return float(ssim_map.mean())


def ssim(
    a: np.ndarray,
    b: np.ndarray,
    *,
    data_range: float = 1.0,
    crop_border: int = 0,
    test_y_channel: bool = False,
) -> float:
    """Structural similarity as in Wang et al. / MATLAB ``ssim`` / BasicSR, in [-1, 1].

    Gaussian window 11 x 11, sigma 1.5, K1 = 0.01, K2 = 0.03, ``C = (K * data_range)**2``,
    statistics only where the window fits inside the image ('valid', 5 px lost per side),
    averaged over the map and then over channels; float64 throughout. Arguments as in
    :func:`psnr`.

    Returns:
        The mean SSIM; ``nan`` when the (shaved) image is smaller than 11 px in height or
        width, because then no window fits and SSIM is undefined (no padding is invented).
    """
    x, y = _prepare(a, b, data_range, crop_border, test_y_channel)
    if min(x.shape[:2]) < SSIM_WINDOW:
        return float("nan")
    vals = [_ssim_channel(x[:, :, c], y[:, :, c], data_range) for c in range(x.shape[2])]
    return float(np.mean(vals))


def region_metrics(
    sr: np.ndarray,
    hr: np.ndarray,
    region: _RegionLike,
    *,
    data_range: float = 1.0,
    crop_border: int = 0,
    test_y_channel: bool = False,
) -> dict[str, float]:
    """PSNR and SSIM inside ``region`` (a :class:`core.data.Region` in HR pixels).

    ``crop_border`` keeps its full-image meaning: pixels closer than ``crop_border`` to the
    *image* border are excluded (the region is intersected with the shaved image), so the
    whole-image region gives exactly :func:`psnr` / :func:`ssim` with the same settings.

    Returns:
        ``{"psnr": dB, "ssim": value}``; ``ssim`` is ``nan`` when the (intersected) region is
        smaller than 11 px on a side (see :func:`ssim`).

    Raises:
        ShapeError: ``sr`` and ``hr`` differ in shape. InputError: the region does not fit in
        the image or lies entirely inside the shaved border.
    """
    x, y = np.asarray(sr), np.asarray(hr)
    if x.shape != y.shape:
        raise ShapeError(f"images have different shapes: {x.shape} vs {y.shape}")
    if x.ndim not in (2, 3):
        raise InputError(f"images must be H x W or H x W x C, got shape {x.shape}")
    h, w = x.shape[:2]
    rx, ry, rw, rh = int(region.x), int(region.y), int(region.w), int(region.h)
    if rw <= 0 or rh <= 0 or rx < 0 or ry < 0 or rx + rw > w or ry + rh > h:
        raise InputError(
            f"region (x={rx}, y={ry}, w={rw}, h={rh}) does not fit in a {w} x {h} image"
        )
    cb = int(crop_border)
    if cb < 0:
        raise InputError(f"crop_border must be >= 0, got {crop_border}")
    x0, y0 = max(rx, cb), max(ry, cb)
    x1, y1 = min(rx + rw, w - cb), min(ry + rh, h - cb)
    if x1 <= x0 or y1 <= y0:
        raise InputError(
            f"region (x={rx}, y={ry}, w={rw}, h={rh}) lies inside the {cb} px shaved border"
        )
    cs, ch = x[y0:y1, x0:x1], y[y0:y1, x0:x1]
    kw = dict(data_range=data_range, crop_border=0, test_y_channel=test_y_channel)
    return {"psnr": psnr(cs, ch, **kw), "ssim": ssim(cs, ch, **kw)}


def nmse(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised MSE ``sum(|a - b|**2) / sum(|b|**2)`` (``b`` is the reference).

    Works on real or complex arrays of any (equal) shape, e.g. channel matrices. Returns 0.0
    when ``a == b`` everywhere and ``inf`` when ``b`` is all zero but ``a`` is not.

    Raises:
        ShapeError: shapes differ. InputError: empty arrays or NaN/inf values.
    """
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        raise ShapeError(f"arrays have different shapes: {x.shape} vs {y.shape}")
    if x.size == 0:
        raise InputError("arrays are empty")
    x = x.astype(np.complex128 if np.iscomplexobj(x) else np.float64)
    y = y.astype(np.complex128 if np.iscomplexobj(y) else np.float64)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError("arrays contain NaN or infinite values; NMSE is undefined")
    num = float(np.sum(np.abs(x - y) ** 2))
    den = float(np.sum(np.abs(y) ** 2))
    if den == 0:
        return 0.0 if num == 0 else float("inf")
    return num / den


# --- sharpness against the HR --------------------------------------------------------------

def gradient_magnitude(img: np.ndarray) -> np.ndarray:
    """Per-pixel gradient magnitude of ``H x W`` or ``H x W x C`` values (float64 ``H x W x C``).

    Central differences ``(x[i+1] - x[i-1]) / 2`` inside, one-sided differences on the edges
    (``numpy.gradient``); magnitude ``sqrt(gx**2 + gy**2)`` per channel. Units: value per pixel.
    """
    a = np.asarray(img, dtype=np.float64)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or min(a.shape[:2]) < 2:
        raise InputError(f"a gradient needs an image of at least 2 x 2 pixels, got {a.shape}")
    gy, gx = np.gradient(a, axis=(0, 1))
    return np.sqrt(gx * gx + gy * gy)


def gradient_ratio(sr: np.ndarray, hr: np.ndarray, *, data_range: float = 1.0,
                   crop_border: int = 0, test_y_channel: bool = True) -> float:
    """Sharpness of ``sr`` relative to ``hr``: mean gradient magnitude of SR / that of HR.

    1 = as sharp as the HR; < 1 blurrier (bicubic, L1-trained SR); > 1 sharper or noisier
    (over-sharpening, GAN artefacts). Computed like :func:`psnr`: same shapes, border of
    ``crop_border`` pixels shaved, on the BT.601 luma by default (``test_y_channel``), in
    float64. Gradients: :func:`gradient_magnitude`. A flat HR gives 1.0 when the SR is flat
    too, else ``inf``.
    """
    x, y = _prepare(sr, hr, data_range, crop_border, test_y_channel)
    gs = float(gradient_magnitude(x).mean())
    gh = float(gradient_magnitude(y).mean())
    if gh == 0:
        return 1.0 if gs == 0 else float("inf")
    return gs / gh


def gradient_hist_distance(sr: np.ndarray, hr: np.ndarray, *, data_range: float = 1.0,
                           crop_border: int = 0, test_y_channel: bool = True) -> float:
    """Distance between the gradient-magnitude histograms of ``sr`` and ``hr`` (0 = same).

    The earth mover's (Wasserstein-1) distance between the two distributions of per-pixel
    gradient magnitudes (:func:`gradient_magnitude`), computed exactly, without binning, as
    ``mean |sort(g_sr) - sort(g_hr)|`` (both have one value per pixel): the limit of the
    histogram EMD for ever finer bins. Units: ``data_range`` per pixel (multiply by 255 for
    8-bit grey levels when ``data_range = 1``). It sees what the mean ratio of
    :func:`gradient_ratio` hides: an SR with the right mean gradient but too few strong edges
    and too many weak ones is still far from the HR. Same preparation as :func:`psnr`
    (``crop_border`` shaved, luma by default), float64.
    """
    x, y = _prepare(sr, hr, data_range, crop_border, test_y_channel)
    gs = np.sort(gradient_magnitude(x), axis=None)
    gh = np.sort(gradient_magnitude(y), axis=None)
    return float(np.mean(np.abs(gs - gh)))
