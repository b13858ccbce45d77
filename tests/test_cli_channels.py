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
