"""Files other tools read: deflate TIFF (no imagecodecs), GLB/glTF/OFF meshes through Open3D,
and a word on stderr when a format cannot hold the data (clipped HDR, 16 bits to WebP)."""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest

from cli import main as cli_main
from core.data import ImageData, Units
from core.errors import DataLossWarning
from core.io import load, save
from tests.test_cli_normals import _sphere_png


def test_16_bit_tiff_from_sr_reads_back_bit_exact_with_tifffile(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    src = tmp_path / "in16.png"
    px = np.random.default_rng(0).integers(0, 65536, (10, 12, 3), dtype=np.uint16)
    cv2.imwrite(str(src), px[..., ::-1])
    out = tmp_path / "o.tif"
    assert cli_main(["sr", str(src), "-m", "nearest", "-s", "2", "-o", str(out), "-q"]) == 0
    with tifffile.TiffFile(out) as tf:
        assert tf.pages[0].compression in (8, 32946)     # deflate (zlib), not LZW (5)
        back = tf.asarray()
    assert back.dtype == np.uint16 and np.array_equal(back[::2, ::2], px)
    assert np.array_equal(load(out).pixels, load(src).pixels.repeat(2, 0).repeat(2, 1))


@pytest.mark.parametrize("shape", [(6, 7, 1), (6, 7, 3)])
def test_float_and_gray_tiff_round_trip(tmp_path, shape):
    tifffile = pytest.importorskip("tifffile")
    px = np.random.default_rng(1).random(shape).astype(np.float32) * 4
    data = ImageData(px, kind="gray" if shape[2] == 1 else "rgb", units=Units.for_dtype(np.float32))
    save(data, tmp_path / "f.tif")
    back = tifffile.imread(tmp_path / "f.tif")
    assert np.array_equal(back.reshape(shape), px)


def test_hdr_to_png_and_16_bit_to_webp_say_what_they_lose(tmp_path, capsys):
    hdr = ImageData(np.full((4, 4, 3), 2.0, np.float32), kind="rgb",
                    units=Units.for_dtype(np.float32))
    with pytest.warns(DataLossWarning, match="100.0% of the values .* clipped"):
        save(hdr, tmp_path / "h.png")
    src = tmp_path / "in16.png"
    cv2.imwrite(str(src), np.full((4, 4, 3), 1000, np.uint16))
    assert cli_main(["sr", str(src), "-m", "nearest", "-s", "2", "-o",
                     str(tmp_path / "o.webp"), "-q"]) == 0
    err = capsys.readouterr().err
    assert "warning: o.webp: 16-bit data quantised to 8 bits" in err
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataLossWarning)   # 8 bits to PNG loses nothing
        assert cli_main(["sr", str(tmp_path / "o.webp"), "-m", "nearest", "-s", "2", "-o",
                         str(tmp_path / "o8.png"), "-q"]) == 0


@pytest.mark.parametrize("ext", ["glb", "gltf", "off"])
def test_surface_writes_meshes_open3d_opens(tmp_path, ext):
    o3d = pytest.importorskip("open3d")
    src = _sphere_png(tmp_path / "n.png", size=24)
    mesh = tmp_path / f"m.{ext}"
    assert cli_main(["surface", str(src), "--method", "dct", "-o", str(mesh), "-q"]) == 0
    m = o3d.io.read_triangle_mesh(str(mesh))
    assert len(m.triangles) > 100 and len(m.vertices) > 50
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_v73_cell_is_named_with_how_to_extract_it(tmp_path):
    from core.errors import InputError
    from core.io.channels import load_channels
    from tests.core.test_io_channels import write_matlab73

    write_matlab73(tmp_path / "a.mat", {"H": np.ones((4, 5, 3))}, cell_var="csi")
    with pytest.raises(InputError) as err:
        load_channels(tmp_path / "a.mat", var="csi")
    msg = str(err.value)
    assert "'csi'" in msg and "v7.3 cell array (1x1 cells of 2x2 float64 arrays)" in msg
    assert "cat(ndims(csi{1}) + 1, csi{:})" in msg and "'-v7'" in msg
