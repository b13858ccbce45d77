"""The channel commands as a user runs them: sample -> degrade -> sr (with --gt) -> compare,
info, the sr options, and one clear line on errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io as sio

from cli import main as cli_main
from core.io.channels import read_array


@pytest.fixture()
def hr(tmp_path):
    path = tmp_path / "H.mat"
    assert cli_main(["channels", "sample", "-o", str(path), "--size", "24x20x3", "--seed",
                     "3"]) == 0
    return path


def test_sample_degrade_sr_compare(tmp_path, hr, capsys):
    z = sio.loadmat(hr)["H"]
    assert z.shape == (24, 20, 3) and z.dtype == np.complex64
    lr = tmp_path / "lr.mat"
    assert cli_main(["channels", "degrade", str(hr), "-s", "2", "-o", str(lr)]) == 0
    assert sio.loadmat(lr)["H"].shape == (12, 10, 3)
    sr = tmp_path / "sr.mat"
    capsys.readouterr()
    assert cli_main(["sr", str(lr), "-m", "bicubic", "-s", "2", "-o", str(sr), "--gt", str(hr),
                     "--norm", "percentile", "--percentiles", "2,98", "-q"]) == 0
    out = capsys.readouterr()
    assert "overall: NMSE" in out.out and "interpolation on each" in out.err
    got = sio.loadmat(sr)["H"]
    assert got.shape == (24, 20, 3) and got.dtype == np.complex64
    assert cli_main(["channels", "compare", str(sr), str(hr), "--shave", "2"]) == 0
    assert "PSNR" in capsys.readouterr().out


def test_info_prints_variables_and_the_range_table(hr, capsys):
    assert cli_main(["channels", "info", str(hr), "--complex", "mag_db_phase"]) == 0
    out = capsys.readouterr().out
    assert "* H (24x20x3 complex64)" in out and "mag_dB [:, :, 2]" in out
    assert "phase [:, :, 0]" in out


def test_sr_detects_complex_npy_and_takes_axes(tmp_path, capsys):
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((3, 10, 12)) + 1j * rng.standard_normal((3, 10, 12))).astype(
        np.complex128)
    np.save(tmp_path / "z.npy", z)
    assert cli_main(["sr", str(tmp_path / "z.npy"), "-m", "nearest", "--size", "24x20", "-o",
                     str(tmp_path / "o.npz"), "--axes", "CHW", "--complex", "mag_phase",
                     "-q"]) == 0
    out, src = read_array(tmp_path / "o.npz")
    assert out.shape == (3, 20, 24) and out.dtype == np.complex128 and src.var == "data"
    np.testing.assert_allclose(out[:, ::2, ::2], z, rtol=1e-5, atol=1e-6)


def test_sr_can_finetune_first(tmp_path, hr, capsys):
    import torch

    from core.models import get_arch, save_checkpoint

    torch.manual_seed(0)
    ckpt = save_checkpoint(get_arch("edsr").build(n_resblocks=1, n_feats=8, scale=2),
                           tmp_path / "tiny_edsr_x2.pth")
    capsys.readouterr()
    assert cli_main(["sr", str(hr), "-m", str(ckpt), "-s", "2", "-o", str(tmp_path / "t.mat"),
                     "--finetune", "3", "--rgb-mode", "groups", "-q"]) == 0
    err = capsys.readouterr().err
    assert "fine-tuned" in err and "groups of 3" in err
    assert sio.loadmat(tmp_path / "t.mat")["H"].shape == (48, 40, 3)
    assert cli_main(["sr", str(hr), "-m", "nearest", "-s", "2", "-o", str(tmp_path / "x.mat"),
                     "--finetune", "2", "-q"]) == 2
    assert "nothing to learn" in capsys.readouterr().err


@pytest.mark.parametrize("extra,match", [
    (["--axes", "HWCC"], "axes 'HWCC' do not fit"),
    (["--percentiles", "1"], "--percentiles must be"),
    (["--kind", "rgb", "--axes", "HWC"], "need --kind channels"),
    (["--var", "nope"], "no variable 'nope'"),
])
def test_errors_are_one_line(tmp_path, hr, capsys, extra, match):
    code = cli_main(["sr", str(hr), "-m", "bicubic", "-s", "2", "-o", str(tmp_path / "x.mat"),
                     "-q"] + extra)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and match in err[0]
    assert not (tmp_path / "x.mat").exists()


def test_output_may_not_be_the_input(hr, capsys):
    before = hr.read_bytes()
    assert cli_main(["sr", str(hr), "-m", "bicubic", "-s", "2", "-o", str(hr), "-q",
                     "--overwrite"]) == 2
    assert "is the input file" in capsys.readouterr().err
    assert hr.read_bytes() == before


# ------------------------------------------------------------------ default axes: H x W x C


def _matlab_stack() -> np.ndarray:
    """64 x 64 x 150 (H x W x C as MATLAB holds it): smooth channels of very different ranges,
    so a channel read along the wrong axis shows up in the per-channel min/max."""
    y, x = np.mgrid[0:64, 0:64] / 63.0
    k = np.arange(150)[None, None, :]
    field = np.sin(3 * x[..., None] + 0.05 * k) * np.cos(2 * y[..., None] - 0.03 * k)
    return (field * (1 + k) + 10.0 * k).astype(np.float32)


@pytest.mark.parametrize("fmt", ["mat_v5", "mat_v73", "npy", "npy_channels"])
def test_sr_reads_a_3d_stack_as_h_w_c_whatever_the_sizes(tmp_path, capsys, fmt):
    """Before, the two largest axes were H x W: a 64x64x150 stack became 64 x 150 pixels of 64
    channels and x4 wrote 256x600x64. Now H x W x C: 150 channels of 256 x 256. (A real 3-D
    .npy is an H x W x C image unless ``--kind channels``; both give the same stack.)"""
    from tests.core.test_io_channels import write_matlab73

    a = _matlab_stack()
    src = tmp_path / ("in.npy" if fmt.startswith("npy") else "in.mat")
    if fmt == "mat_v5":
        sio.savemat(src, {"H": a})
    elif fmt == "mat_v73":
        write_matlab73(src, {"H": a})
    else:
        np.save(src, a)
    dst = tmp_path / ("out" + src.suffix)
    extra = ["--kind", "channels"] if fmt == "npy_channels" else []
    assert cli_main(["sr", str(src), "-m", "bicubic", "-s", "4", "-o", str(dst), "-q",
                     *extra]) == 0
    err = capsys.readouterr().err
    if fmt != "npy":                     # the channel path says which axes it chose, one line
        lines = [ln for ln in err.splitlines() if "axes" in ln]
        assert len(lines) == 1 and "64x64x150 float32, axes HWC" in lines[0], err
    out, info = read_array(dst)
    assert out.shape == (256, 256, 150) and out.dtype == np.float32
    if fmt.startswith("mat"):
        assert info.var == "H"
    if fmt == "mat_v5":
        assert set(k for k in sio.loadmat(dst) if not k.startswith("__")) == {"H"}
    lo, hi = a.min(axis=(0, 1)), a.max(axis=(0, 1))
    span = hi - lo
    np.testing.assert_allclose(out.min(axis=(0, 1)), lo, atol=0.03 * span.max(), rtol=0)
    np.testing.assert_allclose(out.max(axis=(0, 1)), hi, atol=0.03 * span.max(), rtol=0)
    assert np.all(np.abs(out.min(axis=(0, 1)) - lo) <= 0.05 * span)
    assert np.all(np.abs(out.max(axis=(0, 1)) - hi) <= 0.05 * span)


def test_other_layouts_come_from_axes(tmp_path, capsys):
    a = np.ascontiguousarray(_matlab_stack().transpose(2, 0, 1))   # 150 x 64 x 64 (C x H x W)
    np.save(tmp_path / "chw.npy", a)
    assert cli_main(["sr", str(tmp_path / "chw.npy"), "-m", "bicubic", "-s", "2", "-o",
                     str(tmp_path / "o.npy"), "--axes", "CHW", "-q"]) == 0
    assert "axes CHW" in capsys.readouterr().err
    assert np.load(tmp_path / "o.npy").shape == (150, 128, 128)
