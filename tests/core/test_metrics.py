"""core.metrics: PSNR / SSIM as the SR benchmarks compute them, colour conversion, NMSE."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from core.data import Region
from core.errors import InputError, ShapeError
from core.metrics import (
    SSIM_WINDOW,
    nmse,
    psnr,
    region_metrics,
    rgb_to_y,
    rgb_to_ycbcr,
    ssim,
    ycbcr_to_rgb,
)


def _pair(shape: tuple[int, ...] = (32, 40, 3), noise: float = 0.05, seed: int = 0):
    rng = np.random.default_rng(seed)
    a = rng.random(shape)
    b = np.clip(a + rng.normal(0, noise, shape), 0, 1)
    return a, b


# --- colour ------------------------------------------------------------------------------

def test_rgb_to_y_pure_colours() -> None:
    img = np.array([[[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [0, 0, 0]]], dtype=np.float64)
    y = rgb_to_y(img)
    assert y.shape == (1, 5)
    expected = [
        16 / 255 + 65.738 / 256,                           # red   ~ 0.3195
        16 / 255 + 129.057 / 256,                          # green ~ 0.5669
        16 / 255 + 25.064 / 256,                           # blue  ~ 0.1606
        16 / 255 + (65.738 + 129.057 + 25.064) / 256,      # white ~ 235 / 255
        16 / 255,                                          # black
    ]
    np.testing.assert_allclose(y[0], expected, atol=1e-12)
    assert y[0, 3] == pytest.approx(235 / 255, abs=1e-5)


def test_ycbcr_matlab_values_and_round_trip() -> None:
    # MATLAB rgb2ycbcr([1 1 1]) = [235 128 128] / 255 ; ([1 0 0]) = [81.481 90.203 240] / 255
    white = rgb_to_ycbcr(np.ones((1, 1, 3)))[0, 0]
    np.testing.assert_allclose(white * 255, [235, 128, 128], atol=1e-9)
    red = rgb_to_ycbcr(np.array([[[1.0, 0, 0]]]))[0, 0]
    np.testing.assert_allclose(red * 255, [81.481, 90.203, 240.0], atol=1e-9)
    img = np.random.default_rng(1).random((8, 9, 3))
    np.testing.assert_allclose(ycbcr_to_rgb(rgb_to_ycbcr(img)), img, atol=1e-12)
    # the benchmark luma row and MATLAB's exact row agree to < 1.5e-6 (0.0004 grey levels)
    assert np.abs(rgb_to_ycbcr(img)[..., 0] - rgb_to_y(img)).max() < 1.5e-6
    with pytest.raises(InputError):
        rgb_to_y(np.zeros((4, 4)))


# --- PSNR --------------------------------------------------------------------------------

def test_psnr_known_mse() -> None:
    a = np.zeros((10, 10, 3))
    b = a.copy()
    b[0, 0, 0] = 0.3                                      # MSE = 0.09 / 300 = 3e-4
    assert psnr(a, b) == pytest.approx(10 * math.log10(1 / 3e-4), abs=1e-10)
    assert psnr(a * 255, b * 255, data_range=255) == pytest.approx(10 * math.log10(1 / 3e-4))
    c = np.full((8, 8), 0.5)
    assert psnr(c, c + 0.1) == pytest.approx(20.0, abs=1e-9)   # MSE 0.01 -> 20 dB


def test_psnr_identical_is_inf() -> None:
    a, _ = _pair()
    assert psnr(a, a.copy()) == float("inf")


def test_psnr_crop_border_ignores_the_border() -> None:
    a = np.zeros((20, 20, 3))
    b = a.copy()
    b[:2] = 1.0                                           # differences only in the top 2 rows
    assert psnr(a, b, crop_border=2) == float("inf")
    assert math.isfinite(psnr(a, b, crop_border=1))


def test_psnr_y_channel() -> None:
    a, b = _pair()
    ya, yb = rgb_to_y(a), rgb_to_y(b)
    expected = 10 * math.log10(1 / np.mean((ya[3:-3, 3:-3] - yb[3:-3, 3:-3]) ** 2))
    assert psnr(a, b, crop_border=3, test_y_channel=True) == pytest.approx(expected, abs=1e-9)
    # 8-bit units give the same dB
    assert psnr(a * 255, b * 255, data_range=255, crop_border=3, test_y_channel=True) == (
        pytest.approx(expected, abs=1e-9)
    )


def test_psnr_errors() -> None:
    a = np.zeros((8, 8, 3))
    with pytest.raises(ShapeError) as err:
        psnr(a, np.zeros((8, 9, 3)))
    assert "(8, 8, 3)" in str(err.value) and "(8, 9, 3)" in str(err.value)
    bad = a.copy()
    bad[1, 1, 1] = np.nan
    with pytest.raises(InputError):
        psnr(a, bad)
    with pytest.raises(InputError):
        psnr(a, a, crop_border=4)                         # nothing left
    with pytest.raises(InputError):
        psnr(np.zeros((8, 8, 4)), np.zeros((8, 8, 4)), test_y_channel=True)


# --- SSIM --------------------------------------------------------------------------------

def test_ssim_identical_is_one() -> None:
    a, _ = _pair()
    assert ssim(a, a.copy()) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("shape", [(48, 40, 3), (33, 57)])
def test_ssim_matches_skimage_gaussian(shape: tuple[int, ...]) -> None:
    a, b = _pair(shape, noise=0.1, seed=2)
    kwargs = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)
    if len(shape) == 3:
        kwargs["channel_axis"] = 2
    ref = structural_similarity(a, b, **kwargs)           # skimage: mean over the 'valid' part
    assert ssim(a, b) == pytest.approx(ref, abs=1e-6)
    # 8-bit units with data_range=255 give the same value
    assert ssim(a * 255, b * 255, data_range=255) == pytest.approx(ref, abs=1e-6)


def test_ssim_y_channel_and_small_images() -> None:
    a, b = _pair((40, 40, 3))
    y = ssim(a, b, test_y_channel=True, crop_border=2)
    ya, yb = rgb_to_y(a)[2:-2, 2:-2], rgb_to_y(b)[2:-2, 2:-2]
    assert y == pytest.approx(ssim(ya, yb), abs=1e-12)
    small_a, small_b = _pair((SSIM_WINDOW - 1, 30, 3))
    assert math.isnan(ssim(small_a, small_b))              # no 11 x 11 window fits
    ok_a, ok_b = _pair((SSIM_WINDOW, SSIM_WINDOW))
    assert math.isfinite(ssim(ok_a, ok_b))                 # exactly one window


# --- regions -----------------------------------------------------------------------------

def test_region_metrics_whole_image_equals_full_metrics() -> None:
    sr, hr = _pair((30, 36, 3))
    whole = region_metrics(sr, hr, Region(0, 0, 36, 30), crop_border=3, test_y_channel=True)
    assert whole["psnr"] == pytest.approx(psnr(sr, hr, crop_border=3, test_y_channel=True))
    assert whole["ssim"] == pytest.approx(ssim(sr, hr, crop_border=3, test_y_channel=True))


def test_region_metrics_crop() -> None:
    sr, hr = _pair((30, 36, 3))
    r = Region(x=5, y=4, w=20, h=12)
    got = region_metrics(sr, hr, r)
    assert got["psnr"] == pytest.approx(psnr(sr[4:16, 5:25], hr[4:16, 5:25]))
    assert got["ssim"] == pytest.approx(ssim(sr[4:16, 5:25], hr[4:16, 5:25]))
    tiny = region_metrics(sr, hr, Region(2, 2, 6, 6))
    assert math.isfinite(tiny["psnr"]) and math.isnan(tiny["ssim"])
    same = region_metrics(hr, hr, Region(0, 0, 4, 4))
    assert same["psnr"] == float("inf")


def test_region_metrics_errors() -> None:
    sr, hr = _pair((30, 36, 3))
    with pytest.raises(InputError, match="does not fit"):
        region_metrics(sr, hr, Region(30, 0, 10, 10))
    with pytest.raises(InputError, match="does not fit"):
        region_metrics(sr, hr, Region(0, 25, 10, 10))
    with pytest.raises(InputError):
        region_metrics(sr, hr, Region(0, 0, 2, 2), crop_border=3)   # only shaved pixels
    with pytest.raises(ShapeError):
        region_metrics(sr, hr[:-1], Region(0, 0, 4, 4))


# --- NMSE --------------------------------------------------------------------------------

def test_nmse() -> None:
    b = np.array([3.0, 4.0])
    assert nmse(np.array([3.0, 5.0]), b) == pytest.approx(1 / 25)
    assert nmse(b, b) == 0.0
    z = np.array([1 + 1j, 2 - 1j])
    assert nmse(z * 1.1, z) == pytest.approx(0.01)
    assert nmse(np.zeros(3), np.zeros(3)) == 0.0
    assert nmse(np.ones(3), np.zeros(3)) == float("inf")
    with pytest.raises(ShapeError):
        nmse(np.zeros(3), np.zeros(4))
    with pytest.raises(InputError):
        nmse(np.array([np.nan]), np.array([1.0]))
