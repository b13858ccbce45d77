"""Channel data, continued from ``test_channels.py``: SR of every channel (modes, progress,
cancel), the scores and fine-tuning on the data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.channels import channel_scores, degrade_channels, format_scores
from core.channels import sample_channels
from core.channels import plan_channels, super_resolve_channels
from core.channels import array_from_channels, channel_meta, channels_from_array
from core.engine import SROptions
from core.errors import Cancelled, InputError, ShapeError
from core.jobs import run_sync
from core.models import get_arch, load_model
from core.models.archs.liif import default_liif_spec, liif_from_spec
from tests.core.channels_util import RNG, _complex


# ------------------------------------------------------------------ SR of every channel


@pytest.fixture(scope="module")
def tiny_models():
    torch.manual_seed(0)
    spec = default_liif_spec(hidden=8, depth=2, encoder_args={"n_resblocks": 1, "n_feats": 8})
    return {
        "bicubic": load_model("bicubic").module,
        "fsrcnn": get_arch("fsrcnn").build(scale=2, d=8, s=4, m=1).eval(),
        "edsr": get_arch("edsr").build(n_resblocks=1, n_feats=8, scale=2).eval(),
        "liif": liif_from_spec(spec).eval(),
    }


def test_plans(tiny_models):
    assert plan_channels(tiny_models["fsrcnn"], 4).groups == ((0,), (1,), (2,), (3,))
    rep = plan_channels(tiny_models["edsr"], 2, "replicate")
    assert rep.groups == ((0, 0, 0), (1, 1, 1)) and rep.average
    grp = plan_channels(tiny_models["edsr"], 5, "groups")
    assert grp.groups == ((0, 1, 2), (3, 4, 4)) and "repeats channel 4" in grp.note
    with pytest.raises(InputError, match="channel mode"):
        plan_channels(tiny_models["edsr"], 5, "stack")


@pytest.mark.parametrize("name", ["bicubic", "fsrcnn", "edsr", "liif"])
@pytest.mark.parametrize("mode", ["replicate", "groups"])
def test_every_model_and_mode_super_resolves_every_channel(tiny_models, name, mode):
    d = channels_from_array(_complex((10, 12, 4)))
    steps = []
    res = run_sync(super_resolve_channels(tiny_models[name], d, scale=2.5, rgb_mode=mode),
                   on_progress=steps.append)
    assert res.image.shape == (25, 30, 8) and np.isfinite(res.image.pixels).all()
    assert steps[-1].done == steps[-1].total == 8 and all(s.total == 8 for s in steps)
    assert all(s.message.startswith(("channel", "8 model", "4 model", "3 model"))
               or "run(s)" in s.message for s in steps)
    back = array_from_channels(res.image)
    assert back.shape == (25, 30, 4) and back.dtype == np.complex64
    assert any(mode in n or "each" in n for n in res.notes)


def test_replicate_equals_single_channel_runs(tiny_models):
    d = channels_from_array(RNG.random((9, 8, 3)).astype(np.float32))
    edsr = tiny_models["edsr"]
    fp32 = SROptions(precision="fp32")
    res = run_sync(super_resolve_channels(edsr, d, scale=2, batch=2, options=fp32))
    with torch.inference_mode():
        for k in range(3):
            x = torch.from_numpy(np.repeat(d.pixels[None, None, :, :, k], 3, axis=1))
            y = edsr(x).mean(dim=1)[0].numpy()
            np.testing.assert_allclose(res.image.pixels[:, :, k], y, atol=1e-5)
    one = run_sync(super_resolve_channels(edsr, d, scale=2, batch=1, options=fp32))
    np.testing.assert_allclose(one.image.pixels, res.image.pixels, atol=1e-5)


def test_bicubic_of_channels_matches_imresize_per_channel(tiny_models):
    from core.resize import imresize

    d = channels_from_array(RNG.random((11, 7, 5)))
    res = run_sync(super_resolve_channels(tiny_models["bicubic"], d, size=(20, 13)))
    np.testing.assert_allclose(res.image.pixels, imresize(d.pixels, size=(20, 13)), atol=1e-5)
    assert res.image.shape == (20, 13, 5) and res.scale == (20 / 11, 13 / 7)


def test_cancel_stops_between_channels(tiny_models):
    d = channels_from_array(RNG.random((8, 8, 6)))
    seen = []
    with pytest.raises(Cancelled):
        run_sync(super_resolve_channels(tiny_models["edsr"], d, scale=2, batch=1),
                 on_progress=seen.append, should_stop=lambda: len(seen) >= 3)
    assert seen[-1].done < 6


def test_clip_and_bad_requests(tiny_models):
    d = channels_from_array(RNG.random((8, 8, 2)))
    res = run_sync(super_resolve_channels(tiny_models["edsr"], d, scale=2, clip=True))
    assert res.image.pixels.min() >= d.pixels.min() and res.image.pixels.max() <= d.pixels.max()
    with pytest.raises(InputError, match="batch"):
        run_sync(super_resolve_channels(tiny_models["edsr"], d, scale=2, batch=0))
    bad = d.with_pixels(np.full((8, 8, 2), np.nan, np.float32))
    with pytest.raises(InputError, match="NaN"):
        run_sync(super_resolve_channels(tiny_models["edsr"], bad, scale=2))


def test_sr_result_keeps_masked_values_masked(tiny_models):
    a = RNG.random((8, 8, 2))
    a[2, 3, 1] = np.nan
    d = channels_from_array(a)
    res = run_sync(super_resolve_channels(tiny_models["bicubic"], d, scale=2))
    back = array_from_channels(res.image)
    assert np.isnan(back[4:6, 6:8, 1]).all() and np.isnan(back).sum() == 4


# ------------------------------------------------------------------ scores


def test_degrade_and_scores_in_own_units(tiny_models):
    hr = sample_channels((32, 24, 3), seed=2)
    lr = degrade_channels(hr, 2)
    assert lr.shape == (16, 12, 6) and channel_meta(lr).layout.shape == (16, 12, 3)
    perfect = channel_scores(hr, hr)
    assert np.all(np.isneginf(perfect.nmse_db)) and np.isinf(perfect.psnr_all)
    sr = run_sync(super_resolve_channels(tiny_models["bicubic"], lr, scale=2)).image
    s = channel_scores(sr, hr, shave=2)
    z_sr = array_from_channels(sr)[2:-2, 2:-2]
    z_hr = array_from_channels(hr)[2:-2, 2:-2]
    want = 10 * np.log10(np.sum(np.abs(z_sr - z_hr) ** 2) / np.sum(np.abs(z_hr) ** 2))
    assert s.nmse_db_all == pytest.approx(want, abs=1e-3)
    assert s.nmse_db.shape == (3,) and s.psnr.shape == (6,) and s.nmse_db_all < -5
    assert "NMSE" in format_scores(s)
    with pytest.raises(ShapeError):
        channel_scores(lr, hr)


# ------------------------------------------------------------------ fine-tuning on the data


def test_finetune_learns_from_the_channels_and_leaves_the_model_alone(tiny_models):
    from core.channels import FinetuneOptions, finetune_channels

    torch.manual_seed(1)
    model = get_arch("fsrcnn").build(scale=2, d=8, s=4, m=1).eval()
    before = [p.detach().clone() for p in model.parameters()]
    data = sample_channels((32, 32, 3), seed=4)
    opts = FinetuneOptions(steps=16, batch=4, lr_patch=8, learning_rate=5e-3)
    steps = []
    res = run_sync(finetune_channels(model, data, opts), on_progress=steps.append)
    assert len(res.losses) == 16 and steps[-1].done == 16 and "L1" in steps[-1].message
    assert np.mean(res.losses[-4:]) < np.mean(res.losses[:4])
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert not res.model.training
    again = run_sync(finetune_channels(model, data, opts))
    assert again.losses == res.losses  # same seed, same batches
    sr = run_sync(super_resolve_channels(res.model, data, scale=2))
    assert sr.image.shape == (64, 64, 6)


def test_finetune_arbitrary_scale_groups_and_refusals(tiny_models):
    from core.channels import FinetuneOptions, finetune_channels

    data = sample_channels((20, 20, 2), seed=5)
    opts = FinetuneOptions(steps=2, batch=2, lr_patch=6, sample_q=64, rgb_mode="groups")
    res = run_sync(finetune_channels(tiny_models["liif"], data, opts))
    assert len(res.losses) == 2 and np.isfinite(res.losses).all()
    res = run_sync(finetune_channels(tiny_models["edsr"], data, opts))
    assert len(res.losses) == 2
    with pytest.raises(InputError, match="nothing to learn"):
        run_sync(finetune_channels(tiny_models["bicubic"], data))
    with pytest.raises(InputError, match="too small"):
        run_sync(finetune_channels(tiny_models["edsr"], channels_from_array(np.ones((3, 3)))))
    with pytest.raises(Cancelled):
        run_sync(finetune_channels(tiny_models["edsr"], data, opts), should_stop=lambda: True)
