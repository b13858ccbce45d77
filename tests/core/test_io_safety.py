"""Tests for core.io, continued from ``test_io.py``: kinds, safety (atomic writes), bad inputs,
and core.samples. Tiny synthetic data."""

from __future__ import annotations

import os
import socket

import numpy as np
import pytest
from skimage import data as skdata

import core.io as io
import core.io._common as common
import core.io.images as images
from core.data import Units
from core.errors import FileFormatError, InputError, ResourceError
from core.io.atomic import atomic_path
from core.samples import list_samples, sample_image
from tests.core.io_util import H, W, from_raw, raw_image, write_cv2


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
