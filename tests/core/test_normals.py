"""Normal maps: encoding and conventions, files, split/recombine, angular error, SR."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.data import Region
from core.errors import Cancelled, InputError, ShapeError
from core.io import exr_available
from core.io.normals import (
    load_intrinsics,
    load_normal_map,
    save_normal_map,
    to_image_data,
)
from core.jobs import run_sync
from core.normals import (
    Convention,
    NormalMap,
    angular_error_map,
    angular_error_stats,
    decode,
    downsample_normals,
    encode,
    from_vectors,
    recombine,
    rotate_from_z,
    rotate_to_z,
    split,
    super_resolve_normals,
)
from tests.helpers import shared_datasets


def _bumpy_sphere(h=48, w=56, r=30.0, bumps=True) -> NormalMap:
    """Unit normals of a sphere with a small ripple, masked to the visible disc."""
    v, u = np.mgrid[0:h, 0:w].astype(float)
    x, y = u - (w - 1) / 2, -(v - (h - 1) / 2)
    rr = x * x + y * y
    m = rr < (0.85 * r) ** 2
    zx, zy = -x / np.sqrt(np.maximum(r * r - rr, 1)), -y / np.sqrt(np.maximum(r * r - rr, 1))
    if bumps:
        zx = zx + 0.15 * np.cos(1.3 * x) * np.sin(0.9 * y)
        zy = zy + 0.15 * np.sin(1.1 * x) * np.cos(1.7 * y)
    n = np.stack([-zx, -zy, np.ones_like(zx)], -1)
    return from_vectors(n, m)


def _write_png16(path, nmap: NormalMap, background=65535) -> None:
    v = np.round((nmap.normals.astype(np.float64) + 1) / 2 * 65535).astype(np.uint16)
    v[~nmap.mask] = background
    cv2.imwrite(str(path), v[..., ::-1])


# --- decoding, conventions, files ------------------------------------------------------------

def test_png_round_trips_16_and_8_bit(tmp_path):
    nmap = _bumpy_sphere()
    for bits, tol in ((16, 0.01), (8, 0.6)):
        path = save_normal_map(nmap, tmp_path / f"n{bits}.png", bits=bits)
        back = load_normal_map(path)
        assert (back.mask == nmap.mask).all()           # grey "zero" normals are masked again
        assert np.nanmax(angular_error_map(back, nmap)) < tol
        assert back.meta["bit_depth"] == bits


def test_white_background_is_masked_and_file_mask_wins(tmp_path):
    nmap = _bumpy_sphere()
    _write_png16(tmp_path / "n.png", nmap, background=65535)
    assert (load_normal_map(tmp_path / "n.png").mask == nmap.mask).all()
    small = nmap.mask.copy()
    small[:, : small.shape[1] // 2] = False
    cv2.imwrite(str(tmp_path / "m.png"), small.astype(np.uint8) * 255)
    assert (load_normal_map(tmp_path / "n.png", mask=tmp_path / "m.png").mask == small).all()


def test_alpha_channel_is_the_mask(tmp_path):
    nmap = _bumpy_sphere()
    path = save_normal_map(nmap, tmp_path / "a.png", alpha_mask=True)
    assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).shape[2] == 4
    assert (load_normal_map(path).mask == nmap.mask).all()


def test_directx_convention_flips_y_and_is_kept_on_save(tmp_path):
    nmap = _bumpy_sphere()
    _write_png16(tmp_path / "gl.png", nmap)
    gl = load_normal_map(tmp_path / "gl.png")
    dx = load_normal_map(tmp_path / "gl.png", convention=Convention(y_up=False))
    np.testing.assert_allclose(dx.normals[..., 1], -gl.normals[..., 1], atol=1e-6)
    save_normal_map(dx, tmp_path / "dx.png")
    a = cv2.imread(str(tmp_path / "gl.png"), cv2.IMREAD_UNCHANGED)
    b = cv2.imread(str(tmp_path / "dx.png"), cv2.IMREAD_UNCHANGED)
    assert np.abs(a.astype(int) - b)[nmap.mask].max() <= 1     # same file values back


def test_npy_signed_and_unit_encodings_are_detected(tmp_path):
    nmap = _bumpy_sphere()
    np.save(tmp_path / "s.npy", nmap.normals)
    np.save(tmp_path / "u.npy", encode(nmap))
    s = load_normal_map(tmp_path / "s.npy")
    u = load_normal_map(tmp_path / "u.npy")
    assert s.convention.encoding == "signed" and u.convention.encoding == "unit"
    for m in (s, u):
        assert np.nanmax(angular_error_map(m, nmap)) < 1e-3
    save_normal_map(s, tmp_path / "s2.npy")
    assert np.load(tmp_path / "s2.npy").min() < 0            # signed stays signed


def test_mat_file(tmp_path):
    from scipy.io import savemat

    nmap = _bumpy_sphere()
    savemat(tmp_path / "n.mat", {"Normal_gt": nmap.normals.astype(np.float64)})
    back = load_normal_map(tmp_path / "n.mat")
    assert (back.mask == nmap.mask).all() and np.nanmax(angular_error_map(back, nmap)) < 1e-4


@pytest.mark.skipif(not exr_available(), reason="this OpenCV build has no OpenEXR")
def test_half_float_exr_with_negative_z(tmp_path):
    nmap = _bumpy_sphere()
    n = nmap.normals.copy()
    n[..., 2] *= -1                                          # back-facing in camera space
    cv2.imwrite(str(tmp_path / "n.exr"), n[..., ::-1].astype(np.float32),
                [cv2.IMWRITE_EXR_TYPE, cv2.IMWRITE_EXR_TYPE_HALF])
    cam = load_normal_map(tmp_path / "n.exr")
    assert cam.convention.encoding == "signed" and not cam.warnings
    assert (cam.normals[cam.mask][:, 2] <= 0).all()
    tan = load_normal_map(tmp_path / "n.exr", convention=Convention(space="tangent"))
    assert any("z < 0" in w for w in tan.warnings)


def test_bad_inputs_have_clear_messages(tmp_path):
    nmap = _bumpy_sphere()
    _write_png16(tmp_path / "n.png", nmap)
    cv2.imwrite(str(tmp_path / "small.png"), np.full((5, 5), 255, np.uint8))
    with pytest.raises(ShapeError, match="same size"):
        load_normal_map(tmp_path / "n.png", mask=tmp_path / "small.png")
    cv2.imwrite(str(tmp_path / "grey.png"), np.full((8, 8, 3), 128, np.uint8))
    with pytest.raises(InputError, match="no usable normal"):
        load_normal_map(tmp_path / "grey.png")
    with pytest.raises(InputError, match="no usable normal"):
        decode(np.full((4, 4, 3), np.nan))
    with pytest.raises(InputError, match="3 channels"):
        decode(np.zeros((4, 4, 1)))


def test_nans_are_masked_with_a_warning():
    n = _bumpy_sphere().normals.astype(np.float64)
    n[10, 20] = np.nan
    out = from_vectors(n, np.ones(n.shape[:2], bool))
    assert not out.mask[10, 20] and any("NaN" in w for w in out.warnings)


def test_a_photo_opened_as_normals_gets_a_warning():
    rng = np.random.default_rng(0)
    photo = rng.uniform(0, 1, (32, 32, 3))
    out = decode(photo)
    assert any("ordinary image" in w for w in out.warnings)
    assert not _bumpy_sphere().warnings


def test_intrinsics_file(tmp_path):
    (tmp_path / "K.txt").write_text("100 0 32\n0 101 24\n0 0 1\n")
    assert load_intrinsics(tmp_path / "K.txt")[1, 1] == 101
    (tmp_path / "bad.txt").write_text("100 0 32\n0 101 24\n")
    with pytest.raises(InputError, match="3 x 3"):
        load_intrinsics(tmp_path / "bad.txt")
    (tmp_path / "text.txt").write_text("focal length 100\n")
    with pytest.raises(InputError, match="numbers"):
        load_intrinsics(tmp_path / "text.txt")


def test_image_data_bridge_for_views():
    data = to_image_data(_bumpy_sphere(), bits=16)
    assert data.kind == "normals" and data.units.dtype == "uint16"
    assert 0.0 <= data.pixels.min() and data.pixels.max() <= 1.0
    assert data.meta["normal_convention"]["y_up"] is True


# --- split / recombine -----------------------------------------------------------------------

def test_rotations_are_inverse_and_take_z_to_s():
    rng = np.random.default_rng(1)
    s = rng.normal(size=(1000, 3))
    s /= np.linalg.norm(s, axis=1, keepdims=True)
    s[0] = [0, 0, -1]                                        # the singular direction
    s[1] = [0, 0, 1]
    z = np.broadcast_to([0.0, 0.0, 1.0], s.shape)
    np.testing.assert_allclose(rotate_from_z(s, z), s, atol=1e-12)
    v = rng.normal(size=(1000, 3))
    np.testing.assert_allclose(rotate_from_z(s, rotate_to_z(s, v)), v, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(rotate_to_z(s, v), axis=1),
                               np.linalg.norm(v, axis=1), atol=1e-12)


@pytest.mark.parametrize("sigma", [0.7, 3.0, 12.0])
def test_split_then_recombine_is_exact(sigma):
    nmap = _bumpy_sphere()
    parts = split(nmap, sigma)
    back = recombine(parts.shape, parts.detail)
    assert (back.mask == nmap.mask).all()
    assert np.nanmax(angular_error_map(back, nmap)) < 0.01    # degrees (measured ~1e-5)
    # the detail of a smooth sphere is near +z (for a low-pass narrower than the sphere)
    flat = split(_bumpy_sphere(bumps=False), sigma)
    if sigma <= 3:
        assert np.median(flat.detail.normals[nmap.mask][:, 2]) > 0.99
    assert np.median(parts.detail.normals[nmap.mask][:, 2]) < np.median(
        flat.detail.normals[nmap.mask][:, 2])                # the ripple went into the detail


def test_split_parts_encode_to_images_and_survive_16_bit_files(tmp_path):
    nmap = _bumpy_sphere()
    parts = split(nmap, 3.0)
    save_normal_map(parts.shape, tmp_path / "s.png")
    save_normal_map(parts.detail, tmp_path / "d.png")
    back = recombine(load_normal_map(tmp_path / "s.png"), load_normal_map(tmp_path / "d.png"))
    assert np.nanmax(angular_error_map(back, nmap)) < 0.01
    enc = encode(parts.detail)
    assert enc.min() >= 0 and enc.max() <= 1


def test_split_rejects_bad_sigma():
    for bad in (0, -1, float("nan"), "x"):
        with pytest.raises(InputError, match="sigma"):
            split(_bumpy_sphere(), bad)


# --- metrics ---------------------------------------------------------------------------------

def test_angular_error_statistics_on_known_angles():
    h, w = 20, 30
    a = np.zeros((h, w, 3))
    a[..., 2] = 1
    ang = np.where(np.arange(w)[None, :] < 15, 4.0, 25.0) * np.ones((h, 1))
    b = np.stack([np.sin(np.radians(ang)), np.zeros_like(ang), np.cos(np.radians(ang))], -1)
    st = angular_error_stats(b, a)
    assert st.mean == pytest.approx(14.5) and st.pixels == h * w
    assert st.under_5 == pytest.approx(50) and st.under_22_5 == pytest.approx(50)
    assert st.under_30 == pytest.approx(100)
    assert angular_error_stats(b, a, region=Region(0, 0, 10, 5)).mean == pytest.approx(4.0)
    m = np.zeros((h, w), bool)
    m[:, 20:] = True
    assert angular_error_stats(b, a, mask=m).median == pytest.approx(25.0)
    assert "<11.25" in st.table()
    tiny = angular_error_map(rotate_from_z(np.array([np.sin(1e-6), 0, np.cos(1e-6)]), a), a)
    assert np.allclose(tiny, np.degrees(1e-6), rtol=1e-3)   # accurate for tiny angles
    with pytest.raises(ShapeError):
        angular_error_stats(a, a[:5])
    with pytest.raises(InputError, match="fit"):
        angular_error_stats(a, a, region=Region(25, 0, 10, 5))


# --- super-resolution ------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["split", "naive"])
def test_sr_of_a_normal_map_with_bicubic(method):
    hr = _bumpy_sphere(64, 64, bumps=False)
    lr = downsample_normals(hr, 2)
    res = run_sync(super_resolve_normals(lr, scale=2, sigma=2.0, shape_model="bicubic",
                                         detail_model="bicubic", method=method))
    out = res.normals
    assert out.shape == (64, 64)
    assert np.abs(np.linalg.norm(out.normals[out.mask], axis=1) - 1).max() < 1e-5
    assert abs(int(out.mask.sum()) - int(hr.mask.sum())) < 0.05 * hr.mask.sum()
    st = angular_error_stats(out, hr, mask=out.mask & hr.mask)
    assert st.median < 1.0
    assert res.method == method and res.models == ("bicubic", "bicubic")
    assert (res.shape is None) == (method == "naive")


def test_sr_with_different_models_and_cancel():
    lr = _bumpy_sphere(24, 24)
    res = run_sync(super_resolve_normals(lr, size=(40, 36), shape_model="bicubic",
                                         detail_model="lanczos"))
    assert res.normals.shape == (40, 36) and res.models == ("bicubic", "lanczos")
    with pytest.raises(Cancelled):
        run_sync(super_resolve_normals(lr, scale=2, shape_model="bicubic"),
                 should_stop=lambda: True)
    with pytest.raises(InputError, match="method"):
        run_sync(super_resolve_normals(lr, scale=2, method="magic"))


# --- real data -------------------------------------------------------------------------------

def test_diligent_16_bit_map_splits_and_recombines_exactly():
    d = shared_datasets("normals/diligent/cat")
    nmap = load_normal_map(d / "normal_map.png", mask=d / "mask.png")
    assert nmap.mask.sum() == (cv2.imread(str(d / "mask.png"), 0) > 0).sum()
    assert nmap.convention.encoding == "unit" and not nmap.warnings
    parts = split(nmap, 3.0)
    err = angular_error_map(recombine(parts.shape, parts.detail), nmap)
    assert np.nanmax(err) < 0.01
