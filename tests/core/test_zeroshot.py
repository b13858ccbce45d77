"""ZSSR / MZSR (core.zeroshot) on tiny settings: kernels, pairs, lr policy, Job, channels, MZSR."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.channels import channels_from_array
from core.errors import Cancelled, ConfigError, InputError, ScaleError
from core.jobs import run_sync
from core.zeroshot import ZSSRConfig, ZSSRProgress, zssr, zssr_data, zssr_stack
from core.zeroshot.kernels import (check_kernel, downscale, gaussian_kernel, load_kernel,
                                   preset_kernel)
from core.zeroshot.mzsr import (MZSRConfig, load_mzsr, load_mzsr_config, make_task, meta_step,
                                mzsr_adapt)
from core.zeroshot.mzsr_train import train_mzsr
from core.zeroshot.net import ZSSRNet, geometric, inverse_geometric
from core.zeroshot.internal import _lr_should_drop, stage_scales

TINY = ZSSRConfig(scale=2, max_iters=6, crop=16, width=8, depth=3, back_projection=2,
                  precision="fp32")


def _smooth(h: int = 24, w: int = 24, c: int = 3) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    chans = [0.5 + 0.4 * np.sin(x / (3 + i) + y / (4 + i)) for i in range(c)]
    return np.stack(chans, -1).astype(np.float32)


def test_kernels_presets_and_checks(tmp_path: Path) -> None:
    k = gaussian_kernel(2.0, 0.5, math.pi / 3, 15)
    assert k.shape == (15, 15) and abs(k.sum() - 1) < 1e-5 and not np.allclose(k, k.T)
    assert np.allclose(preset_kernel("gauss2.0"), preset_kernel("gauss2.0").T)
    with pytest.raises(InputError, match="normalised"):
        check_kernel(np.ones((3, 3)))
    with pytest.raises(InputError, match="2-D"):
        check_kernel(np.ones(5) / 5)
    np.save(tmp_path / "k.npy", k)
    assert np.allclose(load_kernel(str(tmp_path / "k.npy")), k)
    with pytest.raises(InputError, match="preset"):
        load_kernel("nope")


def test_kernel_degradation_is_blur_then_subsample() -> None:
    x = torch.rand(1, 2, 12, 12)
    delta = torch.zeros(3, 3)
    delta[1, 1] = 1
    assert torch.allclose(downscale(x, 2, delta), x[..., 0::2, 0::2])
    assert torch.allclose(downscale(x, 3, delta), x[..., 1::3, 1::3])
    with pytest.raises(ScaleError):
        downscale(x, 2.5, delta)


def test_geometric_inverse_and_stages() -> None:
    x = torch.arange(12.0).reshape(1, 1, 3, 4)
    for t in range(8):
        assert torch.equal(inverse_geometric(geometric(x, t), t), x)
    assert len({tuple(geometric(x, t).flatten().tolist()) for t in range(8)}) == 8
    assert stage_scales(8, True) == [2, 4, 8]
    assert stage_scales(20, True) == [2, 4, 8, 16, 20]
    assert stage_scales(3, False) == [3]


def test_lr_policy_linear_fit() -> None:
    rng = np.random.default_rng(0)
    flat = np.full(256, 0.1) + 0.01 * rng.standard_normal(256)
    flat -= np.polyval(np.polyfit(np.arange(256), flat, 1), np.arange(256)) - 0.1  # slope 0
    assert _lr_should_drop(list(flat), 256, 1.5)
    assert not _lr_should_drop(list(np.linspace(1, 0.1, 256) + 0.01 * rng.standard_normal(256)),
                               256, 1.5)


def test_zssr_job_progress_shape_and_back_projection() -> None:
    img = _smooth()
    seen: list[ZSSRProgress] = []
    res = run_sync(zssr(img, replace(TINY, back_projection=10)), on_progress=seen.append)
    assert res.image.shape == (48, 48, 3) and res.image.dtype == np.float32
    assert res.iterations == 6 and len(res.losses) == 6 and res.lrs[0] == 1e-3
    assert any("loss" in p.message and "lr" in p.message for p in seen)
    assert seen[-1].done == seen[-1].total
    # back-projection: the output degraded again gives the input back
    down = downscale(torch.from_numpy(res.image).permute(2, 0, 1)[None], 2, size=(24, 24))
    assert float((down[0].permute(1, 2, 0).numpy() - img).__abs__().max()) < 0.02


def test_zssr_cancel() -> None:
    job = zssr(_smooth(), replace(TINY, max_iters=1000))
    with pytest.raises(Cancelled):
        run_sync(job, should_stop=lambda: True)


def test_zssr_lr_drops_then_stops_early() -> None:
    noise = np.random.default_rng(1).random((24, 24, 1)).astype(np.float32)
    cfg = replace(TINY, max_iters=400, lr_window=20, lr_check_every=5, min_lr=5e-4,
                  ensemble=False)
    res = run_sync(zssr(noise, cfg))
    assert res.iterations < 400 and res.lrs[-1] == pytest.approx(1e-3)
    assert min(res.lrs) == res.lrs[-1]


def test_zssr_kernel_gradual_and_bad_input() -> None:
    img = _smooth(20, 20, 1)
    k = preset_kernel("gauss1.0")
    res = run_sync(zssr(img, replace(TINY, ensemble=False), kernel=k))
    assert res.image.shape == (40, 40, 1) and "kernel" in res.notes[0]
    res = run_sync(zssr(img[:10, :10], replace(TINY, scale=8, max_iters=3, ensemble=False)))
    assert res.image.shape == (80, 80, 1) and "gradual x2, x4, x8" in res.notes[0]
    with pytest.raises(InputError, match="at least 16 x 16"):
        run_sync(zssr(img[:10], replace(TINY, scale=4)))
    with pytest.raises(ScaleError, match="> 1"):
        run_sync(zssr(img, replace(TINY, scale=1.0)))
    with pytest.raises(InputError, match="gradual"):
        run_sync(zssr(img, replace(TINY, scale=4, gradual=True), kernel=k))
    with pytest.raises(InputError, match="normalised"):
        run_sync(zssr(img, TINY, kernel=k * 2))


def test_zssr_channel_stack_with_finetune() -> None:
    arr = np.random.default_rng(2).standard_normal((20, 20, 3)) * 5 + 3
    data = channels_from_array(arr, axes="HWC")
    seen: list = []
    out, res = run_sync(zssr_data(data, replace(TINY, max_iters=5, ensemble=False), None, 2),
                        on_progress=seen.append)
    assert out.kind == "channels" and out.pixels.shape == (40, 40, 3)
    assert out.units is data.units and "3 images, one net" in res.notes[0]
    assert sum("fine-tune" in p.message for p in seen) == 3
    res = run_sync(zssr_stack([_smooth(16, 16, 1)] * 2, replace(TINY, max_iters=3, ensemble=False)))
    assert res.image.shape == (32, 32, 1, 2)


def test_mzsr_meta_step_first_and_second_order() -> None:
    torch.manual_seed(0)
    hr = torch.rand(2, 3, 16, 16)
    task = make_task(hr, torch.from_numpy(preset_kernel("gauss1.0")), 2)
    assert [tuple(t.shape[-2:]) for t in task] == [(8, 8), (8, 8), (16, 16), (16, 16)]
    for first in (True, False):
        net = ZSSRNet(3, 8, 3)
        before = [p.detach().clone() for p in net.parameters()]
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        loss = meta_step(net, opt, [task, task], MZSRConfig(inner_steps=2, first_order=first))
        assert math.isfinite(loss)
        assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_mzsr_multi_step_loss_is_the_mean_of_the_counted_steps() -> None:
    """loss_steps [1, 2]: the first-order meta-gradient is the mean of the query gradients at
    the weights after inner step 1 and after step 2; a bicubic task (kernel None) works."""
    from core.zeroshot.mzsr import _fast_loss, adapt_params

    torch.manual_seed(0)
    task = make_task(torch.rand(2, 3, 16, 16), None, 2)
    son_up, lr, lr_up, hr = task
    cfg = MZSRConfig(inner_steps=2, loss_steps=(1, 2), precision="fp32")
    net = ZSSRNet(3, 8, 3)
    params = dict(net.named_parameters())
    want = None
    for n in (1, 2):
        fast = adapt_params(net, params, son_up, lr, n, cfg.inner_lr, True)
        g = torch.autograd.grad(_fast_loss(net, fast, lr_up, hr, None), list(fast.values()))
        want = [x / 2 for x in g] if want is None else [w + x / 2 for w, x in zip(want, g)]
    opt = torch.optim.SGD(net.parameters(), lr=0.0)   # keep the weights: look at the grads
    meta_step(net, opt, [task], cfg)
    for p, w in zip(net.parameters(), want):
        assert torch.allclose(p.grad, w, atol=1e-6)
    with pytest.raises(ConfigError, match="loss_steps"):
        load_mzsr_config(None, loss_steps=[0, 5])
    with pytest.raises(ConfigError, match="bicubic_p"):
        load_mzsr_config(None, bicubic_p=1.5)
    assert load_mzsr_config(None, loss_steps=[1, 5]).loss_steps == (1, 5)


def test_mzsr_config_train_and_adapt(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    folder = tmp_path / "train"
    folder.mkdir()
    for i in range(2):
        cv2.imwrite(str(folder / f"{i}.png"), (rng.random((24, 24, 3)) * 255).astype(np.uint8))
    (tmp_path / "c.yaml").write_text(f"name: t\ntrain: [{folder}]\nhr_patch: 16\nwidth: 8\n"
                                     "depth: 3\npretrain_steps: 2\nmeta_steps: 2\nmeta_batch: 2\n"
                                     "task_batch: 1\npretrain_batch: 2\nprecision: fp32\n")
    cfg = load_mzsr_config(tmp_path / "c.yaml")
    assert cfg.inner_lr == 1e-2 and cfg.inner_steps == 5 and cfg.first_order
    with pytest.raises(ConfigError, match="unknown"):
        load_mzsr_config(None, bogus=1)
    with pytest.raises(ConfigError, match="hr_patch"):
        load_mzsr_config(None, hr_patch=18)
    path = run_sync(train_mzsr(cfg, tmp_path / "run"))
    net, info = load_mzsr(path)
    assert info["phase"] == "done" and info["scale"] == 2
    assert (tmp_path / "run/pretrain.pt").exists()
    log = (tmp_path / "run/log.csv").read_text().splitlines()
    assert len(log) == 5 and log[-1].startswith("meta,2,")
    y = run_sync(mzsr_adapt(net, _smooth(12, 12), 2, preset_kernel("gauss1.0"), steps=2))
    assert y.shape == (24, 24, 3)
    with pytest.raises(InputError, match="too small"):
        run_sync(mzsr_adapt(net, _smooth(6, 6), 2))


def test_mzsr_presets_use_variances() -> None:
    """mzsr-g<lambda> / mzsr-ani: the paper's lambdas are covariance eigenvalues (variances)."""
    r = np.arange(15) - 7.0
    xx, yy = np.meshgrid(r, r)
    for name, (v1, v2) in {"mzsr-g2.0": (2.0, 2.0), "mzsr-ani": (4.0, 1.0)}.items():
        k = preset_kernel(name).astype(np.float64)
        cov = np.array([[(k * xx * xx).sum(), (k * xx * yy).sum()],
                        [(k * xx * yy).sum(), (k * yy * yy).sum()]])
        assert np.sort(np.linalg.eigvalsh(cov))[::-1] == pytest.approx([v1, v2], rel=0.03), name
    # too narrow for moments on a pixel grid: compare with exp(-r^2 / (2 lambda)) sampled
    ref = np.exp(-(xx ** 2 + yy ** 2) / (2 * 0.2))
    assert np.allclose(preset_kernel("mzsr-g0.2"), ref / ref.sum(), atol=1e-6)
