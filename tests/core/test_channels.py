"""Channel data: layout and complex split, normalisation and its exact inverse, statistics,
the multipath generator, SR of every channel (modes, progress, cancel) and the scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.channel_eval import channel_scores, degrade_channels, format_scores
from core.channel_model import multipath_channel, sample_channels
from core.channel_norm import channel_ranges
from core.channel_sr import plan_channels, super_resolve_channels
from core.channel_stats import (channel_histogram, channel_labels, channel_stats, channel_view,
                                folded_labels, format_stats_table)
from core.channels import (COMPLEX_MODES, NORM_MODES, array_from_channels, channel_meta,
                           channel_values, channels_from_array, renormalise, resolve_axes)
from core.engine import SROptions
from core.errors import Cancelled, InputError, ShapeError
from core.jobs import run_sync
from core.models import get_arch, load_model
from core.models.archs.liif import default_liif_spec, liif_from_spec

RNG = np.random.default_rng(7)


def _complex(shape, dtype=np.complex64, spread=True):
    z = RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)
    if spread:  # channels differ in range by orders of magnitude, as measured data does
        z = z * np.logspace(-3, 3, shape[-1])
    return z.astype(dtype)


def _peak_rel_err(back, orig):
    """Largest error relative to each channel's peak magnitude (last axis = channels)."""
    orig = np.asarray(orig)
    peak = np.abs(orig).reshape(-1, orig.shape[-1]).max(axis=0)
    peak = np.where(peak > 0, peak, 1.0)
    return float((np.abs(np.asarray(back, complex) - orig) / peak).max())


# ------------------------------------------------------------------ axes and layout


def test_default_axes_are_the_two_largest():
    assert resolve_axes(None, (256, 256, 150)) == "HWC"
    assert resolve_axes(None, (150, 256, 256)) == "CHW"
    assert resolve_axes(None, (26, 30, 3, 2)) == "HWCC"
    assert resolve_axes("auto", (3, 40, 2, 50)) == "CHCW"
    assert resolve_axes("chw", (5, 8, 9)) == "CHW"


@pytest.mark.parametrize("axes,shape,match", [
    ("HWC", (4, 5), "one letter per axis"), ("HHC", (4, 5, 6), "H and W once"),
    ("HWX", (4, 5, 6), "H and W once"), ("HWC", (1, 5, 6), "size 1"),
    ("CHW", (4, 5, 1), "size 1"),
])
def test_bad_axes_are_explained(axes, shape, match):
    with pytest.raises(InputError, match=match):
        resolve_axes(axes, shape)


@pytest.mark.parametrize("shape,match", [((5,), "at least 2"), ((2, 3, 4, 5, 6), "at most 4"),
                                         ((0, 4), "empty")])
def test_bad_arrays_are_explained(shape, match):
    with pytest.raises(InputError, match=match):
        channels_from_array(np.zeros(shape))
    with pytest.raises(InputError, match="expected real or complex"):
        channels_from_array(np.array([["a", "b"], ["c", "d"]]))


def test_four_d_reshape_remembers_the_mapping():
    a = RNG.standard_normal((6, 3, 7, 2)).astype(np.float32)  # H C W C
    d = channels_from_array(a, axes="HCWC")
    lay = channel_meta(d).layout
    assert d.shape == (6, 7, 6) and lay.c_axes == (1, 3) and lay.c_sizes == (3, 2)
    for k in range(d.channels):
        _, idx = lay.source_index(k)
        np.testing.assert_allclose(channel_values(d, k, k + 1)[:, :, 0], a[idx], rtol=1e-6,
                                   atol=1e-6 * np.abs(a[idx]).max())
    assert lay.label(5) == "[:, 2, :, 1]"
    back = array_from_channels(d)
    assert back.shape == a.shape and back.dtype == a.dtype
    assert _peak_rel_err(back, a) < 1e-6


def test_complex_channels_are_component_major():
    z = _complex((5, 6, 3))
    d = channels_from_array(z, complex_mode="real_imag")
    assert d.channels == 6
    assert channel_labels(d)[:4] == ["real [:, :, 0]", "real [:, :, 1]", "real [:, :, 2]",
                                     "imag [:, :, 0]"]
    assert folded_labels(d) == ["[:, :, 0]", "[:, :, 1]", "[:, :, 2]"]
    np.testing.assert_allclose(channel_values(d, 4, 5)[:, :, 0], z[:, :, 1].imag, rtol=1e-6)


# ------------------------------------------------------------------ exact inverse


_CASES = [(dt, norm, "real_imag") for dt in (np.float32, np.float64) for norm in NORM_MODES] + [
    (dt, norm, mode) for dt in (np.complex64, np.complex128) for norm in NORM_MODES
    for mode in COMPLEX_MODES]


@pytest.mark.parametrize("dtype,norm,mode", _CASES)
def test_normalise_then_denormalise_is_exact(dtype, norm, mode):
    if np.dtype(dtype).kind == "c":
        a = _complex((12, 10, 5), dtype)
    else:  # real data: the complex layout does not apply
        a = (RNG.standard_normal((12, 10, 5)) * np.logspace(-3, 3, 5)).astype(dtype)
    a[:, :, 2] = 0  # an all-zero channel
    a[3:6, 2:4, 1] = 0  # sparse zeros
    d = channels_from_array(a, complex_mode=mode, norm=norm)
    assert d.kind == "channels" and d.pixels.dtype == np.float32
    assert np.isfinite(d.pixels).all()
    if norm != "percentile":
        assert d.pixels.min() >= 0 and d.pixels.max() <= 1
    back = array_from_channels(d)
    assert back.dtype == a.dtype and back.shape == a.shape
    # float32 working pixels: the error is ~6e-8 of the range each channel is mapped with
    # (its own for channel/percentile; the range of all channels for global)
    if norm == "global":
        assert float(np.abs(back - a).max() / np.abs(a).max()) < 1e-6
    else:
        assert _peak_rel_err(back, a) < 1e-6
        assert np.all(back[:, :, 2] == 0)  # exact zeros come back as zeros (also in dB)


def test_integer_data_round_trips_exactly():
    a = RNG.integers(-3000, 3000, (9, 11, 4)).astype(np.int16)
    back = array_from_channels(channels_from_array(a))
    assert back.dtype == np.int16
    np.testing.assert_array_equal(back, a)


def test_constant_channels_map_to_zero_and_back():
    a = np.zeros((8, 8, 3))
    a[:, :, 1] = 5.5
    a[:, :, 2] = RNG.standard_normal((8, 8))
    d = channels_from_array(a)
    assert np.all(d.pixels[:, :, :2] == 0)
    np.testing.assert_array_equal(array_from_channels(d)[:, :, :2], a[:, :, :2])
    rows = channel_stats(d)
    assert rows[0].constant and rows[0].zeros == 1.0 and rows[1].constant
    assert not rows[2].constant
    assert "constant" in format_stats_table(rows)


def test_ranges_per_mode():
    v = np.stack([np.linspace(0, 1, 100), np.linspace(-50, 50, 100)], -1).reshape(10, 10, 2)
    lo, hi = channel_ranges(v, "channel")
    np.testing.assert_allclose(lo, [0, -50]) and np.testing.assert_allclose(hi, [1, 50])
    lo, hi = channel_ranges(v, "global")
    np.testing.assert_allclose(lo, [-50, -50]) and np.testing.assert_allclose(hi, [50, 50])
    lo, hi = channel_ranges(v, "percentile", (10, 90))
    assert lo[0] > 0.09 and hi[0] < 0.91
    with pytest.raises(InputError, match="percentiles"):
        channel_ranges(v, "percentile", (90, 10))
    with pytest.raises(InputError, match="normalisation"):
        channels_from_array(v, norm="minmax")


def test_global_norm_keeps_magnitudes_and_phases_apart():
    d = channels_from_array(_complex((6, 6, 4)), complex_mode="mag_phase", norm="global")
    lo, hi = np.array(d.units.lo), np.array(d.units.hi)
    assert len(set(lo[:4])) == 1 and len(set(lo[4:])) == 1
    assert lo[0] >= 0 and hi[4] <= np.pi and lo[4] >= -np.pi


def test_nan_and_inf_are_reported_masked_and_written_back():
    a = _complex((10, 9, 3), np.complex128)
    a[1, 2, 0] = np.nan
    a[4, 4, 2] = complex(np.inf, 0)
    a[:, :, 1] = np.nan  # a channel with nothing finite
    d = channels_from_array(a)
    info = channel_meta(d)
    assert info.nonfinite is not None and info.nonfinite.count > 0
    assert np.isfinite(d.pixels).all()
    stats = channel_stats(d)
    assert stats[0].nonfinite == 1 and stats[1].nonfinite == 90 and np.isnan(stats[1].minimum)
    back = array_from_channels(d)
    np.testing.assert_array_equal(np.isnan(back), np.isnan(a))
    assert back[4, 4, 2].real == np.inf and abs(back[4, 4, 2].imag) < 1e-6 * np.abs(a[:, :, 2]
                                                                               .imag).max()
    ok = np.isfinite(a)
    assert _peak_rel_err(np.where(ok, back, 0), np.where(ok, a, 0)) < 1e-6


def test_mag_db_floor_and_renormalise():
    z = _complex((8, 8, 2), np.complex128)
    z[0, 0, 0] = 0
    d = channels_from_array(z, complex_mode="mag_db_phase")
    lay = channel_meta(d).layout
    assert lay.db_floor < 20 * np.log10(np.abs(z[z != 0]).min())
    for norm in NORM_MODES:
        r = renormalise(d, norm)
        assert channel_meta(r).norm == norm
        assert _peak_rel_err(array_from_channels(r), z) < 1e-6
    assert array_from_channels(d)[0, 0, 0] == 0


def test_histogram_and_views():
    z = _complex((16, 12, 2), np.complex128, spread=False)
    d = channels_from_array(z, complex_mode="mag_phase")
    counts, edges = channel_histogram(d, 0, bins=10)
    assert counts.sum() == 16 * 12 and len(edges) == 11
    assert edges[0] == pytest.approx(np.abs(z[:, :, 0]).min(), rel=1e-5)
    counts, edges = channel_histogram(d, 3, bins=4, working=True)
    assert edges[0] >= 0 and edges[-1] <= 1
    np.testing.assert_allclose(channel_view(d, 1, "real"), z[:, :, 1].real, atol=1e-5)
    np.testing.assert_allclose(channel_view(d, 1, "phase"), np.angle(z[:, :, 1]), atol=1e-5)
    np.testing.assert_allclose(channel_view(d, 0, "mag_db"), 20 * np.log10(np.abs(z[:, :, 0])),
                               atol=1e-4)
    with pytest.raises(InputError):
        channel_view(d, 2, "mag")
    with pytest.raises(InputError):
        channel_histogram(d, 9)


# ------------------------------------------------------------------ generator


def test_multipath_channel_follows_the_model():
    ch = multipath_channel(16, 8, 4, paths=3, clusters=2, k_factor_db=None, seed=5)
    assert ch.h.shape == (16, 8, 4) and ch.h.dtype == np.complex64
    p = ch.params
    f = (np.arange(16) - 8) * p["bandwidth"] / 16
    t = np.arange(8) * p["snapshot_interval"]
    want = np.zeros((16, 8, 4), complex)
    for g, tau, nu, th in zip(ch.gains, ch.delays, ch.dopplers, ch.angles):
        want += (g * np.exp(-2j * np.pi * f * tau)[:, None, None]
                 * np.exp(2j * np.pi * nu * t)[None, :, None]
                 * np.exp(-1j * np.pi * np.arange(4) * np.sin(th))[None, None, :])
    np.testing.assert_allclose(ch.h, want, atol=2e-5)
    assert np.sum(np.abs(ch.gains) ** 2) == pytest.approx(1.0)
    np.testing.assert_array_equal(ch.h, multipath_channel(16, 8, 4, paths=3, clusters=2,
                                                          k_factor_db=None, seed=5).h)
    assert not np.array_equal(ch.h, multipath_channel(16, 8, 4, paths=3, seed=6).h)
    assert np.abs(ch.dopplers).max() <= p["speed"] * p["carrier"] / 299_792_458.0 + 1e-9
    with pytest.raises(InputError):
        multipath_channel(0, 4, 4)


def test_sample_channels_is_channel_data():
    d = sample_channels((24, 20, 5), seed=1)
    assert d.kind == "channels" and d.shape == (24, 20, 10) and d.meta["name"] == "multipath"
    delay = multipath_channel(32, 4, 2, domain="delay", seed=0).h
    assert (np.abs(delay) < 0.05 * np.abs(delay).max()).mean() > 0.5  # sparse taps


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
    from core.channel_finetune import FinetuneOptions, finetune_channels

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
    from core.channel_finetune import FinetuneOptions, finetune_channels

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
