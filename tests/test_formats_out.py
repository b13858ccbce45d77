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


def _v73_with_cells(path, leaves) -> None:
    """A v7.3 file with ``H`` and a 1 x N cell ``csi`` of complex arrays (MATLAB order)."""
    import h5py

    from tests.core.test_io_channels import write_matlab73

    write_matlab73(path, {"H": np.ones((4, 5, 3))})
    with h5py.File(path, "r+") as f:
        refs = []
        for i, leaf in enumerate(leaves):
            data = np.ascontiguousarray(leaf.T)
            comp = np.empty(data.shape, dtype=[("real", "<f8"), ("imag", "<f8")])
            comp["real"], comp["imag"] = data.real, data.imag
            d = f.create_dataset(f"#refs#/c{i}", data=comp)
            d.attrs["MATLAB_class"] = np.bytes_("double")
            refs.append(d.ref)
        c = f.create_dataset("csi", data=np.array(refs, dtype=h5py.ref_dtype).reshape(-1, 1))
        c.attrs["MATLAB_class"] = np.bytes_("cell")


def test_v73_cells_are_read_stacked_and_written_back_into_their_cells(tmp_path):
    import h5py

    from core.errors import InputError
    from core.io.channels import list_variables, load_channels, read_array, save_channels

    rng = np.random.default_rng(3)
    leaves = [rng.random((2, 3, 30)) + 1j * rng.random((2, 3, 30)) for _ in range(5)]
    _v73_with_cells(tmp_path / "a.mat", leaves)
    info = {i.name: i for i in list_variables(tmp_path / "a.mat")}["csi"]
    assert info.usable and info.shape == (5, 2, 3, 30) and "5 cells" in info.note
    d = load_channels(tmp_path / "a.mat", var="csi", axes="HCCW")
    assert d.shape == (5, 30, 12)
    save_channels(d, tmp_path / "b.mat")
    back, _ = read_array(tmp_path / "b.mat", "csi")
    for i in range(5):
        np.testing.assert_allclose(back[i], leaves[i], rtol=1e-6)
    with h5py.File(tmp_path / "b.mat") as f:
        assert f["csi"].attrs["MATLAB_class"] == b"cell" and f["csi"].shape == (5, 1)
        assert f["H"].shape == (3, 5, 4)
    with pytest.raises(InputError, match="cannot change their number"):
        save_channels(d.with_pixels(np.repeat(d.pixels, 2, axis=0)), tmp_path / "no.mat")


def test_a_v73_cell_that_does_not_stack_is_named_with_how_to_extract_it(tmp_path):
    from core.errors import InputError
    from core.io.channels import load_channels
    from tests.core.test_io_channels import write_matlab73

    import h5py

    write_matlab73(tmp_path / "a.mat", {"H": np.ones((4, 5, 3))}, cell_var="csi")

    with h5py.File(tmp_path / "a.mat", "r+") as f:   # cells of different shapes
        b = f.create_dataset("#refs#/b", data=np.zeros((3, 2)))
        refs = np.array([[f["#refs#/a"].ref, b.ref]], dtype=h5py.ref_dtype)
        del f["csi"]
        f.create_dataset("csi", data=refs).attrs["MATLAB_class"] = np.bytes_("cell")
    with pytest.raises(InputError) as err:
        load_channels(tmp_path / "a.mat", var="csi")
    msg = str(err.value)
    assert "'csi'" in msg and "v7.3 cell array (2x1 cells of 2x2 float64 arrays)" in msg
    assert "cat(ndims(csi{1}) + 1, csi{:})" in msg and "'-v7'" in msg
