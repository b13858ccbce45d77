"""The Studies tab: run each study on the current image and region, the plot, table, gallery,
CSV export, the paper preset, Cancel."""

from __future__ import annotations

import csv
import shutil

import numpy as np

from core import studies as st
from core.data import Region
from core.jobs import run_sync
from core.models import load_model
from core.studies.batch import CSV_FIELDS
from tests.gui.util import open_with_edsr, wait_idle


def _setup(qtbot, window, edsr_ckpt, small_png) -> str:
    """96x96 HR degraded x2, bicubic and the tiny EDSR x2 ticked, the Studies tab shown."""
    return open_with_edsr(qtbot, window, edsr_ckpt, small_png, window.studies)


def _run(qtbot, window, study: str):
    view = window.studies
    view.set_study(study)
    view.run_button.click()
    assert view.cancel_button.isEnabled()
    wait_idle(qtbot, window.controllers)
    assert window.errors == [], window.errors
    assert view.progress.value() == 1000 and not view.cancel_button.isEnabled()
    return window.session.study


def _curve(item):
    x, y = item.getData()
    return list(x), list(y)


def test_crop_study_plot_table_gallery_and_csv(qtbot, window, dialogs, edsr_ckpt, small_png,
                                               tmp_path):
    c, s, view = window.controllers, window.session, window.studies
    key = _setup(qtbot, window, edsr_ckpt, small_png)
    label = s.label(key)
    c.metrics.set_roi((32, 32, 32, 32))
    view.margins.setText("0,2,4,8")
    res = _run(qtbot, window, "crop")
    assert res.study == "crop" and res.region == Region(32, 32, 32, 32)
    assert res.models == ["bicubic", label]
    # the curves are the core's numbers, one line per model, and the full-image point
    direct = run_sync(st.crop_study([("bicubic", load_model("bicubic").module),
                                     (label, load_model(key).module)], s.hr.pixels,
                                    Region(32, 32, 32, 32), (0, 2, 4, 8),
                                    st.StudyOptions(scale=2)))
    for m in res.models:
        x, y, _ = res.curve(m, "crop")
        assert _curve(view.curves[(m, "crop")]) == (x, y) == (x, direct.curve(m, "crop")[1])
        assert x == [0.0, 2.0, 4.0, 8.0]
        assert _curve(view.curves[(m, "full")]) == res.curve(m, "full")[:2]
    assert len(view.legend.items) == 4
    # the table: one row per model, PSNR per setting
    assert view.table.rowCount() == 2
    headers = [view.table.horizontalHeaderItem(j).text() for j in range(view.table.columnCount())]
    assert headers == ["model", "m=0", "m=2", "m=4", "m=8", "full"]
    assert view.table.item(1, 0).text() == label
    assert view.table.item(1, 3).text() == f"{res.psnr(label, 'm=4'):.2f}"
    # the gallery: the HR region, then 5 restored regions per model
    assert len(view.tiles) == 1 + 2 * 5
    assert view.tiles[0].pixmap().width() == 96
    # export: the CLI's CSV columns, one row per measurement
    dialogs.save_file = str(tmp_path / "crop.csv")
    view.export_button.click()
    with open(tmp_path / "crop.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_FIELDS and len(rows) == len(res.rows) == 10
    assert rows[0]["image"] == "face.png" and rows[0]["study"] == "crop"
    assert float(rows[0]["psnr"]) == round(res.rows[0].psnr, 4)
    # ... and how each model ran: the x2 model at x2 (not resampled), bicubic at any scale
    made = {r["model"]: r for r in rows}
    assert made[label]["native_scale"] == "x2" and made[label]["resampled"] == ""
    assert made["bicubic"]["native_scale"] == "any"
    assert made[label]["precision"] and made[label]["device"]


def test_swap_size_and_mosaic(qtbot, window, edsr_ckpt, small_png, tmp_path):
    c, s, view = window.controllers, window.session, window.studies
    key = _setup(qtbot, window, edsr_ckpt, small_png)
    label = s.label(key)
    c.metrics.set_roi((40, 40, 16, 16))
    folder = tmp_path / "backgrounds"          # a folder with one image and one broken file
    folder.mkdir()
    (folder / "broken.png").write_bytes(b"not a png")
    shutil.copy(small_png, folder / "other.png")
    view.add_backgrounds([str(folder)])
    res = _run(qtbot, window, "swap")
    settings = [r.setting for r in res.rows if r.model == label]
    assert settings == ["original", "hflip", "vflip", "rot180", "other"]
    assert any("broken.png" in n for n in res.notes) and "broken.png" in view.notes.text()
    assert _curve(view.curves[(label, "background")]) == res.curve(label, "background")[:2]
    best, worst = st.extremes(res, label)
    assert [view.table.item(1, j).text() for j in (6, 7)] == [best, worst]
    ticks = view.plot.getAxis("bottom")._tickLevels[0]
    assert [t[1] for t in ticks] == settings
    view.add_backgrounds(None)

    view.widths.setText("0,16,32")
    view.modes.setCurrentText("from the centre")
    res = _run(qtbot, window, "size")
    assert res.study == "size" and any("sample coffee" in n for n in res.notes)
    assert _curve(view.curves[(label, "centre")]) == ([0.0, 16.0, 32.0],
                                                      res.curve(label, "centre")[1])
    assert (label, "edges") not in view.curves

    c.metrics.set_roi((32, 32, 32, 32))
    res = _run(qtbot, window, "mosaic")
    gains = st.gains(res)
    assert view.table.item(1, 4).text() == f"{gains[label][0]:+.2f}"
    assert _curve(view.curves[(label, "method")]) == ([0.0, 1.0, 2.0],
                                                      res.curve(label, "method")[1])
    assert len(view.tiles) == 1 + 2 * 3 + 1          # HR, 3 methods per model, the mosaic


def test_paper_preset_and_bad_input(qtbot, window, dialogs):
    c, s, view = window.controllers, window.session, window.studies
    assert c.inputs.open_sample("astronaut")
    c.inputs.set_reference("degrade")
    c.run.set_scale(4.0)
    wait_idle(qtbot, c)
    view.preset_button.click()
    reg = st.preset_region((512, 512), 4)
    assert s.state.roi == (reg.x, reg.y, reg.w, reg.h) == (144, 144, 224, 224)
    assert "4" in view.margins.text().split(",") and view.current() == "crop"
    view.margins.setText("0,x")
    assert not view.run() and "whole numbers" in window.errors[-1]
    c.run.set_scale(2.5)
    wait_idle(qtbot, c)
    assert not view.run() and "whole-number scale" in window.errors[-1]
    c.inputs.set_reference("none")
    wait_idle(qtbot, c)
    assert not view.run() and "HR" in window.errors[-1]
    assert s.study is None


def test_cancel_mid_study_leaves_no_result(qtbot, window, dialogs, edsr_ckpt):
    c, s, view = window.controllers, window.session, window.studies
    assert c.inputs.open_sample("astronaut")
    c.inputs.set_reference("degrade")
    c.run.set_scale(2.0)
    key = c.models.add_checkpoint(edsr_ckpt)
    window.model_list.set_checked([key])
    wait_idle(qtbot, c)
    seen: list[float] = []
    c.study.jobs.progress.connect(lambda f, m: seen.append(f))
    view.set_study("crop")
    view.margins.setText(",".join(str(m) for m in range(100)))   # 100 crops: about a second
    view.use_region.setChecked(False)                              # the paper preset's region
    assert view.run()
    qtbot.waitUntil(lambda: any(0.1 < f < 1 for f in seen), timeout=10000)
    view.cancel_button.click()
    assert not view.cancel_button.isEnabled() and view.status.text() == "cancelled"
    qtbot.wait(300)
    wait_idle(qtbot, c)
    assert s.study is None and view.curves == {} and view.tiles == []
    assert dialogs.warnings == [] and window.errors == []
    assert np.isfinite(seen[-1])
