"""A folder in the window: 5 Set5 images, Degrade x4, 3 models: a 5 x 3 table whose values
are ``main.py eval``'s on the same folder; CSV/JSON export; stepping with Left/Right."""

from __future__ import annotations

import csv
import json

import pytest
from PySide6.QtCore import Qt

from cli import main as cli_main
from core.io import save
from tests.helpers import shared_datasets

from .util import wait_idle

MODELS = ["bicubic", "edsr_baseline_x4", "fsrcnn_x4"]   # catalogue order


@pytest.mark.shared
def test_set5_folder_table_equals_eval(qtbot, window, tmp_path, capsys):
    folder = shared_datasets("benchmark/Set5/HR")
    c = window.controllers
    c.run.set_run_options("auto", "fp32", None)      # eval measures in fp32
    c.run.set_scale(4.0)
    window.model_list.set_checked(MODELS)
    window.tabs.setCurrentWidget(window.folder_view)
    assert c.folder.set_folder(folder)
    assert window.session.state.input_path.endswith("baby.png")       # the first is open
    wait_idle(qtbot, c)
    view = window.folder_view
    view.run_button.click()
    qtbot.waitUntil(lambda: c.folder.table is not None, timeout=300000)
    table = c.folder.table
    assert table.images == ["baby.png", "bird.png", "butterfly.png", "head.png", "woman.png"]
    assert table.models == MODELS and len(table.scores) == 15
    assert view.table.rowCount() == 5 and view.table.columnCount() == 1 + 2 * 3

    for m in MODELS:
        out = tmp_path / f"{m}.csv"
        assert cli_main(["eval", "-m", m, "--data", str(folder), "--scales", "4", "--y",
                         "--csv", str(out), "-q"]) == 0
        with open(out, newline="") as fh:
            for row in csv.DictReader(fh):
                assert round(table.value(row["image"], m, "psnr"), 4) == float(row["psnr"])
                assert round(table.value(row["image"], m, "ssim"), 6) == float(row["ssim"])
                assert view.cell(row["image"], m, "psnr") == f"{float(row['psnr']):.3f}"
    capsys.readouterr()

    view.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)     # sortable by value
    col = [float(view.table.item(r, 1).text()) for r in range(5)]
    assert col == sorted(col, reverse=True)
    assert view.mean.item(0, 0).text() == "mean of 5"

    out = tmp_path / "folder.json"
    assert c.folder.export(out)
    data = json.loads(out.read_text())
    assert len(data["rows"]) == 15 and data["rows"][0]["color"] == "Y (BT.601)"
    assert c.folder.export(tmp_path / "folder.csv")
    assert "mean" in (tmp_path / "folder.csv").read_text()

    qtbot.keyClick(view, Qt.Key.Key_Right)            # Right: the next image in the window
    assert window.session.state.input_path.endswith("bird.png") and c.folder.index == 1
    view.prev_button.click()
    assert window.session.state.input_path.endswith("baby.png")


def test_folder_refuses_a_fractional_scale(window, tmp_path, small_png):
    c = window.controllers
    folder = small_png.parent
    assert c.folder.set_folder(folder)
    c.run.set_scale(2.5)
    assert not c.folder.run()
    assert "whole-number scale" in window.errors[-1]
    assert not c.folder.set_folder(tmp_path / "missing")


def test_stepping_back_brings_the_results_of_an_image_back(qtbot, window, tmp_path, astronaut):
    for i, name in enumerate(("a.png", "b.png")):
        crop = astronaut.pixels[40 * i:40 * i + 64, 100:164]
        save(astronaut.with_pixels(crop.copy()), tmp_path / name)
    c, s = window.controllers, window.session
    c.run.set_scale(2.0)
    window.model_list.set_checked(["bicubic"])
    assert c.folder.set_folder(tmp_path)
    wait_idle(qtbot, c)
    assert s.state.reference == "degrade"          # an image of a folder is its own HR
    window.run_box.run_button.click()
    wait_idle(qtbot, c)
    first = s.results["bicubic"]
    assert c.folder.step(1) and s.state.input_path.endswith("b.png")
    wait_idle(qtbot, c)
    qtbot.wait(20)
    assert not s.results                            # b.png was never run
    assert c.folder.step(-1)
    qtbot.waitUntil(lambda: "bicubic" in s.results, timeout=10000)
    assert s.results["bicubic"] is first            # the cached result, no new run
    wait_idle(qtbot, c)
    assert window.metrics.text_for("bicubic", "PSNR image (dB)") not in ("", "-")
