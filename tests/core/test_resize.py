"""core.resize: MATLAB imresize port, benchmark degradation, torch twin."""

from __future__ import annotations

import math
import time

import cv2
import numpy as np
import pytest
import torch

from core.errors import InputError, ScaleError
from core.metrics import psnr
from core.resize import METHODS, contributions, degrade, imresize, imresize_torch, modcrop
from tests.helpers import shared_datasets

MAGIC4 = np.array(
    [[16, 2, 3, 13], [5, 11, 10, 8], [9, 7, 6, 12], [4, 14, 15, 1]], dtype=np.float64
)


def _cubic(x: float) -> float:
    """Keys cubic, a = -0.5, written out again here (not imported)."""
    ax = abs(x)
    if ax <= 1:
        return 1.5 * ax**3 - 2.5 * ax**2 + 1
    if ax <= 2:
        return -0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2
    return 0.0


# --- small exact cases -------------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_identity_at_scale_one(method: str) -> None:
    img = np.random.default_rng(0).random((9, 7, 2)).astype(np.float32)
    out = imresize(img, 1.0, method=method)
    assert out.dtype == np.float32 and out.shape == img.shape
    np.testing.assert_allclose(out, img, atol=1e-6)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("scale", [0.25, 0.5, 1 / 3, 2.5, 4.0, (0.5, 3.0)])
def test_constant_stays_constant(method: str, scale: object) -> None:
    img = np.full((12, 10, 3), 0.37, dtype=np.float32)
    out = imresize(img, scale, method=method)
    np.testing.assert_allclose(out, 0.37, atol=1e-6)


def test_magic4_half_matches_hand_computed_matlab_weights() -> None:
    # MATLAB imresize(magic(4), 0.5): antialiased cubic h(d) = 0.5 * cubic(d / 2), width 8,
    # u = x / 0.5 + 0.5 * (1 - 2) = 1.5, 3.5; taps floor(u - 4) + (0:9); symmetric mirror
    # aux = [1 2 3 4 4 3 2 1].
    dists = [4.5, 3.5, 2.5, 1.5, 0.5, -0.5, -1.5, -2.5, -3.5, -4.5]
    # 1-based source index of each tap after mirroring, for output 1 (taps -3..6) and
    # output 2 (taps -1..8).
    src = [[4, 3, 2, 1, 1, 2, 3, 4, 4, 3], [2, 1, 1, 2, 3, 4, 4, 3, 2, 1]]
    w = np.zeros((2, 4))
    for i in range(2):
        raw = [0.5 * _cubic(d / 2) for d in dists]
        total = sum(raw)  # exactly 1 here: 0.8671875 + 0.2265625 - 0.0703125 - 0.0234375
        assert total == pytest.approx(1.0, abs=1e-15)
        for s, r in zip(src[i], raw):
            w[i, s - 1] += r / total
    expected = w @ MAGIC4 @ w.T
    out = imresize(MAGIC4, 0.5)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    # summed by hand: src 1 <- taps 0, 1; src 2 <- -1, 2; src 3 <- -2, 3; src 4 <- 4, 5
    np.testing.assert_allclose(w[0], [0.546875, 0.3984375, 0.1015625, -0.046875])
    np.testing.assert_allclose(w[1], [-0.046875, 0.1015625, 0.3984375, 0.546875])
    row = np.array([0.546875, 0.3984375, 0.1015625, -0.046875])
    assert out[0, 0] == pytest.approx(row @ MAGIC4 @ row, rel=1e-6)


def test_magic4_double_matches_hand_computed_weights() -> None:
    # Upscaling x2: no antialias, width 4; u = x / 2 + 0.5 * (1 - 0.5) = x / 2 + 0.25.
    w = np.zeros((8, 4))
    for x in range(1, 9):
        u = x / 2 + 0.25
        left = math.floor(u - 2)
        for k in range(6):
            j = left + k                               # 1-based tap
            m = (j - 1) % 8                            # aux = [1 2 3 4 4 3 2 1]
            s = m + 1 if m < 4 else 8 - m
            w[x - 1, s - 1] += _cubic(u - j)
    w /= w.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(imresize(MAGIC4, 2), w @ MAGIC4 @ w.T, rtol=1e-6)
    # first output row by hand: u = 0.75, taps -2..3 -> d = 2.75, 1.75, .75, -.25, -1.25, -2.25
    # cubic: 0, -0.0234375, 0.2265625, 0.8671875, -0.0703125, 0; taps -1, 0 mirror to 2, 1
    np.testing.assert_allclose(w[0], [0.2265625 + 0.8671875, -0.0234375 - 0.0703125, 0, 0])


def test_nearest_is_matlab_nearest() -> None:
    # MATLAB: imresize(1:4, 0.5, 'nearest') == [2 4]; imresize(1:2, 2, 'nearest') == [1 1 2 2]
    np.testing.assert_array_equal(imresize(np.arange(1.0, 5.0)[None], (1, 0.5), method="nearest"),
                                  [[2.0, 4.0]])
    np.testing.assert_array_equal(imresize(np.array([[1.0, 2.0]]), (1, 2), method="nearest"),
                                  [[1.0, 1.0, 2.0, 2.0]])


def test_contributions_rows_sum_to_one_and_indices_in_range() -> None:
    for method in METHODS:
        for n_in, n_out, s in [(10, 3, 0.3), (5, 17, 3.4), (4000, 500, 0.125)]:
            w, idx = contributions(n_in, n_out, s, method)
            assert w.shape == idx.shape and w.shape[0] == n_out
            np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
            assert idx.min() >= 0 and idx.max() < n_in
            assert np.any(w != 0, axis=0).all()  # all-zero columns dropped


# --- shapes, dtypes, errors ----------------------------------------------------------------

def test_shapes_for_scales_and_sizes() -> None:
    img = np.random.default_rng(1).random((17, 13, 3)).astype(np.float32)
    assert imresize(img, 2.5).shape == (43, 33, 3)          # ceil(42.5), ceil(32.5)
    assert imresize(img, 1 / 2.5).shape == (7, 6, 3)        # ceil(6.8), ceil(5.2)
    assert imresize(img, size=(7, 5)).shape == (7, 5, 3)
    assert imresize(img, (0.5, 2.0)).shape == (9, 26, 3)
    assert imresize(img[:, :, 0], size=(40, 3)).shape == (40, 3)
    assert imresize(img.astype(np.float64), 0.5).dtype == np.float32
    five = np.random.default_rng(2).random((8, 8, 5))
    assert imresize(five, 3).shape == (24, 24, 5)
    assert degrade(img, 2.5).shape == (7, 5, 3)             # round(6.8), round(5.2), no crop
    assert degrade(img, 4).shape == (4, 3, 3)
    assert modcrop(img, 4).shape == (16, 12, 3)


def test_values_not_clipped() -> None:
    step = np.zeros((8, 8))
    step[:, 4:] = 1.0
    up = imresize(step, 3)
    assert up.min() < 0 and up.max() > 1                    # cubic overshoot is kept


def test_wide_image_is_cheap() -> None:
    img = np.random.default_rng(3).random((24, 4000)).astype(np.float32)
    t = time.perf_counter()
    out = imresize(img, 0.25)
    assert out.shape == (6, 1000)
    assert time.perf_counter() - t < 2.0


def test_speed_256_rgb() -> None:
    img = np.random.default_rng(4).random((256, 256, 3)).astype(np.float32)
    imresize(img, 0.25)
    t = time.perf_counter()
    for _ in range(5):
        imresize(img, 0.25)
    per_call = (time.perf_counter() - t) / 5
    print(f"256x256 RGB x1/4: {per_call * 1000:.2f} ms")
    assert per_call < 0.1  # a few ms on an idle core; generous for a shared machine


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(scale=0), dict(scale=-2), dict(scale=float("nan")), dict(scale=float("inf")),
        dict(scale=(2.0, 0.0)), dict(scale=(1.0, float("nan"))), dict(scale=1e6),
        dict(scale=1e-320), dict(size=(0, 5)), dict(size=(5, -1)), dict(size=(2.5, 3)),
        dict(size=(10**6, 10**6)), dict(), dict(scale=2, size=(4, 4)), dict(scale="x"),
        dict(scale=(1, 2, 3)),
    ],
)
def test_bad_scales_raise_scale_error(kwargs: dict) -> None:
    img = np.zeros((30, 40, 3), dtype=np.float32)
    with pytest.raises(ScaleError):
        imresize(img, **kwargs)


def test_huge_upscale_of_big_image_is_refused_before_allocating() -> None:
    big = np.broadcast_to(np.float32(0.5), (4000, 3000, 3))  # no memory behind it
    with pytest.raises(ScaleError):
        imresize(big, 1e6)
    with pytest.raises(ScaleError):
        imresize(big, 20)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), 0.5])
def test_degrade_bad_scale(bad: float) -> None:
    with pytest.raises(ScaleError):
        degrade(np.zeros((16, 16, 3)), bad)


def test_degrade_and_modcrop_errors() -> None:
    with pytest.raises(ScaleError):
        modcrop(np.zeros((3, 3)), 4)
    with pytest.raises(ScaleError):
        modcrop(np.zeros((8, 8)), 2.5)
    with pytest.raises(ScaleError):
        degrade(np.zeros((2, 2)), 7.5)           # round(2 / 7.5) = 0 pixels


@pytest.mark.parametrize(
    "img", [np.zeros((0, 4)), np.zeros((4, 0, 3)), np.zeros(5), np.zeros((2, 2, 2, 2)),
            np.zeros((4, 4), dtype=np.complex64)],
)
def test_bad_inputs_raise_input_error(img: np.ndarray) -> None:
    with pytest.raises(InputError):
        imresize(img, 2)


def test_unknown_method() -> None:
    with pytest.raises(InputError):
        imresize(np.zeros((4, 4)), 2, method="spline")


# --- torch twin ----------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(40, 52), (7, 5), (17, 30), (5, 13)])
@pytest.mark.parametrize("method", ["bicubic", "bilinear", "lanczos3", "nearest"])
def test_torch_matches_numpy(size: tuple[int, int], method: str) -> None:
    x = np.random.default_rng(5).random((2, 3, 17, 13)).astype(np.float32)
    ref = np.stack([imresize(b.transpose(1, 2, 0), size=size, method=method) for b in x])
    for dtype in (torch.float32, torch.float64):
        out = imresize_torch(torch.from_numpy(x).to(dtype), size=size, method=method)
        assert out.shape == (2, 3) + size and out.dtype == dtype
        np.testing.assert_allclose(out.numpy().transpose(0, 2, 3, 1), ref, atol=1e-5)


def test_torch_errors_and_grad() -> None:
    with pytest.raises(InputError):
        imresize_torch(torch.zeros(1, 1, 4, 4, dtype=torch.int64), size=(8, 8))
    with pytest.raises(ScaleError):
        imresize_torch(torch.zeros(1, 1, 4, 4), size=(0, 8))
    x = torch.rand(1, 1, 6, 6, requires_grad=True)
    imresize_torch(x, size=(12, 12)).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


# --- the official Set5 LR files ------------------------------------------------------------

def _set5() -> "Path":  # noqa: F821
    root = shared_datasets() / "benchmark" / "Set5"
    if not (root / "HR").is_dir() or not (root / "LR_bicubic").is_dir():
        pytest.skip("needs ../shared/datasets/benchmark/Set5 (not found)")
    return root


def _read_rgb01(path: "Path") -> np.ndarray:  # noqa: F821
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert img is not None, path
    return img[:, :, ::-1].astype(np.float64) / 255.0


def _to8(img: np.ndarray) -> np.ndarray:
    return np.clip(np.round(img.astype(np.float64) * 255.0), 0, 255)


@pytest.mark.parametrize("scale", [2, 3, 4, 8])
def test_degrade_matches_official_set5_lr(scale: int) -> None:
    root = _set5()
    same = total = 0
    worst = 0.0
    for hr_path in sorted((root / "HR").glob("*.png")):
        lr = _to8(degrade(_read_rgb01(hr_path), scale))
        ref = _read_rgb01(root / "LR_bicubic" / f"X{scale}" / f"{hr_path.stem}x{scale}.png")
        ref = np.round(ref * 255.0)
        assert lr.shape == ref.shape, hr_path.name
        diff = np.abs(lr - ref)
        same += int((diff == 0).sum())
        total += diff.size
        worst = max(worst, float(diff.max()))
    share = same / total
    print(f"Set5 x{scale}: {100 * share:.2f}% identical, max diff {worst:.0f}")
    if scale == 8:
        assert share >= 0.999
    else:
        # X2/X3/X4 were made from a slightly different copy of the HR images (see README)
        assert worst <= 2 and share >= 0.80


def test_bicubic_baseline_set5_y_psnr() -> None:
    root = _set5()
    expected = {2: 33.66, 3: 30.39, 4: 28.42}
    for scale, target in expected.items():
        vals = []
        for hr_path in sorted((root / "HR").glob("*.png")):
            hr = modcrop(_read_rgb01(hr_path), scale)
            lr = _to8(degrade(hr, scale)) / 255.0
            sr = _to8(np.clip(imresize(lr, size=hr.shape[:2]), 0, 1)) / 255.0
            vals.append(psnr(sr, hr, crop_border=scale, test_y_channel=True))
        mean = float(np.mean(vals))
        print(f"Set5 bicubic x{scale}: Y-PSNR {mean:.2f} dB (published {target})")
        assert abs(mean - target) <= 0.05
