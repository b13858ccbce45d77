"""Background studies (core.studies): what each computes, exactness checks, batch + resume."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.data import Region
from core.errors import Cancelled, InputError
from core.jobs import run_sync
from core.models.archs.edsr import EDSR
from core.models.archs.interp import Interpolation
from core.studies import (StudyOptions, crop_study, extremes, gains, gallery, make_mosaic,
                          mosaic_study, preset_region, read_rows, run_batch, size_study,
                          summarize, swap_study)
from core.studies.common import prepare_pair
from core.studies.mosaic import DIHEDRAL
from core.studies.swap import _ring_mask

OPTS = StudyOptions(scale=2, device="cpu", precision="fp32")


# tiny models on a shared 2-core CPU: one torch thread (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _hr(h: int = 64, w: int = 80, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / 16.0
    base = np.stack([np.sin(xx * (1 + seed)), np.cos(yy * 1.3), np.sin(xx + yy)], -1)
    img = 0.5 + 0.3 * base + 0.05 * rng.standard_normal((h, w, 3))
    return np.clip(img, 0, 1).astype(np.float32)


@pytest.fixture(scope="module")
def tiny() -> tuple[str, EDSR]:
    torch.manual_seed(0)
    return ("tiny", EDSR(n_resblocks=1, n_feats=8, scale=2).eval())


BIC = ("bicubic", Interpolation("bicubic"))


def test_crop_study_curve_and_full_equality(tiny):
    hr = _hr()
    m = tiny[1].receptive_field          # a crop with this margin sees all the context
    res = run_sync(crop_study([tiny, BIC], hr, Region(24, 24, 16, 16), [0, 2, 30], OPTS))
    assert res.models == ["tiny", "bicubic"] and res.region == Region(24, 24, 16, 16)
    xs, ps, settings = res.curve("tiny", "crop")
    assert settings == ["m=0", "m=2"] and len(ps) == 2     # m >= the image: shown as full
    assert res.psnr("tiny", "full") > res.psnr("tiny", "m=0")
    assert res.regions[("tiny", "crop", "m=0")].shape == (16, 16, 3)
    # margin >= receptive field: the crop restores the region exactly as the full image does
    exact = run_sync(crop_study([tiny], _hr(96, 96), Region(40, 40, 16, 16), [m], OPTS))
    assert exact.psnr("tiny", f"m={m}") == pytest.approx(exact.psnr("tiny", "full"), abs=1e-6)


def test_crop_paper_preset_region():
    assert preset_region((256, 256), 4) == Region(16, 16, 224, 224)
    assert preset_region((480, 320), 4) == Region(48, 128, 224, 224)
    with pytest.raises(InputError, match="smaller than the preset"):
        preset_region((200, 320), 4)
    res = run_sync(crop_study([BIC], _hr(320, 288), options=StudyOptions(scale=4)))
    assert ("crop", "m=4") in {(r.group, r.setting) for r in res.rows}


def test_swap_keeps_the_foreground_and_ranks_backgrounds(tiny):
    hr, other = _hr(seed=0), _hr(seed=2)
    reg = Region(32, 16, 16, 16)
    res = run_sync(swap_study([tiny], hr, reg, [("other", other)], options=OPTS))
    assert [r.setting for r in res.rows] == ["original", "hflip", "vflip", "rot180", "other"]
    _, lr = prepare_pair(hr, 2)
    fg = (slice(8, 16), slice(16, 24))
    for comp in res.inputs.values():
        np.testing.assert_array_equal(comp[fg], lr[fg])
    full = run_sync(crop_study([tiny], hr, reg, [0], OPTS)).psnr("tiny", "full")
    assert res.psnr("tiny", "original") == pytest.approx(full)
    best, worst = extremes(res, "tiny")
    assert res.psnr("tiny", best) >= res.psnr("tiny", worst)


def test_ring_masks():
    assert not _ring_mask(9, 3, 0, "centre").any() and not _ring_mask(9, 3, 0, "edges").any()
    assert _ring_mask(9, 3, 3, "centre").sum() == 81 - 9 == _ring_mask(9, 3, 3, "edges").sum()
    c, e = _ring_mask(9, 3, 1, "centre"), _ring_mask(9, 3, 1, "edges")
    assert c[2, 2] and not c[0, 0] and e[0, 0] and not e[2, 2] and not c[4, 4]


def test_size_sweep_modes_meet_at_both_ends(tiny):
    hr, bg = _hr(96, 96, seed=1), _hr(96, 96, seed=3)
    res = run_sync(size_study([tiny], hr, bg, widths=(0, 16, 32), options=OPTS))
    assert res.region == Region(40, 40, 16, 16)
    for w in ("w=0", "w=32"):
        assert res.psnr("tiny", w, "centre") == pytest.approx(res.psnr("tiny", w, "edges"))
    assert res.inputs["centre w=32"].shape == (40, 40, 3)
    with pytest.raises(InputError, match="canvas"):
        run_sync(size_study([tiny], hr, bg, widths=(0, 96), options=OPTS))


def test_mosaic_layout_tta_and_gains(tiny):
    tile = np.arange(4 * 4 * 3, dtype=np.float32).reshape(4, 4, 3)
    mos = make_mosaic(tile)
    assert mos.shape == (20, 20, 3)
    np.testing.assert_array_equal(mos[8:12, 8:12], tile)
    np.testing.assert_array_equal(mos[0:4, 0:4], tile[:, ::-1])     # first tile: hflip
    for fwd, inv in DIHEDRAL:
        np.testing.assert_array_equal(inv(fwd(tile)), tile)
    res = run_sync(mosaic_study([tiny, BIC], _hr(), Region(32, 24, 16, 16), options=OPTS))
    assert [r.setting for r in res.rows if r.model == "tiny"] == ["plain", "tta", "mosaic"]
    g = gains(res)
    assert set(g) == {"tiny", "bicubic"} and all(np.isfinite(v).all() for v in g.values())
    assert res.inputs["mosaic"].shape == (40, 40, 3)
    assert gallery(res).shape[0] == 16
    with pytest.raises(InputError, match="square"):
        run_sync(mosaic_study([tiny], _hr(), Region(0, 0, 16, 8), options=OPTS))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "imgs"
    d.mkdir()
    for i in range(2):
        cv2.imwrite(str(d / f"im{i}.png"), (_hr(seed=i)[..., ::-1] * 255).round().astype(np.uint8))
    (d / "bad.png").write_bytes(b"not a png")
    return d


def _counting_crop(calls: list):
    def fn(models, hr, name, i, files):
        calls.append((name, [n for n, _ in models]))
        return crop_study(models, hr, Region(16, 16, 16, 16), [0, 4], OPTS, name)
    return fn


def test_batch_csv_resume_and_summary(folder, tiny, tmp_path):
    from core.studies import study_images

    files = study_images(folder)
    csv_path = tmp_path / "out.csv"
    calls: list = []
    res = run_sync(run_batch("crop", _counting_crop(calls), files, [tiny, BIC], csv_path))
    assert [s[0] for s in res.skipped] == ["bad.png"]
    assert len(read_rows(csv_path)) == len(res.rows) == 2 * 2 * 3
    # a cut-off last line (killed mid-write) is dropped; the rerun redoes only what is missing
    text = csv_path.read_text().splitlines()
    csv_path.write_text("\n".join(text[:-3]) + "\n" + text[-3][:10])
    calls.clear()
    res2 = run_sync(run_batch("crop", _counting_crop(calls), files, [tiny, BIC], csv_path))
    assert calls == [("im1.png", ["bicubic"])]
    assert len(read_rows(csv_path)) == 12 and res2.resumed == 9
    table = summarize("crop", res2.rows)
    assert table[0][:4] == ["model", "margin", "full better", "crop better"] and len(table) == 5
    with pytest.raises(InputError, match="another study"):
        run_sync(run_batch("swap", _counting_crop(calls), files, [tiny], csv_path))


def test_batch_cancel_leaves_a_valid_csv(folder, tiny, tmp_path):
    from core.studies import study_images

    csv_path = tmp_path / "c.csv"
    seen = []
    with pytest.raises(Cancelled):
        run_sync(run_batch("crop", _counting_crop([]), study_images(folder), [tiny], csv_path),
                 on_progress=seen.append,
                 should_stop=lambda: seen[-1].message == "im0.png: done")
    rows = read_rows(csv_path)       # the finished image is there, complete
    assert {r["image"] for r in rows} == {"im0.png"} and len(rows) == 3


def test_summaries_of_every_study(tiny):
    rows = []
    for study, fn in (("swap", lambda: swap_study([tiny], _hr(), Region(32, 16, 16, 16),
                                                  options=OPTS)),
                      ("mosaic", lambda: mosaic_study([tiny], _hr(), Region(32, 24, 16, 16),
                                                      options=OPTS))):
        res = run_sync(fn())
        rows = [{"image": "a", "study": study, "model": r.model, "group": r.group,
                 "setting": r.setting, "x": str(r.x), "psnr": str(r.psnr)} for r in res.rows]
        table = summarize(study, rows)
        assert len(table) == 2 and table[1][0] == "tiny"


def test_empty_folder_and_bad_options(tmp_path):
    from core.studies import study_images

    with pytest.raises(InputError, match="no images"):
        study_images(tmp_path)
    with pytest.raises(InputError):
        StudyOptions(scale=2.5)
