"""Engine: LIIF fast path == official reference, tiled == untiled, jobs, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from core.data import ImageData, Units
from core.engine import SROptions, output_size, super_resolve
from core.engine.arbitrary import run_arbitrary
from core.engine.fixed import run_tiled, tile_grid
from core.errors import Cancelled, InputError, ResourceError, ScaleError
from core.jobs import Progress, run_sync
from core.models.archs.liif import LIIF
from core.models.contracts import FixedScaleSR
from tests.core.liif_reference import batched_predict


class TinyEncoder(nn.Module):
    out_dim = 8
    receptive_field = 3

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(8, 8, 3, padding=1))

    def forward(self, x):
        return self.body(x)


class TinySR(FixedScaleSR):
    """Three 3x3 convs + pixel shuffle: receptive field 3 LR pixels."""

    receptive_field = 4

    def __init__(self, scale=2, in_channels=3):
        super().__init__()
        self.scale = scale
        self.in_channels = in_channels
        c = in_channels
        self.net = nn.Sequential(nn.Conv2d(c, 16, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(16, c * scale * scale, 3, padding=1),
                                 nn.PixelShuffle(scale))

    def forward(self, x):
        return self.net(x)


@pytest.fixture(scope="module")
def tiny_liif():
    torch.manual_seed(0)
    return LIIF(TinyEncoder(), hidden_list=[16, 16]).eval()


@pytest.mark.parametrize("out_hw", [(46, 62), (23, 31), (12, 15), (80, 41), (161, 217)])
@pytest.mark.parametrize("block", [None, 6])
def test_liif_fast_path_equals_official_reference(tiny_liif, out_hw, block):
    torch.manual_seed(1)
    x = torch.rand(1, 3, 23, 31)
    ref = batched_predict(tiny_liif, x, out_hw, bsize=997)
    out = run_sync(run_arbitrary(tiny_liif, x, out_hw, block, chunk=503))
    assert out.shape == ref.shape == (1, 3, *out_hw)
    assert (out - ref).abs().max().item() < 1e-4


def test_liif_ablation_flags_match_reference():
    torch.manual_seed(2)
    x = torch.rand(1, 3, 9, 11)
    for flags in [dict(local_ensemble=False), dict(feat_unfold=False), dict(cell_decode=False)]:
        m = LIIF(TinyEncoder(), hidden_list=[16], **flags).eval()
        ref = batched_predict(m, x, (27, 20))
        out = run_sync(run_arbitrary(m, x, (27, 20), None))
        assert (out - ref).abs().max().item() < 1e-4, flags


def test_liif_with_edsr_baseline_encoder_matches_reference():
    from core.models.archs.liif import default_liif_spec, liif_from_spec

    torch.manual_seed(3)
    m = liif_from_spec(default_liif_spec(encoder_args={"n_resblocks": 2, "n_feats": 16})).eval()
    x = torch.rand(1, 3, 20, 24)
    ref = batched_predict(m, x, (61, 49))
    out = run_sync(run_arbitrary(m, x, (61, 49), 8))
    assert (out - ref).abs().max().item() < 1e-4


def test_tile_grid_covers_exactly():
    for n, t in [(10, 3), (100, 100), (7, 100), (513, 128)]:
        spans = tile_grid(n, t)
        assert spans[0][0] == 0 and spans[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
        assert max(b - a for a, b in spans) <= t


@pytest.mark.parametrize("scale", [2, 3])
def test_tiled_equals_untiled(scale):
    torch.manual_seed(4)
    model = TinySR(scale).eval()
    x = torch.rand(1, 3, 53, 47)
    full = run_sync(run_tiled(model, x, scale, None, margin=4))
    tiled = run_sync(run_tiled(model, x, scale, 16, margin=8, band=4))
    assert tiled.shape == full.shape
    assert (tiled - full).abs().max().item() < 1 / 255 / 10


def test_tiled_progress_counts_tiles():
    model = TinySR(2).eval()
    steps = []
    run_sync(run_tiled(model, torch.rand(1, 3, 40, 40), 2, 16, margin=4), on_progress=steps.append)
    assert steps[-1].done == steps[-1].total == 9


def test_cancel_stops_between_yields_and_runs_cleanup():
    cleaned = []

    def job():
        try:
            for i in range(10):
                yield Progress(i, 10)
        finally:
            cleaned.append(True)
        return "finished"

    seen = []
    with pytest.raises(Cancelled):
        run_sync(job(), on_progress=seen.append, should_stop=lambda: len(seen) >= 3)
    assert len(seen) == 3 and cleaned == [True]


def test_super_resolve_job_cancel_mid_run():
    data = ImageData(np.random.rand(64, 64, 3).astype(np.float32))
    job = super_resolve(TinySR(2).eval(), data, scale=2,
                        options=SROptions(tile=16, precision="fp32"))
    seen = []
    with pytest.raises(Cancelled):
        run_sync(job, on_progress=seen.append, should_stop=lambda: len(seen) >= 2)


@pytest.mark.parametrize("bad", [0, -2, float("nan"), float("inf"), 1e6, "abc"])
def test_bad_scales_are_scale_errors(bad):
    with pytest.raises(ScaleError) as err:
        output_size(10, 10, scale=bad)
    assert "scale" in str(err.value)


def test_bad_sizes():
    for size in [(0, 5), (-1, 4), (10**7, 10)]:
        with pytest.raises(ScaleError):
            output_size(10, 10, size=size)
    with pytest.raises(ScaleError):
        output_size(10, 10)
    assert output_size(10, 20, scale=2.5) == (25, 50)
    assert output_size(10, 20, scale=(2, 3)) == (20, 60)
    assert output_size(10, 20, size=(7, 9)) == (7, 9)


def test_huge_output_is_refused_before_allocating(tiny_liif, monkeypatch):
    data = ImageData(np.random.rand(256, 256, 3).astype(np.float32))
    with pytest.raises(ResourceError) as err:  # the pixel budget (100 MP) first
        run_sync(super_resolve(tiny_liif, data, scale=900))
    assert "above the budget of 100.0 megapixels" in str(err.value)
    monkeypatch.setenv("SRW_MAX_PIXELS", str(10**12))  # budget raised: memory still guards
    with pytest.raises(ResourceError) as err:
        run_sync(super_resolve(tiny_liif, data, scale=900))
    assert "memory" in str(err.value)


def test_nan_pixels_are_refused(tiny_liif):
    px = np.random.rand(8, 8, 3).astype(np.float32)
    px[2, 3, 1] = np.nan
    with pytest.raises(InputError) as err:
        run_sync(super_resolve(tiny_liif, ImageData(px), scale=2))
    assert "NaN" in str(err.value)


def test_arbitrary_scale_any_size_and_non_square(tiny_liif):
    data = ImageData(np.random.rand(10, 14, 3).astype(np.float32))
    for kw in [dict(scale=1.7), dict(scale=(2, 3.5)), dict(size=(31, 17)), dict(scale=30)]:
        res = run_sync(super_resolve(tiny_liif, data, options=SROptions(precision="fp32"), **kw))
        h, w = output_size(10, 14, **kw)
        assert res.image.shape == (h, w, 3)
        assert np.isfinite(res.image.pixels).all()


def test_fixed_model_on_gray_and_other_scale():
    torch.manual_seed(5)
    model = TinySR(2).eval()
    gray = ImageData(np.random.rand(12, 10, 1).astype(np.float32), kind="gray",
                     units=Units.for_dtype("uint8"))
    res = run_sync(super_resolve(model, gray, scale=2, options=SROptions(precision="fp32")))
    assert res.image.shape == (24, 20, 1)
    assert any("replicated" in n for n in res.notes)
    res = run_sync(super_resolve(model, gray, scale=3, options=SROptions(precision="fp32")))
    assert res.image.shape == (36, 30, 1)
    assert any("fixed at x2" in n for n in res.notes)


def test_bf16_close_to_fp32(tiny_liif):
    data = ImageData(np.random.rand(16, 16, 3).astype(np.float32))
    a = run_sync(super_resolve(tiny_liif, data, scale=2, options=SROptions(precision="fp32")))
    b = run_sync(super_resolve(tiny_liif, data, scale=2, options=SROptions(precision="bf16")))
    assert b.precision == "bf16"
    assert np.abs(a.image.pixels - b.image.pixels).max() < 0.05
    # the original module keeps its float32 weights
    assert next(tiny_liif.parameters()).dtype == torch.float32


def test_alpha_is_resized_with_the_image(tiny_liif):
    px = np.random.rand(8, 10, 3).astype(np.float32)
    alpha = np.linspace(0, 1, 80, dtype=np.float32).reshape(8, 10)
    res = run_sync(super_resolve(tiny_liif, ImageData(px, alpha=alpha), scale=2))
    assert res.image.alpha.shape == (16, 20)
    assert 0.0 <= res.image.alpha.min() and res.image.alpha.max() <= 1.0
    assert math.isclose(float(res.image.alpha.mean()), float(alpha.mean()), abs_tol=0.02)
