"""Tests for core.io: bit-exact round trips, .npy. Tiny synthetic data. Kinds, safety (atomic
writes), bad inputs and core.samples: ``test_io_safety.py``."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import core.io as io
import core.io.images as images
from core.data import ImageData, Units
from core.errors import DataLossWarning, FileFormatError, InputError
from tests.core.io_util import RNG, H, W, file_values, from_raw, raw_image, write_cv2


# ------------------------------------------------------------------ bit-exact round trips

CASES = {
    "rgb8": (3, np.uint8), "rgb16": (3, np.uint16), "gray8": (1, np.uint8),
    "gray16": (1, np.uint16), "rgba8": (4, np.uint8), "rgba16": (4, np.uint16),
    "grayalpha8": (2, np.uint8), "grayalpha16": (2, np.uint16),
}
FORMATS = [".png", ".tif", ".bmp", ".webp"]


def expected_layout(ext: str, raw: np.ndarray) -> np.ndarray:
    """What a format holds: WebP has no gray, BMP/WebP no gray + alpha (stored as RGB(A))."""
    c = raw.shape[2]
    if ext == ".webp" and c == 1:
        return np.repeat(raw, 3, axis=2)
    if ext in (".bmp", ".webp") and c == 2:
        return np.concatenate([np.repeat(raw[:, :, :1], 3, axis=2), raw[:, :, 1:]], axis=2)
    return raw


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize("case", list(CASES))
def test_round_trip_is_bit_exact(tmp_path, ext, case):
    channels, dtype = CASES[case]
    if ext in io.EIGHT_BIT_ONLY and dtype == np.uint16:
        pytest.skip(f"{ext} holds 8 bits only (tested in test_sixteen_bit_to_eight_bit_formats)")
    raw = raw_image(channels, dtype)
    src = tmp_path / f"in{ext}"
    if channels == 2:
        io.save(from_raw(raw), src)  # OpenCV cannot write gray + alpha
    else:
        write_cv2(src, raw, images._params(ext, raw.dtype))
    want = expected_layout(ext, raw)

    first = io.load(src)
    assert first.units.dtype == np.dtype(dtype).name
    assert (first.alpha is not None) == (want.shape[2] in (2, 4))
    assert first.kind == ("gray" if want.shape[2] in (1, 2) else "rgb")
    np.testing.assert_array_equal(file_values(first), want)

    out = io.save(first, tmp_path / f"out{ext}")
    second = io.load(out)
    assert second.units == first.units
    np.testing.assert_array_equal(file_values(second), want)
    # The decoded samples of both files are identical too.
    a = cv2.imdecode(np.fromfile(src, np.uint8), cv2.IMREAD_UNCHANGED)
    b = cv2.imdecode(np.fromfile(out, np.uint8), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("ext", [".bmp", ".webp", ".jpg"])
def test_sixteen_bit_to_eight_bit_formats(tmp_path, ext):
    data = from_raw(raw_image(3, np.uint16))
    with pytest.raises(InputError, match="8 bits"):
        io.save(data, tmp_path / f"x{ext}", bit_depth=16)
    assert not any(tmp_path.iterdir())
    with pytest.warns(DataLossWarning, match="16-bit data quantised to 8 bits"):
        back = io.load(io.save(data, tmp_path / f"x{ext}"))  # default: 8-bit, and says so
    assert back.units.dtype == "uint8"


def test_bit_depth_override(tmp_path):
    raw = raw_image(3, np.uint8)
    out = io.save(from_raw(raw), tmp_path / "x.png", bit_depth=16)
    back = io.load(out)
    assert back.units.dtype == "uint16"
    np.testing.assert_array_equal(back.file_values(), raw.astype(np.uint16) * 257)
    down = io.load(io.save(back, tmp_path / "y.tif", bit_depth=8))
    np.testing.assert_array_equal(down.file_values(), raw)
    with pytest.raises(InputError, match="8 or 16"):
        io.save(back, tmp_path / "z.png", bit_depth=12)


def test_jpeg_loads_and_saves_8_bit(tmp_path):
    raw = np.clip(np.add.outer(np.arange(32), np.arange(40))[:, :, None] * [3, 2, 1], 0, 255)
    raw = raw.astype(np.uint8)
    src = tmp_path / "in.jpeg"
    write_cv2(src, raw, (cv2.IMWRITE_JPEG_QUALITY, 98))
    first = io.load(src)
    assert first.shape == (32, 40, 3) and first.kind == "rgb" and first.units.dtype == "uint8"
    assert np.abs(first.file_values().astype(int) - raw).mean() < 3
    rgba = first.with_pixels(first.pixels, alpha=np.ones((32, 40), np.float32))
    second = io.load(io.save(rgba, tmp_path / "out.jpg"))  # JPEG has no alpha: dropped
    assert second.shape == first.shape and second.alpha is None
    assert second.units.dtype == "uint8"


def test_float_tiff_round_trip_exact_with_nonfinite(tmp_path):
    vals = RNG.normal(size=(H, W, 3)).astype(np.float32) * 10
    vals[2, 3, 1] = np.nan
    vals[0, 1, 0] = np.inf
    data = ImageData(vals, "rgb", Units.for_dtype(np.float32))
    back = io.load(io.save(data, tmp_path / "f.tif"))
    assert back.units.dtype == "float32" and back.has_nonfinite()
    np.testing.assert_array_equal(back.pixels, vals)


@pytest.mark.skipif(not io.exr_available(),
                    reason=f"OpenCV {cv2.__version__} was built without OpenEXR")
def test_exr_round_trip_exact(tmp_path):
    vals = RNG.normal(size=(H, W, 3)).astype(np.float32)
    data = ImageData(vals, "rgb", Units.for_dtype(np.float32))
    back = io.load(io.save(data, tmp_path / "f.exr"))
    assert back.units.dtype == "float32"
    np.testing.assert_array_equal(back.pixels, vals)


@pytest.mark.skipif(io.exr_available(), reason="this OpenCV build has OpenEXR")
def test_exr_without_openexr_is_a_clear_error(tmp_path):
    data = ImageData(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(FileFormatError, match="OpenEXR"):
        io.save(data, tmp_path / "f.exr")
    (tmp_path / "g.exr").write_bytes(b"v/1\x01" + bytes(60))
    with pytest.raises(FileFormatError, match="OpenEXR"):
        io.load(tmp_path / "g.exr")
    assert not (tmp_path / "f.exr").exists()


def test_non_ascii_path(tmp_path):
    raw = raw_image(3, np.uint8)
    path = io.save(from_raw(raw), tmp_path / "Bild_ü_图.png")
    np.testing.assert_array_equal(io.load(path).file_values(), raw)


def test_palette_one_bit_and_pil_gray_alpha(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    rgb = raw_image(3, np.uint8)
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.png")
    pal = io.load(tmp_path / "p.png")
    assert pal.kind == "rgb" and pal.units.dtype == "uint8" and pal.shape == (H, W, 3)
    bits = RNG.integers(0, 2, size=(H, W)).astype(bool)
    Image.fromarray(bits).save(tmp_path / "b.png")
    one = io.load(tmp_path / "b.png")
    assert one.kind == "gray" and one.units.dtype == "uint8"
    np.testing.assert_array_equal(one.file_values()[:, :, 0], bits * 255)
    la = raw_image(2, np.uint8)
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    ga = io.load(tmp_path / "la.png")
    assert ga.kind == "gray" and ga.alpha is not None
    np.testing.assert_array_equal(file_values(ga), la)


# ------------------------------------------------------------------ .npy


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_npy_2d_round_trip(tmp_path, dtype):
    vals = (RNG.random((H, W)) * 200).astype(dtype)
    np.save(tmp_path / "a.npy", vals)
    data = io.load(tmp_path / "a.npy")
    assert data.kind == "gray" and data.shape == (H, W, 1) and data.meta["squeeze"]
    back = np.load(io.save(data, tmp_path / "b.npy"))
    assert back.dtype == vals.dtype and back.shape == (H, W)
    # Working pixels are float32, so float64 files come back rounded to float32 precision.
    want = vals.astype(np.float32).astype(dtype) if vals.dtype == np.float64 else vals
    np.testing.assert_array_equal(back, want)


@pytest.mark.parametrize("dtype,channels,kind", [
    (np.uint8, 3, "rgb"), (np.float32, 3, "rgb"), (np.float32, 5, "channels"),
    (np.uint16, 1, "gray"),
])
def test_npy_3d_round_trip(tmp_path, dtype, channels, kind):
    vals = (RNG.random((H, W, channels)) * 250).astype(dtype)
    if vals.dtype.kind == "f":
        vals[0, 0, 0] = np.nan
    np.save(tmp_path / "a.npy", vals)
    data = io.load(tmp_path / "a.npy")
    assert data.kind == kind and data.shape == (H, W, channels)
    assert data.has_nonfinite() == (vals.dtype.kind == "f")
    if vals.dtype.kind == "f":
        np.testing.assert_array_equal(data.pixels, vals)  # identity units
    back = np.load(io.save(data, tmp_path / "b.npy"))
    assert back.dtype == vals.dtype and back.shape == vals.shape
    np.testing.assert_array_equal(back, vals)


def test_npy_complex_opens_as_channels_objects_and_bad_shapes_refused(tmp_path):
    np.save(tmp_path / "c.npy", np.ones((3, 3, 2), np.complex64))
    assert io.load(tmp_path / "c.npy").kind == "channels"
    np.save(tmp_path / "o.npy", np.array([{}], dtype=object), allow_pickle=True)
    with pytest.raises(FileFormatError, match="o.npy"):
        io.load(tmp_path / "o.npy")
    np.save(tmp_path / "v.npy", np.ones(5))
    with pytest.raises(InputError, match="H x W"):
        io.load(tmp_path / "v.npy")
    np.save(tmp_path / "e.npy", np.zeros((0, 5, 3)))
    with pytest.raises(InputError, match="empty"):
        io.load(tmp_path / "e.npy")
    full = tmp_path / "full.npy"
    np.save(full, np.zeros((20, 20, 3)))
    (tmp_path / "t.npy").write_bytes(full.read_bytes()[:300])
    with pytest.raises(FileFormatError, match="t.npy"):
        io.load(tmp_path / "t.npy")
