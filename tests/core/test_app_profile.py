"""core.app.profile: bilinear line profiles on the 0-255 scale, histograms, the default line."""

from __future__ import annotations

import numpy as np
import pytest

from core.app.profile import channel_values, default_line, histograms, line_profile
from core.errors import InputError


def test_profile_samples_once_per_pixel_bilinearly():
    img = np.zeros((8, 10, 3), np.float32)
    img[:, :, 0] = np.arange(10) / 9.0                 # R ramps along x
    d, v = line_profile(img, (0, 3), (9, 3), "R")
    assert np.allclose(d, np.arange(10)) and np.allclose(v, np.arange(10) / 9.0 * 255)
    _d, half = line_profile(img, (0.5, 3), (1.5, 3), "R")
    assert np.allclose(half, [0.5 / 9 * 255, 1.5 / 9 * 255])
    assert np.allclose(channel_values(img, "Y")[0, 0], 16.0)   # BT.601 luma of black
    with pytest.raises(InputError):
        channel_values(img, "Q")


def test_histograms_count_every_pixel_and_default_line():
    img = np.random.default_rng(0).random((12, 7, 3)).astype(np.float32)
    h = histograms(img, ("R", "Y"), bins=16)
    assert set(h) == {"R", "Y"} and all(c.sum() == 84 and len(e) == 17 for c, e in h.values())
    assert default_line((100, 200)) == ((0.0, 50.0), (199.0, 50.0))
    assert default_line((100, 200), (10, 20, 30, 40)) == ((10.0, 40.0), (39.0, 40.0))
