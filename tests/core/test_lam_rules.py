"""LAM's path rules (core.attribution.quadrature): exact on what they must be exact on, and how
close each keeps the official 50-step map on the 7 LAM demo images.

The default rule may only be one that keeps the map: correlation >= 0.999 with the 50-step
Riemann map and the diffusion index within 0.5 on every demo image (the issue's bar; Set14 is
in ``python3 -m bench.lam_speed --fidelity lam,set14``). Measured with the bundled EDSR x4,
``gauss`` 16 and ``adaptive`` reach >= 0.99 but not 0.999 on demo images 1 and 4, so the
default stays ``riemann``; :func:`test_the_default_rule_keeps_the_map` fails if someone makes an
unqualified rule the default. The default suite runs a seeded small EDSR (seconds); the
bundled model is the ``slow`` check.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.attribution import LAMOptions, lam
from core.attribution.path import gaussian_kernel, path_kernels
from core.attribution.quadrature import (DEFAULT_RULE, fejer_nodes, gauss_nodes, kernel_dt,
                                         riemann_nodes)
from core.data import ImageData, Region
from core.jobs import run_sync
from core.models.archs.edsr import EDSR
from tests.core.lam_reference import demo_window
from tests.helpers import shared_datasets

#: The bar a rule must clear on every demo image to be the default.
DEFAULT_CORR, DEFAULT_DI = 0.999, 0.5
#: What the non-default rules promise (README, the tab's tooltip): a close map.
CLOSE_CORR = 0.99


# tiny models on a shared 2-core CPU: one torch thread (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


# --- the rules themselves (no model) ---------------------------------------------------------

@pytest.mark.parametrize("nodes", [riemann_nodes(), riemann_nodes(fold=7), gauss_nodes(n=8),
                                   gauss_nodes(n=16), fejer_nodes(n=15)],
                         ids=["riemann50", "riemann7", "gauss8", "gauss16", "fejer15"])
def test_weights_integrate_the_path_from_blur_to_input(nodes):
    """Sum of weight x derivative = K(0) - K(1.2): with a constant gradient (a linear model)
    every rule gives the whole change from the blurred image to the input (the Riemann sum
    exactly, by telescoping; Gauss and Fejer to 1e-8 from 8 nodes: the kernel is smooth in t)."""
    total = np.einsum("k,kij->ij", nodes.weights, nodes.derivs)
    k = path_kernels()
    np.testing.assert_allclose(total, k[-1] - k[0], atol=1e-8)
    assert np.all(np.diff(nodes.sigmas) < 0) or np.all(np.diff(nodes.sigmas) > 0)


def test_gauss_converges_where_riemann_does_not():
    """A smooth integrand along the path, ``sigma * dK/dalpha``: exact value from a 400-node
    Gauss rule; 16 Gauss nodes are 100x closer than the 50-step Riemann sum."""
    def integral(nodes):
        return np.einsum("k,k,kij->ij", nodes.weights, nodes.sigmas, nodes.derivs)
    exact = integral(gauss_nodes(n=400))
    err_g = np.abs(integral(gauss_nodes(n=16)) - exact).max()
    err_r = np.abs(integral(riemann_nodes()) - exact).max()
    assert err_g * 100 < err_r


def test_kernel_derivative_and_nested_levels():
    t, h = 0.2, 1e-6
    s = lambda v: np.sqrt(-0.5 / np.log(v)) - 1e-5   # noqa: E731
    fd = (gaussian_kernel(9, s(t + h)) - gaussian_kernel(9, s(t - h))) / (2 * h)
    np.testing.assert_allclose(kernel_dt(9, t), fd, atol=1e-8)
    lap = kernel_dt(9, 0.0)                              # t -> 0: the 5-point Laplacian
    assert lap[4, 4] == -4 and lap[3, 4] == lap[4, 3] == 1 and lap.sum() == 0
    coarse, fine = fejer_nodes(n=7), fejer_nodes(n=15)
    np.testing.assert_array_equal(coarse.sigmas, fine.sigmas[1::2])   # levels reuse nodes


def test_adaptive_reuses_nodes_and_stops_or_says_so():
    torch.manual_seed(0)
    m = EDSR(n_resblocks=1, n_feats=8, scale=2).eval()
    rng = np.random.default_rng(0)
    lr = rng.random((12, 12, 3)).astype(np.float32)
    res = run_sync(lam(m, ImageData(lr), Region(6, 6, 8, 8), options=LAMOptions(
        rule="adaptive", steps=63, precision="fp32", with_sr=False, device="cpu")))
    assert res.rule == "adaptive" and res.budget == 63 and res.steps in (15, 31, 63)
    assert "LAM adaptive" in res.provenance.note()
    if res.steps == 63:
        assert any("whole budget" in n for n in res.notes)


# --- fidelity on the 7 LAM demo images --------------------------------------------------------

def _demo_cases():
    from core.io import load
    from core.resize import degrade

    folder = shared_datasets("lam_images")
    files = sorted(folder.glob("*.png"))
    assert len(files) == 7, f"expected the 7 LAM demo images in {folder}"
    for f in files:
        hr = load(f).pixels
        hr = hr[: hr.shape[0] // 4 * 4, : hr.shape[1] // 4 * 4]
        yield f.name, degrade(hr, 4).astype(np.float32), demo_window(f.name, hr.shape[:2])


def _fidelity(model, rules, precision="fp32"):
    """``{rule: [(image, corr, dDI), ...]}`` against the 50-step Riemann map."""
    def run(lr, xy, rule, steps):
        return run_sync(lam(model, ImageData(lr), Region(*xy, 16, 16), options=LAMOptions(
            rule=rule, steps=steps, precision=precision, with_sr=False, device="cpu")))
    out: dict = {r: [] for r in rules}
    for name, lr, xy in _demo_cases():
        ref = run(lr, xy, "riemann", 50)
        for rule, steps in rules:
            r = run(lr, xy, rule, steps)
            c = float(np.corrcoef(r.map.ravel(), ref.map.ravel())[0, 1])
            out[(rule, steps)].append((name, c, r.diffusion_index - ref.diffusion_index))
    return out


def _check(fid):
    for rule, rows in fid.items():
        bad = [(n, round(c, 5), round(d, 3)) for n, c, d in rows
               if c < CLOSE_CORR or abs(d) > DEFAULT_DI]
        assert bad == [], f"{rule} is not close to the 50-step map on {bad}"
    qualified = {rule for rule, rows in fid.items()
                 if all(c >= DEFAULT_CORR and abs(d) <= DEFAULT_DI for _, c, d in rows)}
    assert DEFAULT_RULE == "riemann" or DEFAULT_RULE in {r for r, _ in qualified}, \
        f"the default rule {DEFAULT_RULE!r} does not keep the map on all 7 demo images"


@pytest.mark.shared
def test_the_default_rule_keeps_the_map():
    """Small seeded EDSR x4 (1 block, 8 features) on all 7 demo images, fp32: gauss 16 and
    adaptive stay close, and the default is riemann or a rule that clears the 0.999 bar."""
    torch.manual_seed(0)
    m = EDSR(n_resblocks=1, n_feats=8, scale=4).eval()
    _check(_fidelity(m, [("gauss", 16), ("adaptive", 31)]))


@pytest.mark.slow
@pytest.mark.shared
def test_the_default_rule_keeps_the_map_with_the_bundled_model():
    from core.models import load_model

    m = load_model("edsr_baseline_x4").module
    _check(_fidelity(m, [("gauss", 16), ("adaptive", 31)]))
