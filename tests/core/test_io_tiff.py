"""core/io/tiff.py: how a multi-page TIFF series becomes H x W x C, and what has no reading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from core.errors import FileFormatError
from core.io import load
from core.io.tiff import read_tiff_stack, stack_order, tiff_header


@pytest.mark.parametrize("shape, axes, perm", [
    ((5, 16, 12), "CYX", (1, 2, 0)),          # ImageJ channels first
    ((3, 4, 16, 12), "ZCYX", (2, 3, 0, 1)),   # OME: every non-spatial axis, in file order
    ((16, 12, 5), "QYX", (0, 1, 2)),          # tifffile.imwrite(array): H x W first, as .npy
    ((16, 12, 5), "IYX", (1, 2, 0)),
])
def test_stack_order_puts_y_and_x_first(shape, axes, perm) -> None:
    got, rule = stack_order(shape, axes)
    assert got == perm
    assert rule  # a word on the rule, for the provenance


def test_an_unnamed_stack_of_more_than_three_axes_has_no_reading() -> None:
    assert stack_order((2, 3, 16, 12), "QQYX") is None


def test_ome_zcyx_stack_loads_as_channels_in_file_order(tmp_path: Path) -> None:
    a = np.random.default_rng(0).integers(0, 65535, (3, 2, 16, 12), dtype=np.uint16)
    path = tmp_path / "zcyx.ome.tif"
    tifffile.imwrite(path, a, metadata={"axes": "ZCYX"}, ome=True)
    head = tiff_header(path)
    assert head is not None and head["pages"] == 6 and head["series_axes"] == "ZCYX"
    got = read_tiff_stack(path, head)
    assert got.shape == (16, 12, 6)
    np.testing.assert_array_equal(got, a.transpose(2, 3, 0, 1).reshape(16, 12, 6))
    data = load(path)
    assert data.pixels.shape == (16, 12, 6) and data.kind == "channels"


def test_a_stack_without_a_reading_is_refused_with_the_way_out(tmp_path: Path) -> None:
    path = tmp_path / "q4.tif"
    tifffile.imwrite(path, np.zeros((2, 3, 16, 12), np.float32), photometric="minisblack")
    head = tiff_header(path)
    assert head is not None and head["pages"] > 1
    if stack_order(head["series_shape"], head["series_axes"]) is not None:
        pytest.skip(f"this tifffile names the axes ({head['series_axes']})")
    with pytest.raises(FileFormatError, match=r"no H x W x C reading.*\.npy"):
        read_tiff_stack(path, head)
    with pytest.raises(FileFormatError, match=r"\.npy"):
        load(path)


def test_a_file_that_is_not_a_tiff_has_no_header(tmp_path: Path) -> None:
    path = tmp_path / "fake.tif"
    path.write_bytes(b"II*\0" + b"\0" * 12)
    assert tiff_header(path) is None
