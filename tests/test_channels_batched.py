"""The batched channel path equals the un-batched engine, channel by channel.

* :class:`core.engine.subpixel.SubPixelDeconv` reproduces ``ConvTranspose2d`` (FSRCNN's last layer
  and other stride / padding combinations);
* FSRCNN on a stack: :func:`core.channels.sr.super_resolve_channels` (batches of channels, the
  sub-pixel twin) equals :func:`core.engine.super_resolve` of each channel alone;
* LIIF in groups of three (several groups encoded and queried at once, small query chunks)
  equals the engine on each group as an RGB image; replicate mode equals the engine on each
  channel (replicated to RGB, averaged);
* bf16 runs and stays close to fp32.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.engine.arbitrary import run_arbitrary_batch
from core.engine.subpixel import SubPixelDeconv, subpixel_twin
from core.channels import sample_channels
from core.channels import super_resolve_channels
from core.engine import SROptions, super_resolve
from core.engine.arbitrary import run_arbitrary
from core.jobs import run_sync

FP32 = SROptions(device="cpu", precision="fp32")


@pytest.fixture(scope="module")
def stack():
    return sample_channels((12, 10, 4), seed=1)       # 12 x 10 x 8 real channels


@pytest.fixture(scope="module")
def fsrcnn():
    from core.models import get_arch

    torch.manual_seed(0)
    return get_arch("fsrcnn").build(scale=3, d=12, s=6, m=2).eval()


@pytest.fixture(scope="module")
def liif():
    from core.models.archs.liif import default_liif_spec, liif_from_spec

    torch.manual_seed(0)
    spec = default_liif_spec(hidden=24, depth=2, encoder_args={"n_resblocks": 2, "n_feats": 8})
    return liif_from_spec(spec).eval()


@pytest.mark.parametrize("k,s,p,op,cin,cout", [(9, 4, 4, 3, 6, 1), (9, 2, 4, 1, 5, 1),
                                               (9, 3, 4, 2, 4, 2), (4, 2, 1, 0, 3, 3),
                                               (5, 3, 1, 0, 2, 2), (3, 2, 1, 1, 3, 1)])
def test_subpixel_equals_transposed_convolution(k, s, p, op, cin, cout):
    torch.manual_seed(k * 10 + s)
    d = torch.nn.ConvTranspose2d(cin, cout, k, stride=s, padding=p, output_padding=op)
    assert SubPixelDeconv.applies(d)
    x = torch.randn(2, cin, 7, 5)
    with torch.no_grad():
        want, got = d(x), SubPixelDeconv(d)(x)
    assert got.shape == want.shape == (2, cout, 7 * s, 5 * s)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_subpixel_leaves_other_layers_alone():
    assert not SubPixelDeconv.applies(torch.nn.ConvTranspose2d(2, 2, 3, stride=2, padding=0))
    assert not SubPixelDeconv.applies(torch.nn.ConvTranspose2d(2, 2, 3, stride=1, padding=1))
    assert not SubPixelDeconv.applies(torch.nn.ConvTranspose2d(2, 2, 4, 2, 1, groups=2))
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3))
    assert subpixel_twin(net) is net


def test_twin_follows_weight_changes(fsrcnn):
    import copy

    net = copy.deepcopy(fsrcnn)
    x = torch.rand(1, 1, 6, 6)
    a = subpixel_twin(net)
    with torch.no_grad():
        torch.testing.assert_close(a(x), net(x), rtol=1e-5, atol=1e-5)
        net.last_part.weight.add_(0.5)
    b = subpixel_twin(net)
    assert b is not a
    with torch.no_grad():
        torch.testing.assert_close(b(x), net(x), rtol=1e-5, atol=1e-5)


def test_fsrcnn_stack_equals_each_channel_alone(stack, fsrcnn):
    h, w, c = stack.shape
    res = run_sync(super_resolve_channels(fsrcnn, stack, scale=3, batch=3, options=FP32))
    assert res.image.shape == (3 * h, 3 * w, c) and res.precision == "fp32"
    for ch in range(c):
        one = stack.with_pixels(np.ascontiguousarray(stack.pixels[..., ch:ch + 1]))
        ref = run_sync(super_resolve(fsrcnn, one, scale=3, options=FP32)).image.pixels[..., 0]
        np.testing.assert_allclose(res.image.pixels[..., ch], ref, rtol=1e-5, atol=1e-5)


def test_fsrcnn_batch_size_does_not_matter(stack, fsrcnn):
    a = run_sync(super_resolve_channels(fsrcnn, stack, scale=3, batch=1, options=FP32))
    b = run_sync(super_resolve_channels(fsrcnn, stack, scale=3, options=FP32))
    np.testing.assert_allclose(a.image.pixels, b.image.pixels, rtol=1e-5, atol=1e-5)


def test_liif_groups_equal_engine_per_group(stack, liif):
    h, w, c = stack.shape                                # 8 channels: 3 groups, last padded
    size = (29, 23)                                      # a non-integer scale
    res = run_sync(super_resolve_channels(liif, stack, size=size, rgb_mode="groups", batch=2,
                                          options=SROptions(device="cpu", precision="fp32",
                                                            chunk=50)))
    assert "groups of 3" in res.notes[0]
    for start in range(0, c, 3):
        idx = [min(i, c - 1) for i in range(start, start + 3)]
        grp = stack.with_pixels(np.ascontiguousarray(stack.pixels[..., idx]))
        ref = run_sync(super_resolve(liif, grp, size=size, options=FP32)).image.pixels
        for j, ch in enumerate(range(start, min(c, start + 3))):
            np.testing.assert_allclose(res.image.pixels[..., ch], ref[..., j],
                                       rtol=1e-5, atol=1e-5)


def test_liif_replicate_equals_engine_per_channel(stack, liif):
    res = run_sync(super_resolve_channels(liif, stack, scale=2, rgb_mode="replicate",
                                          options=FP32))
    for ch in (0, 5):
        one = stack.with_pixels(np.ascontiguousarray(stack.pixels[..., ch:ch + 1]))
        ref = run_sync(super_resolve(liif, one, scale=2, options=FP32)).image.pixels[..., 0]
        np.testing.assert_allclose(res.image.pixels[..., ch], ref, rtol=1e-5, atol=1e-5)


def test_batched_queries_equal_run_arbitrary(liif):
    torch.manual_seed(2)
    x = torch.rand(3, 3, 9, 11)
    for chunk in (37, 7, 10**6):                       # whole rows, pieces of a row, all
        got = run_sync(run_arbitrary_batch(liif, x, (20, 31), chunk=chunk))
        for i in range(3):
            want = run_sync(run_arbitrary(liif, x[i:i + 1], (20, 31), None))
            torch.testing.assert_close(got[i:i + 1], want, rtol=1e-5, atol=1e-5)


def test_cpu_query_chunk_bounds():
    from core.engine.arbitrary import cpu_query_chunk

    assert cpu_query_chunk(1, 65536) == 4096 and cpu_query_chunk(8, 65536) == 512
    assert cpu_query_chunk(4, 50) == 50 and cpu_query_chunk(1000, 65536) == 64


def test_bf16_close_to_fp32(stack, fsrcnn, liif):
    for model, mode in ((fsrcnn, "replicate"), (liif, "groups")):
        a = run_sync(super_resolve_channels(model, stack, scale=3, rgb_mode=mode, options=FP32))
        b = run_sync(super_resolve_channels(model, stack, scale=3, rgb_mode=mode,
                                            options=SROptions(device="cpu", precision="bf16")))
        assert b.precision == "bf16"
        assert np.abs(a.image.pixels - b.image.pixels).max() < 0.05
