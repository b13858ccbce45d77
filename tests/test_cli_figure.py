"""``main.py figure``: PNG/PDF/SVG with the region PSNR/SSIM of each model under its crop,
equal to the metrics computed the benchmark way; ``--sr`` with existing results; the layout."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from cli import main as cli_main
from core.app.display import fmt_metric
from core.app.figure import FigureContent, FigureCrop, FigureOptions, layout_figure, parse_roi
from core.data import Region
from core.errors import InputError
from core.io import load, save
from core.metrics import region_metrics
from core.resize import degrade_pair
from core.samples import sample_image


@pytest.fixture(scope="module")
def hr_png(tmp_path_factory):
    img = sample_image("astronaut")
    path = tmp_path_factory.mktemp("fig") / "face.png"
    save(img.with_pixels(np.ascontiguousarray(img.pixels[40:136, 200:296])), path)
    return path


def _svg_texts(path) -> list[str]:
    return [re.sub(r"\s+", " ", t).strip()
            for t in re.findall(r"<text[^>]*>(.*?)</text>", path.read_text(), re.S)]


def test_figure_writes_png_pdf_svg_with_the_region_metrics(tmp_path, hr_png, capsys):
    rois = ["10,12,40,30", "50,50,32,32"]
    for ext in ("svg", "pdf", "png"):
        out = tmp_path / f"fig.{ext}"
        args = ["figure", str(hr_png), "-m", "nearest,bicubic", "-s", "2", "-o", str(out),
                "--dpi", "100", "-q"]
        for r in rois:
            args += ["--roi", r]
        assert cli_main(args) == 0
        assert out.stat().st_size > 1000
    assert (tmp_path / "fig.pdf").read_bytes()[:5] == b"%PDF-"
    with Image.open(tmp_path / "fig.png") as im:
        assert round(im.info["dpi"][0]) == 100 and im.width == 700
    texts = _svg_texts(tmp_path / "fig.svg")   # text kept as text (svg.fonttype none)
    printed = capsys.readouterr().out

    # the numbers: the window's Degrade (MATLAB bicubic x2) and the table's metrics
    hr = load(hr_png)
    hr_px, lr_px = degrade_pair(hr.pixels, 2.0)
    up = np.repeat(np.repeat(lr_px, 2, axis=0), 2, axis=1)           # nearest x2
    for r in rois:
        m = region_metrics(up, hr_px, parse_roi(r), crop_border=2, test_y_channel=True)
        line = f"{fmt_metric(m['psnr'], 'psnr')} dB / {fmt_metric(m['ssim'], 'ssim')}"
        assert line in texts, (line, texts)
        assert line in printed
    assert texts.count("nearest") == 2 and texts.count("bicubic") == 2 and texts.count("HR") >= 2
    assert any("×2 · PSNR/SSIM on Y (BT.601), shave 2 · LR: MATLAB bicubic x2" in t
               for t in texts)


def test_figure_from_existing_results(tmp_path, hr_png):
    hr = load(hr_png)
    sr = tmp_path / "mine.png"
    save(hr.with_pixels(np.clip(hr.pixels + 0.02, 0, 1).astype(np.float32)), sr)
    out = tmp_path / "fig.svg"
    assert cli_main(["figure", str(hr_png), "--sr", str(sr), "--roi", "0,0,48,48", "--rgb",
                     "--shave", "0", "-o", str(out)]) == 0
    m = region_metrics(load(sr).pixels, hr.pixels, Region(0, 0, 48, 48))
    assert f"{fmt_metric(m['psnr'], 'psnr')} dB / {fmt_metric(m['ssim'], 'ssim')}" in \
        _svg_texts(out)


def test_figure_refuses_what_it_cannot_draw(tmp_path, hr_png, capsys):
    out = str(tmp_path / "f.svg")
    assert cli_main(["figure", str(hr_png), "-m", "bicubic", "--roi", "1,1,8,8", "-o", out]) == 2
    assert "-s SCALE" in capsys.readouterr().err
    assert cli_main(["figure", str(hr_png), "-m", "bicubic", "-s", "2", "--roi", "90,90,20,20",
                     "-o", out]) == 2
    assert "does not fit" in capsys.readouterr().err
    assert cli_main(["figure", str(hr_png), "-m", "bicubic", "-s", "2", "--roi", "1,1,8",
                     "-o", out]) == 2
    assert cli_main(["figure", str(hr_png), "-m", "bicubic", "-s", "2", "--roi", "1,1,8,8",
                     "-o", str(tmp_path / "f.jpg")]) == 2


@pytest.mark.parametrize("layout", ["row", "two rows", "column"])
def test_layout_keeps_everything_apart_and_inside(layout):
    crops = [FigureCrop(n, r, np.zeros((h, 30, 3), np.uint8), 30.0, 0.9)
             for r, h in ((0, 30), (1, 20)) for n in ("a", "b", "c", "HR")]
    content = FigureContent("HR", np.zeros((100, 150, 3), np.uint8), (1.0, 1.0),
                            [Region(0, 0, 30, 30), Region(5, 5, 30, 20)], crops, "caption")
    opt = FigureOptions(layout=layout, width=7.0 if layout != "column" else 3.3)
    lay = layout_figure(content, opt)
    boxes = [lay.base] + [b for _c, b, _l in lay.crops] + [lb for _c, _b, lb in lay.crops]
    for b in boxes:
        assert b.x >= -1e-9 and b.y >= -1e-9 and b.x + b.w <= lay.width + 1e-6
        assert b.y + b.h <= lay.height + 1e-6
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            overlap = min(a.x + a.w, b.x + b.w) - max(a.x, b.x), \
                min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
            assert min(overlap) <= 1e-6, (a, b)
    assert len({round(b.w, 6) for _c, b, _l in lay.crops}) == 1      # one crop width


def test_options_are_checked():
    with pytest.raises(InputError):
        FigureOptions(layout="grid")
    with pytest.raises(InputError):
        parse_roi("1,2,3")
