"""LAM (core.attribution) against a straight port of the official code, for every model kind."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.attribution import LAMOptions, diffusion_index, gini_index, lam, lam_models
from core.attribution.path import blur_path, gaussian_kernel, path_kernels
from core.attribution.render import colorize, lam_overlay, lam_panel
from core.data import ImageData, Region
from core.errors import Cancelled, InputError
from core.jobs import run_sync
from core.models.archs.edsr import EDSR
from core.models.contracts import FixedScaleSR
from tests.core import lam_reference as ref


# tiny models on a shared 2-core CPU: one torch thread (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _lr(h: int, w: int, seed: int = 0, c: int = 3) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.random((h, w, c)).astype(np.float32), (5, 5), 1.0)
    return img.reshape(h, w, c)


@pytest.fixture(scope="module")
def tiny_edsr() -> EDSR:
    torch.manual_seed(0)
    return EDSR(n_resblocks=2, n_feats=16, scale=2).eval()


@pytest.fixture(scope="module")
def tiny_liif():
    from core.models.archs.liif import default_liif_spec, liif_from_spec

    torch.manual_seed(1)
    return liif_from_spec(default_liif_spec(hidden=32, depth=2,
                                            encoder_args={"n_resblocks": 1, "n_feats": 8})).eval()


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def _run(model, lr, x, y, size=16, **kw):
    opts = LAMOptions(**{"with_sr": False, "device": "cpu", **kw.pop("options", {})})
    return run_sync(lam(model, ImageData(lr), Region(x, y, size, size), options=opts, **kw))


# --- the model-free parts ------------------------------------------------------------------

def test_kernels_path_and_gini_match_the_official_code():
    np.testing.assert_allclose(gaussian_kernel(9, 1.2), ref.isotropic_gaussian_kernel(9, 1.2))
    lr = _lr(20, 23)
    kernels = path_kernels()
    imgs, ders = blur_path(lr, range(50), kernels)
    ref_imgs, ref_ders = ref.gaussian_blur_path(1.2, 50, 9)(lr)
    np.testing.assert_array_equal(imgs, ref_imgs)
    np.testing.assert_array_equal(ders, ref_ders)
    # a box of the path equals the same box of the whole-image path (the filter sees around it)
    bi, bd = blur_path(lr, [3, 40], kernels, box=(2, 15, 0, 9))
    np.testing.assert_allclose(bi, imgs[[3, 40], :, 2:15, 0:9], atol=1e-6)
    np.testing.assert_allclose(bd, ders[[3, 40], :, 2:15, 0:9], atol=1e-5)
    v = np.random.default_rng(0).standard_normal(300)
    assert gini_index(v) == pytest.approx(ref.gini(v.copy()), abs=1e-12)
    assert gini_index(np.ones(10)) == pytest.approx(0.0, abs=1e-9)
    assert diffusion_index(0.25) == pytest.approx(75.0)


# --- against the reference ------------------------------------------------------------------

@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_fixed_scale_matches_the_reference(tiny_edsr, precision):
    lr = _lr(20, 20)
    r = ref.reference_lam(tiny_edsr, lr, 14, 10, 16)
    res = _run(tiny_edsr, lr, 14, 10, options={"precision": precision, "rule": "riemann"})
    assert res.map.shape == (20, 20) and res.map.max() == pytest.approx(1.0)
    assert _corr(res.map, r["map"]) >= 0.99
    assert res.diffusion_index == pytest.approx(r["di"], abs=0.5)
    if precision == "fp32":
        np.testing.assert_allclose(res.attribution, np.moveaxis(r["grad"], 0, 2), atol=1e-5)
        assert res.gini == pytest.approx(r["gini"], abs=1e-5)


def test_receptive_field_crop_is_exact(tiny_edsr):
    """A window near a corner of a larger image: only the LR box within the receptive field
    is computed, and the map still equals the whole-image reference."""
    lr = _lr(44, 40, seed=3)
    r = ref.reference_lam(tiny_edsr, lr, 2, 4, 8, fold=6)
    res = _run(tiny_edsr, lr, 2, 4, size=8,
               options={"precision": "fp32", "fold": 6, "rule": "riemann"})
    np.testing.assert_allclose(res.attribution, np.moveaxis(r["grad"], 0, 2), atol=1e-5)
    assert not res.map[30:, 30:].any()


class _NoSplit(FixedScaleSR):
    """The same network without the tail split: LAM runs its full forward."""

    def __init__(self, net: EDSR, margin: int | None = None):
        super().__init__()
        self.net, self.scale, self.receptive_field = net, net.scale, net.receptive_field
        if margin is not None:   # a split with a forced (too small) tail margin
            self.tail_margin, self.features, self.tail_from = margin, net.features, net.tail_from

    def forward(self, x):
        return self.net(x)


@pytest.mark.parametrize("scale, lr_hw, window", [
    (4, (20, 22), (30, 38, 16)),   # the window inside the image
    (4, (20, 22), (72, 64, 16)),   # at the bottom-right edge (block clipped)
    (3, (24, 26), (61, 5, 12)),
    (2, (44, 40), (70, 76, 8)),    # receptive-field box not at the origin
])
def test_tail_split_is_exact(scale, lr_hw, window):
    """EDSR's tail (the upsampler) runs only on the body features around the window: the
    attribution equals the full forward's up to float rounding, and the tail saw a crop."""
    torch.manual_seed(scale)
    net = EDSR(n_resblocks=2, n_feats=8, scale=scale).eval()
    seen = []
    hook = net.tail.register_forward_hook(lambda m, i, o: seen.append(tuple(i[0].shape[-2:])))
    lr = _lr(*lr_hw, seed=scale)
    x, y, size = window
    opts = {"precision": "fp32", "fold": 6, "rule": "riemann"}
    split = _run(net, lr, x, y, size, options=opts)
    hook.remove()
    whole = _run(_NoSplit(net), lr, x, y, size, options=opts)
    tol = 1e-5 * np.abs(whole.attribution).max()
    np.testing.assert_allclose(split.attribution, whole.attribution, rtol=1e-4, atol=tol)
    np.testing.assert_allclose(split.map, whole.map, atol=1e-5)
    assert seen and all(h < lr_hw[0] and w < lr_hw[1] for h, w in seen)
    # the margin matters: one LR pixel short of the tail's exact context (ceil(1 + 1/2 + 1/4)
    # = 2 for x4, 2 for x2 and x3; tail_margin adds a safety pixel) the crop's padding leaks in
    assert net.tail_margin == 3
    short = _run(_NoSplit(net, margin=1), lr, x, y, size, options=opts)
    assert np.abs(short.attribution - whole.attribution).max() > 100 * tol


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_edsr_receptive_field_is_the_exact_margin_per_side(scale):
    """LAM's box (and tiling) use ``receptive_field`` as the context on every side: an LR crop
    with that margin gives the footprint's output exactly, one pixel less does not."""
    torch.manual_seed(scale)
    net = EDSR(n_resblocks=2, n_feats=8, scale=scale).eval()
    x = torch.rand(1, 3, 40, 40)
    a, b = 18, 21   # the LR footprint [a, b) in both axes

    def crop_err(m: int) -> float:
        with torch.no_grad():
            out = net(x[..., a - m:b + m, a - m:b + m])[..., m * scale:(m + b - a) * scale,
                                                        m * scale:(m + b - a) * scale]
            return float((out - full[..., a * scale:b * scale, a * scale:b * scale]).abs().max())

    with torch.no_grad():
        full = net(x)
    rf = net.receptive_field
    assert rf == 1 + 2 * 2 + 1 + 2
    assert crop_err(rf) < 1e-6 < crop_err(rf - 1)   # rounding is ~1e-7, a short margin more


@pytest.mark.parametrize("lr_hw, scale, window", [
    ((16, 18), 2.5, (20, 12, 16)),   # fractional scale, whole image encoded
    ((34, 36), 2, (4, 2, 8)),        # window near a corner: only the reachable box encoded
])
def test_arbitrary_scale_model_matches_the_reference(tiny_liif, lr_hw, scale, window):
    lr = _lr(*lr_hw, seed=5)
    out_hw = (round(lr_hw[0] * scale), round(lr_hw[1] * scale))
    x, y, size = window
    r = ref.reference_lam(tiny_liif, lr, x, y, size, out_hw=out_hw, fold=10)
    res = _run(tiny_liif, lr, x, y, size, scale=scale,
               options={"precision": "fp32", "fold": 10, "rule": "riemann"})
    assert res.out_size == out_hw
    assert _corr(res.map, r["map"]) >= 0.999
    np.testing.assert_allclose(res.attribution, np.moveaxis(r["grad"], 0, 2), atol=1e-5)


@pytest.mark.shared
def test_lam_demo_image_with_automatic_precision(tiny_edsr):
    """The official demo case: 7.png (256x256 HR -> 64x64 LR), window (110, 150), x4,
    official defaults, automatic precision (bf16 on CPUs that run it fast)."""
    from core.io import load
    from core.resize import degrade
    from tests.helpers import shared_datasets

    hr = load(shared_datasets("lam_images") / "7.png").pixels
    lr = degrade(hr, 4).astype(np.float32)
    torch.manual_seed(0)
    m = EDSR(n_resblocks=1, n_feats=8, scale=4).eval()
    r = ref.reference_lam(m, lr, 110, 150, 16)
    res = _run(m, lr, 110, 150, options={"precision": "auto"})
    assert _corr(res.map, r["map"]) >= 0.99
    assert res.diffusion_index == pytest.approx(r["di"], abs=0.5)


def test_interpolation_baseline_and_edge_window():
    from core.models.archs.interp import Interpolation

    bic = Interpolation("bicubic")
    lr = _lr(12, 12, seed=7)
    # window touching the bottom-right corner: the official crop is cut short there
    r = ref.reference_lam(bic, lr, 32, 32, 16, out_hw=(48, 48), fold=8)
    res = _run(bic, lr, 32, 32, scale=4, options={})
    assert _corr(res.map, r["map"]) >= 0.999
    assert res.precision == "fp32" and any("interpolation" in n for n in res.notes)
    assert not res.map[:6, :6].any()          # bicubic only reaches a few pixels


def test_gray_image_with_rgb_model_and_progress_per_batch(tiny_edsr):
    lr = _lr(12, 12, seed=2, c=1)
    seen = []
    opts = LAMOptions(fold=9, batch=4, with_sr=True, device="cpu", precision="fp32",
                      rule="riemann")
    res = run_sync(lam(tiny_edsr, ImageData(lr, kind="gray"), Region(4, 4, 8, 8), options=opts),
                   on_progress=seen.append)
    assert res.map.shape == (12, 12) and np.isfinite(res.map).all() and res.batch == 4
    # 9 steps at most 4 per pass: 3 even passes
    assert [p.done for p in seen[:4]] == [0, 3, 6, 9] and seen[-1].done == seen[-1].total == 10
    assert res.sr is not None and res.sr.pixels.shape == (24, 24, 1)


def test_y_only_model_runs():
    from core.models.archs.fsrcnn import FSRCNN

    torch.manual_seed(0)
    m = FSRCNN(scale=2, d=8, s=4, m=1).eval()
    res = _run(m, _lr(10, 10), 4, 4, size=8, options={"steps": 4, "precision": "fp32"})
    assert res.map.max() == pytest.approx(1.0) and np.isfinite(res.attribution).all()


def test_cancel_stops_between_batches(tiny_edsr):
    job = lam(tiny_edsr, ImageData(_lr(12, 12)), Region(0, 0, 8, 8),
              options=LAMOptions(batch=2, with_sr=False, device="cpu"))
    calls = []
    with pytest.raises(Cancelled):
        run_sync(job, on_progress=calls.append, should_stop=lambda: len(calls) >= 2)
    assert len(calls) == 2


class _NoGrad(FixedScaleSR):
    scale = 2

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 12, 3, padding=1)

    def forward(self, x):
        with torch.no_grad():
            return torch.nn.functional.pixel_shuffle(self.conv(x), 2)


@pytest.mark.parametrize("window, message", [
    (Region(20, 0, 8, 8), "outside"), (Region(0, 0, 32, 32), "larger"),
    (Region(0, 0, 8, 4), "square"), (Region(0, 0, 1, 1), "at least 2")])
def test_bad_windows_are_clear_errors(tiny_edsr, window, message):
    with pytest.raises(InputError, match=message):
        run_sync(lam(tiny_edsr, ImageData(_lr(12, 12)), window))


def test_non_differentiable_model_says_so():
    with pytest.raises(InputError, match="not differentiable"):
        _run(_NoGrad().eval(), _lr(8, 8), 2, 2, size=4, options={"fold": 2})


def test_overlay_rendering():
    rgb = colorize(np.array([[0.0, 1.0]]))
    # matplotlib's 256-entry seismic: 0.5 falls on entry 128, just past white
    assert tuple(rgb[0, 0]) == (255, 253, 253) and tuple(rgb[0, 1]) == (127, 0, 0)
    amap = np.zeros((8, 8), np.float32)
    amap[3, 3] = 1
    out = lam_overlay(amap, _lr(8, 8), (32, 32), alpha=1.0, window=Region(12, 12, 4, 4))
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    assert tuple(out[12, 14]) == (255, 0, 0)          # the window's red edge
    assert tuple(out[30, 2]) == (255, 253, 253)       # map 0 -> white at full opacity


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(tiny_edsr):
    lr = _lr(16, 16)
    cpu = _run(tiny_edsr, lr, 4, 6, options={"precision": "fp32", "steps": 10})
    gpu = _run(tiny_edsr, lr, 4, 6, options={"precision": "fp32", "steps": 10, "device": "cuda"})
    assert _corr(cpu.map, gpu.map) >= 0.999


def test_panel_uses_sr_when_present(tiny_edsr):
    lr = _lr(8, 8)
    res = run_sync(lam(tiny_edsr, ImageData(lr), Region(2, 2, 8, 8),
                       options=LAMOptions(steps=2, device="cpu")))
    panel = lam_panel(res, lr)
    assert panel.shape == (16, 48, 3)


def test_several_models_side_by_side(tiny_edsr):
    from core.models.archs.interp import Interpolation

    lr = _lr(12, 12)
    res = run_sync(lam_models([("tiny", tiny_edsr), ("bicubic", Interpolation("bicubic"))],
                              ImageData(lr), Region(6, 6, 8, 8), scale=2,
                              options=LAMOptions(steps=4, with_sr=False, device="cpu")))
    assert [r.model for r in res] == ["tiny", "bicubic"]
    assert res[0].diffusion_index > res[1].diffusion_index   # EDSR looks wider than bicubic
