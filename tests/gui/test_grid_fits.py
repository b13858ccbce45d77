"""The compare grid fits the screen: with every bundled model ticked at 1366x768 and 1680x1050,
the window keeps its size, every top-level widget lies inside the screen, tiles are the same
size and wrap into rows, titles are elided with the full text in the tooltip; the Tiles menu
hides and shows tiles."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication, QComboBox, QPushButton, QWidget

from gui.startup import fit_to_screen
from gui.views.compare_grid import grid_columns

from .util import wait_idle


def test_grid_columns_makes_images_largest():
    assert grid_columns(1, 800, 400) == 1
    assert grid_columns(4, 800, 200, title_h=0) == 4      # a wide strip: one row
    assert grid_columns(4, 400, 400, title_h=0) == 2      # a square: 2 x 2
    assert grid_columns(33, 980, 450) in range(6, 12)     # many tiles wrap into rows


def _visible_inside(widget, rect: QRect) -> bool:
    top_left = widget.mapTo(widget.window(), QPoint(0, 0))
    return rect.contains(QRect(top_left, widget.size()))


@pytest.mark.parametrize("size", [(1366, 768), (1680, 1050)])
def test_every_model_ticked_stays_on_the_screen(qtbot, window, small_png, size):
    screen = QRect(0, 0, *size)
    window.move(0, 0)
    frame = window.frameGeometry().size() - window.size()   # the title bar and borders
    window.resize(size[0] - frame.width(), size[1] - frame.height())
    inner = (window.width(), window.height())
    c = window.controllers
    assert c.inputs.open_input(small_png)
    c.inputs.set_reference("degrade")
    c.run.set_scale(4.0)
    everything = list(c.session.catalog)
    assert len(everything) >= 10
    window.model_list.set_checked(everything)
    wait_idle(qtbot, c)
    window.run_box.run_button.click()
    wait_idle(qtbot, c, timeout=120000)
    assert set(c.session.results) == set(everything), window.errors
    qtbot.wait(50)

    assert window.minimumSizeHint().width() <= size[0]
    assert window.minimumSizeHint().height() <= size[1]
    assert (window.width(), window.height()) == inner     # the window did not grow
    for w in QApplication.topLevelWidgets():
        if w.isVisible():
            assert screen.contains(w.frameGeometry()), (w, w.frameGeometry())
    inside = QRect(0, 0, window.width(), window.height())
    for w in (window.run_box.run_button, window.run_box.cancel_button, window.statusBar(),
              window.tabs, window.metrics):
        assert _visible_inside(w, inside), w

    grid = window.grid
    keys = grid.shown_keys()
    assert len(keys) == 2 + 2 * len(everything)        # LR, HR, each model and its |diff|
    panels = [grid.panels[k] for k in keys]
    sizes = {(p.width(), p.height()) for p in panels}
    widths = {w for w, _ in sizes}
    heights = {h for _, h in sizes}
    assert max(widths) - min(widths) <= 1 and max(heights) - min(heights) <= 1, sizes
    assert 1 < grid.ncol < len(keys)                   # wrapped into rows
    area = QRect(QPoint(0, 0), grid.area.size())
    for p in panels:
        assert area.contains(p.geometry()), (p.key, p.geometry(), area)
        assert p.width() >= 96 and p.height() >= 80
        title = p.title
        assert title.toolTip().startswith(title.text())
        drawn = title.elided()
        assert title.fontMetrics().horizontalAdvance(drawn) <= title.contentsRect().width()
        if drawn != title.text():
            assert "…" in drawn


def test_tiles_menu_hides_and_shows(qtbot, window, small_png):
    c = window.controllers
    assert c.inputs.open_input(small_png)
    c.inputs.set_reference("degrade")
    c.run.set_scale(2.0)
    window.model_list.set_checked(["bicubic", "nearest"])
    wait_idle(qtbot, c)
    grid = window.grid
    grid.tiles_menu.aboutToShow.emit()
    texts = [a.text() for a in grid.tiles_menu.actions() if a.isCheckable()]
    assert texts == ["LR", "nearest", "bicubic", "HR", "|nearest − HR|", "|bicubic − HR|"]
    hide = [a for a in grid.tiles_menu.actions() if a.text() == "|nearest − HR|"][0]
    hide.setChecked(False)
    assert "diff:nearest" not in grid.panels and "diff:nearest" not in grid.shown_keys()
    assert grid.panels["diff:bicubic"].isVisible()
    grid.set_tile_shown("diff:nearest", True)
    assert grid.panels["diff:nearest"].isVisible()


def test_every_tab_shows_its_combo_and_button_texts_at_1366(qtbot, window):
    """No clipped "Y (BT.60", "ZSS", "Background sw": each visible combo box and button of
    every tab is as wide as its text."""
    window.resize(1366 - 4, 768 - 4)
    c = window.controllers
    assert c.inputs.open_sample("astronaut")
    c.inputs.set_reference("degrade")
    window.model_list.set_checked(list(c.session.catalog))
    wait_idle(qtbot, c)
    clipped = []
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        qtbot.wait(20)
        for w in window.findChildren(QComboBox) + window.findChildren(QPushButton):
            text = w.currentText() if isinstance(w, QComboBox) else w.text()
            room = 20 if isinstance(w, QComboBox) else 4      # the arrow / the border
            if w.isVisible() and text and \
                    w.width() < w.fontMetrics().horizontalAdvance(text) + room:
                clipped.append((window.tabs.tabText(i), text, w.width()))
    assert not clipped, clipped


def test_a_window_larger_than_its_screen_is_brought_inside(qtbot):
    w = QWidget()                     # (the main window calls fit_to_screen when it opens)
    qtbot.addWidget(w)
    w.show()
    avail = w.screen().availableGeometry()
    w.move(avail.x() + 300, avail.y() + 200)
    w.resize(avail.width() + 900, avail.height() + 700)   # e.g. saved on a big monitor
    fit_to_screen(w)
    assert avail.contains(w.frameGeometry()), (avail, w.frameGeometry())
