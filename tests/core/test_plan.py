"""The run plan: geometry, native scale, resampling and reference alignment decided once."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from core.app.plan import check_reference, fits_reference, plan_run, reference_scale
from core.app.run import RunRequest, metrics_job, prepare_inputs, run_job
from core.data import ImageData
from core.errors import InputError
from core.jobs import run_sync
from core.models import resolve
from core.provenance import FIELDS, Provenance, Resample, weights_digest
from main import main


def _img(h: int, w: int, seed: int = 0) -> ImageData:
    rng = np.random.default_rng(seed)
    return ImageData(rng.random((h, w, 3)).astype(np.float32), kind="rgb")


def _entries(*names: str):
    return tuple((n, n, resolve(n)) for n in names)


def test_fixed_model_at_another_scale_is_planned_as_resampled():
    plan = plan_run((128, 128), scale=4, models=_entries("edsr_baseline_x3",
                                                         "edsr_baseline_x4", "bicubic"))
    x3, x4, bic = plan.models
    assert plan.out_hw == (512, 512)
    assert x3.native_scale == "x3" and x3.resample == Resample("bicubic", (384, 384), (512, 512))
    assert x4.native_scale == "x4" and x4.resample is None
    assert bic.native_scale == "any" and bic.resample is None
    assert plan.provenance("edsr_baseline_x3").resampled
    assert not plan.provenance("edsr_baseline_x4").resampled


def test_run_result_and_metrics_row_say_they_were_resampled():
    """Seam 1: an x3 model asked for x4 is marked in its result, its metrics row and note."""
    hr = _img(48, 48)
    req = RunRequest(source=hr, attached_hr=None, reference="degrade", scale=4, size=None,
                     models=(("edsr_baseline_x3", "x3"), ("bicubic", "bicubic")),
                     entries=(resolve("edsr_baseline_x3"), resolve("bicubic")))
    out = {}
    job = run_job(req)
    for p in iter(lambda: next(job, None), None):
        if getattr(p, "key", "") == "result":
            out[p.value[0]] = p.value[1]
    x3 = out["edsr_baseline_x3"].provenance
    assert x3.resampled and x3.native_scale == "x3" and x3.resample.dst_hw == (48, 48)
    assert x3.weights == "edsr_baseline_x3.pth" and len(x3.sha256) == 12
    assert x3.lr_source == "MATLAB bicubic x4 of the input"
    assert not out["bicubic"].provenance.resampled
    images = {k: (k, r.image) for k, r in out.items()}
    rows = run_sync(metrics_job(images, hr, None, True, 4, {},
                                {k: r.provenance for k, r in out.items()}))
    by = {r.model: r for r in rows}
    assert by["edsr_baseline_x3"].resampled and "RESAMPLED" in by["edsr_baseline_x3"].note
    assert not by["bicubic"].resampled and "RESAMPLED" not in by["bicubic"].note
    assert by["bicubic"].provenance.color == "Y (BT.601)" and by["bicubic"].provenance.shave == 4


def test_unrelated_reference_is_refused_with_both_sizes():
    """Seam 2: a 500x480 picture is no reference of a 512x512 input at x4 (nor at any scale)."""
    with pytest.raises(InputError) as e:
        plan_run((512, 512), reference="hr", hr_hw=(480, 500), scale=4)
    assert "500x480" in str(e.value) and "512x512" in str(e.value) and "2048x2048" in str(e.value)
    assert reference_scale((512, 512), (480, 500)) is None
    check = check_reference((512, 512), (480, 500), 4)
    assert not check.fits and check.scale is None and "500x480" in check.message
    # the same reference, resized because the user asked for it: the plan says so
    plan = plan_run((512, 512), reference="hr", hr_hw=(480, 500), scale=4,
                    resize_reference=True, hr_name="img_001.png")
    assert plan.out_hw == (2048, 2048) and "resized from 500x480" in plan.reference_text
    src, hr = _img(16, 16), _img(30, 20, 1)
    with pytest.raises(InputError, match="20x30"):
        prepare_inputs(src, hr, "hr", 4)
    _, aligned = prepare_inputs(src, hr, "hr", 4, resize_reference=True)
    assert aligned.pixels.shape == (64, 64, 3)


def test_reference_within_the_scales_rounding_is_aligned_not_refused():
    # B100-style: an HR of 481x321 and its official x4 LR of 120x80
    assert fits_reference((80, 120), (321, 481), 4)
    plan = plan_run((80, 120), reference="hr", hr_hw=(321, 481), scale=4)
    assert plan.out_hw == (320, 480) and "cropped from 481x321 to 480x320" in plan.reference_fix
    src, hr = _img(20, 30), _img(81, 121, 1)
    _, aligned = prepare_inputs(src, hr, "hr", 4)
    np.testing.assert_array_equal(aligned.pixels, hr.pixels[:80, :120])
    # fractional scales: the half-up rounding of the benchmark degradation
    assert fits_reference((40, 40), (100, 100), 2.5)
    # a reference at another whole scale is recognised and named
    check = check_reference((64, 64), (128, 128), 4)
    assert not check.fits and check.scale == 2.0 and "x2" in check.message
    with pytest.raises(InputError, match="set the scale to 2"):
        plan_run((64, 64), reference="hr", hr_hw=(128, 128), scale=4)


def test_provenance_note_and_row():
    p = Provenance("m", weights="m.pth", sha256="abc", native_scale="x3",
                   resample=Resample("bicubic", (384, 384), (512, 512)), precision="fp32",
                   device="cpu", lr_source="input", reference="HR h.png", color="RGB", shave=4)
    assert p.note().startswith("native x3, RESAMPLED bicubic 384x384->512x512 (x1.33)")
    assert p.note().endswith("vs HR h.png · RGB, shave 4")
    assert list(p.row()) == list(FIELDS) and p.row()["resampled"].startswith("bicubic")
    assert weights_digest(None) == "" and weights_digest("/nonexistent/file") == ""


def test_eval_csv_carries_provenance_columns(tmp_path):
    """Seam 1 in ``eval --csv``: the scale, precision and resampling of every score."""
    import cv2

    data = tmp_path / "hr"
    data.mkdir()
    rng = np.random.default_rng(0)
    cv2.imwrite(str(data / "a.png"), (rng.random((36, 36, 3)) * 255).astype(np.uint8))
    out = tmp_path / "e.csv"
    assert main(["eval", "-m", "edsr_baseline_x3", "--data", str(data), "--scales", "3,4",
                 "--y", "--precision", "fp32", "--csv", str(out), "-q"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0])[:4] == ["image", "scale", "psnr", "ssim"]
    by = {r["scale"]: r for r in rows}
    assert by["3"]["native_scale"] == "x3" and by["3"]["resampled"] == ""
    assert by["4"]["resampled"].startswith("bicubic 27x27->36x36")
    assert by["4"]["precision"] == "fp32" and by["4"]["weights"] == "edsr_baseline_x3.pth"
    assert by["4"]["color"] == "Y (BT.601)" and by["4"]["shave"] == "4"


def test_lam_of_a_fixed_model_at_another_scale_is_marked_resampled():
    from core.app.analysis import lam_caption
    from core.attribution import LAMOptions, lam
    from core.data import Region
    from core.models import load_model

    lr = _img(24, 24)
    x3 = load_model("edsr_baseline_x3").module
    res = run_sync(lam(x3, lr, Region(40, 40, 16, 16), size=(96, 96),
                       options=LAMOptions(fold=2, precision="fp32")))
    assert res.provenance.resampled and res.provenance.native_scale == "x3"
    assert "resampled from x3" in lam_caption(res)
    native = run_sync(lam(x3, lr, Region(24, 24, 16, 16), size=(72, 72),
                          options=LAMOptions(fold=2, precision="fp32")))
    assert not native.provenance.resampled and "resampled" not in lam_caption(native)
