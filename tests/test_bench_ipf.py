"""bench/ipf_vs_liif.py and bench/normals_finetune.py run end to end on tiny random models and
tiny data (so they cannot rot), with the protocol of core.evaluate."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.models import save_checkpoint
from core.models.archs.ipf import ipf_from_liif
from tests.helpers import tiny_liif


# tiny models on a shared 2-core CPU: one torch thread (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")



def _tiny_ipf(seed: int = 0):
    model = ipf_from_liif(tiny_liif(seed), n_resblocks=1, n_feats=8, flow_hidden=[16, 16],
                          conf_hidden=[8, 8])
    torch.manual_seed(seed + 1)
    torch.nn.init.normal_(model.flow_net.layers[-1].weight, std=0.2)
    return model.eval()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("bench_ipf")
    hr = root / "Tiny" / "HR"
    hr.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i, size in enumerate(((26, 30), (24, 24))):
        small = rng.integers(0, 256, (size[0] // 3, size[1] // 3, 3)).astype(np.uint8)
        cv2.imwrite(str(hr / f"im{i}.png"), cv2.resize(small, size[::-1],
                                                       interpolation=cv2.INTER_CUBIC))
    return {"hr": hr,
            "liif": save_checkpoint(tiny_liif(), root / "liif_tiny.pth"),
            "ipf": save_checkpoint(_tiny_ipf(), root / "ipf_tiny.pth")}


def test_ipf_bench_table(setup: dict, capsys: pytest.CaptureFixture) -> None:
    from bench.ipf_vs_liif import main

    rc = main(["--liif", str(setup["liif"]), "--ipf", str(setup["ipf"]), "--data",
               str(setup["hr"]), "--scales", "2,3", "--precision", "fp32", "--cache", ""])
    out = capsys.readouterr().out
    assert rc == 0, out
    rows = [line.split() for line in out.splitlines() if line.startswith("Tiny")]
    assert [(r[1], r[2]) for r in rows] == [("x2", "LIIF"), ("x2", "IPF"), ("x3", "LIIF"),
                                            ("x3", "IPF")]
    for r in rows:
        psnr, ssim, ratio, dist, sec = map(float, r[3:])
        assert 0 < psnr < 100 and -1 <= ssim <= 1 and ratio > 0 and dist >= 0 and sec >= 0
    assert "grad ratio" in out and "hist dist" in out
    summary = [line for line in out.splitlines() if "per image" in line]
    assert [line.split(":")[0] for line in summary] == ["IPF vs LIIF per image, Tiny x2",
                                                         "IPF vs LIIF per image, Tiny x3"]
    assert all("/2," in line or "/2;" in line for line in summary), summary


def test_ipf_bench_cache_and_shards(setup: dict, tmp_path: Path,
                                    capsys: pytest.CaptureFixture) -> None:
    """LIIF rows first, then IPF in two shards, into one cache: the table printed from the
    cache alone equals a fresh run; nothing is measured twice."""
    from bench.ipf_vs_liif import main

    base = ["--liif", str(setup["liif"]), "--ipf", str(setup["ipf"]), "--data",
            str(setup["hr"]), "--scales", "2", "--precision", "fp32"]

    def table(out: str) -> list[list[str]]:
        return [line.split()[:7] for line in out.splitlines() if line.startswith("Tiny")]

    assert main(base + ["--cache", ""]) == 0
    fresh = table(capsys.readouterr().out)
    cache = tmp_path / "c.jsonl"
    assert main(base + ["--cache", str(cache), "--models", "liif"]) == 0
    assert len(cache.read_text().splitlines()) == 2           # 2 images x LIIF
    assert main(base + ["--cache", str(cache), "--models", "ipf", "--shard", "1/2"]) == 0
    out = capsys.readouterr().out
    assert "(1/2 images)" in out                               # a partial row says so
    assert main(base + ["--cache", str(cache), "--models", "ipf", "--shard", "0/2"]) == 0
    assert len(cache.read_text().splitlines()) == 4
    capsys.readouterr()
    assert main(base + ["--cache", str(cache), "--table-only"]) == 0
    assert table(capsys.readouterr().out) == fresh
    assert len(cache.read_text().splitlines()) == 4           # nothing re-measured
    assert main(base + ["--shard", "2/2", "--cache", ""]) == 2
    assert main(base + ["--models", "vgg", "--cache", ""]) == 2


def test_ipf_bench_uses_the_evaluate_protocol(setup: dict) -> None:
    from bench.ipf_vs_liif import run_bench
    from core.engine import SROptions
    from core.evaluate import evaluate, find_images
    from core.jobs import run_sync

    model = _tiny_ipf()
    rows = run_bench({"IPF": model}, [setup["hr"]], [3], limit=1, precision="fp32")
    assert len(rows) == 1 and rows[0]["dataset"] == "Tiny" and rows[0]["n"] == 1
    ref = run_sync(evaluate(model, find_images(setup["hr"])[:1], [3],
                            options=SROptions(precision="fp32")))[0]
    assert rows[0]["psnr"] == pytest.approx(ref.psnr, abs=1e-9)
    assert rows[0]["ssim"] == pytest.approx(ref.ssim, abs=1e-9)


def test_ipf_bench_without_checkpoint_exits_2(setup: dict, tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    from bench.ipf_vs_liif import main

    rc = main(["--liif", str(setup["liif"]), "--ipf", str(tmp_path / "none.pth"),
               "--data", str(setup["hr"])])
    assert rc == 2 and "no IPF checkpoint" in capsys.readouterr().err
    # the bundled name: none is bundled yet, unless one has been since
    from core.models import list_models

    if not any(e.name == "ipf" and e.weights for e in list_models()):
        assert main(["--data", str(setup["hr"])]) == 2


def test_normals_bench_runs(tmp_path: Path, setup: dict, capsys: pytest.CaptureFixture) -> None:
    from bench.normals_finetune import main
    from core.io.normals import save_normal_map
    from core.normals import from_vectors

    obj = tmp_path / "held_out" / "obj"
    obj.mkdir(parents=True)
    yy, xx = np.mgrid[0:24, 0:28] / 24.0
    v = np.stack([np.sin(5 * xx) * 0.4, np.cos(4 * yy) * 0.3, np.ones_like(xx)], axis=2)
    save_normal_map(from_vectors(v), obj / "normal_map.png", bits=16)
    mask = np.zeros((24, 28), np.uint8)
    mask[2:22, 3:26] = 255
    cv2.imwrite(str(obj / "mask.png"), mask)
    tuned = save_checkpoint(tiny_liif(7), tmp_path / "tuned.pth")
    rc = main(["--base", str(setup["liif"]), "--tuned", str(tuned), "--data",
               str(tmp_path / "held_out"), "--precision", "fp32"])
    out = capsys.readouterr().out
    assert rc == 0, out
    rows = [line.split() for line in out.splitlines() if line.startswith(("obj", "MEAN"))]
    assert [r[:2] for r in rows] == [["obj", "base"], ["obj", "tuned"], ["MEAN", "base"],
                                     ["MEAN", "tuned"]]
    assert all(0 <= float(r[2]) <= 180 for r in rows)
    assert main(["--tuned", str(tmp_path / "missing.pth")]) == 2
