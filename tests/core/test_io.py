"""Tests for core.io (loaders/savers, atomic writes) and core.samples. Tiny synthetic data."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as skdata

import core.io as io
import core.io._common as common
import core.io.images as images
from core.data import ImageData, Units
from core.errors import FileFormatError, InputError, ResourceError
from core.io.atomic import atomic_path
from core.samples import list_samples, sample_image

H, W = 6, 7
RNG = np.random.default_rng(1234)


def raw_image(channels: int, dtype) -> np.ndarray:
    """Random file values H x W x C in RGB(A) order, with some fully transparent pixels."""
    top = np.iinfo(dtype).max
    raw = RNG.integers(0, top + 1, size=(H, W, channels), dtype=dtype)
    raw[0, 0] = 0
    raw[-1, -1] = top
    if channels in (2, 4):
        raw[1, :, -1] = 0  # transparent pixels whose colour must survive
    return raw


def write_cv2(path: Path, raw: np.ndarray, params=()) -> None:
    """Write RGB(A) file values with OpenCV directly (independent of core.io.save)."""
    arr = raw
    if raw.shape[2] == 3:
        arr = raw[:, :, ::-1]
    elif raw.shape[2] == 4:
        arr = raw[:, :, [2, 1, 0, 3]]
    elif raw.shape[2] == 1:
        arr = raw[:, :, 0]
    ok, buf = cv2.imencode(path.suffix, np.ascontiguousarray(arr), list(params))
    assert ok
    path.write_bytes(buf.tobytes())


def from_raw(raw: np.ndarray) -> ImageData:
    """ImageData with file values ``raw`` (colour + optional trailing alpha)."""
    units = Units.for_dtype(raw.dtype)
    c = raw.shape[2]
    colour, alpha = (raw[:, :, : c - 1], raw[:, :, c - 1]) if c in (2, 4) else (raw, None)
    kind = "gray" if colour.shape[2] == 1 else "rgb"
    a = None if alpha is None else units.to_working(alpha[:, :, None])[:, :, 0]
    return ImageData(units.to_working(colour), kind, units, a)


def file_values(data: ImageData) -> np.ndarray:
    """Colour (+ alpha) file values of loaded data, H x W x C."""
    vals = data.file_values()
    if data.alpha is not None:
        vals = np.concatenate([vals, data.units.to_file(data.alpha[:, :, None])], axis=2)
    return vals


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
    back = io.load(io.save(data, tmp_path / f"x{ext}"))  # default: 8-bit
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


# ------------------------------------------------------------------ kinds


def test_kind_detection_and_forcing(tmp_path):
    write_cv2(tmp_path / "a.png", raw_image(3, np.uint8))
    assert io.load(tmp_path / "a.png").kind == "rgb"
    assert io.load(tmp_path / "a.png", kind="normals").kind == "normals"
    assert io.load(tmp_path / "a.png", kind="channels").kind == "channels"
    with pytest.raises(InputError, match="needs 1"):
        io.load(tmp_path / "a.png", kind="gray")
    with pytest.raises(InputError, match="unknown data kind"):
        io.load(tmp_path / "a.png", kind="bogus")
    np.save(tmp_path / "m.npy", np.zeros((4, 4, 5), np.float32))
    with pytest.raises(InputError, match="needs 3"):
        io.load(tmp_path / "m.npy", kind="rgb")
    five = io.load(tmp_path / "m.npy")
    with pytest.raises(InputError, match=r"\.npy"):
        io.save(five, tmp_path / "m.png")


# ------------------------------------------------------------------ safety


def test_never_overwrites_existing_file(tmp_path):
    target = tmp_path / "out.png"
    target.write_bytes(b"precious")
    data = from_raw(raw_image(3, np.uint8))
    with pytest.raises(InputError, match="out.png already exists"):
        io.save(data, target)
    assert target.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
    io.save(data, target, overwrite=True)
    np.testing.assert_array_equal(io.load(target).file_values(), data.file_values())


def test_never_overwrites_the_input(tmp_path):
    src = tmp_path / "in.png"
    write_cv2(src, raw_image(3, np.uint8))
    before = src.read_bytes()
    data = io.load(src)
    result = data.with_pixels(1.0 - data.pixels)  # derived: source cleared, origin in meta
    for d in (data, result):
        with pytest.raises(InputError, match="input file"):
            io.save(d, src, overwrite=True)
        with pytest.raises(InputError, match="input file"):
            io.save(d, tmp_path / "." / "in.png", overwrite=True)  # another spelling
    assert src.read_bytes() == before
    io.save(result, src, overwrite=True, allow_input_overwrite=True)
    assert src.read_bytes() != before


def test_atomic_save_leaves_no_temp_on_failure(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("encoder exploded")

    monkeypatch.setattr(images, "_encode", broken)
    (tmp_path / "out.png").write_bytes(b"old")
    with pytest.raises(RuntimeError, match="exploded"):
        io.save(from_raw(raw_image(3, np.uint8)), tmp_path / "out.png", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
    assert (tmp_path / "out.png").read_bytes() == b"old"


def test_atomic_path_helper(tmp_path):
    final = tmp_path / "r.bin"
    with pytest.raises(OSError):
        with atomic_path(final) as tmp:
            assert tmp.parent == tmp_path and tmp.suffix == ".bin" and tmp.name.startswith(".")
            tmp.write_bytes(b"half")
            raise OSError("disk full")
    assert list(tmp_path.iterdir()) == []
    with atomic_path(final) as tmp:
        tmp.write_bytes(b"done")
    assert final.read_bytes() == b"done"
    with pytest.raises(InputError, match="already exists"):
        with atomic_path(final, overwrite=False) as tmp:
            tmp.write_bytes(b"new")
    assert final.read_bytes() == b"done"
    assert [p.name for p in tmp_path.iterdir()] == ["r.bin"]


# ------------------------------------------------------------------ bad inputs


def test_corrupt_truncated_and_empty_files(tmp_path):
    (tmp_path / "noise.png").write_bytes(np.random.default_rng(0).bytes(2000))
    with pytest.raises(FileFormatError, match="noise.png"):
        io.load(tmp_path / "noise.png")
    write_cv2(tmp_path / "good.png", raw_image(3, np.uint8))
    data = (tmp_path / "good.png").read_bytes()
    (tmp_path / "half.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="half.png"):
        io.load(tmp_path / "half.png")
    (tmp_path / "zero.tif").write_bytes(b"")
    with pytest.raises(FileFormatError, match="zero.tif"):
        io.load(tmp_path / "zero.tif")


def test_missing_folder_and_unsupported(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        io.load(tmp_path / "nope.png")
    with pytest.raises(InputError, match="folder"):
        io.load(tmp_path)
    (tmp_path / "a.gif").write_bytes(b"GIF89a")
    with pytest.raises(InputError, match=r"\.png.*\.npy"):
        io.load(tmp_path / "a.gif")
    data = from_raw(raw_image(3, np.uint8))
    with pytest.raises(InputError, match="supported"):
        io.save(data, tmp_path / "a.xyz")
    with pytest.raises(InputError, match="does not exist"):
        io.save(data, tmp_path / "no" / "a.png")
    assert io.is_supported("X.TIFF") and not io.is_supported("x.gif")
    assert ".exr" in io.SUPPORTED_EXTENSIONS and ".npy" in io.SUPPORTED_EXTENSIONS


def test_too_large_is_a_resource_error(tmp_path, monkeypatch):
    write_cv2(tmp_path / "a.png", raw_image(3, np.uint8))
    np.save(tmp_path / "a.npy", np.zeros((H, W, 3), np.float32))
    write_cv2(tmp_path / "a.bmp", raw_image(3, np.uint8))
    monkeypatch.setattr(common, "MAX_WORKING_BYTES", 100)
    for name in ("a.png", "a.npy", "a.bmp"):
        with pytest.raises(ResourceError, match="tiles"):
            io.load(tmp_path / name)


def test_resize_alpha():
    a = np.zeros((4, 4), np.float32)
    a[1:3, 1:3] = 1.0
    out = io.resize_alpha(a, 9, 7)
    assert out.shape == (9, 7) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


# ------------------------------------------------------------------ samples


def test_samples_load_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    names = list_samples()
    assert {"astronaut", "chelsea", "coffee", "rocket"} <= set(names)
    img = sample_image("astronaut")
    assert img.shape == (512, 512, 3) and img.kind == "rgb"
    assert img.units == Units.for_dtype("uint8") and img.meta["name"] == "astronaut"
    assert 0.0 <= img.pixels.min() and img.pixels.max() <= 1.0
    np.testing.assert_array_equal(img.file_values(), skdata.astronaut())  # RGB order
    with pytest.raises(InputError, match="unknown sample"):
        sample_image("nonexistent")


def test_sample_source_is_protected(tmp_path):
    img = sample_image("chelsea")
    with pytest.raises(InputError, match="input file"):
        io.save(img, img.source, overwrite=True)
    assert os.path.isfile(img.source)
