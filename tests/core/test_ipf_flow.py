"""IPF's flow and confidence per output pixel (engine-style blocks) and the colour wheel."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.jobs import Progress
from core.models.archs.ipf import ipf_from_liif
from core.models.ipf_flow import flow_to_color, ipf_flow_job, ipf_flow_maps
from core.models.archs.liif import default_liif_spec, liif_from_spec
from core.models.contracts import make_cell, make_coord


# tiny models on a shared 2-core CPU: one torch thread (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_ipf(seed: int = 0, random_flow: bool = True):
    torch.manual_seed(seed)
    spec = default_liif_spec(encoder_args={"n_resblocks": 1, "n_feats": 8}, hidden=16, depth=2)
    model = ipf_from_liif(liif_from_spec(spec).eval(), n_resblocks=1, n_feats=8,
                          flow_hidden=[16], conf_hidden=[8])
    if random_flow:
        torch.nn.init.normal_(model.flow_net.layers[-1].weight, std=0.5)
        torch.nn.init.normal_(model.flow_net.layers[-1].bias, std=0.5)
    return model.eval()


def test_flow_maps_match_query_all_whole_and_in_blocks() -> None:
    model = tiny_ipf()
    x = torch.rand(1, 3, 14, 17)
    out_hw = (31, 40)
    flow, conf = ipf_flow_maps(model, x, out_hw)
    assert flow.shape == (31, 40, 2) and conf.shape == (31, 40)
    assert flow.dtype == conf.dtype == np.float32
    coord = make_coord(out_hw).unsqueeze(0)
    with torch.no_grad():
        ref = model.query_all(model.encode(x), coord, make_cell(coord, out_hw), raw=False)
    np.testing.assert_allclose(flow, ref["flow"][0].numpy().reshape(31, 40, 2), atol=1e-5)
    np.testing.assert_allclose(conf, ref["conf"][0, :, 0].numpy().reshape(31, 40), atol=1e-6)
    f2, c2 = ipf_flow_maps(model, x, out_hw, block=5, chunk=50)   # blocks, like the engine
    np.testing.assert_allclose(f2, flow, atol=1e-5)
    np.testing.assert_allclose(c2, conf, atol=1e-6)
    steps = []
    job = ipf_flow_job(model, x, out_hw, block=5, chunk=50)
    try:
        while True:
            steps.append(next(job))
    except StopIteration:
        pass
    assert len(steps) > 3 and all(isinstance(p, Progress) for p in steps)


def test_colour_wheel_white_at_zero_hue_by_direction() -> None:
    flow = np.zeros((3, 4, 2), np.float32)
    flow[0, 0] = (0.0, 2.0)      # right
    flow[0, 1] = (0.0, -2.0)     # left
    flow[0, 2] = (0.0, 1.0)      # right, half as long
    img = flow_to_color(flow)
    assert np.all(img[1:] == 1.0) and np.all(img[0, 3] == 1.0)   # no offset: white
    assert img[0, 0].min() < 0.5                                 # longest: saturated
    assert not np.allclose(img[0, 0], img[0, 1])                 # direction -> hue
    sat = lambda c: c.max() - c.min()                            # noqa: E731
    assert sat(img[0, 2]) < sat(img[0, 0])                       # length -> saturation
    fresh, _ = ipf_flow_maps(tiny_ipf(random_flow=False), torch.rand(1, 3, 6, 6), (12, 12))
    assert np.all(fresh == 0) and np.all(flow_to_color(fresh) == 1.0)
