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


class _SizeDescriptor(_Descriptor):
    """Square inputs of at least 16 pixels, no half precision, tiling discouraged."""

    def __init__(self, model, channels=3):
        super().__init__(model, channels)
        self.size_requirements = types.SimpleNamespace(multiple_of=1, minimum=16, square=True)
        self.supports_half = self.supports_bfloat16 = False
        self.tiling = types.SimpleNamespace(name="DISCOURAGED")


def test_size_requirements_precision_and_tiling_hints_are_honoured(fake_spandrel, weird_file):
    fake_spandrel["kind"] = _SizeDescriptor
    loaded = load_model(weird_file)
    m = loaded.module
    assert (m.minimum, m.square, m.supports_half, m.untiled) == (16, True, False, True)
    data = ImageData(np.random.default_rng(0).random((10, 13, 3), dtype=np.float32))
    res = run_sync(super_resolve(m, data, scale=2, options=SROptions(precision="bf16")))
    assert res.image.pixels.shape == (20, 26, 3)
    with torch.no_grad():
        direct = fake_spandrel["net"](
            torch.nn.functional.pad(torch.from_numpy(data.pixels).permute(2, 0, 1)[None],
                                    (0, 3, 0, 6), mode="reflect"))[..., :20, :26]
    # padded to 16x16 square, run in fp32 (no bf16 support), cast back to bf16, cropped
    np.testing.assert_allclose(res.image.pixels, direct[0].permute(1, 2, 0).numpy(), atol=4e-3)


def test_a_rejected_file_is_one_line_with_details_kept(fake_spandrel, tmp_path, capsys):
    from cli import main as cli_main

    class Loud:
        def load_from_file(self, path):
            print("spandrel chatter\n" * 70)
            raise ValueError("no architecture fits\n" + "  key listing\n" * 70)

    sys.modules["spandrel"].ModelLoader = Loud
    other = tmp_path / "other.pth"
    torch.save({"nothing.weight": torch.zeros(2, 2)}, other)
    src = tmp_path / "in.png"
    import cv2

    cv2.imwrite(str(src), np.zeros((8, 8, 3), np.uint8))
    assert cli_main(["sr", str(src), "-m", str(other), "-s", "2", "-o",
                     str(tmp_path / "o.png"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "spandrel cannot load other.pth: no architecture fits" in err[0]
    assert cli_main(["sr", str(src), "-m", str(other), "-s", "2", "-o",
                     str(tmp_path / "o.png"), "-q", "-v"]) == 2
    assert "spandrel chatter" in capsys.readouterr().err


def test_installed_but_broken_spandrel_says_why(weird_file, monkeypatch):
    from core.models import spandrel_bridge

    monkeypatch.setattr(spandrel_bridge, "spandrel_status", lambda: (
        False, "installed but fails to import: OSError: libcudart.so.12: cannot open"))
    import core.models.checkpoints as ck

    monkeypatch.setattr(ck, "spandrel_status", spandrel_bridge.spandrel_status)
    with pytest.raises(CheckpointError, match="spandrel, which may know it, is installed but "
                                              "fails to import: OSError: libcudart"):
        load_model(weird_file)


def test_a_real_spandrel_architecture_runs_through_the_bridge(tmp_path):
    try:
        from spandrel.architectures.ESRGAN import ESRGAN
    except Exception as exc:  # not installed, or its torchvision does not import here
        pytest.skip(f"spandrel cannot be imported: {type(exc).__name__}: {exc}"[:200])
    torch.manual_seed(0)
    net = ESRGAN(in_nc=3, out_nc=3, num_filters=8, num_blocks=1, scale=2)
    path = tmp_path / "tiny_esrgan_x2.pth"
    torch.save(net.state_dict(), path)
    loaded = load_model(path)
    assert loaded.arch.startswith("spandrel:") and loaded.scale == 2
    data = ImageData(np.random.default_rng(0).random((12, 12, 3), dtype=np.float32))
    res = run_sync(super_resolve(loaded.module, data, scale=2,
                                 options=SROptions(precision="fp32")))
    assert res.image.pixels.shape == (24, 24, 3) and np.isfinite(res.image.pixels).all()
