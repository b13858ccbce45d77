"""Sharpness measures against the HR: gradient ratio and gradient-histogram distance."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.errors import ShapeError
from core.metrics import gradient_hist_distance, gradient_magnitude, gradient_ratio


def _hr(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.random((12, 12, 3)).astype(np.float32)
    return np.clip(cv2.resize(small, (48, 48), interpolation=cv2.INTER_CUBIC), 0, 1)


def _blur(img: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), 1.5)


def _sharpen(img: np.ndarray) -> np.ndarray:  # unsharp mask, not clipped
    return img + 1.0 * (img - _blur(img))


def test_identical_is_one_and_zero() -> None:
    hr = _hr()
    assert gradient_ratio(hr, hr, crop_border=4) == 1.0
    assert gradient_hist_distance(hr, hr, crop_border=4) == 0.0


def test_blurred_below_one_sharpened_above() -> None:
    hr = _hr()
    blurred, sharp = _blur(hr), _sharpen(hr)
    assert gradient_ratio(blurred, hr, crop_border=4) < 0.9
    assert gradient_ratio(sharp, hr, crop_border=4) > 1.1
    d_blur = gradient_hist_distance(blurred, hr, crop_border=4)
    d_more = gradient_hist_distance(_blur(blurred), hr, crop_border=4)
    assert 0 < d_blur < d_more  # more blur, further from the HR
    assert gradient_hist_distance(sharp, hr, crop_border=4) > 0


def test_y_channel_shave_and_units() -> None:
    hr = _hr()
    # a linear ramp: gradient magnitude 1/47 per pixel everywhere (one channel: used as is)
    ramp = np.tile(np.linspace(0, 1, 48), (48, 1))
    assert np.allclose(gradient_magnitude(ramp), 1 / 47)
    assert gradient_ratio(0.5 * ramp, ramp) == pytest.approx(0.5)
    assert gradient_hist_distance(0.5 * ramp, ramp) == pytest.approx(0.5 / 47)
    # the shaved border is ignored: change only the border
    noisy = hr.copy()
    noisy[:3] = 0
    assert gradient_ratio(noisy, hr, crop_border=4) == 1.0
    assert gradient_ratio(noisy, hr, crop_border=0) != 1.0
    # Y vs RGB: both defined, differ in general
    assert gradient_ratio(_blur(hr), hr, test_y_channel=False) < 1
    with pytest.raises(ShapeError):
        gradient_ratio(hr[:40], hr)


def test_flat_hr() -> None:
    flat = np.full((16, 16, 3), 0.5)
    assert gradient_ratio(flat, flat) == 1.0
    assert gradient_ratio(_hr()[:16, :16], flat) == float("inf")
