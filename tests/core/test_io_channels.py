"""Channel files: .npy/.npz/.mat v5 (cells, structs)/.mat v7.3/.h5 read and written back in
their own terms, never over the input, atomically; bad input gives one clear message; the
measured Wi-Fi CSI in ../shared/datasets/channels opens and round-trips."""

from __future__ import annotations

import os

import h5py
import numpy as np
import pytest
import scipy.io as sio

from core import io
from core.channels import array_from_channels, channel_meta
from core.errors import FileFormatError, InputError, ResourceError
from core.io.channels import list_variables, load_channels, read_array, save_channels
from tests.helpers import shared_datasets

RNG = np.random.default_rng(11)


def _cplx(shape, dtype=np.complex64):
    return (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(dtype)


def _close(a, b, rel=1e-6):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    ok = np.isfinite(b)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    assert np.abs(a[ok] - b[ok]).max(initial=0) <= rel * np.abs(b[ok]).max(initial=1)


def write_matlab73(path, variables: dict, cell_var: str | None = None) -> None:
    """A v7.3 MAT-file as MATLAB writes it: 512-byte user block with the MAT header, arrays
    stored column-major (HDF5 shape reversed), complex as a real/imag compound, MATLAB_class."""
    classes = {"float64": "double", "float32": "single", "int16": "int16", "complex64": "single",
               "complex128": "double", "uint8": "uint8"}
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, arr in variables.items():
            data = np.ascontiguousarray(arr.T)
            if data.dtype.kind == "c":
                part = data.real.dtype
                comp = np.empty(data.shape, dtype=[("real", part), ("imag", part)])
                comp["real"], comp["imag"] = data.real, data.imag
                data = comp
            key = name.replace(".", "/")
            if "/" in key:
                grp = f.require_group(key.rsplit("/", 1)[0])
                grp.attrs["MATLAB_class"] = np.bytes_("struct")
            d = f.create_dataset(key, data=data)
            d.attrs["MATLAB_class"] = np.bytes_(classes[arr.dtype.name])
        if cell_var:
            ref = f.create_dataset("#refs#/a", data=np.zeros((2, 2)))
            d = f.create_dataset(cell_var, data=np.array([[ref.ref]], dtype=h5py.ref_dtype))
            d.attrs["MATLAB_class"] = np.bytes_("cell")
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: test HDF5 schema 1.00 ."
    with open(path, "r+b") as fh:
        fh.write(header.ljust(116) + b"\x00" * 8 + b"\x00\x02IM")


# ------------------------------------------------------------------ formats


def test_npy_complex_4d_round_trip_through_core_io(tmp_path):
    a = _cplx((20, 30, 3, 2))
    np.save(tmp_path / "h.npy", a)
    d = io.load(tmp_path / "h.npy")  # complex .npy is channel data
    assert d.kind == "channels" and d.shape == (20, 30, 12)
    out = io.save(d, tmp_path / "back.npy")
    _close(np.load(out), a)
    # a real 3-D .npy forced to channels goes through the channel loader too
    np.save(tmp_path / "r.npy", RNG.random((8, 9, 5)).astype(np.float32))
    r = io.load(tmp_path / "r.npy", kind="channels", norm="percentile")
    assert channel_meta(r).norm == "percentile"
    with pytest.raises(InputError, match="channel data only"):
        io.load(tmp_path / "r.npy", axes="HWC", kind="rgb")


def test_npz_chooses_the_array_and_keeps_the_others(tmp_path):
    big, small = _cplx((16, 12, 4)), RNG.integers(0, 9, (5, 6)).astype(np.int16)
    np.savez_compressed(tmp_path / "a.npz", H=big, aux=small, vec=np.arange(3))
    infos = {i.name: i for i in list_variables(tmp_path / "a.npz")}
    assert infos["H"].usable and infos["aux"].usable and not infos["vec"].usable
    d = load_channels(tmp_path / "a.npz")
    assert d.meta["var"] == "H"
    save_channels(d, tmp_path / "b.npz")
    with np.load(tmp_path / "b.npz") as z:
        assert sorted(z.files) == ["H", "aux", "vec"]
        _close(z["H"], big)
        np.testing.assert_array_equal(z["aux"], small)
    aux = load_channels(tmp_path / "a.npz", var="aux")
    assert aux.shape == (5, 6, 1)
    with pytest.raises(InputError, match="no variable 'nope'.*H \\(16x12x4 complex64\\)"):
        load_channels(tmp_path / "a.npz", var="nope")


def test_mat_v5_numeric_variables(tmp_path):
    h, k = _cplx((10, 14, 3), np.complex128), RNG.integers(-9, 9, (7, 8)).astype(np.int16)
    sio.savemat(tmp_path / "a.mat", {"H": h, "k": k, "name": "trial 1"}, do_compression=True)
    d = load_channels(tmp_path / "a.mat")
    assert d.meta["var"] == "H" and d.meta["array_source"].details["compressed"]
    save_channels(d, tmp_path / "b.mat")
    back = sio.loadmat(tmp_path / "b.mat")
    _close(back["H"], h)
    np.testing.assert_array_equal(back["k"], k)
    assert str(back["name"][0]) == "trial 1"
    ki = load_channels(tmp_path / "a.mat", var="k")
    save_channels(ki, tmp_path / "c.mat")
    assert sio.loadmat(tmp_path / "c.mat")["k"].dtype == np.int16


def test_mat_v5_cells_and_struct_fields(tmp_path):
    frames = [_cplx((2, 3, 30), np.complex128) for _ in range(6)]
    cells = np.empty((6, 1), dtype=object)
    structs = np.empty((6, 1), dtype=object)
    for i, f in enumerate(frames):
        cells[i, 0] = f
        st = np.empty((1, 1), dtype=[("t", object), ("csi", object)])
        st[0, 0]["t"], st[0, 0]["csi"] = np.array([[i * 10.0]]), f
        structs[i, 0] = st
    sio.savemat(tmp_path / "csi.mat", {"csi_scaled": cells, "csi": structs})
    names = {i.name: i for i in list_variables(tmp_path / "csi.mat")}
    assert names["csi_scaled"].shape == (6, 2, 3, 30) and "6 cells" in names["csi_scaled"].note
    assert names["csi.csi"].usable and not names["csi.t"].usable
    for var in ("csi_scaled", "csi.csi"):
        d = load_channels(tmp_path / "csi.mat", var=var)    # default H x W x C...
        assert channel_meta(d).layout.axes == "HWCC" and d.shape == (6, 2, 180)
        d = load_channels(tmp_path / "csi.mat", var=var, axes="HCCW")  # frames x subcarriers
        assert channel_meta(d).layout.axes == "HCCW" and d.shape == (6, 30, 12)
        save_channels(d, tmp_path / f"{var}.mat")
        m = sio.loadmat(tmp_path / f"{var}.mat")
        for i in range(6):
            got = m["csi_scaled"][i, 0] if var == "csi_scaled" else m["csi"][i, 0]["csi"][0, 0]
            _close(got, frames[i])
            assert m["csi"][i, 0]["t"][0, 0][0, 0] == i * 10.0
    # SR along the cell axis: a plain cell grows, a struct array cannot
    d = load_channels(tmp_path / "csi.mat", var="csi_scaled")
    big = d.with_pixels(np.repeat(d.pixels, 2, axis=0))
    save_channels(big, tmp_path / "grown.mat")
    assert sio.loadmat(tmp_path / "grown.mat")["csi_scaled"].shape == (12, 1)
    s = load_channels(tmp_path / "csi.mat", var="csi.csi")
    with pytest.raises(InputError, match="cannot change their number"):
        save_channels(s.with_pixels(np.repeat(s.pixels, 2, axis=0)), tmp_path / "no.mat")
    assert not (tmp_path / "no.mat").exists()


def test_mat_v5_ragged_cells_are_padded_with_nan_and_cut_back(tmp_path):
    cells = np.empty((4, 1), dtype=object)
    sizes = [1, 3, 2, 3]
    for i, n in enumerate(sizes):
        cells[i, 0] = _cplx((n, 3, 30), np.complex128)
    sio.savemat(tmp_path / "r.mat", {"csi": cells})
    info = list_variables(tmp_path / "r.mat")[0]
    assert info.shape == (4, 3, 3, 30) and "padded with NaN" in info.note
    d = load_channels(tmp_path / "r.mat")
    assert channel_meta(d).nonfinite.count > 0 and np.isfinite(d.pixels).all()
    save_channels(d, tmp_path / "r2.mat")
    back = sio.loadmat(tmp_path / "r2.mat")["csi"]
    for i in range(4):
        _close(back[i, 0], cells[i, 0])


def test_mat_v73_is_read_in_matlab_order_and_written_back_as_v73(tmp_path):
    h = _cplx((12, 20, 3))
    b = RNG.integers(-5, 5, (6, 7)).astype(np.int16)
    write_matlab73(tmp_path / "a.mat", {"H": h, "s.B": b}, cell_var="c")
    infos = {i.name: i for i in list_variables(tmp_path / "a.mat")}
    assert infos["H"].shape == (12, 20, 3) and infos["H"].dtype == "complex64"
    assert infos["s.B"].usable and infos["c"].usable   # v7.3 cells are read (a 1x1 cell here)
    d = load_channels(tmp_path / "a.mat")
    assert d.meta["var"] == "H" and channel_meta(d).layout.shape == (12, 20, 3)
    np.testing.assert_array_equal(read_array(tmp_path / "a.mat", "H")[0], h)
    save_channels(d, tmp_path / "b.mat")
    assert open(tmp_path / "b.mat", "rb").read(10) == b"MATLAB 7.3"
    with h5py.File(tmp_path / "b.mat") as f:
        assert f["H"].shape == (3, 20, 12) and f["H"].dtype.names == ("real", "imag")
        assert f["H"].attrs["MATLAB_class"] == b"single"
        assert "s" in f and "c" in f  # the other variables are kept
    _close(read_array(tmp_path / "b.mat", "H")[0], h)
    sb = load_channels(tmp_path / "a.mat", var="s.B")
    save_channels(sb, tmp_path / "c.mat")
    np.testing.assert_array_equal(read_array(tmp_path / "c.mat", "s.B")[0], b)
    assert load_channels(tmp_path / "a.mat", var="c").shape[:2] == (2, 2)
    assert sio.matlab.matfile_version(str(tmp_path / "b.mat"))[0] == 2
    # the source gone: a v7.3 file written from scratch (header, MATLAB order, class)
    gone = load_channels(tmp_path / "b.mat")
    os.remove(tmp_path / "b.mat")
    save_channels(gone, tmp_path / "fresh.mat")
    assert sio.matlab.matfile_version(str(tmp_path / "fresh.mat"))[0] == 2
    assert [i.name for i in list_variables(tmp_path / "fresh.mat")] == ["H"]
    _close(read_array(tmp_path / "fresh.mat", "H")[0], h, rel=2e-6)


def test_hdf5_datasets(tmp_path):
    h = _cplx((10, 11, 4))
    with h5py.File(tmp_path / "a.h5", "w") as f:
        d = f.create_dataset("grp/H", data=h, compression="gzip")
        d.attrs["unit"] = "V"
        f.create_dataset("meta/x", data=np.arange(12.0).reshape(3, 4))
    d = load_channels(tmp_path / "a.h5")
    assert d.meta["var"] == "grp/H" and d.shape == (10, 11, 8)
    save_channels(d, tmp_path / "b.hdf5")
    with h5py.File(tmp_path / "b.hdf5") as f:
        assert f["grp/H"].compression == "gzip" and f["grp/H"].attrs["unit"] == "V"
        _close(f["grp/H"][()], h)
        np.testing.assert_array_equal(f["meta/x"][()], np.arange(12.0).reshape(3, 4))


def test_sr_output_saves_with_new_height_and_width(tmp_path):
    from core.channels import super_resolve_channels
    from core.jobs import run_sync
    from core.models import load_model

    h = _cplx((8, 10, 3, 2), np.complex128)
    sio.savemat(tmp_path / "lr.mat", {"H": h})
    d = load_channels(tmp_path / "lr.mat", axes="CHWC")
    res = run_sync(super_resolve_channels(load_model("bicubic").module, d, scale=2))
    save_channels(res.image, tmp_path / "sr.mat")
    out = sio.loadmat(tmp_path / "sr.mat")["H"]
    assert out.shape == (8, 20, 6, 2) and out.dtype == np.complex128


# ------------------------------------------------------------------ safety


def test_never_over_the_input_and_no_partial_files(tmp_path, monkeypatch):
    a = _cplx((6, 7, 2))
    np.save(tmp_path / "in.npy", a)
    d = load_channels(tmp_path / "in.npy")
    with pytest.raises(InputError, match="input file"):
        save_channels(d, tmp_path / "in.npy", overwrite=True)
    sr = d.with_pixels(d.pixels[:3])
    with pytest.raises(InputError, match="input file"):
        io.save(sr, tmp_path / "in.npy", overwrite=True)
    save_channels(d, tmp_path / "out.npy")
    with pytest.raises(InputError, match="already exists"):
        save_channels(d, tmp_path / "out.npy")
    save_channels(d, tmp_path / "out.npy", overwrite=True)
    with pytest.raises(InputError, match="saved to"):
        save_channels(d, tmp_path / "out.png")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "save", boom)
    with pytest.raises(InputError, match="No space"):
        save_channels(d, tmp_path / "never.npy")
    assert sorted(os.listdir(tmp_path)) == ["in.npy", "out.npy"]
    np.testing.assert_array_equal(np.load(tmp_path / "in.npy"), a)


# ------------------------------------------------------------------ bad input


def test_bad_input_gives_one_clear_message(tmp_path, monkeypatch):
    sio.savemat(tmp_path / "text.mat", {"note": "hello", "c": np.array([["a"]], dtype=object)})
    with pytest.raises(InputError, match="no numeric array.*note"):
        load_channels(tmp_path / "text.mat")
    np.save(tmp_path / "v.npy", np.ones(5, np.complex64))
    with pytest.raises(InputError, match="not a 2-D to 4-D"):
        load_channels(tmp_path / "v.npy")
    np.save(tmp_path / "five.npy", np.ones((2, 3, 4, 5, 6), np.float32))
    with pytest.raises(InputError, match="not a 2-D to 4-D"):
        load_channels(tmp_path / "five.npy")
    sio.savemat(tmp_path / "five.mat", {"x": np.ones((2, 3, 4, 5, 6))})
    with pytest.raises(InputError, match="5 dimensions|not an H x W"):
        load_channels(tmp_path / "five.mat", var="x")
    (tmp_path / "fake73.mat").write_bytes(b"MATLAB 7.3 MAT-file".ljust(128) + b"\x00" * 400)
    with pytest.raises(FileFormatError, match="no valid HDF5 structure"):
        load_channels(tmp_path / "fake73.mat")
    (tmp_path / "junk.mat").write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(FileFormatError):
        load_channels(tmp_path / "junk.mat")
    (tmp_path / "junk.h5").write_bytes(b"nope")
    with pytest.raises(FileFormatError):
        load_channels(tmp_path / "junk.h5")
    np.save(tmp_path / "flat.npy", np.ones((1, 40, 3), np.complex64))
    with pytest.raises(InputError, match="size 1"):
        load_channels(tmp_path / "flat.npy", axes="HWC")
    mixed = _cplx((6, 6, 2))
    mixed[RNG.random((6, 6, 2)) < 0.3] = complex(np.nan, np.nan)
    np.save(tmp_path / "nan.npy", mixed)
    d = load_channels(tmp_path / "nan.npy")
    assert channel_meta(d).nonfinite.count == 2 * int(np.isnan(mixed).sum())
    save_channels(d, tmp_path / "nan2.npy")
    _close(np.load(tmp_path / "nan2.npy"), mixed)
    import core.io._common as common

    monkeypatch.setattr(common, "MAX_WORKING_BYTES", 100)
    with pytest.raises(ResourceError, match="GiB"):
        load_channels(tmp_path / "nan.npy")


# ------------------------------------------------------------------ measured CSI


@pytest.mark.shared
def test_measured_wifi_csi_opens_and_round_trips(tmp_path):
    folder = shared_datasets("channels")
    files = sorted(folder.glob("wifi_csi/*.npy")) + sorted(folder.glob("wifi_csi_mat/*.mat"))
    assert files, f"no CSI files under {folder}"
    for path in files:
        d = io.load(path)
        assert d.kind == "channels" and np.isfinite(d.pixels).all(), path.name
        out = tmp_path / f"rt_{path.name}"
        io.save(d, out)
        var = d.meta.get("var")
        a, b = read_array(path, var)[0], read_array(out, var)[0]
        _close(b, a.astype(b.dtype))
        assert array_from_channels(d).dtype == a.dtype
    intel = io.load(folder / "wifi_csi" / "intel5300_example_csi_scaled.npy")
    assert intel.shape == (26, 30, 12)  # frames x subcarriers, 3 rx x 2 tx x real/imag
    mat = io.load(folder / "wifi_csi_mat" / "example.mat", var="csi_scaled", axes="HCCW")
    # the same capture: the .npy is frames x subcarriers x rx x tx, the .mat frames x tx x rx x sc
    z_mat = read_array(folder / "wifi_csi_mat" / "example.mat", "csi_scaled")[0]
    z_npy = np.load(folder / "wifi_csi" / "intel5300_example_csi_scaled.npy")
    np.testing.assert_allclose(z_mat.transpose(0, 3, 2, 1), z_npy, rtol=1e-5, atol=1e-4)
    assert mat.shape == (26, 30, 12)
