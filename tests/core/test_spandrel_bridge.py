"""The optional spandrel bridge, with a stand-in ``spandrel`` module (the real one is not
installed here: it needs torchvision, which would replace the pinned CPU torch)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import torch
from torch import nn

from core.data import ImageData
from core.engine import SROptions, super_resolve
from core.errors import CheckpointError
from core.jobs import run_sync
from core.models import load_model


class _Net(nn.Module):
    """An x2 net spandrel would know and we do not (keys no detector of ours accepts)."""

    def __init__(self):
        super().__init__()
        self.weird_body = nn.Conv2d(3, 12, 3, padding=1)

    def forward(self, x):
        return nn.functional.pixel_shuffle(self.weird_body(x), 2)


class _Descriptor:
    def __init__(self, model, channels=3):
        self.model, self.scale = model, 2
        self.input_channels = self.output_channels = channels
        self.size_requirements = types.SimpleNamespace(multiple_of=4, minimum=0, square=False)
        self.architecture = types.SimpleNamespace(id="WeirdNet", name="Weird Net")


@pytest.fixture
def fake_spandrel(monkeypatch):
    mod = types.ModuleType("spandrel")
    loaded = {}

    class ModelLoader:
        def load_from_file(self, path):
            sd = torch.load(path, weights_only=True)
            if "weird_body.weight" not in sd:
                raise ValueError("unsupported model")
            net = _Net()
            net.load_state_dict(sd)
            loaded["net"] = net
            return loaded.get("kind", _Descriptor)(net)

    mod.ModelLoader, mod.ImageModelDescriptor = ModelLoader, _Descriptor
    monkeypatch.setitem(sys.modules, "spandrel", mod)
    return loaded


@pytest.fixture
def weird_file(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "weird.pth"
    torch.save(_Net().state_dict(), path)
    return path


def test_unknown_architecture_without_spandrel_names_the_closest(weird_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "spandrel", None)  # import spandrel -> ImportError
    with pytest.raises(CheckpointError, match="matches no known architecture"):
        load_model(weird_file)


def test_spandrel_model_runs_through_the_engine(fake_spandrel, weird_file):
    loaded = load_model(weird_file)
    assert loaded.arch == "spandrel:WeirdNet" and loaded.kind == "fixed" and loaded.scale == 2
    assert loaded.module.window == 4 and not loaded.module.y_only
    rng = np.random.default_rng(0)
    data = ImageData(rng.random((20, 24, 3), dtype=np.float32))
    res = run_sync(super_resolve(loaded.module, data, scale=2,
                                 options=SROptions(precision="fp32", tile=8)))   # tiled
    with torch.no_grad():
        direct = fake_spandrel["net"](torch.from_numpy(data.pixels).permute(2, 0, 1)[None])
    np.testing.assert_allclose(res.image.pixels, direct[0].permute(1, 2, 0).numpy(), atol=1e-5)
    odd = ImageData(rng.random((18, 22, 3), dtype=np.float32))  # padded to a multiple of 4
    res = run_sync(super_resolve(loaded.module, odd, scale=2, options=SROptions(precision="fp32")))
    assert res.image.pixels.shape == (36, 44, 3) and np.isfinite(res.image.pixels).all()


def test_spandrel_errors_are_reported_with_ours(fake_spandrel, weird_file, tmp_path):
    other = tmp_path / "other.pth"
    torch.save({"nothing.weight": torch.zeros(2, 2)}, other)
    with pytest.raises(CheckpointError,
                       match="matches no known architecture.*spandrel cannot load other.pth"):
        load_model(other)

    class NotImage:
        def __init__(self, model):
            pass

    fake_spandrel["kind"] = NotImage
    with pytest.raises(CheckpointError, match="not an image super-resolution model"):
        load_model(weird_file)
