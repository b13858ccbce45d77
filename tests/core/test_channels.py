"""Channel data: layout and complex split, normalisation and its exact inverse, statistics,
the multipath generator. SR of every channel and the scores: ``test_channels_sr.py``."""

from __future__ import annotations

import numpy as np
import pytest

from core.channels import multipath_channel, sample_channels
from core.channels import channel_ranges
from core.channels import (channel_histogram, channel_labels, channel_stats, channel_view,
                                folded_labels, format_stats_table)
from core.channels import (COMPLEX_MODES, NORM_MODES, array_from_channels, channel_meta,
                           channel_values, channels_from_array, renormalise, resolve_axes)
from core.errors import InputError
from tests.core.channels_util import RNG, _complex


def _peak_rel_err(back, orig):
    """Largest error relative to each channel's peak magnitude (last axis = channels)."""
    orig = np.asarray(orig)
    peak = np.abs(orig).reshape(-1, orig.shape[-1]).max(axis=0)
    peak = np.where(peak > 0, peak, 1.0)
    return float((np.abs(np.asarray(back, complex) - orig) / peak).max())


# ------------------------------------------------------------------ axes and layout


def test_default_axes_are_h_w_then_channels_whatever_the_sizes():
    assert resolve_axes(None, (256, 256, 150)) == "HWC"
    assert resolve_axes(None, (64, 64, 150)) == "HWC"    # a MATLAB stack, not H x C x W
    assert resolve_axes(None, (150, 256, 256)) == "HWC"  # other orders are asked for
    assert resolve_axes(None, (26, 30, 3, 2)) == "HWCC"
    assert resolve_axes("auto", (3, 40, 2, 50)) == "HWCC"
    assert resolve_axes(None, (40, 30)) == "HW"
    assert resolve_axes("chw", (5, 8, 9)) == "CHW"
    assert resolve_axes("CHCW", (3, 40, 2, 50)) == "CHCW"
    with pytest.raises(InputError, match="size 1"):       # explained, not guessed around
        resolve_axes(None, (1, 40, 30))


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
